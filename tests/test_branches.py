"""Branches (issue 17, point 3): the company's administrator keeps its branches on the Branches
page (filers and viewers read them), a license is filed for the company or one branch, the
dashboard, its exports and the API filter by branch and by the user who filed, and the license
page and PDF say who filed it and for which branch."""
from __future__ import annotations

import csv
import io
import subprocess
from urllib.parse import urlsplit

import pytest
from factories import add_branch, add_license, add_member, make_user
from flask_migrate import downgrade, upgrade
from helpers import (
    HEADER,
    INSERT_COMPANY,
    LINE,
    csrf_token,
    issue,
    migrated_to,
    page_text,
    post,
    signed_in_as,
    start,
    text_of,
)
from sqlalchemy import select, text

from aimweb import apikeys
from aimweb.enums import CompanyRole
from aimweb.extensions import db
from aimweb.models import Branch, License, LicenseEvent, User

BRANCH = {"name": "North Plant", "suffix": "TX-01", "street": "1200 Smith St", "city": "Houston",
          "state": "TX", "zip_code": "77002"}


def words(response) -> str:
    """The page's words as a person reads them."""
    return text_of(page_text(response))


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def company(app, query):
    """Gulf Coast Metals LLC: filer@example.com administers it, with a filer and a viewer; and
    another company with a branch of its own. Their ids by name."""
    def build():
        admin = make_user(company_name="Gulf Coast Metals LLC")
        colleague = add_member(admin, "colleague@example.com", CompanyRole.FILER, first="Casey", last="Nguyen")
        add_member(admin, "viewer@example.com", CompanyRole.VIEWER)
        other = make_user("other@example.com", company_name="Other Metals Inc")
        return {"admin": admin.id, "colleague": colleague.id, "company": admin.company_id,
                "other_branch": add_branch(other, "Elsewhere")}
    return query(build)


def add(client, **changes):
    return client.post("/account/branches", data={"csrf_token": csrf_token(client, "/account/branches"),
                                                  **BRANCH, **changes})


def branch_id(query, name="North Plant"):
    return query(lambda: db.session.scalar(select(Branch.id).where(Branch.name == name)))


# ----- the Branches page ----------------------------------------------------------------------------

def test_the_administrator_adds_edits_archives_and_restores_a_branch(app, company, query):
    admin = signed_in_as(app, "filer@example.com")
    assert "The company has no branch" in words(admin.get("/account/branches"))
    response = add(admin)
    assert response.status_code == 303
    page = words(admin.get("/account/branches"))
    assert "Branch “North Plant (TX-01)” was added" in page
    assert "North Plant (TX-01) 1200 Smith St, Houston, TX 77002 Open" in page
    north = branch_id(query)

    response = admin.post(f"/account/branches/{north}/edit", data={
        "csrf_token": csrf_token(admin, "/account/branches"), **BRANCH, "name": "North Works", "suffix": ""})
    assert response.status_code == 303
    assert "North Works 1200 Smith St" in words(admin.get("/account/branches"))

    token = csrf_token(admin, "/account/branches")
    assert admin.post(f"/account/branches/{north}/archive", data={"csrf_token": token}).status_code == 303
    page = words(admin.get("/account/branches"))
    assert "is archived: it is no longer offered for new licenses" in page and "Archived" in page
    assert query(lambda: db.session.get(Branch, north).archived_at) is not None  # kept, not deleted
    admin.post(f"/account/branches/{north}/restore", data={"csrf_token": token})
    assert query(lambda: db.session.get(Branch, north).archived_at) is None


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": ""}, "name", "Enter the branch name."),
    ({"street": ""}, "street", "Enter the branch street address."),
    ({"street": "PO Box 9"}, "street", "Enter a U.S. street address. A P.O. box cannot be used."),
    ({"state": ""}, "state", "Select the branch state."),
    ({"zip_code": "10001"}, "zip_code", "ZIP code 10001 is in NY, not TX."),
    ({"zip_code": "\u0661\u0661\u0661\u0661\u0661"}, "zip_code", "Enter a 5-digit ZIP code"),  # Arabic-Indic digits
    ({"suffix": "X" * 21}, "suffix", "Field cannot be longer than 20 characters."),
])
def test_a_branch_needs_its_name_and_us_address(app, company, query, changes, field, message):
    admin = signed_in_as(app, "filer@example.com")
    response = add(admin, **changes)
    assert response.status_code == 400
    page = words(response)
    assert message in page and "Please correct the 1 field marked below" in page
    assert query(lambda: db.session.scalar(select(db.func.count()).select_from(Branch)
                                           .where(Branch.company_id == company["company"]))) == 0


