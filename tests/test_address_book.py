"""The broker's address book (issue 17, point 4): the company's saved importers, exporters and
manufacturers on My Account's Address Book page (filers and administrators change them, viewers
read), offered as a party's name is typed on the license form, saved from a license, and checked
against an upload's names (a name close to a saved party is a possible typo, a warning only).
A license keeps its names as filed: changing a party never rewrites a license."""
from __future__ import annotations

import html
import re

import pytest
from factories import add_member, add_party, make_user
from helpers import HEADER, HTMX, csrf_token, issue, page_text, result_page, row, signed_in_as, start, upload, workbook
from sqlalchemy import select

from aimweb.enums import CompanyRole, PartyKind
from aimweb.extensions import db
from aimweb.models import License, Party, User

BOOK = "/account/address-book"


@pytest.fixture
def company(app, query):
    """filer@example.com administers Gulf Coast Metals LLC; colleague@ files, viewer@ reads;
    other@example.com is another company's."""
    def seed():
        owner = make_user(company_name="Gulf Coast Metals LLC")
        add_member(owner, "colleague@example.com", CompanyRole.FILER)
        add_member(owner, "viewer@example.com", CompanyRole.VIEWER)
        other = make_user("other@example.com")
        add_party(other, "Gulf Coast Rival Importers LLC")
        add_party(other, "Other's Secret Exporter Ltd", PartyKind.EXPORTER)
    query(seed)


def client_of(app, email):
    return signed_in_as(app, email)


def add(client, kind="importer", name="Harbor Freight Metals Inc.", **extra):
    return client.post(BOOK, data={"csrf_token": csrf_token(client, BOOK), "kind": kind, "name": name,
                                   "importer_number": "", "country": "", **extra})


def parties(query, email="filer@example.com"):
    def read():
        company_id = db.session.scalar(select(User.company_id).where(User.email == email))
        return [(p.kind, p.name, p.importer_number, p.country, p.archived_at is not None)
                for p in db.session.scalars(select(Party).where(Party.company_id == company_id).order_by(Party.id))]
    return query(read)


def party_id(query, name):
    return query(lambda: db.session.scalar(select(Party.id).where(Party.name == name)))


# ----- the page, per role ----------------------------------------------------------------------

@pytest.mark.parametrize("email", ["filer@example.com", "colleague@example.com"])
def test_administrators_and_filers_add_edit_archive_and_restore(app, query, company, email):
    client = client_of(app, email)
    response = add(client, "importer", "  Harbor   Freight Metals Inc. ", importer_number="210101-00001",
                   country="MX")
    assert response.status_code == 303
    page = page_text(client.get(response.headers["Location"]))
    assert "Importer “Harbor Freight Metals Inc.” was saved to the address book." in page
    assert "210101-00001" in page and "Mexico" in page
    pid = party_id(query, "Harbor Freight Metals Inc.")
    edit = f"{BOOK}/{pid}"
    response = client.post(edit, data={"csrf_token": csrf_token(client, edit), "kind": "importer",
                                       "name": "Harbor Freight Metals Incorporated", "importer_number": "12-3456789",
                                       "country": ""})
    assert response.status_code == 303
    assert parties(query)[-1] == (PartyKind.IMPORTER, "Harbor Freight Metals Incorporated", "12-3456789", None, False)
    response = client.post(f"{edit}/archive", data={"csrf_token": csrf_token(client, BOOK)}, follow_redirects=True)
    assert "was archived: it is no longer offered on the license form." in page_text(response)
    assert "Harbor Freight Metals Incorporated" not in page_text(client.get(BOOK))
    assert "Harbor Freight Metals Incorporated" in page_text(client.get(f"{BOOK}?archived=1"))
    client.post(f"{edit}/restore", data={"csrf_token": csrf_token(client, BOOK)})
    assert parties(query)[-1][-1] is False


def test_a_viewer_reads_the_address_book_and_changes_nothing(app, query, company):
    query(lambda: add_party(db.session.scalar(select(User).where(User.email == "filer@example.com")),
                            "Harbor Freight Metals Inc."))
    viewer = client_of(app, "viewer@example.com")
    page = page_text(viewer.get(BOOK))
    assert "Harbor Freight Metals Inc." in page and "Add a party" not in page
    assert "/archive" not in page and "Edit" not in page
    token = csrf_token(viewer, BOOK)
    pid = party_id(query, "Harbor Freight Metals Inc.")
    assert viewer.post(BOOK, data={"csrf_token": token, "kind": "importer", "name": "X Corp"}).status_code == 403
    assert viewer.get(f"{BOOK}/{pid}").status_code == 403
    assert viewer.post(f"{BOOK}/{pid}/archive", data={"csrf_token": token}).status_code == 403
    assert [p[1] for p in parties(query)] == ["Harbor Freight Metals Inc."]


