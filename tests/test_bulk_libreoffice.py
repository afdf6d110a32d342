"""Apply for Multiple Licenses, issue 5 point 6: a workbook saved by LibreOffice is accepted.

The rows are written as a CSV (dates as MM/DD/YYYY text, numbers as typed) and LibreOffice turns
it into an .xlsx, as a filer who fills a sheet in LibreOffice Calc and saves it would: its own
XML, shared strings and styles, not openpyxl's. Skipped when LibreOffice is not installed, unless
AIMWEB_REQUIRE_BROWSER=1 (CI's second run), where that is a failure.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import zipfile

import pytest
from helpers import STEEL_TITLES, result_page, upload
from helpers import UPLOAD_EXPORT as EXPORT
from helpers import UPLOAD_IMPORT as IMPORT
from sqlalchemy import select

from aimweb.extensions import db
from aimweb.models import License
from aimweb.products.aluminum import TEMPLATE_TITLES as TITLES

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="module")
def soffice():
    if SOFFICE is None:
        if os.environ.get("AIMWEB_REQUIRE_BROWSER") == "1":
            pytest.fail("LibreOffice (soffice) is required here: apt-get install libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) is not installed")
    return SOFFICE


def csv_rows() -> list[list[str]]:
    export, import_ = EXPORT.strftime("%m/%d/%Y"), IMPORT.strftime("%m/%d/%Y")
    header = ["Gulf Coast Metals LLC", "Northern Rolling Mills", "Alouette"]
    return [
        TITLES,
        ["1", "", *header, "Canada", "CA", "1303 - Baltimore, MD", export, import_,
         "7601.10.30.00", "Canada", "Not applicable", "CAN", "12500", "38750.00"],
        ["1", "", *header, "Canada", "CA", "1303 - Baltimore, MD", export, import_,
         "7606123035", "United Arab Emirates", "IN", "China", "2,040.50", "9182.25"],
        ["A-2", "", "Lakeside Extrusions Inc.", "Rheinwerk GmbH", "unknown", "DE", "Germany",
         "3001", export, import_, "7604.10.10.00", "Norway", "Iceland", "DE", "310", "4650"],
    ]


def steel_csv_rows() -> list[list[str]]:
    """The steel template's rows: the same header columns, then HTS, melt and pour, figures."""
    export, import_ = EXPORT.strftime("%m/%d/%Y"), IMPORT.strftime("%m/%d/%Y")
    header = ["Gulf Coast Metals LLC", "Pohang Trading Co.", "Pohang Steel Works", "KR", "South Korea",
              "1303 - Baltimore, MD", export, import_]
    return [
        STEEL_TITLES,
        ["S-1", "", *header, "7208.10.15.00", "South Korea", "24,000", "19200.00"],
        ["S-1", "", *header, "7304413005", "JP", "1500", "9750"],
        ["S-2", "", "Lakeside Extrusions Inc.", "Rheinwerk GmbH", "unknown", "DE", "Germany", "3001",
         export, import_, "7210.49.00.91", "Germany", "800.5", "640.40"],
    ]


def libreoffice_xlsx(soffice: str, tmp_path, infilter: str | None, rows=None) -> bytes:
    source = tmp_path / "licenses.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows or csv_rows())
    out = tmp_path / "out"
    command = [soffice, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless",
               "--norestore", "--convert-to", "xlsx", "--outdir", str(out), str(source)]
    if infilter:
        command[3:3] = [f"--infilter={infilter}"]
    done = subprocess.run(command, capture_output=True, timeout=120, cwd=tmp_path, check=False)
    target = out / "licenses.xlsx"
    assert done.returncode == 0 and target.exists(), (done.stdout, done.stderr)
    return target.read_bytes()