def test_two_open_branches_never_share_a_name(app, company):
    admin = signed_in_as(app, "filer@example.com")
    add(admin)
    response = add(admin, name="north plant")
    assert response.status_code == 400
    assert "The company already has a branch named “North Plant (TX-01)”" in words(response)
    assert add(admin, name="North Plant", suffix="TX-02").status_code == 303  # a suffix tells them apart


def test_two_administrators_saving_one_name_at_the_same_moment_cannot_both_succeed(app, company, query,
                                                                                    monkeypatch):
    """Both requests check before either commits (the check is skipped here to stand for that
    moment): the database's unique index on open branches refuses the second, at the field, with
    nothing half-saved; an edit and a restore to a taken name are refused the same way."""
    from aimweb import branches as service

    admin = signed_in_as(app, "filer@example.com")
    monkeypatch.setattr(service, "_name_taken", lambda *args: None)
    assert add(admin).status_code == 303
    response = add(admin, name="NORTH PLANT", suffix="tx-01")
    assert response.status_code == 400
    assert "A branch named “NORTH PLANT (tx-01)” was just saved by someone else." in words(response)
    assert add(admin, name="South Yard").status_code == 303
    south = branch_id(query, "South Yard")
    edit = admin.post(f"/account/branches/{south}/edit", data={
        "csrf_token": csrf_token(admin, "/account/branches"), **BRANCH})
    assert edit.status_code == 400 and "was just saved by someone else" in words(edit)

    def archive_as_a_twin():  # archived South Yard renamed as North Plant (TX-01): restoring it clashes
        db.session.execute(text("UPDATE branch SET archived_at = CURRENT_TIMESTAMP, name = 'North Plant', "
                                "suffix = 'TX-01' WHERE name = 'South Yard'"))
        db.session.commit()
    query(archive_as_a_twin)
    restore = admin.post(f"/account/branches/{south}/restore",
                         data={"csrf_token": csrf_token(admin, "/account/branches")}, follow_redirects=True)
    assert "was just saved by someone else" in words(restore)
    names = query(lambda: [(b.name, b.suffix, b.is_archived) for b in db.session.scalars(
        select(Branch).where(Branch.company_id == company["company"]).order_by(Branch.id))])
    assert names == [("North Plant", "TX-01", False), ("North Plant", "TX-01", True)]


def test_open_branches_that_already_share_a_name_are_told_apart_by_the_migration(tmp_path):
    """The migration (e4c9a2f7b815) that adds the unique index: open branches saved with one name
    before it get " (2)" after all but the oldest; an archived one keeps its name."""
    with migrated_to(tmp_path, "d8f2b6c4e913"):
        db.session.execute(text(INSERT_COMPANY), {"name": "C"})
        for name, archived in [("Dock", None), ("dock", None), ("Dock", "2026-05-02"), ("Yard", None)]:
            db.session.execute(text("INSERT INTO branch (company_id, name, street, city, state, zip_code, created_at, "
                                    "archived_at) VALUES (1, :name, '1 Main St', 'Houston', 'TX', '77002', "
                                    "'2026-05-01', :archived)"), {"name": name, "archived": archived})
        db.session.commit()
        upgrade()
        names = db.session.scalars(text("SELECT name FROM branch ORDER BY id")).all()
        assert names == ["Dock", "dock (2)", "Dock", "Yard"]


