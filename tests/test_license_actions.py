"""License Actions through HTTP (Duplicate, Modify, Cancel) and who may reach which license, draft
and saved search: another company's are "not found" on every route; officers never file."""
from __future__ import annotations

import csv
import io
import re

import pytest
from conftest import csrf_token, make_user, sign_in
from factories import add_license
from helpers import (
    HEADER,
    HTMX,
    LINE,
    add_line,
    issue,
    page_text,
    post,
    preview_form,
    row_html,
    rows,
    signed_in_as,
    start,
    text_of,
)
from openpyxl import load_workbook
from sqlalchemy import func, select

from aimweb.extensions import db
from aimweb.models import License, LicenseEvent, SavedSearch

NEW_HEADER = {**HEADER, "importer_name": "Bayou Aluminum Trading"}


def license_state(query, number):
    """What a user could notice of a license: its fields, products and history."""
    def read():
        lic = db.session.scalar(select(License).where(License.number == number))
        return dict(id=lic.id, status=lic.status, version=lic.version, importer=lic.importer_name,
                    lines=[(line.hts_number, str(line.quantity_kg)) for line in lic.lines],
                    events=[e.kind for e in lic.events])
    return query(read)


def issued_count(query) -> int:
    return query(lambda: db.session.scalar(
        select(func.count()).select_from(License).where(License.number.is_not(None))))


def follow(client, response) -> str:
    return page_text(client.get(response.headers["Location"]))


# ----- Duplicate License ---------------------------------------------------------------------------

def test_duplicate_opens_a_prefilled_new_application_and_issues_nothing_until_submit(signed_in, query):
    number = issue(signed_in)
    before = license_state(query, number)
    response = post(signed_in, f"/licenses/{number}/duplicate", {})
    assert response.status_code == 302 and "/licenses/drafts/" in response.headers["Location"]
    draft = response.headers["Location"]
    form = follow(signed_in, response)
    assert "Apply for Single License" in form and "Modify License" not in form
    note = text_of(form[form.index("aim-duplicate-note"):form.index("</div></div>", form.index("aim-duplicate-note"))])
    assert f"This is a copy of license {number}; the original is unchanged." in note
    assert "customs entry number and the dates of export and import were left empty" in note
    for value in ['value="Gulf Coast Metals LLC"', "7601.10.30.00", "12,500.00"]:
        assert value in form, value
    # A license covers one entry: the copy starts without the original's entry number and dates.
    for name in ("entry_number", "export_date", "import_date"):
        assert re.search(rf'name="{name}"[^>]*value=""', form), name
    assert 'value="ABC-1234567-6"' not in form
    assert issued_count(query) == 1 and license_state(query, number) == before

    # Changing the copy leaves the original alone; Submit issues a new license with a new number.
    add_line(signed_in, draft, {**LINE, "line-quantity_kg": "40", "line-customs_value_usd": "130"},
             NEW_HEADER)
    assert post(signed_in, f"{draft}/preview", {**NEW_HEADER, "certified": "y"}).status_code == 302
    issued = post(signed_in, f"{draft}/submit", preview_form(signed_in, draft))
    assert issued.status_code == 303
    copy = issued.headers["Location"].rsplit("/", 1)[1]
    assert copy != number and issued_count(query) == 2
    assert license_state(query, copy)["importer"] == "Bayou Aluminum Trading"
    assert license_state(query, copy)["lines"] == [("7601103000", "12500.00"), ("7601103000", "40.00")]
    assert license_state(query, number) == before
    # Its history says where it came from; the original's history is unchanged.
    history = text_of(page_text(signed_in.get(f"/licenses/{copy}")).split(">History<")[1])
    assert f"Submitted (license issued) Test Filer Duplicated from {number}." in history
    assert "Duplicated" not in page_text(signed_in.get(f"/licenses/{number}")).split(">History<")[1]


def test_a_cancelled_license_can_still_be_duplicated(signed_in, query):
    number = issue(signed_in)
    post(signed_in, f"/licenses/{number}/cancel", {})
    response = post(signed_in, f"/licenses/{number}/duplicate", {})
    assert "/licenses/drafts/" in response.headers["Location"]
    assert 'value="Gulf Coast Metals LLC"' in follow(signed_in, response)
    assert license_state(query, number)["status"] == "cancelled"


