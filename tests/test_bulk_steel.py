"""Apply for Multiple Licenses for steel (issue 15, point 3): a template per product, a steel
workbook issuing steel licenses, a workbook of the other product refused both ways, and the steel
fields' problems at their row and column."""
from __future__ import annotations

import io
import re
from html import unescape

import openpyxl
import pytest
from helpers import STEEL_TITLES, csrf_token, page_text, result_page, row, steel_row, upload, workbook
from sqlalchemy import func, select

from aimweb.extensions import db
from aimweb.models import License, UploadBatch
from aimweb.products.aluminum import TEMPLATE_TITLES as ALUMINUM_TITLES

TEMPLATE = "/licenses/multiple/template.xlsx"


def _licenses(query) -> int:
    return query(lambda: db.session.scalar(select(func.count()).select_from(License)))


def test_the_steel_template_has_its_14_columns_lists_comments_and_instructions(signed_in):
    response = signed_in.get(f"{TEMPLATE}?product=steel")
    assert response.status_code == 200
    assert "SIMA-steel-licenses-template.xlsx" in response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = wb.worksheets[0]
    assert sheet.title == "Steel Licenses"
    titles = [c.value for c in sheet[1]]
    assert titles == STEEL_TITLES and len(titles) == 14
    assert titles[:11] == ALUMINUM_TITLES[:11]   # Entry ID, the header, HTS Number: as aluminum's
    assert titles[11:] == ["Country of Melt and Pour", "Volume (KG)", "Customs Value (US$)"]
    assert all(c.comment is not None and c.comment.author == "SIMA" for c in sheet[1])
    assert "poured into its first solid shape" in sheet["L1"].comment.text
    assert sheet.freeze_panes == "B2"
    assert sheet["I2"].number_format == "mm/dd/yyyy" and sheet["M2"].number_format == "#,##0.00"

    lists = wb["Lists"]
    assert lists.sheet_state == "hidden"
    hts = [c.value for c in lists["C"][1:] if c.value]
    assert len(hts) == 746 and "7208.10.15.00" in hts and "7601.10.30.00" not in hts
    by_column = {str(v.sqref).split(":")[0]: str(v.formula1) for v in sheet.data_validations.dataValidation}
    assert by_column["K2"].startswith("=Lists!$C$")   # HTS: the steel catalogue
    assert by_column["L2"].startswith("=Lists!$A$")   # melt and pour: the countries
    assert by_column["F2"].startswith("=Lists!$A$") and by_column["H2"].startswith("=Lists!$B$")

    guide = [c.value or "" for c in wb["Instructions"]["A"]]
    assert guide[0] == "SIMA steel license template"
    text = "\n".join(guide)
    assert "Fill in all 14 columns" in text and "choose “Steel” as the Product of the file" in text
    assert "Country of Melt and Pour: where the raw steel" in text
    assert "L — Country of Melt and Pour:" in text and "N — Customs Value (US$):" in text


def test_the_aluminum_template_is_unchanged_and_an_unknown_product_has_none(signed_in):
    wb = openpyxl.load_workbook(io.BytesIO(signed_in.get(f"{TEMPLATE}?product=aluminum").data))
    assert [c.value for c in wb.worksheets[0][1]] == ALUMINUM_TITLES
    assert wb.worksheets[0].title == "Aluminum Licenses"
    assert wb["Instructions"]["A1"].value == "AIM aluminum license template"
    assert signed_in.get(f"{TEMPLATE}?product=copper").status_code == 404