@pytest.mark.parametrize("email", ["colleague@example.com", "viewer@example.com"])
def test_filers_and_viewers_read_the_branches_but_cannot_change_them(app, company, query, email):
    query(lambda: add_branch(_user("filer@example.com"), "North Plant"))
    north = branch_id(query)
    client = signed_in_as(app, email)
    page = words(client.get("/account/branches"))
    assert "North Plant" in page and "Your company's administrator keeps this list" in page
    assert "Add a branch" not in page and "Archive" not in page
    token = csrf_token(client, "/account/branches")
    assert add(client).status_code == 403
    for action in ("edit", "archive", "restore"):
        response = client.post(f"/account/branches/{north}/{action}", data={"csrf_token": token, **BRANCH})
        assert response.status_code == 403
    assert query(lambda: db.session.get(Branch, north).archived_at) is None


def test_another_company_s_branch_is_not_found(app, company, query):
    admin = signed_in_as(app, "filer@example.com")
    other = company["other_branch"]
    token = csrf_token(admin, "/account/branches")
    assert admin.get(f"/account/branches/{other}/edit").status_code == 404
    for action in ("edit", "archive", "restore"):
        response = admin.post(f"/account/branches/{other}/{action}", data={"csrf_token": token, **BRANCH})
        assert response.status_code == 404
    assert "Elsewhere" not in words(admin.get("/account/branches"))
    assert admin.get("/account/branches/99999999999999999999/edit").status_code == 404


def test_the_company_profile_sends_to_the_branches_page(app, company):
    admin = signed_in_as(app, "filer@example.com")
    page = admin.get("/account/company").get_data(as_text=True)
    assert 'href="/account/branches"' in page and "branch_name" not in page


def test_the_company_form_s_branch_becomes_a_branch_row_and_back(tmp_path):
    """The migration (c4b17e20a5d3) on data: the company form's one branch is the company's first
    branch; a company without one gets none; down again, the columns take it back."""
    with migrated_to(tmp_path, "29d09eae368b"):
        insert = text("INSERT INTO company (name, company_type, street, city, state, zip_code, phone, "
                      "contact_first_name, contact_last_name, email, created_at, updated_at, branch_name, "
                      "branch_street, branch_city, branch_state, branch_zip) VALUES (:name, 'importer', "
                      "'1 Main St', 'Houston', 'TX', '77002', '281-555-0134', 'A', 'B', 'a@example.com', "
                      "'2026-05-01', '2026-05-01', :branch, :street, 'Dallas', 'TX', '75201')")
        db.session.execute(insert, {"name": "With", "branch": "North Plant", "street": "1200 Smith St"})
        db.session.execute(insert, {"name": "Without", "branch": None, "street": None})
        db.session.commit()
        upgrade()
        rows = db.session.execute(text("SELECT c.name, b.name, b.street, b.city, b.zip_code, b.archived_at "
                                       "FROM branch b JOIN company c ON c.id = b.company_id")).all()
        assert [tuple(r) for r in rows] == [("With", "North Plant", "1200 Smith St", "Dallas", "75201", None)]
        db.session.remove()
        downgrade(revision="29d09eae368b")
        back = db.session.execute(text("SELECT name, branch_name, branch_city FROM company ORDER BY id")).all()
        assert [tuple(r) for r in back] == [("With", "North Plant", "Dallas"), ("Without", None, None)]


# ----- filing for a branch ----------------------------------------------------------------------------

@pytest.fixture
def branches(company, query):
    """Two open branches and an archived one of the company: ids by name."""
    def build():
        admin = _user("filer@example.com")
        return {"north": add_branch(admin, "North Plant", suffix="TX-01"), "south": add_branch(admin, "South Yard"),
                "old": add_branch(admin, "Old Depot", archived=True)}
    return query(build)


def license_of(query, number):
    return query(lambda: db.session.scalar(select(License).where(License.number == number)))


def pdf_text(content: bytes) -> str:
    """The PDF read back by poppler's pdftotext, its words one space apart."""
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


