"""A filer applies for multiple steel licenses in the browser: Apply for Multiple Licenses, Steel
in the drop-down, Download Excel Template (the steel template), the workbook filled in, uploaded
first as Aluminum by mistake (refused, both products named), then as Steel with a melt-and-pour
"Unknown" (listed at its row and column), corrected, issued; results, Download results, axe and
screenshots at 1280 and 390 px."""
from __future__ import annotations

import io
import re

import pytest

from .steps import expect, field, fill_template, open_multiple_licenses, steel_row, upload_workbook

pytestmark = pytest.mark.browser

NUMBER = r"S[A-Z0-9]{4}\d{4}"


def test_filer_uploads_a_steel_workbook_refused_as_aluminum_then_issued_as_steel(
        page, console, app, helpers, tmp_path, screenshot, audit):
    open_multiple_licenses(page, app, helpers, "steel-broker@gulfcoast.example")
    assert field(page, "Product").locator("option").all_inner_texts() == ["Aluminum", "Steel"]

    # ----- Steel in the drop-down: the file to upload is steel too; "Download Excel Template".
    field(page, "Product").select_option(label="Steel")
    expect(field(page, "Product of the file")).to_have_value("steel")
    screenshot(page, "upload-page", mobile=True)
    audit("bulk-upload-steel")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download Excel Template").click()
    assert info.value.suggested_filename == "SIMA-steel-licenses-template.xlsx"
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(info.value.path().read_bytes()))
    sheet = wb.worksheets[0]
    titles = [c.value for c in sheet[1]]
    assert len(titles) == 14 and titles[11] == "Country of Melt and Pour", titles
    assert sheet.title == "Steel Licenses" and wb["Instructions"]["A1"].value == "SIMA steel license template"

    path = tmp_path / "steel-entries.xlsx"
    wb, sheet = fill_template(info.value.path().read_bytes(), [
        steel_row("BOL-1", "7208.10.15.00", "South Korea", 24000, 19200),
        steel_row("BOL-1", "7304413005", "Unknown", 1500, "9,750.00"),
        steel_row("BOL-2", "7210.49.00.91", "JP", 800, 640)], path)

    # ----- Uploaded as Aluminum by mistake: refused, the page names both products.
    upload_workbook(page, path, "Aluminum")
    expect(page.get_by_role("heading", level=1)).to_have_text("The file was not accepted", timeout=20_000)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This is the Steel template (SIMA), but the file was uploaded as Aluminum.")
    expect(alert).to_contain_text("choose “Steel” as the Product of the file")
    screenshot(page, "wrong-product", mobile=True)
    audit("bulk-wrong-product")

    # ----- As Steel: the "Unknown" melt and pour is listed at row 3, column L.
    page.get_by_role("link", name="Back to Upload").click()
    upload_workbook(page, path, "Steel")
    expect(page.get_by_role("heading", level=1)).to_have_text("The file was not accepted", timeout=20_000)
    expect(page.get_by_role("alert")).to_contain_text("No license was issued: 1 problem to correct")
    cells = page.get_by_role("table", name="Problems by row and column").locator("tbody tr").first.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("L")
    expect(cells.nth(2)).to_have_text("Country of Melt and Pour")
    expect(cells.nth(3)).to_contain_text("can never be “Not applicable” or “Unknown”")
    audit("bulk-steel-problems")

    # ----- Corrected and uploaded again: the page comes back with Steel chosen.
    sheet.cell(row=3, column=12, value="Japan")
    wb.save(path)
    page.get_by_role("link", name="Upload the corrected file").click()
    expect(field(page, "Product")).to_have_value("steel")
    expect(field(page, "Product of the file")).to_have_value("steel")
    recent = page.get_by_role("table", name="Your company's recent uploads")
    expect(recent.locator("tbody tr").first).to_contain_text("Steel")
    expect(recent.locator("tbody tr").nth(1)).to_contain_text("Aluminum")
    screenshot(page, "upload-again", mobile=True)
    audit("bulk-upload-again")
    upload_workbook(page, path, "Steel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Multiple Standard License Import",
                                                              timeout=20_000)
    expect(page.get_by_role("status")).to_contain_text("2 steel licenses from steel-entries.xlsx")
    results = page.get_by_role("table", name="License number of each Entry ID")
    expect(results.locator("tbody tr")).to_have_count(2)
    first, second = results.locator("tbody tr").all()
    expect(first.locator("td").nth(1)).to_have_text(re.compile(f"^{NUMBER}$"))
    expect(first.locator("td").nth(2)).to_have_text("2, 3")
    expect(second.locator("td").nth(1)).to_have_text(re.compile(f"^{NUMBER}$"))
    numbers = [first.locator("td").nth(1).inner_text(), second.locator("td").nth(1).inner_text()]
    screenshot(page, "steel-results", mobile=True)
    audit("bulk-steel-results")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download results").click()
    back = load_workbook(io.BytesIO(info.value.path().read_bytes())).worksheets[0]
    assert [c.value for c in back[1]][-3:] == ["Customs Value (US$)", "License Number", "Entry Type"]
    assert [back.cell(row=r, column=15).value for r in (2, 3, 4)] == [numbers[0], numbers[0], numbers[1]]

    first.get_by_role("link", name=numbers[0]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"License {numbers[0]}")
    main = page.get_by_role("main")
    for text in ["Country of Melt and Pour", "South Korea", "Japan", "7208.10.15.00", "Total, 2 products"]:
        expect(main).to_contain_text(text)
    console.assert_clean("the issued steel license")
