"""From the template's rows to license drafts, and every problem as (row, column, message)."""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from .. import inputs, products
from ..products import HEADER, Product
from ..rules import LicenseDraft, Problem
from .workbook import UploadRejected, column_letter


@dataclass(frozen=True)
class Layout:
    """Where a product's template keeps what: header columns (B..J), line columns (K..)."""

    product: Product
    names: tuple[str, ...]
    header_names: tuple[str, ...]
    line_names: tuple[str, ...]
    column_of: dict[str, int]


@cache
def layout(key: str) -> Layout:
    product = products.get(key)
    names = tuple(c.name for c in product.template_columns)
    return Layout(product, names, tuple(n for n in names if n in HEADER),
                  tuple(n for n in names if n in product.line_field_names),
                  {n: i for i, n in enumerate(names)})


def read_width() -> int:
    """The columns an upload is read to: the widest product's template (a workbook of another
    product is told by its header, however wide)."""
    return max(len(p.template_columns) for p in products.PRODUCTS.values())


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
    product: str = products.DEFAULT
    rows: list[int] = field(default_factory=list)
    header: dict = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)


def cell_problem(row: int, name: str, message: str, product: str = products.DEFAULT) -> CellProblem:
    index = layout(product).column_of[name]
    return CellProblem(row, column_letter(index), products.get(product).template_columns[index].title,
                       message)


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


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _titles(row: list) -> list[str]:
    return [" ".join(str(v or "").split()).lower() for v in row]


def template_of(row: list, sheet_name: str = "") -> Product | None:
    """The product whose template the header row (or, failing that, the sheet's name) is: its own
    line fields' column titles are where one product's template differs from another's."""
    found = set(_titles(row))
    for product in products.PRODUCTS.values():
        if all(title.lower() in found for title in product.template_titles):
            return product
    for product in products.PRODUCTS.values():
        others = {f.title.lower() for p in products.PRODUCTS.values() if p is not product
                  for f in p.own_line_fields}
        own = {f.title.lower() for f in product.own_line_fields} - others
        if own and own <= found:
            return product
    for product in products.PRODUCTS.values():
        if sheet_name.strip().lower() == product.template_sheet.lower():
            return product
    return None


def check_header_row(row: list, product: Product, sheet_name: str = "") -> None:
    found = _titles(row)
    for index, title in enumerate(product.template_titles):
        if index >= len(found) or found[index] != title.lower():
            other = template_of(row, sheet_name)
            if other is not None and other is not product:
                raise UploadRejected(
                    f"This is the {other.name} template ({other.short_name}), but the file was "
                    f"uploaded as {product.name}. If its licenses are {other.name.lower()} "
                    f"licenses, choose “{other.name}” as the Product of the file and upload it "
                    f"again; if they are {product.name.lower()} licenses, download the Excel "
                    f"template for {product.name} and copy your rows into it.")
            shown = " ".join(str(row[index] or "").split()) if index < len(row) else ""
            got = f"“{shown}”" if shown else "nothing"
            raise UploadRejected(
                f"This is not the {product.short_name} {product.name.lower()} template: row 1, column "
                f"{column_letter(index)} should read “{title}” but holds {got}. (Columns moved or "
                f"renamed?) Download the Excel template for {product.name} and copy your rows into it.")


def group_rows(rows: list[list], product: str = products.DEFAULT,
               sheet_name: str = "") -> tuple[list[Group], Problems]:
    """Rows (header row first) grouped by Entry ID, with what is wrong in the grouping itself.

    The rows may be wider than the product's template (read as wide as the widest product's, to
    tell another product's workbook by its header): cells right of its columns are not read."""
    if not rows:
        raise UploadRejected("The sheet is empty. Fill in the template's first sheet, one row per "
                             "product, and upload it again.")
    where = layout(product)
    check_header_row(rows[0], where.product, sheet_name)
    header_names, line_names, names = where.header_names, where.line_names, where.names
    width = len(names)
    groups: dict[str, Group] = {}
    problems = Problems()
    for number, raw in enumerate(rows[1:], start=2):
        values = [cell_value(v) for v in (raw if len(raw) == width else raw[:width])]
        if all(v == "" for v in values):
            continue  # a blank row between blocks of data
        entry_id = str(values[0]).strip()
        if not entry_id:
            problems.append(cell_problem(number, "entry_id", "Entry ID is required: give each "
                                         "license a number of your own (rows of one license share it).",
                                         product))
            continue
        record = dict(zip(names, values))
        group = groups.get(entry_id.lower())
        if group is None:
            group = groups[entry_id.lower()] = Group(entry_id, product,
                                                     header={n: record[n] for n in header_names})
        else:
            first = group.rows[0]
            for name in header_names:
                if _same(record[name], group.header[name]):
                    continue
                if HEADER[name].required and _blank(record[name]):
                    problems.append(cell_problem(
                        number, name, f"{HEADER[name].title} is required: every row of a license "
                        f"repeats columns B to J (Entry ID {entry_id} starts at row {first}).", product))
                elif HEADER[name].required and _blank(group.header[name]):
                    continue  # the first row's empty cell is reported there, as required
                else:
                    problems.append(cell_problem(
                        number, name, f"{HEADER[name].title} differs from row {first}, "
                        f"which has the same Entry ID {entry_id}: the rows of one license must have "
                        "the same columns B to J.", product))
        group.rows.append(number)
        group.lines.append({n: record[n] for n in line_names})
    if not groups and not problems:
        raise UploadRejected("The sheet has no licenses: fill in one row per product below the "
                             "column titles and upload it again.")
    return list(groups.values()), problems


def _form_value(value) -> str | date | datetime:
    return value if isinstance(value, (date, datetime)) else str(value)


def to_draft(group: Group, entry_type: str = "consumption") -> tuple[LicenseDraft, list[Problem]]:
    """The license a group's rows make, with the entry type chosen for the whole file (the template
    has no column for it)."""
    header, unreadable = inputs.header_from_data({k: _form_value(v) for k, v in group.header.items()},
                                                 group.product)
    header.entry_type = entry_type
    product = products.get(group.product)
    amounts = _amount_names(group.product)
    header.lines = [inputs.line_from_data({k: v if k in amounts else _form_value(v)
                                           for k, v in line.items()}, product)
                    for line in group.lines]
    return header, unreadable


@cache
def _amount_names(key: str) -> frozenset[str]:
    # numbers stay numbers; inputs.parse_amount reads numeric text
    return frozenset(f.name for f in products.get(key).line_fields if f.kind == "amount")


def place(group: Group, problem: Problem) -> CellProblem:
    """A rules problem of this group's license at its row and column."""
    row = group.rows[problem.line] if problem.line is not None else group.rows[0]
    name = problem.field if problem.field in layout(group.product).column_of else "entry_id"
    return cell_problem(row, name, problem.message, group.product)