def test_the_form_offers_filed_for_only_when_the_company_has_branches(app, company, query):
    admin = signed_in_as(app, "filer@example.com")
    draft = start(admin)
    assert "Filed for" not in words(admin.get(draft))
    query(lambda: add_branch(_user("filer@example.com"), "North Plant", suffix="TX-01"))
    query(lambda: add_branch(_user("filer@example.com"), "Old Depot", archived=True))
    page = admin.get(draft).get_data(as_text=True)
    assert "Filed for" in page and "The company (Gulf Coast Metals LLC)" in page
    assert "North Plant (TX-01)" in page and "Old Depot" not in page  # an archived branch is not offered


def test_a_crafted_filed_for_value_never_breaks_the_draft(app, company, query):
    admin = signed_in_as(app, "filer@example.com")
    query(lambda: add_branch(_user("filer@example.com"), "North Plant", suffix="TX-01"))
    draft = start(admin)
    for crafted in ("\u00b2", "9" * 40, "\u0661"):   # a digit to isdigit() that int() refuses, too long
        post(admin, f"{draft}/header", {"branch_id": crafted})
        assert admin.get(draft).status_code == 200, crafted


def test_a_filer_files_for_a_branch_and_the_license_page_and_pdf_say_so(app, branches, query):
    colleague = signed_in_as(app, "colleague@example.com")
    number = issue(colleague, header={**HEADER, "branch_id": str(branches["north"])})
    lic = license_of(query, number)
    assert (lic.branch_id, lic.created_by_id) == (branches["north"], query(lambda: _user("colleague@example.com").id))
    page = words(colleague.get(f"/licenses/{number}"))
    assert "Filed by Casey Nguyen" in page and "Branch North Plant (TX-01)" in page
    pdf = pdf_text(colleague.get(f"/licenses/{number}/pdf").data)
    assert "Branch North Plant (TX-01)" in pdf and "1200 Smith St" in pdf and "Filed by Casey Nguyen" in pdf


def test_a_low_value_license_is_filed_for_a_branch_too(app, branches, query):
    """The low-value form offers "Filed for" (the company's open branches) and the importer's
    saved names as it is typed; the preview and the license say the branch."""
    colleague = signed_in_as(app, "colleague@example.com")
    draft = start(colleague, kind="low_value")
    form = colleague.get(draft).get_data(as_text=True)
    assert "Filed for" in form and "North Plant (TX-01)" in form and "Old Depot" not in form
    assert 'hx-get="/account/address-book/suggestions?field=importer_name"' in form
    response = post(colleague, f"{draft}/preview", {"importer_name": "Gulf Coast Metals LLC", "certified": "y",
                                                    "covered_hts": "7601.10.30.00",
                                                    "branch_id": str(branches["south"])})
    assert response.status_code == 302
    assert "Filed for the branch South Yard." in words(colleague.get(response.headers["Location"]))
    number = post(colleague, f"{draft}/submit", {}).headers["Location"].rsplit("/", 1)[1]
    assert license_of(query, number).branch_id == branches["south"]
    assert "Branch South Yard" in words(colleague.get(f"/licenses/{number}"))


def test_a_license_for_the_company_shows_its_filer_and_no_branch(app, branches, query):
    admin = signed_in_as(app, "filer@example.com")
    number = issue(admin)
    assert license_of(query, number).branch_id is None
    page = words(admin.get(f"/licenses/{number}"))
    assert "Filed by Test Filer" in page and "Branch" not in page.split("Filed by")[1][:40]
    pdf = pdf_text(admin.get(f"/licenses/{number}/pdf").data)
    assert "Filed by Test Filer" in pdf and "North Plant" not in pdf


@pytest.mark.parametrize(("which", "message"), [
    ("old", "The branch “Old Depot” is archived: choose another branch or the company."),
    ("other", "That branch is not one of your company's"),
    ("word", "Choose the company or one of its branches from the list."),
])
def test_an_archived_or_foreign_branch_is_refused_at_the_field(app, company, branches, query, which, message):
    admin = signed_in_as(app, "filer@example.com")
    value = {"old": str(branches["old"]), "other": str(company["other_branch"]), "word": "north"}[which]
    draft = start(admin)
    post(admin, f"{draft}/lines", {**HEADER, **LINE})
    response = post(admin, f"{draft}/preview", {**HEADER, "branch_id": value, "certified": "y"})
    assert response.status_code == 200
    assert message in words(response)
    assert query(lambda: db.session.scalar(select(db.func.count()).select_from(License)
                                           .where(License.number.is_not(None)))) == 0


