"""Disclosure control of the public monitor: pure functions, tested on their own.

Primary suppression: a cell is published only if at least MIN_COMPANIES distinct filer companies
contribute to it and no single company accounts for more than MAX_SHARE of its value.
Complementary suppression: a table is shown with its row totals, column totals and grand total;
in every row and every column (totals included) the cells and their total are tied by a sum, so
a line holding exactly one suppressed figure would give it away. Until no line has exactly one,
the smallest published figure of such a line is suppressed too (its total when the line has no
other figure). Unit values are suppressed with their cell.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

TOTAL = "*"


@dataclass(frozen=True)
class Figure:
    kg: Decimal
    usd: Decimal
    companies: int
    top_usd: Decimal

    @property
    def tons(self) -> Decimal:
        return self.kg / 1000

    @property
    def unit_value(self) -> Decimal | None:
        """US$ per metric ton."""
        return self.usd / self.tons if self.kg else None


def fails_primary(figure: Figure, min_companies: int, max_share: Decimal) -> bool:
    if figure.companies < min_companies:
        return True
    return figure.usd > 0 and figure.top_usd / figure.usd > max_share


def suppress(cells: dict[tuple[str, str], Figure], min_companies: int = 3,
             max_share: Decimal = Decimal("0.8")) -> set[tuple[str, str]]:
    """The (row, column) figures to show as "(D)".

    `cells` holds the body cells and the totals: (row, TOTAL) is a row's total, (TOTAL, column) a
    column's, (TOTAL, TOTAL) the grand total. Missing cells are known zeros (nothing to hide).
    """
    hidden = {place for place, figure in cells.items() if fails_primary(figure, min_companies, max_share)}
    rows = {r for r, _ in cells}
    columns = {c for _, c in cells}
    lines = [[(r, c) for c in columns if (r, c) in cells] for r in rows] + \
            [[(r, c) for r in rows if (r, c) in cells] for c in columns]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for place in line if place in hidden) != 1:
                continue
            candidates = [p for p in line if p not in hidden and TOTAL not in p]
            if not candidates:
                candidates = [p for p in line if p not in hidden]
            if not candidates:
                continue
            hidden.add(min(candidates, key=lambda p: (cells[p].usd, p)))
            changed = True
    return hidden


def recoverable(cells: dict[tuple[str, str], Figure], hidden: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Hidden figures that a reader could compute from one row or column (for the tests)."""
    rows = {r for r, _ in cells}
    columns = {c for _, c in cells}
    found = []
    for line in [[(r, c) for c in columns if (r, c) in cells] for r in rows] + \
                [[(r, c) for r in rows if (r, c) in cells] for c in columns]:
        missing = [p for p in line if p in hidden]
        if len(missing) == 1:
            found.append(missing[0])
    return found