def test_another_company_s_party_is_not_found(app, query, company):
    client = client_of(app, "filer@example.com")
    theirs = party_id(query, "Gulf Coast Rival Importers LLC")
    token = csrf_token(client, BOOK)
    assert client.get(f"{BOOK}/{theirs}").status_code == 404
    assert client.post(f"{BOOK}/{theirs}/archive", data={"csrf_token": token}).status_code == 404
    assert "Gulf Coast Rival" not in page_text(client.get(BOOK))


@pytest.mark.parametrize(("values", "message"), [
    ({"name": ""}, "Enter the importer's name."),
    ({"name": "   "}, "Enter the importer's name."),
    ({"name": "x" * 201}, "The name must be at most 200 characters."),
    ({"name": "Straße" * 30}, "once written out"),   # 180 characters that compare as 210
    ({"name": "..."}, "Enter a name with letters or digits."),
    ({"name": "Unknown"}, "“Unknown” is not a party"),
    ({"importer_number": "07-1234567"}, "07 is not a prefix the IRS issues."),
    ({"importer_number": "12345"}, "Enter an EIN (##-#######, like 12-3456789) or a CBP-assigned importer number"),
    ({"kind": "exporter", "importer_number": "12-3456789"}, "Only an importer has an importer number."),
    ({"kind": "shipper"}, "Not a valid choice."),
    ({"name": "Nul\x00 Metals", "country": "ZZ\x00"}, "Not a valid choice."),
])
def test_bad_input_is_told_at_its_field(app, query, company, values, message):
    client = client_of(app, "filer@example.com")
    response = add(client, **{"name": "Harbor Freight Metals Inc.", **values})
    assert response.status_code == 400
    assert message in page_text(response)
    assert parties(query) == []


def test_the_same_name_is_saved_once_per_kind(app, query, company):
    client = client_of(app, "filer@example.com")
    assert add(client, "importer", "Gulf Coast Metals LLC").status_code == 303
    response = add(client, "importer", "GULF COAST METALS, L.L.C.")
    assert response.status_code == 400
    assert "“Gulf Coast Metals LLC” is already in the address book as importer." in page_text(response)
    assert add(client, "exporter", "Gulf Coast Metals LLC").status_code == 303  # another kind
    pid = party_id(query, "Gulf Coast Metals LLC")
    client.post(f"{BOOK}/{pid}/archive", data={"csrf_token": csrf_token(client, BOOK)})
    response = add(client, "importer", "gulf coast metals llc")
    assert "(archived: restore it from the archived list)" in page_text(response)


def test_the_list_filters_by_kind_and_name(app, query, company):
    client = client_of(app, "filer@example.com")
    for kind, name in [("importer", "Harbor Freight Metals Inc."), ("exporter", "Northern Rolling Mills Inc."),
                       ("manufacturer", "Alouette Smelting")]:
        add(client, kind, name)
    client.get(BOOK)  # the last "saved" message shown
    page = page_text(client.get(f"{BOOK}?kind=exporter"))
    assert "Northern Rolling Mills Inc." in page and "Harbor Freight" not in page and "Alouette" not in page
    page = page_text(client.get(f"{BOOK}?q=rolling+mills"))
    assert "1 party whose name contains “rolling mills”." in page and "Harbor Freight" not in page
    assert client.get(f"{BOOK}?kind=%00&q=%00x").status_code == 200


def test_a_broker_s_long_list_comes_a_page_at_a_time(app, query, company):
    """130 importers and 2 exporters: all kinds show the first 25 importers by name and a link to
    all of them; the importers alone come 100 a page with Previous and Next, the filter kept."""
    def seed():
        owner = db.session.scalar(select(User).where(User.email == "filer@example.com"))
        for n in range(130):
            add_party(owner, f"Importer {n:03d} LLC")
        add_party(owner, "Exporter A Ltd", PartyKind.EXPORTER)
        add_party(owner, "Exporter B Ltd", PartyKind.EXPORTER)
    query(seed)
    client = client_of(app, "viewer@example.com")
    page = page_text(client.get(BOOK))
    assert "132 parties." in page
    assert "Importer 024 LLC" in page and "Importer 025 LLC" not in page and "Exporter B Ltd" in page
    assert "Show all 130 importers" in page and "Show all 2 exporters" not in page
    first = page_text(client.get(f"{BOOK}?kind=importer"))
    assert "130 parties: page 1 of 2." in first and "Importer 099 LLC" in first and "Importer 100 LLC" not in first
    assert "Next ›" in first and "‹ Previous" not in first
    second = page_text(client.get(f"{BOOK}?kind=importer&page=2"))
    assert "Importer 100 LLC" in second and "Importer 129 LLC" in second and "Importer 099 LLC" not in second
    assert "‹ Previous" in second and "Next ›" not in second
    narrowed = client.get(f"{BOOK}?kind=importer&q=importer+1")
    assert "Importer 100 LLC" in page_text(narrowed) and "Next ›" not in page_text(narrowed)  # 30 match: one page
    for made_up in ("3", "0", "-1", "abc", "9" * 30):
        assert client.get(f"{BOOK}?kind=importer&page={made_up}").status_code in (200, 404)
    assert client.get(f"{BOOK}?kind=importer&page=3").status_code == 404


