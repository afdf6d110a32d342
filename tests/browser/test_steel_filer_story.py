"""The steel filer's whole story in one browser session (issue 15, point 10): a filer who already has
an aluminum license applies for a steel license with two products, uploads a steel workbook of two
licenses, finds the three steel licenses on the dashboard with the Product filter (and the aluminum
one with the guide's "Aluminum Standard License" view), prints a steel license's PDF and looks at
the steel monitor's chart; axe on every new page, screenshots at 1280 and 390 px."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from aimweb import licensing, rules
from aimweb.products.aluminum import ProductLineDraft

from .steps import (
    add_steel_line,
    expect,
    field,
    fill_header,
    fill_template,
    sign_in,
    start_application,
    steel_row,
    upload_workbook,
)

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
NUMBER = r"S[A-Z0-9]{4}\d{4}"
EMAIL = "steel-story@gulfcoast.example"


def aluminum_license(user):
    """The filer's earlier aluminum license, issued through the licensing service."""
    line = ProductLineDraft(hts_number="7601.10.30.00", smelt_largest="CA", smelt_second="NA_", cast_country="CA",
                            quantity_kg=Decimal("12500"), customs_value_usd=Decimal("38750"))
    draft = rules.LicenseDraft(
        entry_number="", importer_name="Gulf Coast Metals LLC", exporter_name="Northern Rolling Mills Inc.",
        manufacturer_name="Alouette Smelting", origin_country="CA", export_country="CA", port_code="1303",
        export_date=TODAY + timedelta(days=10), import_date=TODAY + timedelta(days=20), lines=[line])
    number, = licensing.issue_licenses(user, [draft])
    return number


def listed(page) -> list[str]:
    return page.locator("#license-results tbody tr.aim-row .aim-number").all_inner_texts()


def test_a_steel_filer_applies_uploads_finds_prints_and_reads_the_monitor(
        page, console, app, helpers, live_server, tmp_path, screenshot, audit, steel_market):
    # ----- Apply for Single License → Standard License → Steel, two products, Preview, Submit.
    with app.app_context():
        aluminum = aluminum_license(helpers.make_user(EMAIL))
    sign_in(page, EMAIL, helpers.PASSWORD)
    start_application(page, "Steel")
    fill_header(page)
    lines = page.locator("#products table.aim-lines tbody tr")
    add_steel_line(page, "7208.10.15.00", "South Korea", "24,000", "19200.00")
    expect(lines).to_have_count(1)
    add_steel_line(page, "7304.41.30.05", "Japan", "1500", "9750.00")
    expect(lines).to_have_count(2)
    page.locator("label[for=certified]").click()
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("License issued")
    single = re.search(r"/licenses/submitted/(\w+)$", page.url)[1]
    assert re.fullmatch(NUMBER, single)

    # ----- Apply for Multiple Licenses: Steel, the steel template, two licenses issued.
    page.goto("/licenses/")
    page.get_by_role("link", name="Apply for Multiple Licenses").click()
    field(page, "Product").select_option(label="Steel")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download Excel Template").click()
    path = tmp_path / "steel-story.xlsx"
    fill_template(info.value.path().read_bytes(), [
        steel_row("BOL-7", "7208.10.15.00", "South Korea", 24000, 19200, "Pohang Imports LLC"),
        steel_row("BOL-8", "7210.49.00.91", "Japan", 800, 640, "Pohang Imports LLC")], path)
    upload_workbook(page, path, "Steel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Multiple Standard License Import", timeout=20_000)
    results = page.get_by_role("table", name="License number of each Entry ID").locator("tbody tr")
    expect(results).to_have_count(2)
    uploaded = [row.locator("td").nth(1).inner_text() for row in results.all()]
    assert all(re.fullmatch(NUMBER, n) for n in uploaded)
    steel = {single, *uploaded}

    # ----- Home (the License Dashboard): every license, steel and aluminum, each with its product.
    page.get_by_role("link", name="License Dashboard").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(4)
    assert set(listed(page)) == steel | {aluminum}
    expect(page.locator(f"#license-results tr.aim-row:has(a.aim-number:text-is('{single}'))")).to_contain_text("Steel")
    expect(page.locator(f"#license-results tr.aim-row:has(a.aim-number:text-is('{aluminum}'))")).to_contain_text(
        "Aluminum")
    assert field(page, "View").locator("option").all_inner_texts() == [
        "All licenses", "Aluminum Standard License", "Aluminum Low-Value License", "Steel Standard License",
        "Steel Low-Value License"]

    # ----- Search & Filter → Product: Steel → Search: the three steel licenses, in the URL.
    field(page, "Product").select_option(label="Steel")
    page.locator("#license-search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"product=steel"))
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(3)
    assert set(listed(page)) == steel
    expect(field(page, "View")).to_have_value("steel-")  # said as "Steel licenses"
    expect(page.locator("#filter-toggle")).to_have_text("Search & Filter (1 active)")  # the phone's button
    screenshot(page, "dashboard-steel", mobile=True)
    audit("dashboard-product-filter")
    page.reload()  # the URL keeps it
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(3)

    # ----- The guide's step 18: Home (the License Dashboard), then the "Aluminum Standard License" view.
    page.get_by_role("link", name="License Dashboard").first.click()
    field(page, "View").select_option(label="Aluminum Standard License")
    page.locator("#license-view").get_by_role("button", name="Show").click()
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(1)
    assert listed(page) == [aluminum]
    expect(page.locator("#licenses-heading")).to_have_text("Licenses: Aluminum Standard License")
    expect(field(page, "View")).to_have_value("aluminum-standard")
    screenshot(page, "dashboard-aluminum-view", mobile=True)
    audit("dashboard-aluminum-view")
    field(page, "View").select_option(label="Steel Standard License")
    page.locator("#license-view").get_by_role("button", name="Show").click()
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(3)

    # ----- The steel license: View/Print gives its PDF.
    page.get_by_role("link", name=single, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"License {single}")
    audit("steel-license-page")
    href = page.get_by_role("link", name="View/Print").get_attribute("href")
    answer = page.context.request.get(href)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.body())).pages)
    for words in (single, "Steel Import License", "South Korea", "Japan", "7208.10.15.00", "7304.41.30.05"):
        assert words in text, words
    console.assert_clean("the steel filer's story up to the PDF")

    # ----- The public steel monitor shows a chart.
    # (its figures: other importers' complete months, steel_market; this filer's imports are ahead)
    page.goto("/monitor/")
    page.get_by_role("main").get_by_role("link", name="Steel monitor").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Steel")
    expect(page.get_by_role("main").locator("svg[role=img]").first).to_be_visible()
    screenshot(page, "steel-monitor", mobile=True)
    audit("steel-monitor")
