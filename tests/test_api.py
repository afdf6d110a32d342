"""The JSON API (/api/v1, issue 18): keys, every endpoint, each role and error, safe retries,
problem details, the history of changes made through it."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from factories import add_license, add_member, add_party, make_user
from helpers import ENTRY_1, csrf_token, entry, issue_low_value, page_text, sign_in

from aimweb import apikeys
from aimweb.clock import application_date
from aimweb.enums import CompanyRole, PartyKind
from aimweb.extensions import db
from aimweb.models import ApiKey, License, LicenseEvent, Party, User

PROBLEM = "application/problem+json"
TODAY = application_date()


def body(**changes) -> dict:
    """A license the form would issue (aluminum), as the API takes it."""
    values = {
        "product": "aluminum", "entry_number": "ABC-1234567-6", "entry_type": "consumption",
        "importer_name": "Gulf Coast Metals LLC", "exporter_name": "Northern Rolling Mills Inc.",
        "manufacturer_name": "Alouette Smelting", "origin_country": "CA", "export_country": "Canada",
        "port_code": "1303", "export_date": (TODAY + timedelta(days=5)).isoformat(),
        "import_date": (TODAY + timedelta(days=20)).strftime("%m/%d/%Y"), "certified": True,
        "lines": [{"hts_number": "7601.10.30.00", "smelt_largest": "CA", "smelt_second": "NA_",
                   "cast_country": "CA", "quantity_kg": "12,500", "customs_value_usd": 38750}],
    }
    values.update(changes)
    return values


STEEL = {"product": "steel", "lines": [{"hts_number": "7208.10.15.00", "melt_pour_country": "CA",
                                        "quantity_kg": 24000, "customs_value_usd": 19200}]}


def make_key(email="filer@example.com", role="filer", name="Broker system", **kwargs) -> str:
    user = db.session.scalar(db.select(User).filter_by(email=email))
    user = user or make_user(email, role=role, company=role == "filer")
    return apikeys.create_key(user, name, **kwargs)[1]


@pytest.fixture
def token(app, query):
    return query(make_key)


@pytest.fixture
def api(client, token):
    """The test client with the filer's key in every request."""

    class Api:
        def __init__(self):
            self.headers = {"Authorization": f"Bearer {token}"}

        def get(self, path, **kw):
            return client.get("/api/v1" + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

        def post(self, path, json=None, **kw):
            return client.post("/api/v1" + path, json=json, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    return Api()


def submit(api, **changes) -> dict:
    response = api.post("/licenses", body(**changes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# ----- the document and the reference page ----------------------------------------------------------

def test_the_openapi_document_is_generated_and_public(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert {"/api/v1/licenses", "/api/v1/licenses/check", "/api/v1/licenses/batch",
            "/api/v1/licenses/{number}/cancel", "/api/v1/reference/ports"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    text = page_text(page)
    assert "POST /api/v1/licenses/batch" in text and "batch-invalid" in text


# ----- keys ------------------------------------------------------------------------------------------

def test_without_a_key_the_api_answers_401_problem(client):
    response = client.get("/api/v1/licenses")
    assert response.status_code == 401
    assert response.content_type == PROBLEM
    assert response.get_json()["type"].endswith("/unauthorized")
    # The type, opened, is its row of the reference page.
    opened = client.get(response.get_json()["type"])
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/api/v1/docs#problem-unauthorized")
    assert 'id="problem-unauthorized"' in client.get("/api/v1/docs").get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_does_not_open_the_api(client, filer):
    sign_in(client)
    assert client.get("/licenses/").status_code == 200
    assert client.get("/api/v1/licenses").status_code == 401
    assert client.post("/api/v1/licenses", json=body()).status_code == 401


def test_a_key_does_not_open_the_html_pages(client, token):
    response = client.get("/licenses/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_keys_are_made_on_the_account_page_shown_once_and_revocable(client, filer, query):
    sign_in(client)
    token = csrf_token(client, "/account/api-keys")
    page = client.post("/account/api-keys", data={"csrf_token": token, "name": "Broker system",
                                                  "expires_on": ""})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    secret = html.split('id="new-api-key">')[1].split("<")[0]
    assert secret.startswith("aim_")
    stored = query(lambda: db.session.scalar(db.select(ApiKey)))
    assert stored.digest != secret and secret not in stored.digest and stored.name == "Broker system"
    assert secret not in client.get("/account/api-keys").get_data(as_text=True)  # shown once
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/licenses", headers=headers).status_code == 200
    assert "Never" not in page_text(client.get("/account/api-keys")).split("Broker system")[1].split("Revoke")[0]
    client.post(f"/account/api-keys/{stored.id}/revoke", data={"csrf_token": token})
    assert client.get("/api/v1/licenses", headers=headers).status_code == 401


def test_a_key_without_a_name_or_expired_already_is_refused(client, filer):
    sign_in(client)
    token = csrf_token(client, "/account/api-keys")
    response = client.post("/account/api-keys", data={"csrf_token": token, "name": " "})
    assert "Name the key" in page_text(response)
    response = client.post("/account/api-keys", data={"csrf_token": token, "name": "x",
                                                      "expires_on": TODAY.isoformat()})
    assert "must be after today" in page_text(response)


def test_an_expired_key_is_refused(app, client, query):
    expired = query(lambda: make_key(expires_on=TODAY - timedelta(days=1)))
    assert client.get("/api/v1/licenses", headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_officers_cannot_make_keys_and_their_key_cannot_file(app, client, query, officer):
    assert officer.get("/account/api-keys").status_code == 403
    response = client.get("/api/v1/licenses", headers={"Authorization": "Bearer aim_not-a-key"})
    assert response.status_code == 401


# ----- check, submit -----------------------------------------------------------------------------------

def test_check_returns_every_problem_with_its_field_in_the_form_s_words(api):
    response = api.post("/licenses/check", body(importer_name="", port_code="9999", certified=False,
                                                 lines=[{"hts_number": "7601.10.30.00", "smelt_largest": "CA",
                                                         "smelt_second": "NA_", "cast_country": "unknown",
                                                         "quantity_kg": "abc", "customs_value_usd": 1}]))
    assert response.status_code == 200
    result = response.get_json()
    assert result["valid"] is False
    fields = {(e["field"], e["line"]) for e in result["errors"]}
    assert {("importer_name", None), ("port_code", None), ("certified", None)} <= fields
    assert ("quantity_kg", 0) in fields and ("cast_country", 0) in fields
    messages = {e["field"]: e["message"] for e in result["errors"]}
    assert messages["importer_name"] == "Importer Name is required."
    assert messages["port_code"] == "9999 is not a U.S. port of entry code."
    assert api.post("/licenses/check", body()).get_json() == {"valid": True, "errors": []}


def test_submit_issues_a_license_and_its_history_names_the_key(api, query):
    lic = submit(api)
    assert lic["number"].startswith("A") and lic["status"] == "submitted"
    assert lic["lines"][0]["quantity_kg"] == "12500.00" and lic["export_country"] == "CA"
    event = query(lambda: db.session.scalar(db.select(LicenseEvent)))
    assert event.note == "Submitted through the API (key “Broker system”)." and event.api_key_id


def test_the_license_page_s_history_says_it_came_through_the_api(api, client):
    number = submit(api)["number"]
    sign_in(client)
    assert "Submitted through the API (key “Broker system”)." in page_text(client.get(f"/licenses/{number}"))


def test_unknown_paths_and_methods_under_the_api_are_problems_too(api):
    missing = api.get("/no-such-thing")
    assert missing.status_code == 404 and missing.content_type == PROBLEM
    wrong = api.post("/reference/ports")
    assert wrong.status_code == 405 and wrong.content_type == PROBLEM and "GET" in wrong.headers["Allow"]


def test_submit_steel(api):
    lic = submit(api, **STEEL)
    assert lic["number"].startswith("S") and lic["lines"][0]["melt_pour_country"] == "CA"


def test_submit_with_problems_is_422_problem_and_issues_nothing(api, query):
    response = api.post("/licenses", body(import_date="13/45/2026"))
    assert response.status_code == 422 and response.content_type == PROBLEM
    problem = response.get_json()
    assert problem["type"].endswith("/license-invalid")
    assert problem["errors"][0]["field"] == "import_date"
    assert problem["errors"][0]["pointer"] == "/import_date"
    assert query(lambda: db.session.scalar(db.select(db.func.count()).select_from(License))) == 0


def test_a_body_of_the_wrong_shape_is_422_with_pointers(api):
    response = api.post("/licenses", {"product": "copper", "lines": [{"hts_number": 7}]})
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.get_json()["errors"]}
    assert {"/product", "/lines/0/hts_number"} <= pointers


def test_nul_and_huge_values_never_give_500(api):
    response = api.post("/licenses", body(importer_name="Gulf\x00Coast", lines=[
        {"hts_number": "7601.10.30.00", "smelt_largest": "CA", "smelt_second": "NA_", "cast_country": "CA",
         "quantity_kg": 1e308, "customs_value_usd": "9" * 400}]))
    assert response.status_code == 422


# ----- batch -------------------------------------------------------------------------------------------

def test_a_batch_is_all_or_nothing_with_problems_by_item(api, query):
    response = api.post("/licenses/batch", {"product": "aluminum", "licenses": [
        body(), body(exporter_name=""), body(lines=[])]})
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"].endswith("/batch-invalid")
    assert {(e["item"], e["field"]) for e in problem["errors"]} == {(1, "exporter_name"), (2, "lines")}
    assert problem["errors"][0]["pointer"] == "/licenses/1/exporter_name"
    assert query(lambda: db.session.scalar(db.select(db.func.count()).select_from(License))) == 0
    response = api.post("/licenses/batch", {"product": "aluminum", "licenses": [body(), body()]})
    assert response.status_code == 201 and len(response.get_json()["numbers"]) == 2


def test_a_batch_over_5000_is_refused(api):
    response = api.post("/licenses/batch", {"licenses": [{}] * 5001})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "licenses"


# ----- get, pdf, list ------------------------------------------------------------------------------------

def test_get_and_pdf_of_own_license_and_another_company_s_is_not_found(api, query):
    number = submit(api)["number"]
    assert api.get(f"/licenses/{number}").get_json()["number"] == number
    assert api.get(f"/licenses/{number.lower()}").status_code == 200
    pdf = api.get(f"/licenses/{number}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    query(lambda: add_license(make_user("other@example.com").id, "AOTH10126"))
    for path in ("/licenses/AOTH10126", "/licenses/AOTH10126/pdf"):
        response = api.get(path)
        assert response.status_code == 404 and response.content_type == PROBLEM
    assert api.post("/licenses/AOTH10126/cancel").status_code == 404


def test_list_pages_with_a_cursor_and_the_dashboard_filters(api, query):
    numbers = [submit(api)["number"] for _ in range(3)]
    first = api.get("/licenses?limit=2").get_json()
    assert len(first["licenses"]) == 2 and first["next_cursor"]
    second = api.get(f"/licenses?limit=2&cursor={first['next_cursor']}").get_json()
    assert second["next_cursor"] is None
    seen = [r["number"] for r in first["licenses"] + second["licenses"]]
    assert sorted(seen) == sorted(numbers)
    found = api.get(f"/licenses?q={numbers[0]}").get_json()["licenses"]
    assert [r["number"] for r in found] == [numbers[0]]
    assert api.get("/licenses?status=cancelled").get_json()["licenses"] == []


def test_a_bad_search_is_422_with_the_dashboard_s_words(api):
    response = api.get("/licenses?created_from=31/31/2026&status=nope")
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"created_from", "status"}
    for query in ("cursor=99999999999999999999999", "cursor=%00", "limit=0", "limit=1e308"):
        assert api.get(f"/licenses?{query}").status_code < 500


# ----- modify, cancel, duplicate -------------------------------------------------------------------------

def test_modify_changes_the_license_and_the_history_says_through_the_api(api, query):
    number = submit(api)["number"]
    response = api.post(f"/licenses/{number}/modify", body(importer_name="Harbor Metals Inc."))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "corrected"
    assert response.get_json()["importer_name"] == "Harbor Metals Inc."
    event = query(lambda: db.session.scalars(db.select(LicenseEvent).order_by(LicenseEvent.id.desc())).first())
    assert event.note == "Corrected through the API (key “Broker system”)."
    assert event.changes[0]["after"] == "Harbor Metals Inc."
    response = api.post(f"/licenses/{number}/modify", body(lines=[]))
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "lines"


def test_cancel_then_cancel_again_is_409_and_modify_a_cancelled_one_too(api, query):
    number = submit(api)["number"]
    response = api.post(f"/licenses/{number}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    again = api.post(f"/licenses/{number}/cancel")
    assert again.status_code == 409 and again.get_json()["type"].endswith("/action-not-allowed")
    assert "already cancelled" in again.get_json()["detail"]
    assert api.post(f"/licenses/{number}/modify", body()).status_code == 409
    event = query(lambda: db.session.scalars(db.select(LicenseEvent).order_by(LicenseEvent.id.desc())).first())
    assert event.note == "Cancelled by the filer through the API (key “Broker system”)."


def test_duplicate_submits_a_copy_with_new_dates(api, query):
    original = submit(api)
    response = api.post(f"/licenses/{original['number']}/duplicate", {
        "certified": True, "export_date": (TODAY + timedelta(days=6)).isoformat(),
        "import_date": (TODAY + timedelta(days=30)).isoformat()})
    assert response.status_code == 201, response.get_json()
    copy = response.get_json()
    assert copy["number"] != original["number"] and copy["importer_name"] == original["importer_name"]
    assert copy["entry_number"] is None and copy["lines"][0]["hts_number"] == "7601103000"
    event = query(lambda: db.session.scalars(db.select(LicenseEvent).order_by(LicenseEvent.id.desc())).first())
    assert event.note.startswith(f"Duplicated from {original['number']}. Submitted through the API")
    missing = api.post(f"/licenses/{original['number']}/duplicate", {"certified": True})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.get_json()["errors"]} >= {"export_date", "import_date"}


# ----- reference data --------------------------------------------------------------------------------------

def test_reference_data(api):
    hts = api.get("/reference/hts/steel").get_json()
    assert hts["revision"] and any(i["hts_number"].startswith("72") for i in hts["items"])
    assert api.get("/reference/hts/copper").status_code == 404
    assert {"code": "1303", "name": "Baltimore, MD"} in api.get("/reference/ports").get_json()["items"]
    assert {"code": "CA", "name": "Canada"} in api.get("/reference/countries").get_json()["items"]


# ----- safe retries, rate limits ------------------------------------------------------------------------

def test_a_repeated_idempotency_key_returns_the_first_result_and_another_body_409(api, query):
    first = api.post("/licenses", body(), headers={"Idempotency-Key": "k-1"})
    again = api.post("/licenses", body(), headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert query(lambda: db.session.scalar(db.select(db.func.count()).select_from(License))) == 1
    other = api.post("/licenses", body(importer_name="Other"), headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409 and other.get_json()["type"].endswith("/idempotency-key-reused")
    batch = {"licenses": [body(), body()]}
    numbers = api.post("/licenses/batch", batch, headers={"Idempotency-Key": "b-1"}).get_json()["numbers"]
    assert api.post("/licenses/batch", batch, headers={"Idempotency-Key": "b-1"}).get_json()["numbers"] == numbers
    assert query(lambda: db.session.scalar(db.select(db.func.count()).select_from(License))) == 3


@pytest.mark.parametrize("app", [{"API_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_too_many_requests_is_429_problem_with_retry_after(api):
    answers = [api.get("/licenses") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].content_type == PROBLEM and int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].get_json()["type"].endswith("/rate-limited")


# ----- the API adds no lifecycle code of its own --------------------------------------------------------

def test_the_api_package_writes_only_through_the_service():
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "aimweb" / "api"
    source = "\n".join(p.read_text() for p in package.glob("*.py"))
    assert re.search(r"^from \.\. import .*\blicensing\b", source, re.M)  # licenses change through it
    for write in ("session.add", "session.commit", "insert(", "update(", "delete(", ".status ="):
        assert write not in source, write


# ----- the address book ---------------------------------------------------------------------------------

def test_a_broker_s_software_reads_and_saves_the_address_book(api, query):
    """The company's parties of one kind, by name, a page at a time (another company's never);
    saving one follows the Address Book page's rules and it is then offered on the form."""
    def seed():
        owner = db.session.scalar(db.select(User).filter_by(email="filer@example.com"))
        for n in range(3):
            add_party(owner, f"Importer {n} LLC")
        add_party(owner, "Northern Rolling Mills Inc.", PartyKind.EXPORTER)
        add_party(make_user("other@example.com"), "Other Company's Importer")
    query(seed)
    listed = api.get("/parties?kind=importer&limit=2")
    assert listed.status_code == 200, listed.get_json()
    got = listed.get_json()
    assert [p["name"] for p in got["parties"]] == ["Importer 0 LLC", "Importer 1 LLC"]
    assert (got["total"], got["page"], got["pages"]) == (3, 1, 2)
    assert [p["name"] for p in api.get("/parties?kind=importer&limit=2&page=2").get_json()["parties"]] == [
        "Importer 2 LLC"]
    assert api.get("/parties?kind=importer&q=other").get_json()["total"] == 0
    saved = api.post("/parties", {"kind": "importer", "name": "Harbor Freight Metals Inc.",
                                  "importer_number": "123456789", "country": "us"})
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["importer_number"] == "12-3456789" and saved.get_json()["country"] == "US"
    names = [p["name"] for p in api.get("/parties?kind=importer").get_json()["parties"]]
    assert "Harbor Freight Metals Inc." in names


@pytest.mark.parametrize(("sent", "field", "message"), [
    ({"kind": "importer", "name": "importer 0 llc"}, "name", "is already in the address book"),
    ({"kind": "importer", "name": "  "}, "name", "Enter the importer's name."),
    ({"kind": "exporter", "name": "X Ltd", "importer_number": "12-3456789"}, "importer_number",
     "Only an importer has an importer number."),
    ({"kind": "importer", "name": "X LLC", "importer_number": "12"}, "importer_number", "Enter an EIN"),
    ({"kind": "importer", "name": "X LLC", "country": "ZZ"}, "country", "Choose the country from the list"),
])
def test_a_party_the_page_would_refuse_is_a_problem_at_its_field(api, query, sent, field, message):
    query(lambda: add_party(db.session.scalar(db.select(User).filter_by(email="filer@example.com")),
                            "Importer 0 LLC"))
    refused = api.post("/parties", sent)
    assert refused.status_code == 422 and refused.content_type == PROBLEM
    problem = refused.get_json()
    assert problem["type"].endswith("/party-invalid") and problem["errors"][0]["field"] == field
    assert message in problem["errors"][0]["message"]


def test_a_broker_s_software_corrects_archives_and_restores_a_party(api, query, client):
    """The Address Book page's edit, Archive and Restore, through the API: the fields sent change,
    the others stay; an archived party is no longer offered on the form, and is again once restored;
    another company's party is not found."""
    def seed():
        owner = db.session.scalar(db.select(User).filter_by(email="filer@example.com"))
        return (add_party(owner, "Harbor Fraight Metals Inc."), add_party(owner, "Gulf Coast Metals LLC"),
                add_party(make_user("other@example.com"), "Other Company's Importer"))
    mine, _, theirs = query(seed)
    assert api.get(f"/parties/{mine}").get_json()["name"] == "Harbor Fraight Metals Inc."
    changed = api.post(f"/parties/{mine}", {"name": "Harbor Freight Metals Inc.", "importer_number": "123456789"})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["name"], changed.get_json()["importer_number"]) == ("Harbor Freight Metals Inc.",
                                                                                 "12-3456789")
    kept = api.post(f"/parties/{mine}", {"country": "us"}).get_json()
    assert (kept["name"], kept["importer_number"], kept["country"]) == (
        "Harbor Freight Metals Inc.", "12-3456789", "US")
    assert api.post(f"/parties/{mine}", {"importer_number": None}).get_json()["importer_number"] is None

    taken = api.post(f"/parties/{mine}", {"name": "gulf coast metals, llc"})
    assert taken.status_code == 422 and taken.get_json()["errors"][0]["field"] == "name"
    assert "already in the address book" in taken.get_json()["errors"][0]["message"]
    assert api.get(f"/parties/{mine}").get_json()["name"] == "Harbor Freight Metals Inc."  # nothing half-saved

    def offered():
        return [p["name"] for p in api.get("/parties?kind=importer").get_json()["parties"]]
    archived = api.post(f"/parties/{mine}/archive")
    assert archived.status_code == 200 and archived.get_json()["archived"] is True
    assert api.post(f"/parties/{mine}/archive").get_json()["archived"] is True  # again: no change, no error
    assert offered() == ["Gulf Coast Metals LLC"]
    sign_in(client)

    def suggested():
        url = "/account/address-book/suggestions?field=importer_name&importer_name=harb"
        return client.get(url).get_data(as_text=True)
    assert "Harbor Freight" not in suggested()
    restored = api.post(f"/parties/{mine}/restore")
    assert restored.status_code == 200 and restored.get_json()["archived"] is False
    assert offered() == ["Gulf Coast Metals LLC", "Harbor Freight Metals Inc."]
    assert "Harbor Freight Metals Inc." in suggested()

    for path in (f"/parties/{theirs}", f"/parties/{theirs}/archive", f"/parties/{theirs}/restore"):
        answer = api.get(path) if path.endswith(str(theirs)) else api.post(path)
        assert answer.status_code == 404, path
    assert api.post(f"/parties/{theirs}", {"name": "Mine Now LLC"}).status_code == 404
    assert query(lambda: db.session.get(Party, theirs).name) == "Other Company's Importer"


def test_a_viewer_s_key_reads_the_address_book_but_saves_nothing(app, client, query):
    def viewer_key():
        owner = make_user()
        add_member(owner, "viewer@example.com", CompanyRole.VIEWER)
        return make_key("viewer@example.com")
    headers = {"Authorization": f"Bearer {query(viewer_key)}"}
    assert client.get("/api/v1/parties?kind=importer", headers=headers).status_code == 200
    refused = client.post("/api/v1/parties", json={"kind": "importer", "name": "X LLC"}, headers=headers)
    assert refused.status_code == 403
    party = query(lambda: add_party(db.session.scalar(db.select(User).filter_by(email="filer@example.com")),
                                    "Harbor Freight Metals Inc."))
    assert client.get(f"/api/v1/parties/{party}", headers=headers).status_code == 200
    for path, body in ((f"/api/v1/parties/{party}", {"name": "Changed LLC"}),
                       (f"/api/v1/parties/{party}/archive", None)):
        assert client.post(path, json=body, headers=headers).status_code == 403
    assert query(lambda: (db.session.get(Party, party).name, db.session.get(Party, party).is_archived)) == (
        "Harbor Freight Metals Inc.", False)


# ----- a low-value license's uses ---------------------------------------------------------------------

def test_a_low_value_license_s_uses_are_recorded_and_listed_through_the_api(app, api, client, query):
    sign_in(client)
    number = issue_low_value(client)
    got = api.get(f"/licenses/{number}").get_json()
    assert got["license_type"] == "low_value" and got["covered_hts"] == ["7601103000", "7604101000"]
    today = application_date()
    recorded = api.post(f"/licenses/{number}/uses", {"entry_number": ENTRY_1, "entry_date": today.isoformat(),
                                                      "value_usd": "1,200.00"})
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["value_usd"] == "1200.00" and recorded.get_json()["entry_date"] == today.isoformat()
    # The same rules as the page: at or over the limit, refused at the field; the same entry twice too.
    over = api.post(f"/licenses/{number}/uses", {"entry_number": entry(7), "entry_date": today.isoformat(),
                                                  "value_usd": "5000"})
    assert over.status_code == 422 and over.get_json()["errors"][0]["field"] == "value_usd"
    again = api.post(f"/licenses/{number}/uses", {"entry_number": ENTRY_1, "entry_date": today.isoformat(),
                                                   "value_usd": "10"})
    assert again.status_code == 422 and "already recorded" in again.get_json()["errors"][0]["message"]
    listed = api.get(f"/licenses/{number}/uses").get_json()
    assert listed["limit_usd"] == "5000" and [u["value_usd"] for u in listed["uses"]] == ["1200.00"]
    # Marked as recorded through the API, with the key's name, there and on the license's page.
    assert listed["uses"][0]["api_key"] == "Broker system"
    assert "through the API (key “Broker system”)" in page_text(client.get(f"/licenses/{number}"))
    # A standard license has no uses: 409; another company's low-value license is not found.
    standard = submit(api)["number"]
    assert api.get(f"/licenses/{standard}/uses").status_code == 409
    assert api.post(f"/licenses/{standard}/uses", {"entry_number": entry(8)}).status_code == 409
    assert api.get("/licenses/ALZZZZZ1226/uses").status_code == 404
