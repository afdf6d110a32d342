"""The Steel Import Monitor in the browser (issue 15, point 7): a visitor picks Steel on the
monitor's landing page, reads the trend chart by Section 232 product category and its table,
views by country of melt and pour (a ranking of countries) and by product group, and opens
Surges. axe and screenshots at 1280 and 390 px on each new state."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from aimweb import licensing, rules
from aimweb.monitor.aggregates import refresh
from aimweb.products import STEEL

from .steps import expect, field, monitor_rows

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
MONTHS = 7
COLD_SHEET, PLATE, REBAR, WIRE = "7209150000", "7208510030", "7213100000", "7217101000"


def month_start(back: int) -> date:
    index = TODAY.year * 12 + TODAY.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def market_lines(i: int, m: int) -> list[tuple[str, str, str, int, Decimal]]:
    """(HTS, origin, melt and pour, kg, US$/kg) steel importer i (0-4) brings in month m.

    Cold-rolled sheet from Korea melted in Korea: all five (published), tripled in the last
    complete month (a surge). Rebar from Mexico melted in Mexico: four. Plate from Japan melted in
    Brazil: two (withheld). Wire from Canada melted in the United States: three."""
    surge = 3 if m == MONTHS - 2 else 1
    lines = [(COLD_SHEET, "KR", "KR", (300_000 + 30_000 * i + 10_000 * m) * surge, Decimal("0.95"))]
    if i < 4:
        lines.append((REBAR, "MX", "MX", 120_000 + 10_000 * i, Decimal("0.70")))
    if i < 2:
        lines.append((PLATE, "JP", "BR", 80_000, Decimal("1.10")))
    if i >= 2:
        lines.append((WIRE, "CA", "US", 40_000 + 5_000 * i, Decimal("1.30")))
    return lines


@pytest.fixture
def market(app, helpers):
    with app.app_context():
        for i in range(5):
            user = helpers.make_user(f"steel-data{i}@importer.example")
            for m in range(MONTHS):
                imported = month_start(MONTHS - 1 - m) + timedelta(days=9)
                drafts = [rules.LicenseDraft(
                    product=STEEL.key, entry_type="consumption", importer_name=f"Confidential Mill Buyer {i}",
                    exporter_name="Private Steel Trader", manufacturer_name="Undisclosed Steelworks",
                    origin_country=origin, export_country=origin, port_code="5301",
                    export_date=imported - timedelta(days=7), import_date=imported,
                    lines=[STEEL.LineDraft(hts, melted, Decimal(kg), (Decimal(kg) * price).quantize(Decimal("0.01")))])
                    for hts, origin, melted, kg, price in market_lines(i, m)]
                licensing.issue_licenses(user, drafts, on=imported - timedelta(days=8))
        refresh(TODAY)
    return ["Confidential Mill Buyer", "Private Steel Trader", "Undisclosed Steelworks"]


def test_visitor_picks_steel_and_reads_its_monitor(page, console, market, audit, screenshot):
    page.goto("/monitor/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import Monitors")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=2)).to_have_text(["Aluminum Import Monitor", "Steel Import Monitor"])
    screenshot(page, "landing", mobile=True)
    audit("monitor-landing")

    main.get_by_role("link", name="Steel monitor").click()
    expect(page).to_have_url(re.compile(r"/monitor/steel/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Steel Import Monitor")
    expect(main).to_contain_text("Includes licenses issued through")
    chart = main.locator("svg[role=img]")
    expect(chart).to_have_count(1)
    title = chart.locator("title").text_content()
    assert "Quantity (metric tons) by Section 232 product category" in title
    desc = chart.locator("desc").text_content()
    assert "Cold-rolled sheet" in desc and "Reinforcing bars" in desc
    assert chart.locator("polyline").count() >= 2   # plate is withheld in every month: no line
    rows = monitor_rows(page)
    assert list(rows)[:1] == ["Cold-rolled sheet"], rows.keys()
    assert set(rows["Plate in cut lengths"]) == {"(D)", "–"}   # withheld, or no licenses that month
    for name in market:
        expect(main).not_to_contain_text(name)
    screenshot(page, "categories", mobile=True)
    audit("steel-monitor")

    # By country of melt and pour: a ranking of countries (Brazil's plate withheld).
    field(page, "View by").select_option(label="Country of melt and pour")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/monitor/steel/\?dimension=melt_pour"))
    bars = main.locator("svg[role=img]")
    assert "ranking of countries" in bars.locator("title").text_content()
    rows = monitor_rows(page)
    # Ranked by the period's total; withheld totals after, by name (complementary suppression
    # withholds some months of Mexico and the United States with Brazil's).
    assert list(rows)[:1] == ["South Korea"] and set(rows) >= {"Brazil", "Mexico", "United States"}, rows.keys()
    assert set(rows["Brazil"]) == {"(D)", "–"}
    screenshot(page, "melt-pour", mobile=True)
    audit("steel-monitor-melt-pour")

    # By product group, customs value: Flat holds sheet and plate, Long rebar and wire; Flat is
    # withheld with plate (else Flat minus sheet is plate), and Long with it (else the month's
    # total minus Long is Flat).
    field(page, "View by").select_option(label="Product group")
    field(page, "Measure").select_option(label="Customs value (US$)")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"dimension=product_group"))
    expect(main.locator("svg[role=img]")).to_have_count(1)
    rows = monitor_rows(page)
    assert list(rows) == ["Flat Products", "Long Products", "All"], rows.keys()
    assert "(D)" in rows["Flat Products"] and "(D)" in rows["Long Products"]
    assert "(D)" not in rows["All"][:-1]

    # Surges: cold-rolled sheet from Korea tripled in the last complete month.
    main.get_by_role("link", name="Surges").click()
    expect(page).to_have_url(re.compile(r"/monitor/steel/surges"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Steel import surges")
    surge = page.locator("tr.aim-surge")
    expect(surge.filter(has_text="Cold-rolled sheet")).to_have_count(1)
    expect(surge.filter(has_text="South Korea")).to_have_count(1)
    screenshot(page, "surges", mobile=True)
    audit("steel-monitor-surges")
    console.assert_clean("the steel monitor")