@pytest.mark.parametrize("infilter", [
    None,                      # LibreOffice's own reading of the CSV (dates may stay text)
    "CSV:44,34,76,1,,1033",    # comma, quote, UTF-8, from line 1, English (US): real date cells
], ids=["default-locale", "en-US-dates"])
def test_a_workbook_saved_by_libreoffice_is_accepted(soffice, tmp_path, signed_in, app, infilter):
    data = libreoffice_xlsx(soffice, tmp_path, infilter)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        app_props = archive.read("docProps/app.xml").decode()
        sheet = archive.read("xl/worksheets/sheet1.xml")
        names = archive.namelist()
    assert "LibreOffice" in app_props and "xl/sharedStrings.xml" in names  # not openpyxl's writing
    if infilter:
        assert b's="1" t="n"' in sheet or b't="n" s="1"' in sheet or b't="d"' in sheet  # dates as dates

    html = result_page(signed_in, upload(signed_in, data, filename="licenses.xlsx"))
    assert "All licenses are created successfully." in html, html[-3000:]
    with app.app_context():
        issued = db.session.scalars(select(License).order_by(License.id)).all()
        found = [(len(lic.lines), lic.import_date, lic.export_date, lic.origin_country,
                  [(line.hts_number, str(line.quantity_kg)) for line in lic.lines]) for lic in issued]
    assert found == [
        (2, IMPORT.date(), EXPORT.date(), "CA", [("7601103000", "12500.00"), ("7606123035", "2040.50")]),
        (1, IMPORT.date(), EXPORT.date(), "DE", [("7604101000", "310.00")]),
    ]


def test_a_steel_workbook_saved_by_libreoffice_is_accepted_as_steel(soffice, tmp_path, signed_in, app):
    data = libreoffice_xlsx(soffice, tmp_path, "CSV:44,34,76,1,,1033", steel_csv_rows())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "LibreOffice" in archive.read("docProps/app.xml").decode()

    refused = result_page(signed_in, upload(signed_in, data, product="aluminum"))
    assert "This is the Steel template (SIMA), but the file was uploaded as Aluminum." in refused
    html = result_page(signed_in, upload(signed_in, data, product="steel"))
    assert "All licenses are created successfully." in html and "2 steel licenses" in html, html[-3000:]
    with app.app_context():
        issued = db.session.scalars(select(License).order_by(License.id)).all()
        found = [(lic.number[0], lic.product, len(lic.lines), lic.import_date, lic.origin_country,
                  [(line.hts_number, line.melt_pour_country, str(line.quantity_kg)) for line in lic.lines])
                 for lic in issued]
    assert found == [
        ("S", "steel", 2, IMPORT.date(), "KR", [("7208101500", "KR", "24000.00"), ("7304413005", "JP", "1500.00")]),
        ("S", "steel", 1, IMPORT.date(), "DE", [("7210490091", "DE", "800.50")]),
    ]


def test_the_marked_problems_workbook_opens_in_libreoffice_with_its_marks(soffice, tmp_path, signed_in):
    """The marked workbook is SpreadsheetML written by hand: LibreOffice reads its cells, fills and
    comments (saved again by LibreOffice, they are all still there)."""
    import re

    import openpyxl
    from helpers import row, workbook

    data = workbook([row(1), row(2, hts="7602.00.00.00"), row(3, kg=0)])
    html = result_page(signed_in, upload(signed_in, data))
    marked = signed_in.get(re.search(r'href="([^"]+problems\.xlsx)"', html).group(1)).data
    source = tmp_path / "marked.xlsx"
    source.write_bytes(marked)
    out = tmp_path / "out"
    done = subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
                           "--headless", "--norestore", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
                           "--outdir", str(out), str(source)], capture_output=True, timeout=120, cwd=tmp_path,
                          check=False)
    assert done.returncode == 0 and (out / "marked.xlsx").exists(), (done.stdout, done.stderr)
    wb = openpyxl.load_workbook(out / "marked.xlsx")
    assert wb.sheetnames == ["Your rows", "Problems"]
    rows = wb["Your rows"]
    assert [c.value for c in rows[1]][:3] == TITLES[:3] and rows["C3"].value == "Gulf Coast Metals LLC"
    assert "not covered" in rows["K3"].comment.text and rows["K3"].fill.fgColor.rgb.endswith("F4E3DB")
    assert "more than zero" in rows["O4"].comment.text and rows["K2"].comment is None
    assert rows["I2"].is_date and rows["I2"].value.date() == EXPORT.date()
    assert [c.value for c in wb["Problems"][2]][:2] == [3, "K"]
