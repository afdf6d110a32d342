"""The monitors' figures (one monitor per product: aluminum's AIM monitor, steel's SIMA monitor):
rebuilt month by month from the product's licenses, read as tables.

Why not an update per license: the disclosure rules need, for every published figure, the number
of distinct companies and the largest company's share, which are not additive. But a figure never
spans two months and a month's withheld figures are decided over that month alone, so a month is
rebuilt alone: licensing.py marks the months of imports a license change touches (MonitorChange,
in the change's transaction) and refresh() rebuilds those (bench/bench_monitor.py: the refresh after
200 issued licenses against the full rebuild, with 10,000 and 1,000,000 licenses). A period's
figures are sums of its months' in SQL, withheld when any month's is. A page reads a few hundred
pre-computed rows whatever the number of licenses, and says up to which time it includes licenses.
Cancelled licenses never count; corrected ones count with their current figures (the license row
is corrected in place, and both its old and new months are marked). The rebuild decides, once for
every view, which figures are withheld (disclosure.py), so a page never suppresses anything itself.
"""
from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache

from flask import current_app
from sqlalchemy import String, bindparam, case, delete, func, insert, literal, literal_column, select

from .. import products
from ..clock import application_date
from ..enums import LicenseStatus
from ..extensions import db
from ..models import License, MonitorCell, MonitorChange, MonitorRefresh, ProductLine, utcnow
from ..reference.countries import country_name
from .disclosure import TOTAL, Figure, Month


@dataclass(frozen=True)
class Monitor:
    """A product's monitor: the shared dimensions, then the product's own (aimweb/products:
    `monitor_dimensions`), in the order its figures are numbered and its atoms written."""

    product: products.Product
    dimensions: dict[str, str]            # key -> label, the "View by" choices
    country_dimensions: tuple[str, ...]
    own: tuple                            # the product's MonitorDimensions

    @property
    def key(self) -> str:
        return self.product.key

    @property
    def order(self) -> tuple[str, ...]:
        return (*self.dimensions, "total")


@cache
def monitor(product: str) -> Monitor:
    """The monitor of a product key (KeyError for an unknown one)."""
    definition = products.PRODUCTS[product]
    own = definition.monitor_dimensions
    dimensions = {"category": definition.monitor_category_label, "hts6": "6-digit HTS",
                  "origin": "Country of origin", **{d.key: d.label for d in own}}
    return Monitor(definition, dimensions, ("origin", *(d.key for d in own if d.is_country)), own)


MEASURES = {"tons": "Quantity (metric tons)", "usd": "Customs value (US$)",
            "unit": "Average unit value (US$ per metric ton)"}
PERIODS = {"13m": "Last 13 months", "25m": "Last 25 months"}


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_of(period: str, today: date) -> list[str]:
    """The months of a period choice, oldest first."""
    end = _month_index(today)
    if period in PERIODS:
        count = int(period[:-1])
        return [_month_name(i) for i in range(end - count + 1, end + 1)]
    year = int(period)
    last = min(end, year * 12 + 11)
    return [_month_name(i) for i in range(year * 12, last + 1)]


def periods_available(today: date) -> dict[str, str]:
    years = {str(y): str(y) for y in range(today.year, today.year - 3, -1)}
    return {**PERIODS, **years}


# ----- the rebuild ---------------------------------------------------------------------------------

class _Ids(dict):
    """A small int for every value a figure's key or filter takes ("*" is 0), given on first sight."""

    def __missing__(self, value):
        self[value] = number = len(self)
        return number


_NV = 1 << 16   # room for the ids of values (countries, categories, HTS headings)


def window(today: date) -> list[str]:
    """The months the monitor shows (every period's), oldest first."""
    first = min(_month_index(today) - 24, (today.year - 2) * 12)
    return [_month_name(i) for i in range(first, _month_index(today) + 1)]


@dataclass
class Refreshed:
    """What a refresh did: each product's log (its monitor's freshness line), and in all."""

    logs: dict[str, MonitorRefresh]

    @property
    def licenses(self) -> int:
        return sum(log.licenses for log in self.logs.values())

    @property
    def seconds(self) -> Decimal:
        return sum((log.seconds for log in self.logs.values()), Decimal(0))


