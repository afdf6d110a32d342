"""FTZ admissions in bulk (issue 16, point 5): the upload page's "Entry Type of the file" makes every
license of the workbook a foreign trade zone admission, issued with the FTZ validity (no end); the
results page, the results workbook and table, the mail and the dashboard export say the entry type.
The template keeps its columns: the choice is made once per file."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from helpers import csrf_token, page_text, result_page, row, text_of, upload, workbook
from sqlalchemy import func, select

from aimweb import rules
from aimweb.extensions import db
from aimweb.models import License, UploadBatch
from aimweb.products.aluminum import TEMPLATE_TITLES as TITLES

FTZ = "Foreign trade zone admission"


def _issued(query) -> list[tuple]:
    return query(lambda: [(lic.entry_type, lic.valid_from, lic.valid_through)
                          for lic in db.session.scalars(select(License).order_by(License.id))])


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_page_offers_the_entry_type_of_the_file_consumption_first(signed_in):
    page = signed_in.get("/licenses/multiple/").get_data(as_text=True)
    assert '<label class="usa-label" for="upload-entry-type">Entry Type of the file</label>' in page
    options = re.search(r'<select[^>]+id="upload-entry-type"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="(\w+)"( selected)?>([^<]+)<', options) == [
        ("consumption", " selected", "Consumption"), ("ftz", "", FTZ)]
    again = signed_in.get("/licenses/multiple/?entry_type=ftz").get_data(as_text=True)
    assert '<option value="ftz" selected>' in again
    # The template keeps the guide's 16 columns, and says where the entry type is chosen.
    wb = openpyxl.load_workbook(io.BytesIO(signed_in.get("/licenses/multiple/template.xlsx").data))
    assert [c.value for c in wb.worksheets[0][1]] == TITLES and len(TITLES) == 16
    guide = "\n".join(c.value or "" for c in wb["Instructions"]["A"])
    assert "Entry type: the template has no column for it" in guide and "Entry Type of the file" in guide


def test_an_ftz_file_issues_ftz_admissions_that_do_not_expire(signed_in, query, mailbox):
    data = workbook([row("Z-1"), row("Z-1", hts="7606123035", kg=2000, usd=9000), row("Z-2", kg=500, usd=2000)])
    html = result_page(signed_in, upload(signed_in, data, filename="zone admissions.xlsx", entry_type="ftz"))
    assert "All licenses are created successfully." in html
    numbers = re.findall(r'class="aim-number" href="/licenses/(A[A-Z0-9]{8})"', html)
    assert len(numbers) == 2
    text = text_of(html)
    assert f"Entry Type of every license: {FTZ} (chosen for the file)" in text
    assert "quoted on the zone admission (CBP Form 214)" in text and "these licenses do not expire" in text

    issued = _issued(query)
    assert [entry_type for entry_type, *_ in issued] == ["ftz", "ftz"]
    # The FTZ validity of a single license (rules.validity): from the day issued, no end.
    assert all((since, through) == rules.validity(since, "ftz") for _, since, through in issued)
    assert all(through is None for *_, through in issued)
    assert query(lambda: db.session.scalar(select(UploadBatch.entry_type))) == "ftz"

    body = mailbox.body(mailbox.wait_for("filer@example.com")[-1])
    assert f"Entry type: {FTZ} (these licenses do not expire)." in body
    assert "zone admission (CBP Form 214)" in body and f"Z-1 -> {numbers[0]}" in body

    # The results table and the filer's own workbook say the entry type of each license.
    table = _csv(signed_in.get(re.search(r'href="([^"]+results\.csv)"', html).group(1)))
    assert table == [["Entry ID", "License Number", "Entry Type"], ["Z-1", numbers[0], FTZ], ["Z-2", numbers[1], FTZ]]
    xlsx = signed_in.get(re.search(r'href="([^"]+results\.xlsx)"', html).group(1))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert [[c.value for c in r] for r in sheet.iter_rows()] == table
    download = signed_in.get(re.search(r'href="([^"]+)">Download results<', html).group(1))
    back = openpyxl.load_workbook(io.BytesIO(download.data)).worksheets[0]
    assert [c.value for c in back[1]] == TITLES + ["License Number", "Entry Type"]
    assert [(r[0].value, r[16].value, r[17].value) for r in back.iter_rows(min_row=2) if r[0].value] == [
        ("Z-1", numbers[0], FTZ), ("Z-1", numbers[0], FTZ), ("Z-2", numbers[1], FTZ)]

    # The dashboard's export has the entry type column, and the license page says it.
    export = list(csv.DictReader(io.StringIO(signed_in.get("/licenses/export.csv").get_data(as_text=True)
                                             .lstrip("\ufeff"))))
    assert {(r["License Number"], r["Entry Type"]) for r in export} == {(numbers[0], FTZ), (numbers[1], FTZ)}
    assert FTZ in page_text(signed_in.get(f"/licenses/{numbers[0]}"))
    # The recent uploads say it too.
    assert f"Aluminum, {FTZ.lower()}" in page_text(signed_in.get("/licenses/multiple/"))


def test_without_a_choice_the_file_is_consumption_valid_75_days(signed_in, query):
    html = result_page(signed_in, upload(signed_in, workbook([row(1), row(2)])))
    assert "All licenses are created successfully." in html
    assert "Entry Type of every license: Consumption (chosen for the file)" in text_of(html)
    assert "valid for 75 days from the day issued" in text_of(html)
    issued = _issued(query)
    assert [(e, through - since) for e, since, through in issued] == [
        ("consumption", timedelta(days=rules.VALIDITY_DAYS))] * 2
    # Chosen explicitly: the same.
    html = result_page(signed_in, upload(signed_in, workbook([row(3)]), entry_type="consumption"))
    assert "Entry Type of the license: Consumption" in text_of(html)
    assert [e for e, *_ in _issued(query)] == ["consumption"] * 3
    assert query(lambda: sorted(db.session.scalars(select(UploadBatch.entry_type)))) == ["consumption"] * 2


@pytest.mark.parametrize("hostile", ["FTZ", "ftz ", "zone", "<script>alert(1)</script>", "ftz,consumption",
                                     "' OR 1=1 --", "x" * 5000])
def test_a_hostile_entry_type_is_refused_at_the_field_and_nothing_is_kept(signed_in, query, hostile):
    for check in (False, True):
        response = upload(signed_in, workbook([row(1)]), entry_type=hostile, check=check)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html
        field = re.search(r'<div class="usa-form-group usa-form-group--error">(.*?)</div>', html, re.S).group(1)
        assert 'for="upload-entry-type"' in field and 'aria-invalid="true"' in field
        assert "Choose the Entry Type of the file (Consumption or Foreign trade zone admission)" in field
        assert 'aria-describedby="upload-entry-type-hint upload-entry-type-error"' in field
        assert '<a href="#upload-entry-type">' in html   # the summary leads to the field
        assert '<option value="consumption" selected>' in field
    assert query(lambda: db.session.scalar(select(func.count()).select_from(UploadBatch))) == 0
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 0


def test_check_file_honours_ftz_then_upload_file_issues_ftz(signed_in, query):
    html = result_page(signed_in, upload(signed_in, workbook([row(1), row(2)]), entry_type="ftz", check=True,
                                         certified=False))
    assert "Check File found no problem" in html
    assert f"Entry Type of every license: {FTZ}" in text_of(html)
    assert "entry_type=ftz" in html   # "Check or upload another file" keeps the choice
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License))) == 0
    issue_url = re.search(r'action="([^"]+/issue)"', html).group(1)
    issued = result_page(signed_in, signed_in.post(issue_url, data={
        "csrf_token": csrf_token(signed_in, "/licenses/multiple/"), "certified": "y"}))
    assert "All licenses are created successfully." in issued and f"Entry Type of every license: {FTZ}" in \
        text_of(issued)
    assert [(e, through) for e, _, through in _issued(query)] == [("ftz", None), ("ftz", None)]


def test_check_file_of_a_bad_ftz_file_lists_problems_and_keeps_the_choice_for_the_corrected_file(signed_in, query):
    html = result_page(signed_in, upload(signed_in, workbook([row(1, **{"Importer Name": ""})]), entry_type="ftz",
                                         check=True, certified=False))
    assert "Importer Name is required" in html
    again = re.search(r'href="([^"]+)">Upload the corrected file<', html).group(1)
    assert "entry_type=ftz" in again
    assert '<option value="ftz" selected>' in signed_in.get(again.replace("&amp;", "&")).get_data(as_text=True)


@pytest.mark.parametrize("app", [{"UPLOAD_INLINE_MAX_BYTES": 0}], indirect=True)
def test_an_ftz_file_checked_by_the_worker_is_issued_as_ftz(signed_in, query):
    """Not in the request: the job reads the entry type from the batch."""
    html = result_page(signed_in, upload(signed_in, workbook([row(i) for i in range(3)]), entry_type="ftz"),
                       timeout=60)
    assert "3 aluminum licenses" in html
    assert {(e, through) for e, _, through in _issued(query)} == {("ftz", None)}