def test_the_page_offers_aluminum_and_steel_for_the_template_and_the_file(signed_in):
    page = signed_in.get("/licenses/multiple/").get_data(as_text=True)
    for select_id in ("product", "upload-product"):
        options = re.search(rf'<select[^>]+id="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
        assert re.findall(r'<option value="(\w+)"', options) == ["aluminum", "steel"]
        assert re.search(r'value="aluminum" selected', options)
    assert "Aluminum: 16 columns, Steel: 14 columns" in page
    chosen = signed_in.get("/licenses/multiple/?product=steel").get_data(as_text=True)
    assert len(re.findall(r'<option value="steel" selected>', chosen)) == 2


def test_a_steel_workbook_made_with_the_template_issues_steel_licenses(signed_in, query, mailbox):
    template = signed_in.get(f"{TEMPLATE}?product=steel").data
    data = workbook([steel_row("S-1"), steel_row("S-1", hts="7304413005", kg="1,500", usd="9750.00",
                                                 **{"Country of Melt and Pour": "Japan"}),
                     steel_row("S-2", hts="7210.49.00.91", kg=800, usd=640,
                               **{"Country of Melt and Pour": "CHN"})], template)
    html = result_page(signed_in, upload(signed_in, data, filename="steel entries.xlsx", product="steel"))
    assert "All licenses are created successfully." in html and "2 steel licenses from steel entries.xlsx" in html
    totals = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert totals == {"Licenses": "2", "Products": "3", "Volume (KG)": "26,300.00",
                      "Customs Value (US$)": "29,590.00"}
    numbers = re.findall(r'class="aim-number" href="/licenses/(S[A-Z0-9]{8})"', html)
    assert len(numbers) == 2
    issued = query(lambda: [(lic.number, lic.product, lic.origin_country,
                             [(line.hts_number, line.melt_pour_country, line.category) for line in lic.lines])
                            for lic in db.session.scalars(select(License).order_by(License.id))])
    assert [(n, p, o) for n, p, o, _ in issued] == [(numbers[0], "steel", "KR"), (numbers[1], "steel", "KR")]
    assert [m for *_, lines in issued for _, m, _ in lines] == ["KR", "JP", "CN"]
    assert all(category for *_, lines in issued for *_, category in lines)  # from the steel catalogue
    assert query(lambda: db.session.scalar(select(UploadBatch.product))) == "steel"

    mail = mailbox.wait_for("filer@example.com")[-1]
    assert mail["Subject"] == "SIMA: 2 licenses issued from steel entries.xlsx"
    body = mailbox.body(mail)
    assert "2 steel import licenses have been issued" in body and "steel.license@trade.gov" in body
    assert f"S-1 -> {numbers[0]}" in body

    # "Download results": the filer's own steel workbook, a License Number after column N.
    download = signed_in.get(re.search(r'href="([^"]+)">Download results<', html).group(1))
    assert "steel entries-with-license-numbers.xlsx" in download.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(download.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == STEEL_TITLES + ["License Number", "Entry Type"]
    assert [(r[0].value, r[11].value, r[14].value) for r in sheet.iter_rows(min_row=2) if r[0].value] == [
        ("S-1", "KR", numbers[0]), ("S-1", "Japan", numbers[0]), ("S-2", "CHN", numbers[1])]
    table = signed_in.get(re.search(r'href="([^"]+results\.csv)"', html).group(1))
    assert "SIMA-licenses-upload-" in table.headers["Content-Disposition"]
    assert table.get_data(as_text=True).splitlines()[1:] == [f"S-1,{numbers[0]},Consumption",
                                                               f"S-2,{numbers[1]},Consumption"]


def test_check_file_then_upload_file_issues_the_steel_file_as_steel(signed_in, query):
    data = workbook([steel_row(1), steel_row(2)], titles=STEEL_TITLES)
    html = result_page(signed_in, upload(signed_in, data, product="steel", check=True, certified=False))
    assert "Check File found no problem" in html and "in 2 steel licenses" in html
    assert "/licenses/multiple/?product=steel" in html   # "Check or upload another file"
    issue_url = re.search(r'action="([^"]+/issue)"', html).group(1)
    issued = result_page(signed_in, signed_in.post(issue_url, data={
        "csrf_token": csrf_token(signed_in, "/licenses/multiple/"), "certified": "y"}))
    assert "2 steel licenses" in issued
    assert query(lambda: sorted(lic.number[0] + lic.product for lic in db.session.scalars(select(License)))) == [
        "Ssteel", "Ssteel"]


@pytest.mark.parametrize(("make", "chosen", "words"), [
    (lambda: workbook([steel_row(1), steel_row(2)], titles=STEEL_TITLES), "aluminum",
     "This is the Steel template (SIMA), but the file was uploaded as Aluminum. If its licenses are "
     "steel licenses, choose “Steel” as the Product of the file and upload it again; if they are "
     "aluminum licenses, download the Excel template for Aluminum"),
    (lambda: workbook([row(1), row(2)]), "steel",
     "This is the Aluminum template (AIM), but the file was uploaded as Steel. If its licenses are "
     "aluminum licenses, choose “Aluminum” as the Product of the file"),
], ids=["steel-as-aluminum", "aluminum-as-steel"])
@pytest.mark.parametrize("check", [False, True], ids=["upload", "check"])
def test_a_workbook_of_the_other_product_is_refused_with_both_named(signed_in, query, make, chosen, words, check):
    html = page_text(signed_in.get(upload(signed_in, make(), product=chosen, check=check,
                                          certified=not check).headers["Location"]))
    assert "The file was not accepted" in html and "No license was issued" in html
    assert words in html
    assert _licenses(query) == 0


def test_the_other_products_template_is_told_by_its_own_columns_or_its_sheet_even_when_edited(signed_in, query):
    # A steel template whose Entry ID title was retyped: its Country of Melt and Pour still tells.
    retyped = workbook([steel_row(1)], titles=["Entry", *STEEL_TITLES[1:]])
    html = page_text(signed_in.get(upload(signed_in, retyped).headers["Location"]))
    assert "This is the Steel template (SIMA), but the file was uploaded as Aluminum." in html
    # Columns deleted from the steel template: its sheet's name still tells.
    template = openpyxl.load_workbook(io.BytesIO(signed_in.get(f"{TEMPLATE}?product=steel").data))
    template.worksheets[0].delete_cols(12)
    out = io.BytesIO()
    template.save(out)
    html = page_text(signed_in.get(upload(signed_in, out.getvalue()).headers["Location"]))
    assert "This is the Steel template (SIMA)" in html
    # A header of neither: the columns are said as before.
    html = page_text(signed_in.get(upload(signed_in, workbook([[1]], titles=["Entry ID", "Something"]),
                                          product="steel").headers["Location"]))
    assert "This is not the SIMA steel template: row 1, column B should read “Customs Entry #”" in html
    assert _licenses(query) == 0


def test_steel_fields_problems_are_listed_at_their_row_and_column(signed_in, query):
    melt = "Country of Melt and Pour"
    data = workbook([
        steel_row(1),
        steel_row(2, **{melt: "Unknown"}),                 # row 3: never unknown
        steel_row(3, **{melt: "Not applicable"}),          # row 4: never n/a
        steel_row(4, **{melt: ""}),                        # row 5: required
        steel_row(5, **{melt: "Atlantis"}),                # row 6: not a country
        steel_row(6, hts="7601.10.30.00"),                 # row 7: aluminum, not covered by SIMA
        steel_row(7, kg=0, usd=-5),                        # row 8: M and N
    ], titles=STEEL_TITLES)
    html = page_text(signed_in.get(upload(signed_in, data, product="steel").headers["Location"]))
    assert "No license was issued: 7 problems to correct" in html
    expected = [("3", "L", melt, "Country of Melt and Pour must be a country: it can never be “Not applicable” "
                                 "or “Unknown”."),
                ("4", "L", melt, "Country of Melt and Pour must be a country"),
                ("5", "L", melt, "Country of Melt and Pour is required."),
                ("6", "L", melt, "is not a country"),
                ("7", "K", "HTS Number", "HTS 7601.10.30.00 is not covered by SIMA"),
                ("8", "M", "Volume (KG)", "must be more than zero"),
                ("8", "N", "Customs Value (US$)", "must be more than zero")]
    for r, col, title, words in expected:
        assert re.search(rf"<td>{r}</td><td>{col}</td><td>{re.escape(title)}</td><td>[^<]*{re.escape(words)}",
                         html), (r, col, words)
    assert _licenses(query) == 0
    assert "/licenses/multiple/?product=steel" in html   # "Upload the corrected file" keeps Steel

    marked = signed_in.get(re.search(r'href="([^"]+problems\.xlsx)"', html).group(1))
    assert "SIMA-upload-" in marked.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(marked.data))
    rows = wb["Your rows"]
    assert [c.value for c in rows[1]] == STEEL_TITLES
    assert "can never be" in rows["L3"].comment.text and rows["L3"].value == "Unknown"
    assert rows["L2"].comment is None and rows["K7"].comment is not None
    assert [c.value for c in wb["Problems"][2]][:3] == [3, "L", melt]


def test_a_made_up_product_is_refused_on_the_page(signed_in, query):
    response = upload(signed_in, workbook([steel_row(1)], titles=STEEL_TITLES), product="copper")
    assert response.status_code == 400
    assert "Choose the Product of the file" in response.get_data(as_text=True)
    assert query(lambda: db.session.scalar(select(func.count()).select_from(UploadBatch))) == 0


@pytest.mark.parametrize("app", [{"UPLOAD_INLINE_MAX_BYTES": 0}], indirect=True)
def test_a_steel_file_checked_by_the_worker_is_read_as_steel(signed_in, query):
    """Not in the request: the job reads the product from the batch."""
    data = workbook([steel_row(i // 2, kg=100 + i) for i in range(40)], titles=STEEL_TITLES)
    html = result_page(signed_in, upload(signed_in, data, product="steel"), timeout=60)
    assert "20 steel licenses" in html
    assert query(lambda: {lic.product for lic in db.session.scalars(select(License))}) == {"steel"}
    other = workbook([steel_row(i // 2, kg=200 + i) for i in range(40)], titles=STEEL_TITLES)
    refused = result_page(signed_in, upload(signed_in, other, product="aluminum"), timeout=60)
    assert "This is the Steel template (SIMA), but the file was uploaded as Aluminum." in unescape(refused)