# ----- Modify License ------------------------------------------------------------------------------

def test_modify_keeps_the_number_marks_it_corrected_records_and_mails_the_changes(signed_in, query, mailbox):
    number = issue(signed_in)
    before = license_state(query, number)
    response = post(signed_in, f"/licenses/{number}/modify", {})
    assert response.status_code == 302
    draft = response.headers["Location"]
    form = follow(signed_in, response)
    assert f"Modify License {number}" in form and "The license keeps its number" in form
    assert 'value="Gulf Coast Metals LLC"' in form and "12,500.00" in form
    # Modify again before submitting: the same modification continues.
    assert post(signed_in, f"/licenses/{number}/modify", {}).headers["Location"] == draft
    # Nothing has changed yet.
    assert license_state(query, number) == before

    edited = post(signed_in, f"{draft}/lines/0", {**NEW_HEADER, **LINE, "line-quantity_kg": "10,000"},
                  headers=HTMX).get_data(as_text=True)
    assert "10,000.00" in edited
    assert license_state(query, number) == before
    preview = post(signed_in, f"{draft}/preview", {**NEW_HEADER, "certified": "y"})
    shown = follow(signed_in, preview)
    assert "Preview changes to license" in shown and "Bayou Aluminum Trading" in shown
    # The preview says what changes, before -> after, and that the number stays.
    assert "to obtain the license number" not in shown and "It keeps its number" in shown
    changes = text_of(shown[shown.index("What changes"):shown.index("</table>", shown.index("What changes"))])
    assert "Importer Name Gulf Coast Metals LLC Bayou Aluminum Trading" in changes
    assert "Product 1 Volume (KG) 12,500.00 10,000.00" in changes
    assert "Exporter Name" not in changes
    assert "Customs entry number already used" not in shown  # its own entry number is no warning
    mailbox.clear()
    submitted = post(signed_in, f"{draft}/submit", {})
    assert submitted.status_code == 303
    assert submitted.headers["Location"].endswith(f"/licenses/submitted/{number}")

    after = license_state(query, number)
    assert after["id"] == before["id"] and after["status"] == "corrected"
    assert after["importer"] == "Bayou Aluminum Trading" and after["lines"] == [("7601103000", "10000.00")]
    assert after["events"] == ["issued", "corrected"] and issued_count(query) == 1

    assert f"License {number} has been modified and now shows as Corrected" in text_of(follow(signed_in, submitted))
    page = page_text(signed_in.get(f"/licenses/{number}"))
    assert ">Corrected<" in page
    history = page[page.index(">History<"):]
    assert "Importer Name: Gulf Coast Metals LLC → Bayou Aluminum Trading" in history
    assert "Product 1 Volume (KG): 12,500.00 → 10,000.00" in history
    assert "Test Filer" in history
    changes = query(lambda: db.session.scalar(
        select(LicenseEvent.changes).where(LicenseEvent.kind == "corrected")))
    assert {(c["label"], c["before"], c["after"]) for c in changes} >= {
        ("Importer Name", "Gulf Coast Metals LLC", "Bayou Aluminum Trading"),
        ("Product 1 Volume (KG)", "12,500.00", "10,000.00")}

    mail, = mailbox.wait_for("filer@example.com")
    body = mailbox.body(mail)
    assert number in mail["Subject"] and "corrected" in mail["Subject"].lower()
    assert number in body and "Gulf Coast Metals LLC -> Bayou Aluminum Trading" in body

    # The dashboard shows it Corrected, with the new totals.
    row = row_html(signed_in.get("/licenses/"), number)
    assert ">Corrected<" in row and ">10,000.00<" in row and "Bayou Aluminum Trading" in row
    # The draft is used up: opening it again leads to the license.
    assert signed_in.get(draft).headers["Location"].endswith(f"/licenses/{number}")


def test_modify_of_a_cancelled_license_is_refused_with_a_message(signed_in, query):
    number = issue(signed_in)
    post(signed_in, f"/licenses/{number}/cancel", {})
    response = post(signed_in, f"/licenses/{number}/modify", {})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/licenses/{number}")
    page = follow(signed_in, response)
    assert f"License {number} is cancelled: a cancelled license cannot be changed or restored." in page
    assert query(lambda: db.session.scalar(
        select(func.count()).select_from(License).where(License.amends_id.is_not(None)))) == 0


