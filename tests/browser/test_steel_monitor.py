"""The Steel Import Monitor in the browser (issue 15, point 7): a visitor picks Steel on the
monitor's landing page, reads the trend chart by Section 232 product category and its table,
views by country of melt and pour (a ranking of countries) and by product group, and opens
Surges. axe and screenshots at 1280 and 390 px on each new state."""
from __future__ import annotations

import re

import pytest

from .steps import expect, field, monitor_rows

pytestmark = pytest.mark.browser

def test_visitor_picks_steel_and_reads_its_monitor(page, console, steel_market, audit, screenshot):
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
    for name in steel_market:
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