def test_modify_keeps_the_branch_or_changes_it_and_duplicate_copies_it(app, branches, query):
    admin = signed_in_as(app, "filer@example.com")
    number = issue(admin, header={**HEADER, "branch_id": str(branches["north"])})
    # Modify: the form starts with the license's branch and Submit keeps it.
    draft = post(admin, f"/licenses/{number}/modify", {}).headers["Location"]
    assert f'<option selected value="{branches["north"]}">' in admin.get(draft).get_data(as_text=True)
    post(admin, f"{draft}/preview", {**HEADER, "certified": "y"})
    assert post(admin, f"{draft}/submit", {}).status_code == 303
    assert license_of(query, number).branch_id == branches["north"]
    # ...or moves it to another branch: the history says so.
    draft = post(admin, f"/licenses/{number}/modify", {}).headers["Location"]
    post(admin, f"{draft}/preview", {**HEADER, "branch_id": str(branches["south"]), "certified": "y"})
    assert "Filed for North Plant (TX-01) South Yard" in words(admin.get(f"{draft}/preview"))  # before → after
    assert post(admin, f"{draft}/submit", {}).status_code == 303
    assert license_of(query, number).branch_id == branches["south"]
    changes = query(lambda: db.session.scalars(select(LicenseEvent.changes).order_by(LicenseEvent.id.desc())).first())
    assert {"field": "branch_id", "label": "Filed for", "before": "North Plant (TX-01)",
            "after": "South Yard"} in changes
    # Duplicate copies it.
    copy = post(admin, f"/licenses/{number}/duplicate", {}).headers["Location"]
    assert f'<option selected value="{branches["south"]}">' in admin.get(copy).get_data(as_text=True)
    new = issue_from(admin, copy)
    assert license_of(query, new).branch_id == branches["south"]


def issue_from(client, draft) -> str:
    header = {**HEADER, "entry_number": "", "certified": "y"}
    assert post(client, f"{draft}/preview", header).status_code == 302
    response = post(client, f"{draft}/submit", {"seen_same_entry": ""})
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


# ----- the dashboard: Branch and Filed by ---------------------------------------------------------------

@pytest.fixture
def filed(branches, query):
    """Licenses by who filed them and for what: the admin for the company (AADMC) and North
    (AADMN), the colleague for North (ACOLN) and South (ACOLS)."""
    def build():
        admin, colleague = _user("filer@example.com").id, _user("colleague@example.com").id
        for user, number, branch in ((admin, "AADMC0526", None), (admin, "AADMN0526", branches["north"]),
                                     (colleague, "ACOLN0526", branches["north"]),
                                     (colleague, "ACOLS0526", branches["south"])):
            add_license(user, number, branch_id=branch)
        return {"admin": admin, "colleague": colleague}
    return {**branches, **query(build)}


def numbers(response) -> list[str]:
    page = response.get_data(as_text=True)
    return sorted(n for n in ("AADMC0526", "AADMN0526", "ACOLN0526", "ACOLS0526") if n in page)


def test_the_dashboard_filters_by_branch_and_by_filer(app, filed):
    viewer = signed_in_as(app, "viewer@example.com")  # a viewer searches too
    page = viewer.get("/licenses/").get_data(as_text=True)
    assert 'name="branch"' in page and 'name="filed_by"' in page and "Casey Nguyen" in page
    assert "Old Depot (archived)" in page  # its licenses stay findable
    assert numbers(viewer.get(f"/licenses/?branch={filed['north']}")) == ["AADMN0526", "ACOLN0526"]
    assert numbers(viewer.get("/licenses/?branch=company")) == ["AADMC0526"]
    assert numbers(viewer.get(f"/licenses/?filed_by={filed['colleague']}")) == ["ACOLN0526", "ACOLS0526"]
    assert numbers(viewer.get(f"/licenses/?filed_by={filed['colleague']}&branch={filed['north']}")) == ["ACOLN0526"]
    # In place (htmx) the results alone, filtered the same way.
    response = viewer.get(f"/licenses/?branch={filed['south']}", headers={"HX-Request": "true",
                                                                         "HX-Target": "license-results"})
    assert numbers(response) == ["ACOLS0526"]


