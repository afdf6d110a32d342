"""Apply for Multiple Licenses: the template, an upload that issues, one that lists every problem."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import openpyxl
import pytest
from conftest import csrf_token
from helpers import result_page, row, upload, workbook
from sqlalchemy import func, select

from aimweb import licensing
from aimweb.extensions import db
from aimweb.models import License, UploadBatch
from aimweb.products.aluminum import TEMPLATE_TITLES as TITLES

TODAY = licensing.application_date()
IMPORT = datetime.combine(TODAY + timedelta(days=20), datetime.min.time())
EXPORT = IMPORT - timedelta(days=10)


def test_template_has_the_16_columns_lists_and_instructions(signed_in):
    response = signed_in.get("/licenses/multiple/template.xlsx?product=aluminum")
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = wb.worksheets[0]
    assert [c.value for c in sheet[1]] == TITLES
    assert sheet.freeze_panes == "B2"
    assert all(c.comment is not None and c.comment.text for c in sheet[1])
    lists = {str(v.formula1): str(v.sqref) for v in sheet.data_validations.dataValidation}
    assert any("Lists!$A$" in f for f in lists) and any("Lists!$C$" in f for f in lists)
    assert "Instructions" in wb.sheetnames
    hts = [c.value for c in wb["Lists"]["C"][1:] if c.value]
    assert len(hts) == 66 and "7601.10.30.00" in hts
    assert sheet["I2"].number_format == "mm/dd/yyyy" and sheet["O2"].number_format == "#,##0.00"


def test_good_upload_issues_every_license_in_one_go(signed_in, query, mailbox):
    template = signed_in.get("/licenses/multiple/template.xlsx").data
    data = workbook([row(1), row(1, hts="7606123035", kg="2,000", usd="9000.00"), row(2, kg=500, usd=2000),
                     row("A-3", hts="7601103000")], template)
    html = result_page(signed_in, upload(signed_in, data))
    assert "All licenses are created successfully." in html
    numbers = re.findall(r'class="aim-number" href="/licenses/(A[A-Z0-9]{8})"', html)
    assert len(numbers) == 3
    rows = query(lambda: [(lic.number, len(lic.lines), lic.upload_batch_id is not None, lic.status)
                          for lic in db.session.scalars(select(License).where(License.number.in_(numbers)))])
    assert sorted(r[1] for r in rows) == [1, 1, 2] and all(r[2] and r[3] == "submitted" for r in rows)
    csv_text = signed_in.get(re.search(r'href="([^"]+results\.csv)"', html).group(1)).get_data(as_text=True)
    assert "Entry ID,License Number,Entry Type" in csv_text and numbers[0] in csv_text
    assert "3 licenses issued" in mailbox.wait_for("filer@example.com")[-1]["Subject"]


def test_a_bad_row_issues_nothing_and_every_problem_has_its_row_and_column(signed_in, query):
    data = workbook([
        row(1), row(1, **{"Importer Name": "Someone Else"}),            # header differs in one license
        row(2, hts="7602.00.00.00"),                                     # not covered
        row(3, **{"Country of Most Recent Cast": "Not applicable"}),     # cast never n/a
        row(4, kg=0), row("", kg=5),                                     # zero volume; no Entry ID
        row(5, **{"Expected Date of Import": "31/12/2026"}),             # not a date
    ])
    html = result_page(signed_in, upload(signed_in, data))
    assert "No license was issued" in html
    expected = [("3", "C", "differs from row 2"), ("4", "K", "is not covered by AIM"),
                ("5", "N", "can never be"), ("6", "O", "must be more than zero"),
                ("7", "A", "Entry ID is required"), ("8", "J", "is not a date")]
    for r, col, words in expected:
        assert re.search(rf"<td>{r}</td><td>{col}</td><td>[^<]+</td><td>[^<]*{re.escape(words)}", html), (r, col, words)
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 0
    marked = signed_in.get(re.search(r'href="([^"]+problems\.xlsx)"', html).group(1))
    wb = openpyxl.load_workbook(io.BytesIO(marked.data))
    assert wb["Your rows"]["K4"].comment is not None and "not covered" in wb["Your rows"]["K4"].comment.text
    assert wb["Problems"].max_row == 1 + 6


def test_same_form_submitted_twice_issues_once(signed_in, query):
    data = workbook([row(1), row(2)])
    first = upload(signed_in, data, token="same-token-123")
    second = upload(signed_in, data, token="same-token-123")
    assert first.headers["Location"] == second.headers["Location"]
    result_page(signed_in, first)
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 2


def test_same_content_uploaded_again_asks_before_issuing_again(signed_in, query):
    data = workbook([row(1)])
    result_page(signed_in, upload(signed_in, data))
    again = result_page(signed_in, upload(signed_in, data))
    assert "This file was uploaded before" in again and "Issue the licenses again" in again
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 1
    batch_id = query(lambda: db.session.scalar(select(func.max(UploadBatch.id))))
    confirmed = signed_in.post(f"/licenses/multiple/{batch_id}/confirm",
                               data={"csrf_token": csrf_token(signed_in, "/licenses/multiple/")})
    assert "All licenses are created successfully." in result_page(signed_in, confirmed)
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 2


@pytest.mark.parametrize("app", [{"UPLOAD_INLINE_MAX_BYTES": 0}], indirect=True)
def test_a_large_upload_is_checked_in_the_background_with_progress(signed_in, query):
    data = workbook([row(i // 2, kg=100 + i) for i in range(600)])
    response = upload(signed_in, data)
    first = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Checking licenses.xlsx" in first or "All licenses are created successfully." in first
    html = result_page(signed_in, response, timeout=60)
    assert "All licenses are created successfully." in html
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 300


def test_upload_needs_a_file_and_the_certification(signed_in):
    assert "Check the box to certify" in upload(signed_in, workbook([row(1)]), certified=False).get_data(as_text=True)
    page = signed_in.get("/licenses/multiple/").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = signed_in.post("/licenses/multiple/", data={"csrf_token": csrf_token(signed_in, "/licenses/multiple/"),
                                                           "form_token": token, "certified": "y"})
    assert response.status_code == 400 and "Choose the Excel file" in response.get_data(as_text=True)


@pytest.mark.parametrize(("make", "words"), [
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Excel 97-2003 (.xls)"),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le") + b"\0" * 600,
     "password-protected"),
    (lambda: b"Entry ID,Customs Entry #\n1,\n", "not an Excel workbook"),
    (lambda: b"PK\x03\x04" + b"\0" * 100, "damaged"),
    (lambda: b"", "empty"),
])
def test_files_that_are_not_workbooks_get_a_clear_message(signed_in, query, make, words):
    html = result_page(signed_in, upload(signed_in, make()))
    assert "No license was issued" in html and words in html
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 0


def test_a_crash_while_issuing_leaves_no_license_behind(signed_in, query, monkeypatch):
    """The licenses, their lines, events and the batch's result commit together or not at all."""
    from aimweb import screening as service

    def crash(*args, **kwargs):
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(service, "add_volumes", crash)  # runs after the inserts, before the commit
    html = result_page(signed_in, upload(signed_in, workbook([row(1), row(2), row(3)])))
    assert "Nothing was issued" in html
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 0
    assert query(lambda: db.session.scalar(select(UploadBatch.status))) == "failed"


