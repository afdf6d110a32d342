"""A filer uploads a workbook of foreign trade zone admissions in the browser (issue 16, point 5):
"Entry Type of the file" next to "Product of the file", a value the page never offered refused at
the field, Check File as FTZ, Upload File, the entry type on the results page, in the results table
and on the license; axe and screenshots at 1280 and 390 px."""
from __future__ import annotations

import csv
import re
from datetime import timedelta

import pytest

from aimweb import licensing
from aimweb.products.aluminum import TEMPLATE_TITLES as TITLES

from .steps import expect, field, open_multiple_licenses, upload_workbook

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
EXPORT = TODAY + timedelta(days=8)
IMPORT = TODAY + timedelta(days=18)
NUMBER = r"A[A-Z0-9]{4}\d{4}"
FTZ = "Foreign trade zone admission"


def admission(entry_id, hts, kg, usd):
    """One row of the aluminum template (no entry type column), as a filer types it."""
    values = {
        "Entry ID": entry_id, "Customs Entry #": "", "Importer Name": "Gulf Coast Metals LLC",
        "Exporter Name": "Northern Rolling Mills Inc.", "Manufacturer": "Alouette Smelting",
        "Country of Origin": "Canada", "Country of Export": "CA", "Port of Entry": "1303 - Baltimore, MD",
        "Expected Date of Export": EXPORT, "Expected Date of Import": IMPORT.strftime("%m/%d/%Y"),
        "HTS Number": hts, "Country of Largest Smelt": "Canada",
        "Country of Second Largest Smelt": "Not applicable", "Country of Most Recent Cast": "CAN",
        "Volume (KG)": kg, "Customs Value (US$)": usd,
    }
    return [values[t] for t in TITLES]


def test_filer_uploads_a_workbook_as_ftz_admissions_and_sees_the_entry_type(
        page, console, app, helpers, tmp_path, screenshot, audit):
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.append(TITLES)
    for values in (admission("FTZ-1", "7601.10.30.00", 12500, 38750),
                   admission("FTZ-1", "7606123035", 200, "1,000.00"),
                   admission("FTZ-2", "7601.10.30.00", 4000, 12000)):
        wb.active.append(values)
    path = tmp_path / "zone-admissions.xlsx"
    wb.save(path)

    open_multiple_licenses(page, app, helpers, "ftz-broker@gulfcoast.example")
    entry_type = field(page, "Entry Type of the file")
    expect(entry_type).to_have_value("consumption")
    assert entry_type.locator("option").all_inner_texts() == ["Consumption", FTZ]
    expect(page.locator("#upload-entry-type-hint")).to_contain_text("CBP Form 214")

    # ----- A value the page never offered (a tampered form): refused at the field, nothing kept.
    entry_type.evaluate("s => { s.add(new Option('Zone', 'zone')); s.value = 'zone'; }")
    field(page, "Choose File").set_input_files(str(path))
    # Chromium logs the refused form's answer (400) as a console error: that one is expected.
    refused = re.compile(r"/licenses/multiple/: Failed to load resource: .* status of 400")
    console.allowed.append(refused)
    page.get_by_role("button", name="Check File").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Choose the Entry Type of the file (Consumption or Foreign trade zone admission)")
    expect(field(page, "Entry Type of the file")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "Entry Type of the file")).to_have_value("consumption")
    expect(page.locator("#upload-entry-type-error")).to_contain_text("Choose the Entry Type of the file")
    alert.get_by_role("link").click()
    expect(field(page, "Entry Type of the file")).to_be_focused()
    screenshot(page, "refused-at-the-field", mobile=True)
    audit("bulk-ftz-refused")
    console.allowed.remove(refused)

    # ----- Check File as FTZ admissions: nothing issued, the entry type said.
    field(page, "Entry Type of the file").select_option(label=FTZ)
    field(page, "Choose File").set_input_files(str(path))
    page.get_by_role("button", name="Check File").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("No problem found in zone-admissions.xlsx",
                                                              timeout=20_000)
    expect(page.locator(".aim-entry-type")).to_contain_text(f"Entry Type of every license: {FTZ}")
    audit("bulk-ftz-checked")
    page.get_by_role("link", name="Check or upload another file").click()
    expect(field(page, "Entry Type of the file")).to_have_value("ftz")   # the choice kept
    screenshot(page, "upload-page", mobile=True)
    audit("bulk-ftz-upload-page")

    # ----- Upload File as FTZ admissions: issued; the results page says the entry type.
    upload_workbook(page, path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Multiple Standard License Import", timeout=20_000)
    expect(page.get_by_role("status")).to_contain_text("2 aluminum licenses from zone-admissions.xlsx")
    said = page.locator(".aim-entry-type")
    expect(said).to_contain_text(f"Entry Type of every license: {FTZ} (chosen for the file)")
    expect(said).to_contain_text("quoted on the zone admission (CBP Form 214)")
    expect(said).to_contain_text("these licenses do not expire")
    results = page.get_by_role("table", name="License number of each Entry ID")
    expect(results.locator("tbody tr")).to_have_count(2)
    first = results.locator("tbody tr").first
    expect(first.locator("td").nth(1)).to_have_text(re.compile(f"^{NUMBER}$"))
    number = first.locator("td").nth(1).inner_text()
    screenshot(page, "results", mobile=True)
    audit("bulk-ftz-results")
    console.assert_clean("the results of the FTZ file")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download this table (.csv)").click()
    with open(info.value.path(), encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["Entry ID", "License Number", "Entry Type"]
    assert [(r[0], r[2]) for r in table[1:]] == [("FTZ-1", FTZ), ("FTZ-2", FTZ)]

    # ----- The license itself: a zone admission that does not expire.
    first.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"License {number}")
    expect(page.get_by_role("main")).to_contain_text("Foreign trade zone admission: does not expire")

    # ----- The recent uploads say it.
    page.goto("/licenses/multiple/")
    recent = page.get_by_role("table", name="Your company's recent uploads")
    expect(recent.locator("tbody tr").first).to_contain_text(f"Aluminum, {FTZ.lower()}")
    console.assert_clean("the FTZ upload")