# ----- suggestions on the license form -----------------------------------------------------------

def suggest(client, field, text):
    return client.get(f"{BOOK}/suggestions", query_string={"field": field, field: text}, headers=HTMX)


def options(response) -> list[str]:
    return [page_text_of(m) for m in re.findall(r'data-value="([^"]*)"', response.get_data(as_text=True))]


def page_text_of(value: str) -> str:
    return html.unescape(value)


def test_the_license_form_asks_for_suggestions_as_a_party_is_typed(app, company):
    client = client_of(app, "colleague@example.com")
    page = client.get(start(client)).get_data(as_text=True)
    field = re.search(r'<input[^>]*id="importer_name"[^>]*>', page).group(0)
    assert 'hx-get="/account/address-book/suggestions?field=importer_name"' in field
    assert 'hx-trigger="input changed delay:250ms"' in field and 'data-suggest="importer_name-suggestions"' in field
    assert 'name="importer_name"' in field  # without a script: the plain text field, posted as ever
    assert 'id="manufacturer_name-suggestions" role="listbox"' in page


def test_suggestions_are_the_company_s_own_parties_of_that_kind(app, query, company):
    query(lambda: [add_party(db.session.scalar(select(User).where(User.email == "filer@example.com")), n, k)
                   for k, n in [(PartyKind.IMPORTER, "Gulf Coast Metals LLC"), (PartyKind.IMPORTER, "Big Gulf Traders"),
                                (PartyKind.EXPORTER, "Gulf Exporters SA")]])
    client = client_of(app, "colleague@example.com")
    # Starts with first, then contains; another company's "Gulf Coast Rival…" and exporters never.
    assert options(suggest(client, "importer_name", "gulf")) == ["Gulf Coast Metals LLC", "Big Gulf Traders"]
    assert options(suggest(client, "exporter_name", "GULF")) == ["Gulf Exporters SA"]
    assert options(suggest(client, "importer_name", "")) == []
    assert options(suggest(client, "importer_name", "%_")) == []  # LIKE wildcards are text
    assert options(suggest(client, "port_code", "gulf")) == []
    pid = party_id(query, "Big Gulf Traders")
    client.post(f"{BOOK}/{pid}/archive", data={"csrf_token": csrf_token(client, BOOK)})
    assert options(suggest(client, "importer_name", "gulf")) == ["Gulf Coast Metals LLC"]


def test_suggestions_are_escaped_and_limited(app, query, company):
    def seed():
        owner = db.session.scalar(select(User).where(User.email == "filer@example.com"))
        add_party(owner, '<script>alert("x")</script> Metals')
        for n in range(12):
            add_party(owner, f"Metals Trading {n:02d} LLC")
    query(seed)
    client = client_of(app, "viewer@example.com")  # a viewer reads them too
    response = suggest(client, "importer_name", "metals")
    assert response.status_code == 200 and len(options(response)) == 8
    assert options(response)[0] == "Metals Trading 00 LLC"
    body = suggest(client, "importer_name", "script").get_data(as_text=True)
    assert "<script>" not in body and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Metals" in body


# ----- save to address book from a license -------------------------------------------------------

def test_a_filer_saves_a_license_s_parties_once(app, query, company):
    client = client_of(app, "colleague@example.com")
    number = issue(client)
    page = page_text(client.get(f"/licenses/{number}"))
    assert "Save to address book" in page
    for kind in ("Importer: Gulf Coast Metals LLC", "Exporter: Northern Rolling Mills Inc.",
                 "Manufacturer: Alouette Smelting"):
        assert kind in page
    token = csrf_token(client, f"/licenses/{number}")
    response = client.post(f"/licenses/{number}/address-book", data={"csrf_token": token, "kind": "importer"},
                           follow_redirects=True)
    page = page_text(response)
    assert "Importer “Gulf Coast Metals LLC” was saved to the address book." in page
    assert "Importer: Gulf Coast Metals LLC" not in page and "Exporter: Northern Rolling Mills Inc." in page
    response = client.post(f"/licenses/{number}/address-book", data={"csrf_token": token, "kind": "importer"},
                           follow_redirects=True)
    assert "Importer “Gulf Coast Metals LLC” was already in the address book." in page_text(response)
    assert [p[:2] for p in parties(query)] == [(PartyKind.IMPORTER, "Gulf Coast Metals LLC")]
    for kind in ("exporter", "manufacturer"):
        client.post(f"/licenses/{number}/address-book", data={"csrf_token": token, "kind": kind})
    assert "Save to address book" not in page_text(client.get(f"/licenses/{number}"))
    assert client.post(f"/licenses/{number}/address-book", data={"csrf_token": token, "kind": "x"}).status_code == 303