@pytest.mark.parametrize("query_string", ["branch=999999", "branch=north", "filed_by=0",
                                          "filed_by=99999999999999999999", "branch=-1"])
def test_an_unknown_branch_or_user_is_a_message_not_an_error(app, filed, query_string):
    admin = signed_in_as(app, "filer@example.com")
    response = admin.get(f"/licenses/?{query_string}")
    assert response.status_code == 200
    page = words(response)
    assert "Choose a branch from the list." in page or "Choose a user of your company from the list." in page


def test_another_company_s_branch_finds_nothing_in_the_export(app, company, filed):
    admin = signed_in_as(app, "filer@example.com")
    response = admin.get(f"/licenses/export.csv?branch={company['other_branch']}")
    assert list(csv.DictReader(io.StringIO(response.get_data(as_text=True)))) == []


def test_a_saved_search_keeps_the_branch_and_the_filer(app, filed):
    admin = signed_in_as(app, "filer@example.com")
    token = csrf_token(admin, "/licenses/")
    response = admin.post("/licenses/searches", data={"csrf_token": token, "name": "North by Casey",
                                                      "branch": str(filed["north"]),
                                                      "filed_by": str(filed["colleague"])})
    assert response.status_code == 302
    page = admin.get("/licenses/").get_data(as_text=True)
    search = next(part for part in page.split('"') if part.startswith("/licenses/searches/"))
    opened = admin.get(search)
    target = urlsplit(opened.headers["Location"])
    assert f"branch={filed['north']}" in target.query and f"filed_by={filed['colleague']}" in target.query
    assert numbers(admin.get(opened.headers["Location"])) == ["ACOLN0526"]


def test_the_export_has_branch_and_filed_by_columns_and_follows_the_filters(app, filed):
    admin = signed_in_as(app, "filer@example.com")
    rows = read_csv(admin.get("/licenses/export.csv"))
    by_number = {r["License Number"]: (r["Branch"], r["Filed by"]) for r in rows}
    assert by_number == {"AADMC0526": ("", "Test Filer"), "AADMN0526": ("North Plant (TX-01)", "Test Filer"),
                         "ACOLN0526": ("North Plant (TX-01)", "Casey Nguyen"),
                         "ACOLS0526": ("South Yard", "Casey Nguyen")}
    rows = read_csv(admin.get(f"/licenses/export.csv?filed_by={filed['colleague']}"))
    assert sorted(r["License Number"] for r in rows) == ["ACOLN0526", "ACOLS0526"]
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(admin.get(f"/licenses/export.xlsx?branch={filed['south']}").data))["Licenses"]
    header = [c.value for c in sheet[1]]
    values = [dict(zip(header, [c.value for c in row])) for row in sheet.iter_rows(min_row=2)]
    assert [(v["License Number"], v["Branch"], v["Filed by"]) for v in values] == [
        ("ACOLS0526", "South Yard", "Casey Nguyen")]


def test_export_and_print_of_selected_licenses_say_the_branch_and_the_filer(app, filed, query):
    admin = signed_in_as(app, "filer@example.com")
    ids = query(lambda: [db.session.scalar(select(License.id).where(License.number == n))
                         for n in ("AADMC0526", "ACOLN0526")])
    token = csrf_token(admin, "/licenses/")
    response = admin.post("/licenses/selected/export.csv", data={"csrf_token": token, "license": ids})
    rows = read_csv(response)
    assert sorted((r["License Number"], r["Branch"], r["Filed by"]) for r in rows) == [
        ("AADMC0526", "", "Test Filer"), ("ACOLN0526", "North Plant (TX-01)", "Casey Nguyen")]
    response = admin.post("/licenses/selected/pdf", data={"csrf_token": token, "license": ids})
    printed = pdf_text(response.data)
    assert "Branch North Plant (TX-01)" in printed and "Filed by Casey Nguyen" in printed
    assert "Filed by Test Filer" in printed