def test_five_posts_of_one_form_at_once_make_one_batch_and_redirect_to_it(signed_in, query, app):
    """A filer double-clicking, or a browser retrying: the same form token, posted concurrently."""
    import threading

    data = workbook([row(1), row(2)])
    token = csrf_token(signed_in, "/licenses/multiple/")
    cookie = signed_in.get_cookie("session").value
    barrier = threading.Barrier(5)
    answers = []

    def post():
        client = app.test_client()
        client.set_cookie("session", cookie)
        barrier.wait()
        answers.append(client.post("/licenses/multiple/", content_type="multipart/form-data", data={
            "csrf_token": token, "form_token": "one-form-posted-five-times", "certified": "y",
            "file": (io.BytesIO(data), "licenses.xlsx")}))

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [303] * 5, [a.get_data(as_text=True)[:300] for a in answers]
    assert len({a.headers["Location"] for a in answers}) == 1
    assert "All licenses are created successfully." in result_page(signed_in, answers[0])
    assert query(lambda: db.session.scalar(select(func.count()).select_from(UploadBatch))) == 1
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 2


def test_a_file_with_thousands_of_problems_lists_the_first_thousand_and_counts_the_rest(signed_in, query):
    data = workbook([row(i + 1, kg=0, usd=0) for i in range(600)])  # 2 problems a row: O and P
    html = result_page(signed_in, upload(signed_in, data), timeout=60)
    assert "No license was issued: 1,200 problems to correct" in html
    listed = re.findall(r"<tr><td>(\d+)</td><td>([A-Z])</td>", html)
    assert len(listed) == 1000 and listed[0] == ("2", "O") and listed[-1] == ("501", "P")
    assert "… and 200 more problems, not listed here or in the .xlsx" in html
    batch = query(lambda: db.session.scalars(select(UploadBatch)).one())
    assert batch.problem_count == 1200 and len(batch.problems) == 1000
    marked = signed_in.get(re.search(r'href="([^"]+problems\.xlsx)"', html).group(1))
    assert marked.status_code == 200 and marked.headers["Content-Length"] == str(len(marked.data))
    wb = openpyxl.load_workbook(io.BytesIO(marked.data))
    rows, listing = wb["Your rows"], wb["Problems"]
    assert rows.max_row == 601 and rows["A601"].value == 600  # every row as uploaded
    assert "more than zero" in rows["O501"].comment.text and rows["O501"].fill.fgColor.rgb == "FFF4E3DB"
    assert rows["O502"].comment is None and rows["O502"].value == 0
    assert listing.max_row == 1 + 1000 + 1
    assert [c.value for c in listing[1001]] == [501, "P", "Customs Value (US$)", listing["D1001"].value]
    assert listing["D1002"].value.startswith("… and 200 more problems")