def refresh(today: date | None = None, *, full: bool = False) -> Refreshed:
    """Bring every product's monitor up to date (refresh_product), one transaction each; `full`:
    every product's every month in one transaction, which first empties the table in one
    unfiltered DELETE (SQLite truncates it; deleting a product's cells row by row was a tenth of a
    full rebuild of 10,000 licenses)."""
    today = today or application_date()
    if full:
        db.session.execute(delete(MonitorCell))
        logs = {key: refresh_product(key, today, full=True, cleared=True) for key in products.PRODUCTS}
        db.session.commit()
        return Refreshed(logs)
    return Refreshed({key: refresh_product(key, today, full=full) for key in products.PRODUCTS})


def refresh_product(product: str, today: date, *, full: bool = False, cleared: bool = False) -> MonitorRefresh:
    """Bring a product's figures up to date: the months that license changes marked
    (MonitorChange, written by licensing.py with each issue, modification and cancellation of a
    license of the product), or every month of the window (`full`, and the product's first
    refresh). Then every period's figures are summed from its months in SQL.

    A month is rebuilt alone (its figures are sums over its own imports; its withheld figures are
    decided over its own figures, disclosure.py), so a refresh costs the months changed, not the
    licenses held: after a day of filing, the current month and the next ones. A month that leaves
    the window is dropped; one that enters it was marked when its licenses were issued.
    `cleared`: the caller has deleted every cell and commits (refresh(full=True))."""
    started = time.perf_counter()
    of = monitor(product)
    months = window(today)
    changes = db.session.execute(select(MonitorChange.id, MonitorChange.month)
                                 .where(MonitorChange.product == product)).all()
    first_time = db.session.scalar(select(MonitorRefresh.id).where(MonitorRefresh.product == product)
                                   .limit(1)) is None
    todo = months if full or first_time else sorted({m for _, m in changes} & set(months))

    cells = delete(MonitorCell).where(MonitorCell.product == product)
    if cleared:
        pass
    elif todo == months:   # every cell of the product goes: one DELETE, not one per month
        db.session.execute(cells)
    else:
        db.session.execute(cells.where(MonitorCell.period.not_in(months)))  # periods, old months
        for month in todo:
            db.session.execute(cells.where(MonitorCell.period == month))
    with _collector_paused():
        rebuilt = {month: _rebuild_month(of, month) for month in todo}
        for period in periods_available(today):
            if todo == months:   # every month is in memory: summed there (in SQL it was a third of it)
                _sum_period_of(product, period, [rebuilt[m] for m in months_of(period, today)])
            else:
                _sum_period(product, period, months_of(period, today))
    done = [i for i, month in changes if month <= months[-1]]   # later months wait for their turn
    for at in range(0, len(done), 1000):
        db.session.execute(delete(MonitorChange).where(MonitorChange.id.in_(done[at:at + 1000])))

    counted = (License.product == product, License.number.is_not(None))
    latest = db.session.scalar(select(func.max(License.issued_at)).where(*counted))
    count = db.session.scalar(select(func.count()).select_from(License).where(
        *counted, License.status != LicenseStatus.CANCELLED))
    log = MonitorRefresh(product=product, refreshed_at=utcnow(), included_through=latest,
                         licenses=count or 0, seconds=Decimal(f"{time.perf_counter() - started:.2f}"))
    db.session.add(log)
    if not cleared:
        db.session.commit()
    return log


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while months are rebuilt: a rebuild allocates
    millions of tuples, lists and dicts (figures, keys, rankings), none of them in a reference
    cycle, and each allocation burst set off collections that walk the whole growing heap: a
    fifth of the full rebuild of 10,000 licenses (measured). Memory is unchanged (reference
    counting frees everything as before); a cycle made meanwhile waits for the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _KeyIds(dict):
    """The id of the key a line's value gives for a dimension derived from it (`key_of`, e.g. a
    group of categories), worked out once per value."""

    def __init__(self, ids: _Ids, key_of):
        super().__init__()
        self.ids, self.key_of = ids, key_of

    def __missing__(self, value):
        self[value] = number = self.ids[self.key_of(value)]
        return number