# ----- Cancel License ------------------------------------------------------------------------------

def test_cancel_asks_first_then_cancels_for_good(signed_in, query):
    number = issue(signed_in)
    lic_id = license_state(query, number)["id"]
    # An open modification, ready to submit, made before the cancellation.
    draft = post(signed_in, f"/licenses/{number}/modify", {}).headers["Location"]
    post(signed_in, f"{draft}/preview", {**NEW_HEADER, "certified": "y"})

    confirm = page_text(signed_in.get(f"/licenses/{number}/cancel"))
    assert "This action cannot be undone" in confirm and f"Cancel License {number}" in confirm
    inline = page_text(signed_in.get(f"/licenses/{number}/cancel", headers=HTMX))
    assert inline.lstrip().startswith(f'<tr id="summary-{lic_id}"') and "<html" not in inline
    assert "cannot be undone" in inline and f'hx-post="/licenses/{number}/cancel"' in inline
    assert license_state(query, number)["status"] == "submitted"  # asking changes nothing

    row = page_text(post(signed_in, f"/licenses/{number}/cancel", {}, headers=HTMX))
    assert row.lstrip().startswith(f'<tr id="row-{lic_id}"') and "<html" not in row
    assert ">Cancelled<" in row and "Modify License" not in row and "Cancel License" not in row
    assert f'<tr id="summary-{lic_id}" class="aim-summary-slot" hidden hx-swap-oob="true"></tr>' in row
    state = license_state(query, number)
    assert state["status"] == "cancelled" and state["events"] == ["issued", "cancelled"]

    # Twice is harmless: still cancelled, recorded once.
    again = post(signed_in, f"/licenses/{number}/cancel", {})
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/licenses/{number}")
    assert license_state(query, number)["events"] == ["issued", "cancelled"]
    assert f"License {number} is already cancelled." in page_text(signed_in.get(f"/licenses/{number}/cancel"))

    page = page_text(signed_in.get(f"/licenses/{number}"))
    assert ">Cancelled<" in page and "This license is cancelled" in page
    assert "Modify License" not in page and "Duplicate License" in page
    history = page[page.index(">History<"):]
    assert "Cancelled by the filer." in history and "Test Filer" in history

    # The modification opened before is refused at Submit, with the reason.
    refused = post(signed_in, f"{draft}/submit", {})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(draft)
    assert f"License {number} is cancelled" in follow(signed_in, refused)
    state = license_state(query, number)
    assert state["status"] == "cancelled" and state["importer"] == "Gulf Coast Metals LLC"
    assert state["events"] == ["issued", "cancelled"]


def test_cancel_without_javascript_says_so_on_the_license_page(signed_in, query, mailbox):
    number = issue(signed_in)
    response = post(signed_in, f"/licenses/{number}/cancel", {})
    assert response.status_code == 303
    page = follow(signed_in, response)
    assert f"License {number} has been cancelled." in page and ">Cancelled<" in page
    row = row_html(signed_in.get("/licenses/"), number)
    assert ">Cancelled<" in row and "Modify License" not in row and "Duplicate License" in row


# ----- 6. Authorization ----------------------------------------------------------------------------

@pytest.fixture
def company_a(client, query):
    """Company A's license, a draft with a product, and a saved search, made through HTTP."""
    query(lambda: make_user("owner@example.com"))
    sign_in(client, "owner@example.com")
    number = issue(client)
    draft = start(client)
    add_line(client, draft)
    post(client, "/licenses/searches", {"name": "A's search", "status": "submitted"})
    search_id = query(lambda: db.session.scalar(select(SavedSearch.id)))
    license_id = license_state(query, number)["id"]
    snapshot = snapshot_of(query)
    return dict(number=number, draft=draft, search=f"/licenses/searches/{search_id}",
                license_id=license_id, snapshot=snapshot)