# ----- for brokers (issue 14, point 8) -------------------------------------------------------------

def _check_file(client, data: bytes, filename="licenses.xlsx"):
    page = client.get("/licenses/multiple/").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    return client.post("/licenses/multiple/", content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(client, "/licenses/multiple/"), "form_token": token,
                             "action": "check", "file": (io.BytesIO(data), filename)})


def _licenses(query) -> int:
    return query(lambda: db.session.scalar(select(func.count()).select_from(License)))


def test_check_file_issues_nothing_then_upload_file_issues_the_checked_file(signed_in, query, mailbox):
    data = workbook([row(1), row(1, hts="7606123035", kg="2,000", usd="9000.00"), row(2, kg=500, usd=2000)])
    response = _check_file(signed_in, data)  # no certification needed to check
    html = result_page(signed_in, response)
    assert "Check File found no problem" in html and "Nothing has been issued." in html
    assert _licenses(query) == 0
    totals = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html)
    assert totals == [("Licenses", "2"), ("Products", "3"), ("Volume (KG)", "15,000.00"),
                      ("Customs Value (US$)", "49,750.00")]
    issue_url = re.search(r'action="([^"]+/issue)"', html).group(1)
    token = csrf_token(signed_in, "/licenses/multiple/")
    refused = signed_in.post(issue_url, data={"csrf_token": token})
    assert refused.status_code == 400 and "Check the box to certify" in refused.get_data(as_text=True)
    assert _licenses(query) == 0
    issued = result_page(signed_in, signed_in.post(issue_url, data={"csrf_token": token, "certified": "y"}))
    assert "All licenses are created successfully." in issued and _licenses(query) == 2
    again = signed_in.post(issue_url, data={"csrf_token": token, "certified": "y"})  # a double click
    assert again.status_code == 303 and _licenses(query) == 2


def test_check_file_lists_the_problems_and_issues_nothing(signed_in, query):
    html = result_page(signed_in, _check_file(signed_in, workbook([row(1), row(2, kg=0)])))
    assert "must be more than zero" in html and "No license was issued" in html
    assert _licenses(query) == 0


def test_results_have_totals_a_filter_and_the_filers_own_workbook_with_license_numbers(signed_in, query):
    template = signed_in.get("/licenses/multiple/template.xlsx").data
    data = workbook([row("BOL-7", kg=1000, usd=3000), row("BOL-7", hts="7606123035", kg=500, usd=2500),
                     row("BOL-8", **{"Importer Name": "Harbor Alloys Inc."}, kg=250, usd=1000)], template)
    html = result_page(signed_in, upload(signed_in, data, filename="march entries.xlsx"))
    totals = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert totals == {"Licenses": "2", "Products": "3", "Volume (KG)": "1,750.00",
                      "Customs Value (US$)": "6,500.00"}
    numbers = re.findall(r'class="aim-number" href="/licenses/(A[A-Z0-9]{8})"', html)
    batch_url = re.search(r'action="(/licenses/multiple/\d+)"', html).group(1)
    filtered = signed_in.get(f"{batch_url}?q=harbor").get_data(as_text=True)
    assert "1 of 2 licenses match “harbor”" in filtered
    assert re.findall(r'class="aim-number" href="/licenses/(A[A-Z0-9]{8})"', filtered) == [numbers[1]]

    download = signed_in.get(re.search(r'href="([^"]+)">Download results<', html).group(1))
    assert download.status_code == 200
    assert "march entries-with-license-numbers.xlsx" in download.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(download.data))
    sheet = wb.worksheets[0]
    assert [c.value for c in sheet[1]] == TITLES + ["License Number", "Entry Type"]
    filled = [(r[0].value, r[14].value, r[len(TITLES)].value, r[len(TITLES) + 1].value)
              for r in sheet.iter_rows(min_row=2) if r[0].value]
    assert filled == [("BOL-7", 1000, numbers[0], "Consumption"), ("BOL-7", 500, numbers[0], "Consumption"),
                      ("BOL-8", 250, numbers[1], "Consumption")]
    # The rest of the filer's workbook is untouched: its other sheets and its lists are still there.
    original = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == original.sheetnames
    assert len(sheet.data_validations.dataValidation) == len(original.worksheets[0].data_validations.dataValidation)


def test_a_missing_header_cell_is_required_not_different(signed_in):
    data = workbook([row(1), row(1, **{"Importer Name": ""}), row(2, **{"Exporter Name": ""}), row(2)])
    html = result_page(signed_in, upload(signed_in, data))
    assert re.search(r"<td>3</td><td>C</td><td>[^<]+</td><td>Importer Name is required", html)
    assert re.search(r"<td>4</td><td>D</td><td>[^<]+</td><td>Exporter Name is required", html)
    assert "differs from row" not in html
