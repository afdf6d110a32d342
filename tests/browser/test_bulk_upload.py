"""A filer applies for multiple licenses in the browser, as the guide describes it: "Apply for
Multiple Licenses", "Download Excel Template", the template filled in (openpyxl, as a spreadsheet
program would), "Choose File" and "Upload File"; a mistake is listed by row and column, the cell is
corrected, the file uploaded again, and the issued licenses are listed and opened."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from aimweb import licensing

from .steps import expect, field, open_multiple_licenses, upload_workbook

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
EXPORT = TODAY + timedelta(days=8)
IMPORT = TODAY + timedelta(days=18)
NUMBER = r"A[A-Z0-9]{4}\d{4}"


def product(entry_id, importer, hts, kg, usd, second="Not applicable"):
    """One row of the template, by its column titles, as a filer types it."""
    return {
        "Entry ID": entry_id, "Customs Entry #": "", "Importer Name": importer,
        "Exporter Name": "Northern Rolling Mills Inc.", "Manufacturer": "Alouette Smelting",
        "Country of Origin": "Canada", "Country of Export": "CA", "Port of Entry": "1303 - Baltimore, MD",
        "Expected Date of Export": EXPORT, "Expected Date of Import": IMPORT.strftime("%m/%d/%Y"),
        "HTS Number": hts, "Country of Largest Smelt": "Canada",
        "Country of Second Largest Smelt": second, "Country of Most Recent Cast": "CAN",
        "Volume (KG)": kg, "Customs Value (US$)": usd,
    }


def test_filer_downloads_the_template_fills_it_fixes_a_mistake_and_issues_licenses(
        page, console, app, helpers, tmp_path, screenshot, audit):
    open_multiple_licenses(page, app, helpers, "broker@gulfcoast.example")
    audit("bulk-upload")

    # ----- "Download Excel Template" for the product Aluminum.
    expect(field(page, "Product")).to_have_value("aluminum")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download Excel Template").click()
    template = info.value
    assert template.suggested_filename.endswith(".xlsx"), template.suggested_filename
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(template.path().read_bytes()))
    sheet = wb.worksheets[0]
    titles = [c.value for c in sheet[1]]
    assert titles[0] == "Entry ID" and titles[-1] == "Customs Value (US$)" and len(titles) == 16
    assert sheet.freeze_panes == "B2"
    assert "Instructions" in wb.sheetnames
    console.assert_clean("the template download")

    # ----- Fill it in: license E-100 with two products, E-200 with one; one HTS is not covered.
    rows = [
        product("E-100", "Gulf Coast Metals LLC", "7601.10.30.00", 12500, 38750),
        product("E-100", "Gulf Coast Metals LLC", "7602.00.00.30", 200, 1000, second="United States"),
        product("E-200", "Lakeside Extrusions Inc.", "7604291010", 800, "3,200.00"),
    ]
    for r, values in enumerate(rows, start=2):
        for c, title in enumerate(titles, start=1):
            sheet.cell(row=r, column=c, value=values[title])
    path = tmp_path / "aluminum-licenses.xlsx"
    wb.save(path)

    upload_workbook(page, path)
    expect(page.get_by_role("heading", level=1)).to_have_text("The file was not accepted", timeout=20_000)
    expect(page.get_by_role("alert")).to_contain_text("No license was issued: 1 problem to correct")
    problems = page.get_by_role("table", name="Problems by row and column")
    expect(problems.locator("tbody tr")).to_have_count(1)
    cells = problems.locator("tbody tr").first.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("K")
    expect(cells.nth(2)).to_have_text("HTS Number")
    expect(cells.nth(3)).to_contain_text("not covered")
    screenshot(page, "problems", mobile=True)
    audit("bulk-problems")

    # ----- Correct the cell, save, and upload the file again.
    hts = titles.index("HTS Number") + 1
    assert sheet.cell(row=3, column=hts).value == "7602.00.00.30"
    sheet.cell(row=3, column=hts, value="7606.12.30.35")
    wb.save(path)
    page.get_by_role("link", name="Upload the corrected file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply for Multiple Licenses")
    expect(page.get_by_role("table", name="Your company's recent uploads")).to_contain_text("Not accepted")
    upload_workbook(page, path)

    expect(page.get_by_role("heading", level=1)).to_have_text("Multiple Standard License Import",
                                                              timeout=20_000)
    expect(page.get_by_role("status")).to_contain_text("All licenses are created successfully.")
    results = page.get_by_role("table", name="License number of each Entry ID")
    expect(results.locator("tbody tr")).to_have_count(2)
    first, second = results.locator("tbody tr").all()
    expect(first.locator("td").nth(0)).to_have_text("E-100")
    expect(first.locator("td").nth(1)).to_have_text(re.compile(f"^{NUMBER}$"))
    expect(first.locator("td").nth(2)).to_have_text("2, 3")
    expect(second.locator("td").nth(0)).to_have_text("E-200")
    numbers = [first.locator("td").nth(1).inner_text(), second.locator("td").nth(1).inner_text()]
    assert numbers[0] != numbers[1]
    screenshot(page, "results", mobile=True)
    audit("bulk-results")

    # The table Entry ID → License Number, downloadable.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download this table (.csv)").click()
    with open(info.value.path(), encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [["Entry ID", "License Number", "Entry Type"],
                                       ["E-100", numbers[0], "Consumption"],
                                       ["E-200", numbers[1], "Consumption"]]

    # ----- Open one issued license.
    first.get_by_role("link", name=numbers[0]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"License {numbers[0]}")
    main = page.get_by_role("main")
    for text in ["Submitted", "Gulf Coast Metals LLC", "1303 — Baltimore, MD", "7601.10.30.00",
                 "7606.12.30.35", "12,700.00", "39,750.00", "Total, 2 products"]:
        expect(main).to_contain_text(text)
    expect(page.get_by_role("table", name="What happened to this license")).to_contain_text(
        "Submitted by Excel upload")
    console.assert_clean("the issued license")

    page.get_by_role("link", name="License Dashboard").first.click()
    for number in numbers:
        expect(page.locator("#license-results")).to_contain_text(number)