def test_an_unknown_manufacturer_is_not_offered_and_a_viewer_saves_nothing(app, query, company):
    client = client_of(app, "filer@example.com")
    number = issue(client, header={**HEADER, "manufacturer_name": "unknown"})
    assert "Manufacturer: unknown" not in page_text(client.get(f"/licenses/{number}"))
    viewer = client_of(app, "viewer@example.com")
    page = page_text(viewer.get(f"/licenses/{number}"))
    assert "Save to address book" not in page
    token = csrf_token(viewer, f"/licenses/{number}")
    assert viewer.post(f"/licenses/{number}/address-book", data={"csrf_token": token, "kind": "importer"}
                       ).status_code == 403
    other = client_of(app, "other@example.com")
    token = csrf_token(other, BOOK)
    assert other.post(f"/licenses/{number}/address-book", data={"csrf_token": token, "kind": "importer"}
                      ).status_code == 404
    assert parties(query) == []


def test_changing_a_party_never_rewrites_an_issued_license(app, query, company):
    client = client_of(app, "filer@example.com")
    number = issue(client)
    token = csrf_token(client, f"/licenses/{number}")
    client.post(f"/licenses/{number}/address-book", data={"csrf_token": token, "kind": "importer"})
    pid = party_id(query, "Gulf Coast Metals LLC")
    edit = f"{BOOK}/{pid}"
    response = client.post(edit, data={"csrf_token": csrf_token(client, edit), "kind": "importer",
                                       "name": "Gulf Coast Metals Holdings LLC", "importer_number": "", "country": ""})
    assert response.status_code == 303
    assert "Licenses already filed keep the name as filed." in page_text(client.get(BOOK))
    client.post(f"{edit}/archive", data={"csrf_token": csrf_token(client, BOOK)})
    client.get(BOOK)  # its message shown
    assert query(lambda: db.session.scalar(select(License.importer_name).where(License.number == number))) \
        == "Gulf Coast Metals LLC"
    page = page_text(client.get(f"/licenses/{number}"))
    assert "Gulf Coast Metals LLC" in page and "Holdings" not in page
    # The license's own name is not saved any more (the party was renamed): it is offered again.
    assert "Importer: Gulf Coast Metals LLC" in page


# ----- the upload's results ----------------------------------------------------------------------

def test_the_upload_flags_a_name_close_to_a_saved_party_by_row_and_column(app, query, company):
    def seed():
        owner = db.session.scalar(select(User).where(User.email == "filer@example.com"))
        add_party(owner, "Gulf Coast Metals LLC")
        add_party(owner, "Northern Rolling Mills", PartyKind.EXPORTER)
        add_party(owner, "Alouette Smelting Inc", PartyKind.MANUFACTURER)
    query(seed)
    client = client_of(app, "colleague@example.com")
    data = workbook([
        row(1),                                                     # as saved: nothing to say
        row(2, **{"Importer Name": "Gulf Coast Metls LLC"}),        # a letter dropped
        row(2, **{"Importer Name": "Gulf Coast Metls LLC"}),
        row(3, **{"Exporter Name": "NORTHERN ROLLING MILS", "Manufacturer": "Alouete Smelting Inc."}),
        row(4, **{"Importer Name": "Harbor Freight Metals Inc."}),  # far from every saved party
    ])
    text = page_text_of(result_page(client, upload(client, data, check=True)))
    assert "3 names in this file are close to, but not the same as, a saved party" in text
    assert ("Rows 3, 4, column C (Importer Name): Importer name is close to saved party “Gulf Coast Metals LLC” "
            "(possible typo).") in text
    assert ("Row 5, column D (Exporter Name): Exporter name is close to saved party “Northern Rolling Mills” "
            "(possible typo).") in text
    assert ("Row 5, column E (Manufacturer Name): Manufacturer name is close to saved party "
            "“Alouette Smelting Inc” (possible typo).") in text
    assert "Row 2," not in text and "Row 6," not in text  # as saved; far from every party
    # A warning does not stop the file: Upload File issues every license as filed.
    text = page_text_of(result_page(client, upload(client, data)))
    assert "All licenses are created successfully." in text
    assert "Rows 3, 4, column C (Importer Name)" in text
    names = query(lambda: sorted(db.session.scalars(select(License.importer_name))))
    assert names.count("Gulf Coast Metls LLC") == 1
