"""A broker's working day in the browser (issue 14, points 4, 5 and 8): where the focus goes and
what is announced after each htmx swap, one problem summary, drafts that are never lost, and the
upload's Check File, totals, filter and "Download results"."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from factories import add_license

from aimweb import licensing

from .steps import (
    IMPORT,
    expect,
    field,
    fill_line,
    new_application,
    product_rows,
    sign_in,
)

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def expect_focus(page, element_id: str):
    expect(page.locator(f"[id='{element_id}']")).to_be_focused()


def live(page):
    return page.locator("#aim-live")


def test_product_lines_move_focus_and_announce_what_happened(page, app, helpers, audit, screenshot):
    email = "dana@gulfcoast.example"
    new_application(page, app, helpers, email)

    # Add Products: the focus goes to the empty HTS Number for the next product, and the polite
    # live region says which product was added. The countries stay when asked.
    fill_line(page, "7601.10.30.00", "12500", "38750", largest="Norway", second="Iceland", cast="Germany")
    page.locator("label[for=keep_countries]").click()
    expect(page.get_by_label("Keep countries for the next product")).to_be_checked()
    page.get_by_role("button", name="Add Products").click()
    expect(product_rows(page)).to_have_count(1)
    expect(live(page)).to_have_text("Product 1 added.")
    expect_focus(page, "line-hts_number")
    expect(field(page, "HTS Number")).to_have_value("")
    expect(field(page, "Country of Largest Smelt")).to_have_value("NO")
    expect(field(page, "Country of Second Largest Smelt")).to_have_value("IS")
    expect(field(page, "Country of Most Recent Cast")).to_have_value("DE")
    audit("broker-product-added")

    field(page, "HTS Number").fill("7606.12.30.35")
    field(page, "Volume (KG)").fill("200")
    field(page, "Customs Value (US$)").fill("900")
    page.get_by_role("button", name="Add Products").click()
    expect(live(page)).to_have_text("Product 2 added.")
    expect(product_rows(page)).to_have_count(2)

    # A product the rules refuse: the focus goes to the field to correct.
    field(page, "HTS Number").fill("7601.10.30.00")
    field(page, "Volume (KG)").fill("0")
    field(page, "Customs Value (US$)").fill("10")
    page.get_by_role("button", name="Add Products").click()
    expect(live(page)).to_have_text(re.compile("^The product was not added: correct the 1 field marked"))
    expect_focus(page, "line-quantity_kg")
    audit("broker-product-refused")

    # Edit → the editor's first field; Save Product → that product's Edit button.
    page.get_by_role("button", name="Edit product 2").click()
    expect(live(page)).to_have_text("Editing product 2.")
    expect_focus(page, "line-hts_number")
    field(page, "Volume (KG)").fill("300")
    page.get_by_role("button", name="Save Product").click()
    expect(live(page)).to_have_text("Product 2 saved.")
    expect_focus(page, "edit-line-1")
    # Remove → the Products heading (never the page body).
    page.get_by_role("button", name="Remove product 1").click()
    expect(live(page)).to_have_text("Product 1 removed.")
    expect_focus(page, "products-heading")
    expect(product_rows(page)).to_have_count(1)
    screenshot(page, "broker-form-after-remove", mobile=True)


def test_one_problem_summary_corrected_errors_go_and_the_draft_is_kept(page, app, helpers, audit, screenshot):
    email = "lee@gulfcoast.example"
    new_application(page, app, helpers, email, header=False)
    field(page, "Entry Type").select_option(label="Consumption")
    field(page, "Exporter Name").fill("Northern Rolling Mills Inc.")
    page.get_by_role("button", name="Preview", exact=True).click()

    summary = page.locator(".aim-error-summary")
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link").all_inner_texts()
    # In page order: the header, then the products, then the certification; announced once.
    assert links.index("Importer Name is required.") < links.index(
        "Add at least one product (click “Add Products”).") < len(links) - 1, links
    assert "certify" in links[-1]
    assert page.locator("[role=alert]").count() == 1
    audit("broker-problem-summary")
    screenshot(page, "broker-problem-summary", mobile=True)

    # Correcting a field takes its error away (the header is saved as it changes).
    importer = field(page, "Importer Name")
    importer.fill("Gulf Coast Metals LLC")
    importer.blur()
    expect(page.locator("#importer_name-error")).to_have_count(0)
    expect(importer).not_to_have_attribute("aria-invalid", "true")
    expect(summary.get_by_role("link", name="Importer Name is required.")).to_have_count(0)
    expect(page.locator("#draft-status")).to_contain_text("Draft saved at")
    expect(page.locator("#manufacturer_name-error")).to_be_visible()  # not corrected: still there
    audit("broker-error-corrected")

    # Leave without adding a product, come back from the dashboard: it is all still there.
    field(page, "Manufacturer Name").fill("Alouette Smelting")
    draft_url = page.url.removesuffix("/preview")  # the form, as Preview showed it again
    page.goto("/licenses/")
    drafts = page.get_by_role("region", name="Applications not yet submitted")
    expect(drafts).to_contain_text("Gulf Coast Metals LLC")
    audit("broker-dashboard-drafts")
    drafts.get_by_role("link", name="Resume Gulf Coast Metals LLC").click()
    expect(page).to_have_url(draft_url)
    expect(field(page, "Importer Name")).to_have_value("Gulf Coast Metals LLC")
    expect(field(page, "Manufacturer Name")).to_have_value("Alouette Smelting")
    expect(field(page, "Exporter Name")).to_have_value("Northern Rolling Mills Inc.")


def test_plus_sign_and_keep_license_keep_the_focus_in_the_row(page, app, helpers, audit):
    email = "kim@gulfcoast.example"
    with app.app_context():
        add_license(helpers.make_user(email).id, "AFOCU" + TODAY.strftime("%m%y"))
    sign_in(page, email, helpers.PASSWORD)
    page.goto("/licenses/")
    toggle = page.locator("a.aim-toggle").first
    toggle_id = toggle.get_attribute("id")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".aim-summary")).to_be_visible()
    expect_focus(page, toggle_id)
    page.keyboard.press("Enter")
    expect(page.locator(".aim-summary")).to_have_count(0)
    expect_focus(page, toggle_id)

    page.get_by_role("link", name=re.compile("^Cancel License")).first.click()
    keep = page.get_by_role("button", name="Keep License")
    expect(keep).to_be_focused()
    audit("broker-cancel-confirm")
    keep.click()
    expect(keep).to_have_count(0)
    expect_focus(page, toggle_id)


def _fill(sheet, titles, rows):
    for r, values in enumerate(rows, start=2):
        for c, title in enumerate(titles, start=1):
            sheet.cell(row=r, column=c, value=values.get(title, ""))


def test_broker_checks_a_file_issues_it_filters_and_downloads_the_results(page, app, helpers, tmp_path,
                                                                          audit, screenshot):
    from openpyxl import load_workbook

    email = "broker@gulfcoast.example"
    with app.app_context():
        helpers.make_user(email)
    sign_in(page, email, helpers.PASSWORD)
    page.goto("/licenses/multiple/")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download Excel Template").click()
    wb = load_workbook(io.BytesIO(info.value.path().read_bytes()))
    sheet = wb.worksheets[0]
    titles = [c.value for c in sheet[1]]
    base = {"Customs Entry #": "", "Exporter Name": "Northern Rolling Mills Inc.", "Manufacturer": "Alouette",
            "Country of Origin": "Canada", "Country of Export": "CA", "Port of Entry": "1303",
            "Expected Date of Export": IMPORT - timedelta(days=10), "Expected Date of Import": IMPORT,
            "Country of Largest Smelt": "Canada", "Country of Second Largest Smelt": "Not applicable",
            "Country of Most Recent Cast": "CAN"}
    rows = [{**base, "Entry ID": "BOL-1", "Importer Name": "Gulf Coast Metals LLC", "HTS Number": "7601.10.30.00",
             "Volume (KG)": 1000, "Customs Value (US$)": 3000},
            {**base, "Entry ID": "BOL-1", "Importer Name": "", "HTS Number": "7606.12.30.35",
             "Volume (KG)": 500, "Customs Value (US$)": 2500},
            {**base, "Entry ID": "BOL-2", "Importer Name": "Harbor Alloys Inc.", "HTS Number": "7601.10.30.00",
             "Volume (KG)": 250, "Customs Value (US$)": 1000}]
    _fill(sheet, titles, rows)
    path = tmp_path / "march.xlsx"
    wb.save(path)

    # Check File: no certification needed, nothing issued; a blank cell is "required".
    field(page, "Choose File").set_input_files(str(path))
    page.get_by_role("button", name="Check File").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The file was not accepted", timeout=20_000)
    expect(page.get_by_role("table", name="Problems by row and column")).to_contain_text(
        "Importer Name is required")

    sheet.cell(row=3, column=titles.index("Importer Name") + 1, value="Gulf Coast Metals LLC")
    wb.save(path)
    page.goto("/licenses/multiple/")
    field(page, "Choose File").set_input_files(str(path))
    page.get_by_role("button", name="Check File").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("No problem found in march.xlsx", timeout=20_000)
    expect(page.get_by_role("status").first).to_contain_text("Nothing has been issued.")
    totals = page.get_by_label("Totals of the file")
    expect(totals).to_contain_text("Licenses")
    expect(totals).to_contain_text("1,750.00")
    audit("broker-file-checked")
    screenshot(page, "broker-file-checked", mobile=True)

    page.locator("label[for=certified]").click()
    page.get_by_role("button", name="Upload File").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Multiple Standard License Import",
                                                              timeout=20_000)
    results = page.get_by_role("table", name="License number of each Entry ID")
    expect(results.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_label("Totals of the file")).to_contain_text("6,500.00")
    audit("broker-results")
    screenshot(page, "broker-results", mobile=True)

    page.get_by_label(re.compile("^Filter by Entry ID")).fill("harbor")
    page.get_by_role("button", name="Filter").click()
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("BOL-2")
    expect(page.get_by_role("status").last).to_contain_text("1 of 2 licenses match")
    audit("broker-results-filtered")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download results").click()
    assert info.value.suggested_filename == "march-with-license-numbers.xlsx"
    back = load_workbook(io.BytesIO(info.value.path().read_bytes())).worksheets[0]
    numbers = {r[0].value: r[16].value for r in back.iter_rows(min_row=2) if r[0].value}
    assert back.cell(1, 17).value == "License Number"
    assert re.fullmatch(r"A[A-Z0-9]{4}\d{4}", numbers["BOL-1"]) and numbers["BOL-1"] != numbers["BOL-2"]
