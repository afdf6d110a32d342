"""The public AIM monitor in the browser (issue 7, point 7): a visitor, not signed in, reads the
trend chart and its table, changes the filters (view by country of origin, customs value, one
product category) and presses Show, downloads the table as .csv and .xlsx, and opens Surges.
The page passes axe, and its screenshot is kept for a person to look at."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import Company
from aimweb.monitor.aggregates import refresh
from aimweb.products.aluminum import ProductLineDraft

from .steps import expect, field, monitor_rows

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
MONTHS = 9  # the current month and the eight before

UNWROUGHT, PLATES, FOIL, BARS = "7601103000", "7606123035", "7607191000", "7604291010"


def month_start(back: int) -> date:
    index = TODAY.year * 12 + TODAY.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_label(back: int) -> str:
    return f"{month_start(back):%Y-%m}"


def canada_usd(i: int, m: int) -> Decimal:
    """Unwrought aluminum from Canada: company i (0-4) in month m (0 = oldest), US$."""
    return (Decimal(200_000 + 20_000 * i + 5_000 * m) * Decimal("2.70")).quantize(Decimal("0.01"))


def market_lines(i: int, m: int) -> list[tuple[str, str, int, Decimal]]:
    """(HTS, origin, kg, US$/kg) company i imports in month m (0 = oldest, MONTHS - 1 = current).

    Unwrought from Canada: all five companies (published). From the UAE: three, smaller (withheld
    to protect Iceland's). From Iceland: two (withheld). Plates from China: four, tripled in the
    last complete month (a surge; the current month is partial, so Surges do not look at it).
    Foil from China: two (withheld). Bars from China: three, small (withheld so that foil cannot be
    worked out from China's total minus plates)."""
    lines = [(UNWROUGHT, "CA", 200_000 + 20_000 * i + 5_000 * m, Decimal("2.70"))]
    if i >= 2:
        lines.append((UNWROUGHT, "AE", 60_000 + 5_000 * i, Decimal("2.65")))
        lines.append((BARS, "CN", 15_000, Decimal("3.20")))
    if i < 2:
        lines.append((UNWROUGHT, "IS", 40_000, Decimal("2.60")))
        lines.append((FOIL, "CN", 30_000, Decimal("4.10")))
    if i < 4:
        lines.append((PLATES, "CN", (80_000 + 10_000 * i) * (3 if m == MONTHS - 2 else 1), Decimal("3.40")))
    return lines


@pytest.fixture
def market(app, helpers):
    """Five importers' licenses over nine months, issued through the licensing service, then the
    monitor's figures rebuilt as `flask monitor-refresh` does."""
    with app.app_context():
        for i in range(5):
            user = helpers.make_user(f"analyst-data{i}@importer.example")
            for m in range(MONTHS):
                imported = month_start(MONTHS - 1 - m) + timedelta(days=9)
                drafts = []
                for hts, origin, kg, price in market_lines(i, m):
                    usd = (Decimal(kg) * price).quantize(Decimal("0.01"))
                    drafts.append(rules.LicenseDraft(
                        entry_type="consumption", importer_name=f"Confidential Importer {i} LLC",
                        exporter_name="Private Exporter SA", manufacturer_name="Undisclosed Smelter",
                        origin_country=origin, export_country=origin, port_code="1303",
                        export_date=imported - timedelta(days=7), import_date=imported,
                        lines=[ProductLineDraft(hts, origin, "NA_", origin, Decimal(kg), usd)]))
                licensing.issue_licenses(user, drafts, on=imported - timedelta(days=8))
        refresh(TODAY)
        names = [c.name for c in db.session.scalars(select(Company))]
    return {"names": names + ["Confidential Importer", "Private Exporter", "Undisclosed Smelter"]}


def money(value: Decimal) -> str:
    return f"{value:,.0f}"


def test_visitor_reads_filters_downloads_and_opens_surges(page, console, market, audit, screenshot):
    page.goto("/monitor/")   # the landing page: pick the metal
    expect(page.get_by_role("heading", level=1)).to_have_text("Import Monitors")
    page.get_by_role("main").get_by_role("link", name="Aluminum monitor").click()
    expect(page).to_have_url(re.compile(r"/monitor/aluminum/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Aluminum Import Monitor")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()  # anonymous: nothing signed in
    main = page.get_by_role("main")
    expect(main).to_contain_text("Includes licenses issued through")
    screenshot(page, "monitor-categories", mobile=True)

    # ----- The default view: quantity by product category, a monthly trend chart and its table.
    chart = main.locator("svg[role=img]")
    expect(chart).to_have_count(1)
    labelled_by = chart.get_attribute("aria-labelledby").split()
    title = page.locator(f"#{labelled_by[0]}")
    assert page.locator(f"svg #{labelled_by[0]}").evaluate("e => e.tagName") == "title"
    assert "Quantity (metric tons) by product category" in title.text_content()
    desc = page.locator(f"svg #{labelled_by[1]}").text_content()
    assert "Unwrought aluminum" in desc and "Foil" in desc
    assert chart.locator("polyline").count() == 2  # foil and bars are withheld in every month
    rows = monitor_rows(page)
    assert list(rows)[:1] == ["Unwrought aluminum"], rows.keys()
    assert rows["Foil"][-3:] == ["(D)", "(D)", "(D)"]  # two importers only
    assert "All" in rows
    # Beside the chart: the latest month's figures (the legend); the full table right below.
    latest = main.locator("table.aim-latest-table")
    # The month under way is partial: "latest" is the last complete one, and the table says so.
    expect(latest.locator("caption")).to_have_text(f"Latest complete month: {month_start(1):%b %Y}")
    expect(main.locator("table.aim-monitor-table thead")).to_contain_text(f"{month_start(0):%b %Y} (partial)")
    box_chart, box_latest = chart.bounding_box(), latest.bounding_box()
    assert box_latest["x"] > box_chart["x"] + box_chart["width"] - 1, "the figures are not beside the chart"
    assert box_latest["y"] < box_chart["y"] + box_chart["height"]
    latest_rows = {r[0]: r[1:] for r in (row.split("\t") for row in latest.locator("tbody tr").all_inner_texts())}
    assert latest_rows["Plates, sheets and strip"] == ["1,140.0", "+200 %"]
    assert latest_rows["Foil"] == ["(D)", "–"]
    assert main.locator("table.aim-monitor-table").bounding_box()["y"] > box_chart["y"] + box_chart["height"]
    for name in market["names"]:
        expect(main).not_to_contain_text(name)
    audit("monitor")

    # ----- Filters: by country of origin, customs value, unwrought aluminum only; Show.
    field(page, "View by").select_option(label="Country of origin")
    field(page, "Measure").select_option(label="Customs value (US$)")
    field(page, "Product category").select_option(label="Unwrought aluminum")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/monitor/aluminum/\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["dimension"] == ["origin"] and query["measure"] == ["usd"]
    assert query["category"] == ["Unwrought aluminum"]
    expect(field(page, "View by")).to_have_value("origin")
    bars = main.locator("svg[role=img]")
    expect(bars).to_have_count(1)
    assert "ranking of countries" in bars.locator("title").text_content().lower()
    rows = monitor_rows(page)
    # Ranked by the period total; withheld totals last, by name.
    assert list(rows) == ["Canada", "Iceland", "United Arab Emirates", "All"], rows.keys()
    canada_latest = sum((canada_usd(i, MONTHS - 1) for i in range(5)), Decimal(0))
    canada_total = sum((canada_usd(i, m) for i in range(5) for m in range(MONTHS)), Decimal(0))
    assert rows["Canada"][-2:] == [money(canada_latest), money(canada_total)]
    assert set(rows["Iceland"]) <= {"(D)", "–"} and "(D)" in rows["Iceland"]
    assert "(D)" in rows["United Arab Emirates"][-1]
    screenshot(page, "monitor-origin-usd-unwrought")

    # ----- Downloads of the table as shown.
    with page.expect_download() as info:
        main.get_by_role("link", name=re.compile(r"\.csv")).click()
    download = info.value
    assert download.suggested_filename == "aim-monitor-origin-usd-13m.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    head, body = table[0], {r[0]: r[1:] for r in table[1:] if r}
    assert head[0] == "Country of origin" and head[-2] == month_label(0) and head[-1].startswith("Total")
    assert body["Canada"][-2:] == [str(canada_latest.quantize(Decimal(1))), str(canada_total.quantize(Decimal(1)))]
    assert "(D)" in body["Iceland"] and body["United Arab Emirates"][-1] == "(D)"
    assert any("(D) = withheld" in r[0] for r in table[1:] if r)

    with page.expect_download() as info:
        main.get_by_role("link", name=re.compile(r"\.xlsx")).click()
    download = info.value
    assert download.suggested_filename == "aim-monitor-origin-usd-13m.xlsx"
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(download.path().read_bytes())).active
    cells = {r[0]: r[1:] for r in sheet.iter_rows(values_only=True) if r and r[0]}
    assert cells["Canada"][len(head) - 3:len(head) - 1] == (float(canada_latest.quantize(Decimal(1))),
                                                           float(canada_total.quantize(Decimal(1))))
    assert "(D)" in cells["Iceland"] and cells["United Arab Emirates"][len(head) - 2] == "(D)"
    console.assert_clean("the downloads")

    # ----- Surges: plates from China tripled in the last complete month.
    main.get_by_role("link", name="Surges").click()
    expect(page).to_have_url(re.compile(r"/monitor/aluminum/surges"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Aluminum import surges")
    surge = page.locator("tr.aim-surge")
    expect(surge.filter(has_text="Plates, sheets and strip")).to_have_count(1)
    expect(surge.filter(has_text="China")).to_have_count(1)
    expect(surge.filter(has_text="Plates, sheets and strip")).to_contain_text("3.0×")
    for name in market["names"]:
        expect(page.get_by_role("main")).not_to_contain_text(name)
    expect(page.get_by_role("columnheader", name=f"{month_start(1):%b %Y}")).to_have_count(2)
    screenshot(page, "monitor-surges")
    audit("monitor-surges")

    # A surge's name opens its figures: plates by country of origin.
    surge.get_by_role("link", name="Plates, sheets and strip").click()
    expect(page).to_have_url(re.compile(r"/monitor/aluminum/\?"))
    expect(field(page, "View by")).to_have_value("origin")
    expect(field(page, "Product category")).to_have_value("Plates, sheets and strip")
    assert list(monitor_rows(page)) == ["China", "All"]