# ----- the JSON API ---------------------------------------------------------------------------------

@pytest.fixture
def api(app, client, filed, query):
    token = query(lambda: apikeys.create_key(_user("colleague@example.com"), "Broker system")[1])
    headers = {"Authorization": f"Bearer {token}"}

    class Api:
        def get(self, path):
            return client.get("/api/v1" + path, headers=headers)

        def post(self, path, json):
            return client.post("/api/v1" + path, json=json, headers=headers)

    return Api()


def api_body(**changes) -> dict:
    values = {"product": "aluminum", **HEADER, "certified": True,
              "lines": [{"hts_number": "7601.10.30.00", "smelt_largest": "CA", "smelt_second": "NA_",
                         "cast_country": "CA", "quantity_kg": "12,500", "customs_value_usd": 38750}]}
    values.update(changes)
    return values


def test_the_api_files_for_a_branch_and_says_the_branch_and_the_filer(api, filed):
    response = api.post("/licenses", api_body(branch_id=filed["north"]))
    assert response.status_code == 201, response.get_json()
    lic = response.get_json()
    assert lic["branch"] == {"id": filed["north"], "name": "North Plant (TX-01)"}
    assert lic["filed_by"] == {"id": filed["colleague"], "name": "Casey Nguyen"}
    again = api.get(f"/licenses/{lic['number']}").get_json()
    assert again["branch"]["id"] == filed["north"]
    company_one = api.post("/licenses", api_body()).get_json()
    assert company_one["branch"] is None


@pytest.mark.parametrize("which", ["old", "other"])
def test_the_api_refuses_an_archived_or_foreign_branch_as_a_problem(api, company, filed, query, which):
    branch = filed["old"] if which == "old" else company["other_branch"]
    before = query(lambda: db.session.scalar(select(db.func.count()).select_from(License)))
    for path in ("/licenses", "/licenses/check"):
        response = api.post(path, api_body(branch_id=branch))
        errors = response.get_json()["errors"]
        assert {"field": "branch_id", "pointer": "/branch_id"}.items() <= errors[0].items()
        if path == "/licenses":
            assert response.status_code == 422 and response.content_type == "application/problem+json"
        else:
            assert response.get_json()["valid"] is False
    assert query(lambda: db.session.scalar(select(db.func.count()).select_from(License))) == before


def test_the_api_list_filters_by_branch_and_filer(api, filed):
    def listed(query_string):
        return sorted(r["number"] for r in api.get(f"/licenses?{query_string}").get_json()["licenses"])

    assert listed(f"branch={filed['north']}") == ["AADMN0526", "ACOLN0526"]
    assert listed("branch=company") == ["AADMC0526"]
    assert listed(f"filed_by={filed['admin']}") == ["AADMC0526", "AADMN0526"]
    response = api.get("/licenses?branch=north")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "branch"


def test_a_branch_s_licenses_are_read_from_its_own_index(app, company, filed, query):
    """On SQLite the company is compared unindexed in a search by branch or user, so its planner
    reads the branch's (or user's) index and never walks the whole company (search._NotLookedUp)."""
    from aimweb.clock import application_date
    from aimweb.licenses import search

    def plans():
        if db.engine.dialect.name != "sqlite":
            return None
        found = {}
        for name, value in (("branch", filed["north"]), ("filed_by", filed["admin"])):
            f = search.parse_filters({name: str(value)}, application_date())
            statement = search.license_query(company["company"], f).limit(25)
            sql = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
            found[name] = " / ".join(row[3] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        return found

    found = query(plans)
    if found is None:
        pytest.skip("SQLite's planner only")
    assert "ix_license_branch_created" in found["branch"], found
    assert "ix_license_filer_created" in found["filed_by"], found