def snapshot_of(query):
    def read():
        licenses = db.session.scalars(select(License).order_by(License.id)).all()
        return ([(lic.id, lic.number, lic.status, lic.version, lic.importer_name, lic.form_data,
                  [(line.hts_number, str(line.quantity_kg)) for line in lic.lines]) for lic in licenses],
                db.session.scalar(select(func.count()).select_from(LicenseEvent)),
                [(s.name, s.query) for s in db.session.scalars(select(SavedSearch))])
    return query(read)


def test_another_company_gets_not_found_on_every_route(app, company_a, query):
    a = company_a
    number, draft, search = a["number"], a["draft"], a["search"]
    other_id = query(lambda: make_user("other@example.com").id)
    query(lambda: add_license(other_id, "AOTH10126", importer="Other Company Metals"))
    b = signed_in_as(app, "other@example.com")
    token = csrf_token(b, "/licenses/")
    gets = [f"/licenses/{number}", f"/licenses/{number.lower()}", f"/licenses/{number}/pdf",
            f"/licenses/{number}/summary", f"/licenses/{number}/cancel", f"/licenses/submitted/{number}",
            draft, f"{draft}/preview",
            f"/licenses/drafts/{a['license_id']}", f"/licenses/drafts/{a['license_id']}/preview", search]
    for path in gets:
        assert b.get(path).status_code == 404, path
        assert b.get(path, headers=HTMX).status_code == 404, path
    posts = [f"/licenses/{number}/duplicate", f"/licenses/{number}/modify", f"/licenses/{number}/cancel",
             f"{draft}/lines", f"{draft}/lines/0", f"{draft}/lines/0/edit", f"{draft}/lines/0/remove",
             f"{draft}/preview", f"{draft}/submit", f"/licenses/drafts/{a['license_id']}/submit",
             f"{search}/rename", f"{search}/delete"]
    for path in posts:
        data = {"csrf_token": token, **HEADER, **LINE, "name": "Mine now", "certified": "y"}
        assert b.post(path, data=data).status_code == 404, path
        assert b.post(path, data=data, headers=HTMX).status_code == 404, path
    assert snapshot_of(query)[1:] == a["snapshot"][1:]
    assert [row for row in snapshot_of(query)[0] if row[1] != "AOTH10126"] == a["snapshot"][0]

    # Not in B's dashboard, search, or exports either.
    assert number not in b.get("/licenses/").get_data(as_text=True)
    for text in [number, "gulf"]:
        assert rows(b.get("/licenses/", query_string={"q": text})) == [], text
    exported = b.get("/licenses/export.csv").get_data(as_text=True)
    assert "AOTH10126" in exported and number not in exported and "Gulf Coast" not in exported
    assert list(csv.reader(io.StringIO(b.get(f"/licenses/export.csv?q={number}").get_data(as_text=True)[1:])))[1:] == []
    sheet = load_workbook(io.BytesIO(b.get("/licenses/export.xlsx").get_data()))["Licenses"]
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "AOTH10126" in values and number not in values
    # A's own view is unharmed.
    owner = signed_in_as(app, "owner@example.com")
    assert owner.get(f"/licenses/{number}").status_code == 200
    assert owner.get(search).status_code == 302


def test_officers_review_but_get_forbidden_on_filer_routes(app, company_a, query):
    number = company_a["number"]
    query(lambda: make_user("officer@example.com", role="officer", company=False))
    officer = signed_in_as(app, "officer@example.com")
    assert officer.get(f"/licenses/{number}").status_code == 200  # officers review licenses
    token = csrf_token(officer, f"/licenses/{number}")
    for path in ["/licenses/apply", f"/licenses/{number}/cancel", f"/licenses/{number}/summary",
                 "/licenses/export.csv", "/licenses/export.xlsx", company_a["search"], company_a["draft"]]:
        assert officer.get(path).status_code == 403, path
    for path in ["/licenses/apply", f"/licenses/{number}/duplicate", f"/licenses/{number}/modify",
                 f"/licenses/{number}/cancel", "/licenses/searches", f"{company_a['draft']}/submit",
                 f"{company_a['search']}/delete"]:
        assert officer.post(path, data={"csrf_token": token, "license_type": "standard",
                                        "product": "aluminum", "name": "x"}).status_code == 403, path
    assert snapshot_of(query) == company_a["snapshot"]
