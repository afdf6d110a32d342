"""Monitor pages: no sign-in, read only pre-computed figures (aimweb/monitor/aggregates.py)."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Response, current_app, render_template, request

from ..licensing import application_date
from ..reference.countries import all_countries
from ..reference.hts import current_catalogue
from . import bp
from .aggregates import (COUNTRY_DIMENSIONS, DIMENSIONS, MEASURES, TOTAL, included_through,
                         label, measure_value, periods_available, surges, table)
from .charts import bar_chart, line_chart


def _choices() -> dict:
    today = application_date()
    args = request.args
    periods = periods_available(today)
    categories = sorted({item.category for item in current_catalogue().items.values()})
    countries = dict(all_countries())
    choice = {
        "dimension": args.get("dimension") if args.get("dimension") in DIMENSIONS else "category",
        "measure": args.get("measure") if args.get("measure") in MEASURES else "tons",
        "period": args.get("period") if args.get("period") in periods else "13m",
        "category": args.get("category") if args.get("category") in categories else TOTAL,
        "origin": args.get("origin") if args.get("origin") in countries else TOTAL,
    }
    return dict(today=today, periods=periods, categories=categories, countries=countries, choice=choice)


def _table(c: dict):
    """The table of the choice, rows ordered by the chosen measure's total (withheld totals last)."""
    ch = c["choice"]
    t = table(ch["dimension"], ch["period"], c["today"], ch["category"], ch["origin"])

    def order(key: str):
        value = measure_value(t.shown(key, TOTAL), ch["measure"])
        return (value is None, -(value or 0), t.labels[key])

    t.keys.sort(key=order)
    return t


def _fmt(value: Decimal | None, measure: str) -> str:
    if value is None:
        return "(D)"
    return f"{value:,.1f}" if measure == "tons" else f"{value:,.0f}"


@bp.get("/")
def index():
    c = _choices()
    ch = c["choice"]
    t = _table(c)
    measure = ch["measure"]
    if ch["dimension"] in COUNTRY_DIMENSIONS:
        chart = {"kind": "bars", "data": bar_chart(
            [(t.labels[k], measure_value(t.shown(k, TOTAL), measure)) for k in t.keys[:15]])}
    else:
        chart = {"kind": "lines", "data": line_chart(t.months, [
            (t.labels[k], [measure_value(t.shown(k, m), measure) for m in t.months]) for k in t.keys[:6]])}
    return render_template("monitor/index.html", t=t, chart=chart, fmt=_fmt, value=measure_value,
                           dimensions=DIMENSIONS, measures=MEASURES, refresh=included_through(),
                           min_companies=current_app.config["MONITOR_MIN_COMPANIES"],
                           max_share=int(float(current_app.config["MONITOR_MAX_SHARE"]) * 100),
                           TOTAL=TOTAL, **c)


@bp.get("/surges")
def surge_view():
    c = _choices()
    ch = c["choice"]
    ratio = Decimal(str(current_app.config["MONITOR_SURGE_RATIO"]))
    found = {}
    for dimension in ("category", "origin"):
        t = table(dimension, "13m", c["today"], ch["category"], ch["origin"])
        found[dimension] = (t, surges(t, ch["measure"], ratio))
    return render_template("monitor/surges.html", found=found, fmt=_fmt, ratio=ratio,
                           dimensions=DIMENSIONS, measures=MEASURES, refresh=included_through(), **c)


@bp.get("/table.<any(csv, xlsx):kind>")
def download(kind: str):
    c = _choices()
    ch = c["choice"]
    t = _table(c)
    measure = ch["measure"]
    header = [DIMENSIONS[ch["dimension"]]] + t.months + [f"Total {c['periods'][ch['period']]}"]
    rows = [header]
    for key in t.keys + [TOTAL]:
        rows.append([t.labels[key] if key != TOTAL else "All"] +
                    [_cell(t, key, column, measure, kind) for column in t.months + [TOTAL]])
    note = (f"{MEASURES[measure]}; category: {'all' if ch['category'] == TOTAL else ch['category']}; "
            f"country of origin: {'all' if ch['origin'] == TOTAL else label('origin', ch['origin'])}. "
            "(D) = withheld to avoid disclosing data of individual companies.")
    name = f"aim-monitor-{ch['dimension']}-{measure}-{ch['period']}"
    if kind == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerows(rows)
        writer.writerow([note])
        response = Response(out.getvalue(), mimetype="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        sheet = wb.active
        sheet.title = "AIM monitor"
        for row in rows:
            sheet.append(row)
        sheet.append([])
        sheet.append([note])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 34
        out = io.BytesIO()
        wb.save(out)
        response = Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


def _cell(t, key, column, measure, kind):
    if t.is_hidden(key, column):
        return "(D)"
    value = measure_value(t.figures.get((key, column)), measure)
    if value is None:
        return "" if kind == "csv" else None
    rounded = value.quantize(Decimal("0.1") if measure == "tons" else Decimal("1"))
    return str(rounded) if kind == "csv" else float(rounded)
