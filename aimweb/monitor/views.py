"""Monitor pages: no sign-in, read only pre-computed figures (aimweb/monitor/aggregates.py).

One monitor per product at /monitor/<product>/ (its tables and charts, Surges, downloads), all
drawn from the product's definition (aimweb/products: name, program, category label, monitor
dimensions); /monitor/ lets the public pick the metal. The aluminum monitor's first URLs
(/monitor/?dimension=..., /monitor/surges, /monitor/table.csv) redirect to its pages."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import lru_cache

from flask import current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from .. import formatting, products
from ..clock import application_date
from ..reference.countries import all_countries
from ..web.access import public
from ..web.downloads import table_download
from . import bp
from .aggregates import (
    MEASURES,
    TOTAL,
    Monitor,
    included_through,
    label,
    measure_value,
    monitor,
    periods_available,
    surges,
    table,
)
from .charts import bar_chart, line_chart

# The product in a monitor's URL: one of the products' keys, anything else is a 404.
PRODUCT = f"<any({', '.join(products.PRODUCTS)}):product>"
# The parameters of a monitor view: on /monitor/ they mean the aluminum monitor's first URL.
VIEW_PARAMETERS = ("dimension", "measure", "period", "category", "origin")


@lru_cache(maxsize=1)
def _countries() -> tuple[tuple[str, str], ...]:
    return tuple(all_countries())


@lru_cache(maxsize=300)
def _country_options(selected: str) -> Markup:
    """The ~250 <option>s of the country filter, escaped once per selected country rather than on
    every page (they were a sixth of a page's time)."""
    return Markup("".join(f'<option value="{escape(code)}"{" selected" if code == selected else ""}>'  # noqa: S704 - code and name are escaped
                          f"{escape(name)}</option>" for code, name in _countries()))


def _categories(of: Monitor) -> list[str]:
    return sorted({item.category for item in of.product.catalogue().items.values()})


def _choices(of: Monitor) -> dict:
    today = application_date()
    args = request.args
    periods = periods_available(today)
    categories = _categories(of)
    countries = dict(_countries())
    choice = {
        "dimension": args.get("dimension") if args.get("dimension") in of.dimensions else "category",
        "measure": args.get("measure") if args.get("measure") in MEASURES else "tons",
        "period": args.get("period") if args.get("period") in periods else "13m",
        "category": args.get("category") if args.get("category") in categories else TOTAL,
        "origin": args.get("origin") if args.get("origin") in countries else TOTAL,
    }
    return dict(today=today, periods=periods, categories=categories, countries=countries, choice=choice,
                country_options=_country_options(choice["origin"]), of=of, product=of.product,
                dimensions=of.dimensions, measures=MEASURES, refresh=included_through(of.key))


def _table(c: dict):
    """The table of the choice, rows ordered by the chosen measure's total (withheld totals last)."""
    ch = c["choice"]
    t = table(c["of"], ch["dimension"], ch["period"], c["today"], ch["category"], ch["origin"])

    def order(key: str):
        value = measure_value(t.shown(key, TOTAL), ch["measure"])
        return (value is None, -(value or 0), t.labels[key])

    t.keys.sort(key=order)
    return t


def _fmt(value: Decimal | None, measure: str) -> str:
    if value is None:
        return "(D)"
    return formatting.metric_tons(value) if measure == "tons" else formatting.whole(value)


MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UNITS = {"tons": "metric tons", "usd": "US$", "unit": "US$ per metric ton"}


def month_label(month: str) -> str:
    """"2026-03" -> "Mar 2026" (not "03/26", which a US reader takes for March 26)."""
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


PROPER_NAMES = ("Section 232",)   # the trade law: its name keeps its capital inside a sentence


@bp.app_template_filter()
def lower_first(text: str) -> str:
    """"Country of origin" -> "country of origin" inside a sentence, but "6-digit HTS" stays as it
    is (the filter `lower` made it "6-digit hts"), and so does a name with its number ("Section 232
    product category")."""
    if text.startswith(PROPER_NAMES):
        return text
    return text[:1].lower() + text[1:]


def current_month(today: date) -> str:
    """The month still under way ("2026-06"): its figures are partial, licenses keep coming in."""
    return f"{today.year:04d}-{today.month:02d}"


def complete(t, today: date):
    """The table without the month under way: "latest" and Surges compare complete months only
    (a half-month against full ones would look like a fall, and a surge would go unseen)."""
    return replace(t, months=[m for m in t.months if m != current_month(today)])


def column_labels(t, today: date) -> list[str]:
    partial = current_month(today)
    return [month_label(m) + (" (partial)" if m == partial else "") for m in t.months]


def _text(t, key: str, column: str, measure: str) -> tuple[str, bool]:
    """A table cell as shown: its text and whether it is withheld."""
    if t.is_hidden(key, column):
        return "(D)", True
    figure = t.figures.get((key, column))
    value = measure_value(figure, measure)
    return ("–" if value is None else _fmt(value, measure)), False


def _rows(t, measure: str) -> list[tuple[str, list[tuple[str, bool]]]]:
    """Every row of the table (the "All" row last), formatted once here rather than cell by cell
    in the template: a page then costs the same whatever the table."""
    columns = t.months + [TOTAL]
    return [(t.labels[key], [_text(t, key, column, measure) for column in columns])
            for key in t.keys + [TOTAL]]


def _latest(t, keys: list[str], measure: str) -> list[dict]:
    """The latest (complete) month of each charted key and its change on the month before
    (published figures only: a change is never computed from a withheld figure)."""
    if not t.months:
        return []
    latest, before = t.months[-1], t.months[-2] if len(t.months) > 1 else None
    out = []
    for index, key in enumerate(keys):
        now = measure_value(t.shown(key, latest), measure)
        then = measure_value(t.shown(key, before), measure) if before else None
        change = None
        if now is not None and then:
            change = (now - then) / then * 100
        out.append({"label": t.labels[key], "color": index, "text": _text(t, key, latest, measure),
                    "change": None if change is None else f"{change:+,.0f} %".replace("-", "\u2212")})
    return out


def _latest_caption(done, period: str, partial: bool) -> str:
    if not done.months:
        return ""
    month = month_label(done.months[-1])
    if partial:
        return f"Latest complete month: {month}"
    return f"Latest month: {month}" if period in ("13m", "25m") else f"Last month of {period}: {month}"


@bp.get("/")
@public
def index():
    """The landing page: pick the metal. An aluminum monitor view's first URL (/monitor/?dimension=...)
    goes on to the aluminum monitor."""
    if any(name in request.args for name in VIEW_PARAMETERS):
        return _moved("monitor.tables")
    return render_template("monitor/landing.html", monitors=[
        (monitor(key), included_through(key)) for key in products.PRODUCTS])


@bp.get("/surges")
@public
def old_surges():
    return _moved("monitor.surge_view")


@bp.get("/table.<any(csv, xlsx):kind>")
@public
def old_download(kind: str):
    return _moved("monitor.download", kind=kind)


def _moved(endpoint: str, **values):
    """The aluminum monitor's page at its first URL: moved for good, with the same query."""
    query = request.query_string.decode("latin-1")
    target = url_for(endpoint, product=products.DEFAULT, **values)
    return redirect(f"{target}?{query}" if query else target, code=301)


@bp.get(f"/{PRODUCT}/")
@public
def tables(product: str):
    c = _choices(monitor(product))
    ch = c["choice"]
    t = _table(c)
    measure = ch["measure"]
    if ch["dimension"] in c["of"].country_dimensions:
        keys = t.keys[:15]
        chart = {"kind": "bars", "data": bar_chart(
            [(t.labels[k], measure_value(t.shown(k, TOTAL), measure)) for k in keys])}
    else:
        keys = t.keys[:6]
        chart = {"kind": "lines", "data": line_chart([month_label(m) for m in t.months], [
            (t.labels[k], [measure_value(t.shown(k, m), measure) for m in t.months]) for k in keys])}
    rows = _rows(t, measure)
    done = complete(t, c["today"])  # "latest" is the last complete month
    partial = len(done.months) < len(t.months)
    selection = ", ".join(([f"{c['dimensions']['category']}: {ch['category']}"] if ch["category"] != TOTAL else []) +
                          ([f"country of origin: {c['countries'][ch['origin']]}"] if ch["origin"] != TOTAL else []))
    return render_template("monitor/index.html", t=t, chart=chart, rows=rows[:-1], total_row=rows[-1],
                           selection=selection[:1].upper() + selection[1:],
                           months=column_labels(t, c["today"]), unit=UNITS[measure],
                           partial_month=month_label(t.months[-1]) if partial else "",
                           latest=_latest(done, keys, measure) if t.keys else [],
                           latest_caption=_latest_caption(done, ch["period"], partial),
                           previous_month=month_label(done.months[-2]) if len(done.months) > 1 else "",
                           min_companies=current_app.config["MONITOR_MIN_COMPANIES"],
                           max_share=int(float(current_app.config["MONITOR_MAX_SHARE"]) * 100),
                           **c)


@bp.get(f"/{PRODUCT}/surges")
@public
def surge_view(product: str):
    c = _choices(monitor(product))
    ch = c["choice"]
    ratio = Decimal(str(current_app.config["MONITOR_SURGE_RATIO"]))
    found = {}
    for dimension in ("category", "origin"):
        t = complete(table(c["of"], dimension, "13m", c["today"], ch["category"], ch["origin"]), c["today"])
        found[dimension] = (t, surges(t, ch["measure"], ratio))
    return render_template("monitor/surges.html", found=found, fmt=_fmt, ratio=ratio, month_label=month_label,
                           unit=UNITS[ch["measure"]], **c)


@bp.get(f"/{PRODUCT}/table.<any(csv, xlsx):kind>")
@public
def download(product: str, kind: str):
    of = monitor(product)
    c = _choices(of)
    ch = c["choice"]
    t = _table(c)
    measure = ch["measure"]
    header = [of.dimensions[ch["dimension"]]] + t.months + [f"Total {c['periods'][ch['period']]}"]
    partial = current_month(c["today"])  # the columns stay plain months, for whoever reads the file
    rows = [header]
    for key in t.keys + [TOTAL]:
        rows.append([t.labels[key] if key != TOTAL else "All"] +
                    [_cell(t, key, column, measure, kind) for column in t.months + [TOTAL]])
    note = (f"{of.product.program}. {MEASURES[measure]}; "
            f"{lower_first(of.dimensions['category'])}: {'all' if ch['category'] == TOTAL else ch['category']}; "
            f"country of origin: {'all' if ch['origin'] == TOTAL else label(of, 'origin', ch['origin'])}. "
            "(D) = withheld to avoid disclosing data of individual companies."
            + (f" {partial} is partial: the month is not over." if partial in t.months else ""))
    short = of.product.short_name
    name = f"{short.lower()}-monitor-{ch['dimension']}-{measure}-{ch['period']}"
    return table_download(rows, kind, name, note=note, widths={"A": 34}, sheet_title=f"{short} monitor")


def _cell(t, key, column, measure, kind):
    if t.is_hidden(key, column):
        return "(D)"
    value = measure_value(t.figures.get((key, column)), measure)
    if value is None:
        return "" if kind == "csv" else None
    rounded = value.quantize(Decimal("0.1") if measure == "tons" else Decimal("1"))
    return str(rounded) if kind == "csv" else float(rounded)
