"""From the template's rows to license drafts, and every problem as (row, column, message)."""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, datetime

from .. import inputs
from ..rules import LicenseDraft, Problem
from .template import COLUMNS, TITLES
from .workbook import UploadRejected, column_letter

HEADER_NAMES = [c.name for c in COLUMNS[1:10]]  # B..J: the license header
LINE_NAMES = [c.name for c in COLUMNS[10:]]      # K..P: the product
COLUMN_OF = {c.name: i for i, c in enumerate(COLUMNS)}


@dataclass(frozen=True)
class CellProblem:
    row: int
    column: str  # the letter, e.g. "K"
    title: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "title": self.title, "message": self.message}


MAX_PROBLEMS_KEPT = 1000


class Problems:
    """The first problems of a file by row and column, at most `limit`, and how many in all.

    A file of 5,000 bad rows holds tens of thousands: they are counted, not all kept (each can
    quote a long cell), and neither the page nor the marked workbook shows more than the first.
    """

    def __init__(self, limit: int = MAX_PROBLEMS_KEPT):
        self.limit, self.total, self._kept = limit, 0, []

    def append(self, problem: CellProblem) -> None:
        self.total += 1
        self._kept.append(problem)
        if len(self._kept) >= 2 * self.limit:
            self._kept = heapq.nsmallest(self.limit, self._kept, key=_order)

    def extend(self, problems) -> None:
        for problem in problems:
            self.append(problem)

    def first(self) -> list[CellProblem]:
        return sorted(self._kept, key=_order)[:self.limit]

    def __len__(self) -> int:
        return self.total


def _order(problem: CellProblem) -> tuple:
    return problem.row, len(problem.column), problem.column


@dataclass
class Group:
    """The rows of one Entry ID: one license."""

    entry_id: str
    rows: list[int] = field(default_factory=list)
    header: dict = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)


def cell_problem(row: int, name: str, message: str) -> CellProblem:
    index = COLUMN_OF[name]
    return CellProblem(row, column_letter(index), COLUMNS[index].title, message)


def cell_value(value):
    """Calamine's value as the form would have it: whole floats as integers, text stripped."""
    kind = type(value)  # text and numbers first: 80,000 cells in a full upload
    if kind is str:
        clean = " ".join(value.split())
        return value if clean == value else clean  # not a second copy of every text
    if kind is float:
        return int(value) if value.is_integer() else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (datetime, date, int, float)):
        return value
    return " ".join(str(value).split())


def _same(a, b) -> bool:
    if a == b:  # the usual case: the rows of one license were copied
        return True
    if isinstance(a, datetime):
        a = a.date()
    if isinstance(b, datetime):
        b = b.date()
    return str(a).strip().lower() == str(b).strip().lower()


def check_header_row(row: list) -> None:
    found = [" ".join(str(v or "").split()) for v in row]
    for index, title in enumerate(TITLES):
        if found[index].lower() != title.lower():
            got = f"“{found[index]}”" if found[index] else "nothing"
            raise UploadRejected(
                f"This is not the AIM aluminum template: row 1, column {column_letter(index)} should "
                f"read “{title}” but holds {got}. (A template of another product, or columns moved?) "
                "Download the Excel template for Aluminum and copy your rows into it.")


def group_rows(rows: list[list]) -> tuple[list[Group], Problems]:
    """Rows (header row first) grouped by Entry ID, with what is wrong in the grouping itself."""
    if not rows:
        raise UploadRejected("The sheet is empty. Fill in the template's first sheet, one row per "
                             "product, and upload it again.")
    check_header_row(rows[0])
    groups: dict[str, Group] = {}
    problems = Problems()
    for number, raw in enumerate(rows[1:], start=2):
        values = [cell_value(v) for v in raw]
        if all(v == "" for v in values):
            continue  # a blank row between blocks of data
        entry_id = str(values[0]).strip()
        if not entry_id:
            problems.append(cell_problem(number, "entry_id", "Entry ID is required: give each "
                                         "license a number of your own (rows of one license share it)."))
            continue
        record = dict(zip((c.name for c in COLUMNS), values))
        group = groups.get(entry_id.lower())
        if group is None:
            group = groups[entry_id.lower()] = Group(entry_id, header={n: record[n] for n in HEADER_NAMES})
        else:
            first = group.rows[0]
            for name in HEADER_NAMES:
                if not _same(record[name], group.header[name]):
                    problems.append(cell_problem(
                        number, name, f"{COLUMNS[COLUMN_OF[name]].title} differs from row {first}, "
                        f"which has the same Entry ID {entry_id}: the rows of one license must have "
                        "the same columns B to J."))
        group.rows.append(number)
        group.lines.append({n: record[n] for n in LINE_NAMES})
    if not groups and not problems:
        raise UploadRejected("The sheet has no licenses: fill in one row per product below the "
                             "column titles and upload it again.")
    return list(groups.values()), problems


def _form_value(value) -> str | date | datetime:
    return value if isinstance(value, (date, datetime)) else str(value)


def to_draft(group: Group) -> tuple[LicenseDraft, list[Problem]]:
    header, unreadable = inputs.header_from_data({k: _form_value(v) for k, v in group.header.items()})
    header.entry_type = "consumption"
    header.lines = [inputs.line_from_data({k: _amount_or_text(k, v) for k, v in line.items()})
                    for line in group.lines]
    return header, unreadable


def _amount_or_text(name: str, value):
    if name in ("quantity_kg", "customs_value_usd"):
        return value  # numbers stay numbers; inputs.parse_amount reads numeric text
    return _form_value(value)


def place(group: Group, problem: Problem) -> CellProblem:
    """A rules problem of this group's license at its row and column."""
    row = group.rows[problem.line] if problem.line is not None else group.rows[0]
    name = problem.field if problem.field in COLUMN_OF else "entry_id"
    return cell_problem(row, name, problem.message)