def _rebuild_month(of: Monitor, month: str) -> list[tuple]:
    """One month's figures: sums, distinct companies and the largest company's value per figure,
    and which are withheld; written, and returned as (dimension, category, origin, key, kg in
    hundredths, usd in cents, withheld) for the periods' sums.

    One query reads the month's product lines summed per company and per everything a figure can
    be keyed by, ordered by company. Each company's contributions to every figure are summed on
    their own, then folded into the figures: +1 company, and the largest company's value kept.
    Memory holds the month's figures and one company's contributions, never a company list per
    figure. A figure is one int while counting (dimension, category filter, origin filter, key:
    cheap to hash); amounts are integer cents and hundredths of a kg."""
    year, number = int(month[:4]), int(month[5:])
    start = date(year, number, 1)
    end = date(year + number // 12, number % 12 + 1, 1)
    hts6 = func.substr(ProductLine.hts_number, literal_column("1"), literal_column("6"))
    # Labelled: a derived dimension may read a column already selected (a group of categories).
    own_columns = [getattr(ProductLine, d.line_attribute).label(f"own{i}") for i, d in enumerate(of.own)]
    query = (
        select(License.company_id, ProductLine.category, License.origin_country, hts6,
               *own_columns, func.sum(ProductLine.quantity_kg), func.sum(ProductLine.customs_value_usd))
        .join(ProductLine, ProductLine.license_id == License.id)
        .where(License.import_date >= start, License.import_date < end, License.product == of.key,
               License.number.is_not(None), License.status != LicenseStatus.CANCELLED)
        .group_by(License.company_id, ProductLine.category, License.origin_country, hts6,
                  *(getattr(ProductLine, d.line_attribute) for d in of.own))
        .order_by(License.company_id))

    ids = _Ids()
    ids[TOTAL]  # 0
    ids[None] = ids[""]   # no value (a line from before its product asked for the field): ""
    own_ids_of = [ids if d.key_of is None else _KeyIds(ids, d.key_of) for d in of.own]
    derived = any(d.key_of is not None for d in of.own)
    nv = _NV
    order = of.order
    dim_base = [d * nv ** 3 for d in range(len(order))]
    cells: dict[int, list[int]] = {}   # figure -> [kg, usd, companies, largest company's usd]

    def fold(company_cells: dict[int, list[int]]) -> None:
        figure_of = cells.get
        for cell, (kg, usd) in company_cells.items():
            figure = figure_of(cell)
            if figure is None:
                cells[cell] = [kg, usd, 1, usd]
            else:
                figure[0] += kg
                figure[1] += usd
                figure[2] += 1
                if usd > figure[3]:  # noqa: PLR1730 (max() is slower in this loop)
                    figure[3] = usd

    current, company_cells = None, {}
    sums_of = company_cells.get
    atoms = set()                      # (category, hts6, origin, *own) imported
    own_bases, total_base = dim_base[3:-1], dim_base[-1]
    for company, category, origin, hts, *own, kg, usd in db.session.execute(
            query.execution_options(yield_per=20000)):
        if company != current:
            fold(company_cells)
            current, company_cells = company, {}
            sums_of = company_cells.get
        kg, usd = round(kg * 100), round(usd * 100)
        c, o, h = ids[category], ids[origin], ids[hts]
        # (a list of ids[] as before products had derived dimensions: this loop is the rebuild's)
        own_ids = [own_id[value] for own_id, value in zip(own_ids_of, own)] if derived else [ids[v] for v in own]
        row = (dim_base[0] + c, dim_base[1] + h, dim_base[2] + o,
               *[base + i for base, i in zip(own_bases, own_ids)], total_base)
        atoms.add((c, h, o, *own_ids))
        for filters in (0, o * nv, c * nv * nv, (c * nv + o) * nv):   # (category, origin) filters
            for key in row:
                cell = key + filters
                sums = sums_of(cell)
                if sums is None:
                    company_cells[cell] = [kg, usd]
                else:
                    sums[0] += kg
                    sums[1] += usd
    fold(company_cells)

    names = {number: value for value, number in ids.items()}
    names[ids[""]] = ""
    withheld = _withhold(of, cells, atoms)
    connection = db.session.connection()
    # The driver's executemany with plain tuples: SQLAlchemy's per-row parameter processing of a
    # Core insert was a tenth of a full rebuild (10,000 licenses, measured with cProfile). Amounts
    # go as the driver takes them: Decimal (psycopg), float (sqlite3, as SQLAlchemy's Numeric does).
    cents = _CENTS[connection.dialect.name in _FLOAT_DRIVERS]
    statement = _INSERT_CELLS[connection.dialect.paramstyle]
    figures, batch = [], []
    product = of.key
    for cell, (kg, usd, companies, top) in cells.items():
        rest, key = divmod(cell, nv)
        rest, origin = divmod(rest, nv)
        dimension, cf = divmod(rest, nv)
        figure = (order[dimension], names[cf], names[origin], names[key], kg, usd, cell in withheld)
        figures.append(figure)
        batch.append((product, figure[0], figure[1], figure[2], month, figure[3], cents(kg),
                      cents(usd), companies, cents(top), figure[6]))
        if len(batch) == 10000:
            connection.exec_driver_sql(statement, batch)
            batch = []
    if batch:
        connection.exec_driver_sql(statement, batch)
    return figures


_FLOAT_DRIVERS = {"sqlite"}
_CENTS = {False: lambda amount: Decimal(amount).scaleb(-2), True: lambda amount: amount / 100}
_CELLS_INTO = ('INSERT INTO monitor_cell ("product", "dimension", "category", "origin", "period", "key", "kg", '
               '"usd", "companies", "top_usd", "withheld") VALUES ')
_INSERT_CELLS = {   # by the driver's paramstyle: sqlite3 qmark, psycopg format
    "qmark": _CELLS_INTO + "(" + ", ".join(["?"] * 11) + ")",
    "format": _CELLS_INTO + "(" + ", ".join(["%s"] * 11) + ")",
    "pyformat": _CELLS_INTO + "(" + ", ".join(["%s"] * 11) + ")",
}


def _withhold(of: Monitor, cells: dict[int, list[int]], atoms: set) -> set[int]:
    """The figures of a month (as numbered by _rebuild_month) to show as "(D)": decided together
    over every view (disclosure.Month)."""
    config = current_app.config
    least = int(config["MONITOR_MIN_COMPANIES"])
    share = Fraction(str(config["MONITOR_MAX_SHARE"]))
    nv = _NV
    own = tuple(dimension.key for dimension in of.own)
    order = of.order
    month = Month([((c, h), o, *rest) for c, h, o, *rest in atoms], own)
    keys: dict[int, tuple] = {}
    for cell, (_, usd, companies, top) in cells.items():
        rest, key = divmod(cell, nv)
        rest, origin = divmod(rest, nv)
        dimension, cf = divmod(rest, nv)
        figure = month.key_of(order[dimension], cf, origin, key, total=0)
        keys[cell] = figure
        if figure not in month.figures:
            fails = companies < least or (usd > 0 and top * share.denominator > share.numerator * usd)
            month.add(figure, usd, fails)
    month.decide()
    return {cell for cell, figure in keys.items() if figure in month.withheld}


def _sum_period_of(product: str, period: str, months: list[list[tuple]]) -> None:
    """A period's figures summed from its months' figures as _rebuild_month returned them: the
    same as _sum_period, which reads them back from the table."""
    sums: dict[tuple, list] = {}
    for figures in months:
        for dimension, category, origin, key, kg, usd, withheld in figures:
            place = (dimension, category, origin, key)
            total = sums.get(place)
            if total is None:
                sums[place] = [kg, usd, withheld]
            else:
                total[0] += kg
                total[1] += usd
                total[2] = total[2] or withheld
    connection = db.session.connection()
    cents = _CENTS[connection.dialect.name in _FLOAT_DRIVERS]
    rows = [(product, dimension, category, origin, period, key, cents(kg), cents(usd), None, None, withheld)
            for (dimension, category, origin, key), (kg, usd, withheld) in sums.items()]
    for at in range(0, len(rows), 10000):
        connection.exec_driver_sql(_INSERT_CELLS[connection.dialect.paramstyle], rows[at:at + 10000])


def _sum_period(product: str, period: str, months: list[str]) -> None:
    """A period's figures, summed from its months' in one statement: withheld when withheld in any
    of its months, so a published one is a sum of published monthly figures (disclosure.py)."""
    c = MonitorCell
    withheld = func.max(case((c.withheld, 1), else_=0)) == 1
    figures = (select(c.product, c.dimension, c.category, c.origin, literal(period, String(7)), c.key,
                      func.sum(c.kg), func.sum(c.usd), withheld)
               .where(c.product == product, c.period.in_(months))
               .group_by(c.product, c.dimension, c.category, c.origin, c.key))
    db.session.execute(insert(MonitorCell).from_select(
        ["product", "dimension", "category", "origin", "period", "key", "kg", "usd", "withheld"], figures))


# ----- reading a table -----------------------------------------------------------------------------

@dataclass
class Table:
    dimension: str
    months: list[str]
    keys: list[str]                       # rows, largest value first
    figures: dict[tuple[str, str], Figure]
    hidden: set[tuple[str, str]]
    labels: dict[str, str] = field(default_factory=dict)

    def shown(self, key: str, column: str) -> Figure | None:
        place = (key, column)
        return None if place in self.hidden else self.figures.get(place)

    def is_hidden(self, key: str, column: str) -> bool:
        return (key, column) in self.hidden


def label(of: Monitor, dimension: str, key: str) -> str:
    if key == TOTAL:
        return "All"
    if not key:
        return "Not given"   # a field its product did not ask for yet on the application's date
    if dimension in of.country_dimensions:
        return country_name(key)
    if dimension == "hts6":
        return f"{key[:4]}.{key[4:6]}"
    return key


# Built once: a page binds its values (the statement's compiled form is cached too).
_CELLS = (select(MonitorCell.dimension, MonitorCell.period, MonitorCell.key, MonitorCell.kg,
                 MonitorCell.usd, MonitorCell.companies, MonitorCell.top_usd, MonitorCell.withheld)
          .where(MonitorCell.product == bindparam("product"),
                 MonitorCell.dimension.in_(bindparam("dimensions", expanding=True)),
                 MonitorCell.category == bindparam("category"), MonitorCell.origin == bindparam("origin"),
                 MonitorCell.period.in_(bindparam("periods", expanding=True))))
_LATEST_REFRESH = (select(MonitorRefresh).where(MonitorRefresh.product == bindparam("product"))
                   .order_by(MonitorRefresh.id.desc()).limit(1))


def table(of: Monitor, dimension: str, period: str, today: date, category: str = TOTAL,
          origin: str = TOTAL) -> Table:
    """One table of a product's monitor: its cells read by the lookup index (a few hundred rows,
    whatever the number of licenses), withheld as the refresh decided for all views together
    (disclosure.py)."""
    months = months_of(period, today)
    wanted = months + [period]
    cells = db.session.execute(_CELLS, {"product": of.key, "dimensions": [dimension, "total"],
                                        "category": category,
                                        "origin": origin, "periods": wanted}).all()
    figures: dict[tuple[str, str], Figure] = {}
    hidden = set()
    for dim, cell_period, key, kg, usd, companies, top, withheld in cells:
        row = TOTAL if dim == "total" else key
        column = TOTAL if cell_period == period else cell_period
        figures[(row, column)] = Figure(Decimal(kg), Decimal(usd), companies,
                                        None if top is None else Decimal(top))
        if withheld:
            hidden.add((row, column))

    def order(key: str):
        total = figures.get((key, TOTAL))
        if total is None or (key, TOTAL) in hidden:
            return (1, Decimal(0), label(of, dimension, key))  # a hidden total is not ranked by its value
        return (0, -total.usd, label(of, dimension, key))

    keys = sorted({r for r, _ in figures if r != TOTAL}, key=order)
    return Table(dimension, months, keys, figures, hidden,
                 {k: label(of, dimension, k) for k in keys + [TOTAL]})


def included_through(product: str) -> MonitorRefresh | None:
    """The product's last refresh: when, and up to which license."""
    return db.session.scalar(_LATEST_REFRESH, {"product": product})


def measure_value(figure: Figure | None, measure: str) -> Decimal | None:
    if figure is None:
        return None
    if measure == "tons":
        return figure.tons
    if measure == "usd":
        return figure.usd
    return figure.unit_value


def surges(period_table: Table, measure: str, ratio: Decimal, history: int = 6) -> list[dict]:
    """Keys whose latest month is far above their trailing average (published figures only)."""
    found = []
    if len(period_table.months) < history + 1:
        return found
    latest, before = period_table.months[-1], period_table.months[-1 - history:-1]
    for key in period_table.keys:
        figures = [period_table.shown(key, m) for m in before + [latest]]
        if any(f is None and period_table.is_hidden(key, m) for f, m in zip(figures, before + [latest])):
            continue  # a suppressed month: no surge can be published from it
        values = [measure_value(f, measure) or Decimal(0) for f in figures]
        average = sum(values[:-1], Decimal(0)) / history
        if average > 0 and values[-1] >= ratio * average:
            found.append({"key": key, "label": period_table.labels[key], "latest": values[-1],
                          "average": average, "ratio": values[-1] / average})
    return sorted(found, key=lambda s: -s["ratio"])

