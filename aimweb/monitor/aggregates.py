"""The monitor's figures: rebuilt from the licenses by `flask monitor-refresh`, read as tables.

Why a scheduled rebuild and not an update per license: the disclosure rules need, for every
published figure, the number of distinct companies and the largest company's share, which are
not additive; keeping them exact on every issue, modification and cancellation would put a
recount of the cell's companies inside each submit. A rebuild (hourly or nightly by cron; the
program itself publishes weekly) reads the licenses once, grouped by company, and writes every
figure with its counts; a page then reads a few hundred pre-computed rows whatever the number of
licenses. The page says up to which time it includes licenses. Cancelled licenses never count;
corrected ones count with their current figures (the license row is corrected in place).
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import delete, func, insert, select

from ..extensions import db
from ..models import License, MonitorCell, MonitorRefresh, ProductLine, utcnow
from ..reference.countries import country_name
from .disclosure import TOTAL, Figure, suppress

DIMENSIONS = {
    "category": "Product category",
    "hts6": "6-digit HTS",
    "origin": "Country of origin",
    "smelt": "Country of largest smelt",
    "cast": "Country of most recent cast",
}
COUNTRY_DIMENSIONS = ("origin", "smelt", "cast")
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

def refresh(today: date | None = None) -> MonitorRefresh:
    started = time.perf_counter()
    today = today or date.today()
    first = min(_month_index(today) - 24, (today.year - 2) * 12)
    start = date(first // 12, first % 12 + 1, 1)
    end_index = _month_index(today) + 1
    end = date(end_index // 12, end_index % 12 + 1, 1)
    periods = periods_available(today)
    month_periods: dict[str, list[str]] = defaultdict(list)
    for period in periods:
        for month in months_of(period, today):
            month_periods[month].append(period)

    # One pass over the licenses, grouped by company and everything a figure can be keyed by.
    query = (
        select(License.company_id, License.import_date, ProductLine.category, License.origin_country,
               func.substr(ProductLine.hts_number, 1, 6), ProductLine.smelt_largest,
               ProductLine.cast_country, func.sum(ProductLine.quantity_kg),
               func.sum(ProductLine.customs_value_usd))
        .join(ProductLine, ProductLine.license_id == License.id)
        .where(License.number.is_not(None), License.status != "cancelled",
               License.import_date >= start, License.import_date < end)
        .group_by(License.company_id, License.import_date, ProductLine.category, License.origin_country,
                  func.substr(ProductLine.hts_number, 1, 6), ProductLine.smelt_largest,
                  ProductLine.cast_country))
    # (dimension, category filter, origin filter, month, key) -> company -> [kg, usd]
    monthly: dict[tuple, dict[int, list]] = defaultdict(dict)
    latest = db.session.scalar(select(func.max(License.issued_at)).where(License.number.is_not(None)))
    count = db.session.scalar(select(func.count()).select_from(License).where(
        License.number.is_not(None), License.status != "cancelled"))
    for company, imported, category, origin, hts6, smelt, cast, kg, usd in db.session.execute(
            query.execution_options(yield_per=20000)):
        if isinstance(imported, str):
            imported = date.fromisoformat(imported[:10])
        month = f"{imported.year:04d}-{imported.month:02d}"
        kg, usd = Decimal(kg), Decimal(usd)
        keys = (("category", category), ("hts6", hts6), ("origin", origin), ("smelt", smelt),
                ("cast", cast), ("total", TOTAL))
        for cf in (TOTAL, category):
            for of in (TOTAL, origin):
                for dimension, key in keys:
                    part = monthly[(dimension, cf, of, month, key)]
                    sums = part.get(company)
                    if sums is None:
                        part[company] = [kg, usd]
                    else:
                        sums[0] += kg
                        sums[1] += usd
    # Period totals: the same companies' sums over the months of each period.
    totals: dict[tuple, dict[int, list]] = defaultdict(dict)
    for (dimension, cf, of, month, key), part in monthly.items():
        for period in month_periods.get(month, ()):
            target = totals[(dimension, cf, of, period, key)]
            for company, (kg, usd) in part.items():
                sums = target.get(company)
                if sums is None:
                    target[company] = [kg, usd]
                else:
                    sums[0] += kg
                    sums[1] += usd
    rows = []
    for source in (monthly, totals):
        for (dimension, cf, of, period, key), part in source.items():
            rows.append({"dimension": dimension, "category": cf, "origin": of, "period": period,
                         "key": key, "kg": sum(v[0] for v in part.values()),
                         "usd": sum(v[1] for v in part.values()), "companies": len(part),
                         "top_usd": max(v[1] for v in part.values())})
    db.session.execute(delete(MonitorCell))
    for start_at in range(0, len(rows), 5000):
        db.session.execute(insert(MonitorCell), rows[start_at:start_at + 5000])
    log = MonitorRefresh(refreshed_at=utcnow(), included_through=latest, licenses=count or 0,
                         seconds=Decimal(f"{time.perf_counter() - started:.2f}"))
    db.session.add(log)
    db.session.commit()
    return log


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


def label(dimension: str, key: str) -> str:
    if key == TOTAL:
        return "All"
    if dimension in COUNTRY_DIMENSIONS:
        return country_name(key)
    if dimension == "hts6":
        return f"{key[:4]}.{key[4:6]}"
    return key


def table(dimension: str, period: str, today: date, category: str = TOTAL, origin: str = TOTAL) -> Table:
    months = months_of(period, today)
    wanted = months + [period]
    cells = db.session.execute(
        select(MonitorCell.dimension, MonitorCell.period, MonitorCell.key, MonitorCell.kg,
               MonitorCell.usd, MonitorCell.companies, MonitorCell.top_usd)
        .where(MonitorCell.dimension.in_((dimension, "total")), MonitorCell.category == category,
               MonitorCell.origin == origin, MonitorCell.period.in_(wanted))).all()
    figures: dict[tuple[str, str], Figure] = {}
    for dim, cell_period, key, kg, usd, companies, top in cells:
        row = TOTAL if dim == "total" else key
        column = TOTAL if cell_period == period else cell_period
        figures[(row, column)] = Figure(Decimal(kg), Decimal(usd), companies, Decimal(top))
    config = current_app.config
    hidden = suppress(figures, int(config["MONITOR_MIN_COMPANIES"]), Decimal(str(config["MONITOR_MAX_SHARE"])))

    def order(key: str):
        total = figures.get((key, TOTAL))
        if total is None or (key, TOTAL) in hidden:
            return (1, Decimal(0), label(dimension, key))  # a hidden total is not ranked by its value
        return (0, -total.usd, label(dimension, key))

    keys = sorted({r for r, _ in figures if r != TOTAL}, key=order)
    return Table(dimension, months, keys, figures, hidden,
                 {k: label(dimension, k) for k in keys + [TOTAL]})


def included_through() -> MonitorRefresh | None:
    return db.session.scalar(select(MonitorRefresh).order_by(MonitorRefresh.id.desc()).limit(1))


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

