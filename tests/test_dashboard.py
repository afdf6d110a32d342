"""The License Dashboard through HTTP: the list and its pages, the summary under a row (htmx),
Search & Filter, Save This Search and Export, on the real database.

Licenses a test only needs to exist are written straight into the database with the models
(fast, and any date can be set); the ones a test acts on through the form are issued by HTTP
(see test_license_actions.py)."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import csrf_token, make_user, sign_in
from factories import LINE_A, add_license
from helpers import page_text, row_html, rows, signed_in_as
from openpyxl import load_workbook
from sqlalchemy import select

from aimweb import licensing
from aimweb.extensions import db
from aimweb.models import License, SavedSearch, utcnow

TODAY = licensing.application_date()
HTMX = {"HX-Request": "true"}
RESULTS = {"HX-Request": "true", "HX-Target": "license-results"}
LINE_B = dict(LINE_A, hts_number="7606123035", description="Plates, sheets and strip",
              category="Flat-rolled products", quantity_kg=Decimal("500.50"),
              customs_value_usd=Decimal("1550.25"), unit_value=Decimal("3.10"))


# ----- helpers -----------------------------------------------------------------------------------

def insert(query, user, *specs) -> list[int]:
    """Insert licenses (keyword dicts for add_license) in one app context: their ids."""
    return query(lambda: [add_license(user.id, **spec) for spec in specs])


def other_user(query, email="other@example.com", same_company_as=None):
    """Another user: of a company of their own, or a colleague in `same_company_as`'s company."""
    def make():
        if same_company_as is None:
            user = make_user(email)
        else:
            user = make_user(email, company=False)
            user.company_id = same_company_as.company_id
            db.session.commit()
        return user.id
    return query(make)


def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/licenses/"), **(data or {})},
                       **kwargs)


# ----- 1. the list -------------------------------------------------------------------------------

def test_sign_in_lands_on_the_dashboard(client, filer):
    response = sign_in(client)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/licenses/"
    page = page_text(client.get("/licenses/"))
    assert "License Dashboard" in page and "No licenses yet" in page


def test_dashboard_lists_the_company_licenses_newest_first_with_their_columns(signed_in, filer, query):
    now = utcnow()
    insert(query, filer,
           dict(number="AOLD10126", created=now - timedelta(days=100),
                valid_through=TODAY - timedelta(days=1), import_date=date(2026, 1, 20)),
           dict(number="AMID10126", created=now - timedelta(days=3), status="corrected",
                importer="Lakeside Extrusions", port="2704", import_date=date(2026, 8, 14),
                lines=(LINE_A, LINE_B)),
           dict(number="ANEW10126", created=now - timedelta(hours=1), status="action_required"),
           dict(number="ACAN10126", created=now - timedelta(days=50), status="cancelled"))
    other = other_user(query)
    query(lambda: add_license(other, "AOTH10126"))
    response = signed_in.get("/licenses/")
    assert response.status_code == 200
    assert rows(response) == ["ANEW10126", "AMID10126", "ACAN10126", "AOLD10126"]
    assert "4 licenses" in page_text(response) and "AOTH10126" not in page_text(response)

    mid = row_html(response, "AMID10126")
    assert ">Corrected<" in mid and "Expired" not in mid
    created = (now - timedelta(days=3)).strftime("%m/%d/%Y")
    for cell in [created, "08/14/2026", "Lakeside Extrusions", "2704", ">2<", ">1,500.50<", ">4,650.25<"]:
        assert cell in mid, cell
    old = row_html(response, "AOLD10126")
    assert ">Submitted<" in old and ">Expired<" in old and ">1<" in old and ">1,000.00<" in old
    assert ">Action Required<" in row_html(response, "ANEW10126")
    assert "Expired" not in row_html(response, "ANEW10126")
    assert ">Cancelled<" in row_html(response, "ACAN10126")


def test_drafts_are_not_listed_as_licenses(signed_in, filer, query):
    def make_draft():
        db.session.add(License(status="draft", company_id=filer.company_id, created_by_id=filer.id,
                               form_data={"importer_name": "Half Typed Metals"}))
        db.session.commit()
    query(make_draft)
    page = page_text(signed_in.get("/licenses/"))
    assert "No licenses yet" in page and "Half Typed Metals" in page  # listed as an application


def test_pages_of_25_newest_first_and_page_links_keep_the_filters(signed_in, filer, query):
    now = utcnow()
    insert(query, filer, *[dict(number=f"AP{i:03d}0126", created=now - timedelta(minutes=i),
                                importer="Paged Alloys Inc") for i in range(30)],
           *[dict(number=f"AX{i:03d}0126", created=now - timedelta(minutes=100 + i),
                  importer="Unrelated Metals") for i in range(3)])
    first = signed_in.get("/licenses/?q=paged+alloys&status=submitted")
    text = page_text(first)
    assert rows(first) == [f"AP{i:03d}0126" for i in range(25)]
    assert "30 licenses match this search · page 1 of 2" in text
    links = set(re.findall(r'href="\?([^"]+)"', first.get_data(as_text=True)))
    assert links and all(parse_qs(html.unescape(link))["q"] == ["paged alloys"] and
                         parse_qs(html.unescape(link))["status"] == ["submitted"] for link in links)
    assert any(parse_qs(html.unescape(link)).get("page") == ["2"] for link in links)

    second = signed_in.get("/licenses/?q=paged+alloys&status=submitted&page=2")
    assert rows(second) == [f"AP{i:03d}0126" for i in range(25, 30)]
    assert "page 2 of 2" in page_text(second)
    # A page past the end shows the last one; a nonsense page the first.
    assert rows(signed_in.get("/licenses/?q=paged+alloys&page=99")) == rows(second)
    assert rows(signed_in.get("/licenses/?page=-3"))[0] == "AP0000126"
    assert "33 licenses · page 1 of 2" in page_text(signed_in.get("/licenses/?page=x"))


def page_links(response) -> dict[str, dict[str, list[str]]]:
    """The pagination's links by their label ("Next page", "Page 3", …), as query dicts."""
    body = response.get_data(as_text=True)
    nav = body[body.index('aria-label="Pages of licenses"'):]
    return {label: parse_qs(html.unescape(href)) for href, label in
            re.findall(r'href="\?([^"]*)"[^>]*aria-label="([^"]+)"', nav)}


def test_next_and_previous_go_by_the_neighbouring_row_and_every_way_to_a_page_agrees(signed_in, filer, query):
    now = utcnow()
    insert(query, filer, *[dict(number=f"AK{i:03d}0126", created=now - timedelta(minutes=i),
                                importer="Keyset Metals") for i in range(60)],
           dict(number="AKOTH0126", importer="Unrelated Metals"))
    numbers = [f"AK{i:03d}0126" for i in range(60)]
    first = signed_in.get("/licenses/?q=keyset+metals")
    assert "60 licenses match this search · page 1 of 3" in page_text(first)
    nxt = page_links(first)["Next page"]
    # Next names page 2 and the last row of page 1 (so page 2,000 costs what page 2 does), and
    # keeps the search.
    assert nxt["page"] == ["2"] and nxt["q"] == ["keyset metals"] and "after" in nxt
    second = signed_in.get("/licenses/", query_string={k: v[0] for k, v in nxt.items()})
    assert rows(second) == numbers[25:50] and "page 2 of 3" in page_text(second)
    # The same page by its number alone (a typed or bookmarked link) is the same page.
    assert rows(signed_in.get("/licenses/?q=keyset+metals&page=2")) == numbers[25:50]
    previous = page_links(second)["Previous page"]
    assert previous["page"] == ["1"] and "before" not in previous  # page 1 is page 1
    back = signed_in.get("/licenses/", query_string={k: v[0] for k, v in previous.items()})
    assert rows(back) == numbers[:25]
    third = signed_in.get("/licenses/", query_string={k: v[0] for k, v in page_links(second)["Next page"].items()})
    assert rows(third) == numbers[50:] and "page 3 of 3" in page_text(third)
    previous = page_links(third)["Previous page"]
    assert "before" in previous
    assert rows(signed_in.get("/licenses/", query_string={k: v[0] for k, v in previous.items()})) == numbers[25:50]
    # The last page by its number (counted from the oldest) is the same as by Next.
    assert rows(signed_in.get("/licenses/?q=keyset+metals&page=3")) == numbers[50:]
    assert "after" not in page_links(first)["Page 3"]


@pytest.mark.parametrize("key", ["abc", "-5", "0", "99999999999999999999", "1.5", "%00"])
def test_a_made_up_page_key_shows_the_page_by_its_number(signed_in, filer, query, key):
    now = utcnow()
    insert(query, filer, *[dict(number=f"AM{i:03d}0126", created=now - timedelta(minutes=i)) for i in range(30)])
    for name in ("after", "before"):
        response = signed_in.get(f"/licenses/?page=2&{name}={key}")
        assert response.status_code == 200
        assert rows(response) == [f"AM{i:03d}0126" for i in range(25, 30)]


def test_a_key_from_another_company_reveals_nothing(signed_in, filer, query):
    now = utcnow()
    insert(query, filer, *[dict(number=f"AN{i:03d}0126", created=now - timedelta(minutes=i)) for i in range(30)])
    other = other_user(query)
    foreign = query(lambda: add_license(other, "AFOR10126", created=now - timedelta(minutes=10)))
    response = signed_in.get(f"/licenses/?page=2&after={foreign}")
    assert rows(response) == [f"AN{i:03d}0126" for i in range(25, 30)]  # page 2 by its number
    assert "AFOR10126" not in page_text(response)


def test_the_count_follows_every_new_license_and_status_change(signed_in, filer, query):
    insert(query, filer, *[dict(number=f"AC{i:03d}0126") for i in range(3)])
    assert "3 licenses" in page_text(signed_in.get("/licenses/"))
    assert "3 licenses match" in page_text(signed_in.get("/licenses/?status=submitted"))
    insert(query, filer, dict(number="AC9990126"))
    assert "4 licenses" in page_text(signed_in.get("/licenses/"))
    cancelled = post(signed_in, "/licenses/AC0000126/cancel")
    assert cancelled.status_code == 303
    assert "3 licenses match" in page_text(signed_in.get("/licenses/?status=submitted"))
    assert "1 license matches" in page_text(signed_in.get("/licenses/?status=cancelled"))
    assert "4 licenses" in page_text(signed_in.get("/licenses/"))


def test_the_row_actions_post_one_form_of_the_page(signed_in, filer, query):
    insert(query, filer, *[dict(number=f"AF{i:03d}0126") for i in range(3)],
           dict(number="AFCAN0126", status="cancelled"))
    body = signed_in.get("/licenses/").get_data(as_text=True)
    assert body.count('<form id="license-actions" method="post">') == 1
    # actions, Export/Print selected, Apply for Single License, Save This Search, sign out
    assert body.count('name="csrf_token"') <= 5
    row = row_html(signed_in.get("/licenses/"), "AF0010126")
    assert 'form="license-actions" formaction="/licenses/AF0010126/duplicate"' in row
    assert 'form="license-actions" formaction="/licenses/AF0010126/modify"' in row
    cancelled = row_html(signed_in.get("/licenses/"), "AFCAN0126")
    assert "/duplicate" in cancelled and "/modify" not in cancelled and "/cancel" not in cancelled


def test_text_from_filers_is_escaped_in_the_rows(signed_in, filer, query):
    insert(query, filer, dict(number="AXSS10126", importer='<script>alert("x")</script> & Sons'))
    body = signed_in.get("/licenses/").get_data(as_text=True)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Sons" in body


def test_plus_sign_opens_the_summary_in_place_and_closes_it(signed_in, filer, query):
    lic_id, = insert(query, filer, dict(number="ASUM10126", entry_number="ABC-1234567-6",
                                        exporter="Northern Rolling Mills Inc.", lines=(LINE_A, LINE_B)))
    # Without JavaScript the plus sign is a link to the license page.
    row = row_html(signed_in.get("/licenses/"), "ASUM10126")
    assert f'id="toggle-{lic_id}"' in row and 'aria-expanded="false"' in row
    assert 'href="/licenses/ASUM10126"' in row and 'hx-get="/licenses/ASUM10126/summary"' in row

    opened = signed_in.get("/licenses/ASUM10126/summary", headers=HTMX)
    body = page_text(opened)
    assert opened.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<tr id="summary-{lic_id}"')
    for fact in ["ABC-1234567-6", "Northern Rolling Mills Inc.", "Alouette Smelting", "Canada",
                 "7601.10.30.00", "7606.12.30.35", "500.50 kg", "US$ 1,550.25"]:
        assert fact in body, fact
    toggle = body[body.index(f'id="toggle-{lic_id}"') - 5:]
    assert 'hx-swap-oob="true"' in toggle and 'aria-expanded="true"' in toggle
    assert "/licenses/ASUM10126/summary?hide=1" in toggle and "Hide summary" in toggle

    closed = page_text(signed_in.get("/licenses/ASUM10126/summary?hide=1", headers=HTMX))
    assert f'<tr id="summary-{lic_id}" class="aim-summary-slot" hidden></tr>' in closed
    assert "ABC-1234567-6" not in closed and 'aria-expanded="false"' in closed

    plain = signed_in.get("/licenses/ASUM10126/summary")
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/licenses/ASUM10126")
    assert signed_in.get("/licenses/ANONE0126/summary", headers=HTMX).status_code == 404


# ----- 2. Search & Filter --------------------------------------------------------------------------

@pytest.fixture
def assorted(signed_in, filer, query):
    """Licenses that differ in one thing each, created on known days."""
    now = utcnow().replace(hour=12)
    insert(query, filer,
           dict(number="ASTA10126", created=now - timedelta(days=40), import_date=date(2026, 3, 1),
                entry_number="ABC-1234567-6", importer="Harbor Aluminum Co"),
           dict(number="ASTA20126", created=now - timedelta(days=20), import_date=date(2026, 4, 1),
                status="corrected", exporter="Rhine Valley Exporters GmbH"),
           dict(number="ASTA30126", created=now - timedelta(days=10), import_date=date(2026, 5, 1),
                status="cancelled", manufacturer="Fjord Smelters AS"),
           dict(number="APCT10126", created=now - timedelta(days=5), importer="100% Recycled Alloys"),
           dict(number="APCT20126", created=now - timedelta(days=4), importer="100 Recycled Alloys"),
           dict(number="AUND10126", created=now - timedelta(days=3), importer="Metal_Works LLC"),
           dict(number="AUND20126", created=now - timedelta(days=2), importer="MetalsWorks LLC"))
    return now


def search(client, **params) -> list[str]:
    response = client.get("/licenses/", query_string=params)
    assert response.status_code == 200
    return rows(response)


def test_filter_by_status(signed_in, assorted):
    assert search(signed_in, status="corrected") == ["ASTA20126"]
    assert search(signed_in, status="cancelled") == ["ASTA30126"]
    assert "ASTA20126" not in search(signed_in, status="submitted")
    page = page_text(signed_in.get("/licenses/?status=corrected"))
    assert '<option value="corrected" selected>Corrected</option>' in page


def test_filter_by_creation_date_and_date_of_import(signed_in, assorted):
    now = assorted
    start, end = (now - timedelta(days=21)).date(), (now - timedelta(days=10)).date()
    assert search(signed_in, created_from=start.isoformat(), created_to=end.isoformat()) == [
        "ASTA30126", "ASTA20126"]
    # The day typed as the guide shows it, and a one-day range (the "to" day is included).
    assert search(signed_in, created_from=end.strftime("%m/%d/%Y"),
                  created_to=end.strftime("%m/%d/%Y")) == ["ASTA30126"]
    assert search(signed_in, import_from="2026-03-01", import_to="04/01/2026") == [
        "ASTA20126", "ASTA10126"]
    assert search(signed_in, import_to="2026-03-01") == ["ASTA10126"]
    page = page_text(signed_in.get("/licenses/?import_from=2026-03-01"))
    assert 'value="2026-03-01"' in page


def test_free_text_finds_license_and_entry_numbers_exactly(signed_in, assorted):
    assert search(signed_in, q="ASTA20126") == ["ASTA20126"]
    assert search(signed_in, q="  asta20126 ") == ["ASTA20126"]
    assert search(signed_in, q="ASTA2") == []  # a license number is matched whole
    assert search(signed_in, q="ABC-1234567-6") == ["ASTA10126"]
    assert search(signed_in, q="abc12345676") == ["ASTA10126"]


def test_free_text_finds_importer_exporter_manufacturer_by_part_any_case(signed_in, assorted):
    assert search(signed_in, q="harbor alum") == ["ASTA10126"]
    assert search(signed_in, q="RHINE VALLEY") == ["ASTA20126"]
    assert search(signed_in, q="fjord") == ["ASTA30126"]
    assert search(signed_in, q="no such company") == []
    assert "No licenses match this search." in page_text(signed_in.get("/licenses/?q=nothing+here"))


def test_percent_and_underscore_in_the_text_are_matched_literally(signed_in, assorted):
    assert search(signed_in, q="100%") == ["APCT10126"]
    assert search(signed_in, q="0% R") == ["APCT10126"]
    assert search(signed_in, q="l_W") == ["AUND10126"]
    assert search(signed_in, q="_") == ["AUND10126"]
    assert search(signed_in, q="%") == ["APCT10126"]
    assert search(signed_in, q="\\") == []


def test_filters_combine(signed_in, assorted):
    assert search(signed_in, q="recycled", created_from=(assorted - timedelta(days=4)).date().isoformat()) == [
        "APCT20126"]
    assert search(signed_in, status="submitted", import_to="2026-03-31") == ["ASTA10126"]


@pytest.mark.parametrize("params, message", [
    ({"created_from": "2026-13-45"}, "Creation Date from: “2026-13-45” is not a date. Enter it like 07/31/2026."),
    ({"import_to": "tomorrow"}, "Date of Import to: “tomorrow” is not a date. Enter it like 07/31/2026."),
    ({"created_from": "2026-07-10", "created_to": "2026-07-01"},
     "Creation Date: “To” must be on or after “From”."),
    ({"import_from": "07/10/2026", "import_to": "2026-07-09"},
     "Date of Import: “To” must be on or after “From”."),
    ({"status": "draft"}, "Choose a status from the list."),
    ({"created_to": "9999-12-31"}, "Creation Date to: “9999-12-31”: the year must be between 1900 and 2999."),
    ({"import_from": "07/31/26"}, "Date of Import from: “07/31/26”: type the year with 4 digits"),
])
def test_bad_filters_get_a_clear_message_not_an_error(signed_in, assorted, params, message):
    response = signed_in.get("/licenses/", query_string=params)
    text = page_text(response)
    assert response.status_code == 200 and message in text
    assert rows(response) == [] and "Correct the search above" in text
    assert 'aria-invalid="true"' in text or "Choose a status" in text
    # The search as typed stays in the form, to be corrected.
    for name, value in params.items():
        if name == "status":
            # A status not in the list can't be shown chosen: the select falls back to "All statuses".
            start = text.index('id="f-status"')
            assert " selected" not in text[start:text.index("</select>", start)]
        else:
            assert f'value="{value}"' in text
    # An htmx search swaps only the results: the message is there too.
    partial = signed_in.get("/licenses/", query_string=params, headers=RESULTS)
    assert partial.status_code == 200 and message in page_text(partial)


def test_htmx_search_returns_only_the_results_section(signed_in, assorted):
    response = signed_in.get("/licenses/?status=corrected", headers=RESULTS)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="license-results"') and "<html" not in body
    # Not the search form (its heading, fields and messages stay); the phone's button that opens
    # it comes out of band with its count of filters.
    assert 'id="license-search"' not in body and "Search &amp; Filter Licenses" not in body
    assert rows(response) == ["ASTA20126"]
    # Any other htmx request (or none) gets the whole page.
    assert "<html" in signed_in.get("/licenses/?status=corrected").get_data(as_text=True)


# ----- 3. Save This Search ---------------------------------------------------------------------------

def saved_searches(query, user_id):
    return query(lambda: [(s.name, s.query) for s in db.session.scalars(
        select(SavedSearch).where(SavedSearch.user_id == user_id).order_by(SavedSearch.id))])


def test_save_list_open_rename_and_delete_a_search(signed_in, filer, query, assorted):
    response = post(signed_in, "/licenses/searches", {
        "name": "  Corrected   in spring ", "status": "corrected", "q": "rhine",
        "import_from": "2026-03-01", "page": "3", "evil": "<script>", "name2": "x"})
    assert response.status_code == 302
    back = urlsplit(response.headers["Location"])
    assert back.path == "/licenses/" and parse_qs(back.query) == {
        "status": ["corrected"], "q": ["rhine"], "import_from": ["2026-03-01"]}
    (name, saved_query), = saved_searches(query, filer.id)
    assert name == "Corrected in spring"
    assert parse_qs(saved_query) == {"status": ["corrected"], "q": ["rhine"], "import_from": ["2026-03-01"]}

    page = page_text(signed_in.get(response.headers["Location"]))
    assert "Search “Corrected in spring” saved." in page and "Saved searches" in page
    search_id = query(lambda: db.session.scalar(select(SavedSearch.id)))
    assert f'href="/licenses/searches/{search_id}">Corrected in spring</a>' in page

    opened = signed_in.get(f"/licenses/searches/{search_id}")
    assert opened.status_code == 302
    target = urlsplit(opened.headers["Location"])
    assert target.path == "/licenses/" and parse_qs(target.query)["status"] == ["corrected"]
    assert rows(signed_in.get(opened.headers["Location"])) == ["ASTA20126"]

    renamed = post(signed_in, f"/licenses/searches/{search_id}/rename", {"name": "Rhine, corrected"})
    assert renamed.status_code == 302
    assert "Search renamed “Rhine, corrected”." in page_text(signed_in.get(renamed.headers["Location"]))
    assert saved_searches(query, filer.id) == [("Rhine, corrected", saved_query)]

    deleted = post(signed_in, f"/licenses/searches/{search_id}/delete")
    assert deleted.status_code == 302
    page = page_text(signed_in.get(deleted.headers["Location"]))
    assert "Search “Rhine, corrected” deleted." in page and "Saved searches" not in page
    assert saved_searches(query, filer.id) == []
    assert signed_in.get(f"/licenses/searches/{search_id}").status_code == 404


def test_saving_the_unfiltered_dashboard_opens_the_plain_dashboard(signed_in, filer, query):
    post(signed_in, "/licenses/searches", {"name": "Everything"})
    assert saved_searches(query, filer.id) == [("Everything", "")]
    search_id = query(lambda: db.session.scalar(select(SavedSearch.id)))
    assert signed_in.get(f"/licenses/searches/{search_id}").headers["Location"].endswith("/licenses/")


@pytest.mark.parametrize("name, message", [
    ("", "Give the search a name"),
    ("   ", "Give the search a name"),
    ("x" * 81, "A search name may have at most 80 characters."),
])
def test_a_search_name_must_be_given_and_short(signed_in, filer, query, name, message):
    response = post(signed_in, "/licenses/searches", {"name": name, "status": "submitted"})
    assert response.status_code == 302 and "status=submitted" in response.headers["Location"]
    assert message in page_text(signed_in.get(response.headers["Location"]))
    assert saved_searches(query, filer.id) == []
    post(signed_in, "/licenses/searches", {"name": "x" * 80})
    search_id = query(lambda: db.session.scalar(select(SavedSearch.id)))
    renamed = post(signed_in, f"/licenses/searches/{search_id}/rename", {"name": name})
    assert message in page_text(signed_in.get(renamed.headers["Location"]))
    assert saved_searches(query, filer.id) == [("x" * 80, "")]


def test_a_search_with_bad_filters_is_not_saved(signed_in, filer, query):
    response = post(signed_in, "/licenses/searches", {"name": "Broken", "created_from": "soon"})
    assert "Correct the search before saving it." in page_text(signed_in.get(response.headers["Location"]))
    assert saved_searches(query, filer.id) == []


def test_saved_searches_are_per_user_even_within_a_company(app, signed_in, filer, query):
    post(signed_in, "/licenses/searches", {"name": "Mine only", "status": "submitted"})
    search_id = query(lambda: db.session.scalar(select(SavedSearch.id)))
    other_user(query, "colleague@example.com", same_company_as=filer)
    colleague = signed_in_as(app, "colleague@example.com")
    assert "Mine only" not in page_text(colleague.get("/licenses/"))
    assert colleague.get(f"/licenses/searches/{search_id}").status_code == 404
    assert post(colleague, f"/licenses/searches/{search_id}/rename", {"name": "Taken"}).status_code == 404
    assert post(colleague, f"/licenses/searches/{search_id}/delete").status_code == 404
    assert saved_searches(query, filer.id) == [("Mine only", "status=submitted")]


# ----- 4. Export ---------------------------------------------------------------------------------

@pytest.fixture
def exportable(signed_in, filer, query):
    now = utcnow()
    insert(query, filer,
           dict(number="AEXP10126", created=now - timedelta(days=2), import_date=date(2026, 9, 30),
                entry_number="ABC-1234567-6", importer='=HYPERLINK("http://evil.example","Click")',
                exporter="@SUM(1)", manufacturer="+1-555-0100", lines=(LINE_A, LINE_B)),
           dict(number="AEXP20126", created=now - timedelta(days=1), importer="-2+3",
                exporter="Plain Exporter"),
           dict(number="AEXP30126", created=now, status="cancelled", importer="Cancelled Metals"))
    other = other_user(query)
    query(lambda: add_license(other, "AOTH10126", importer="Other Company Metals"))
    return now


def read_csv(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_export_has_one_row_per_product_line_of_the_filtered_licenses(signed_in, exportable):
    response = signed_in.get("/licenses/export.csv?status=submitted")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.search(r'attachment; filename="aim-licenses-\d{8}-\d{4}\.csv"',
                     response.headers["Content-Disposition"])
    table = read_csv(response)
    assert [(r["License Number"], r["Product #"]) for r in table] == [
        ("AEXP20126", "1"), ("AEXP10126", "1"), ("AEXP10126", "2")]
    first, second = table[1], table[2]
    # Every product line carries its license's header.
    for row in (first, second):
        assert row["Status"] == "Submitted" and row["Customs Entry #"] == "ABC-1234567-6"
        assert row["Expected Date of Import"] == "09/30/2026" and row["Port of Entry"] == "1303"
        assert row["Country of Origin"] == "Canada"
    assert (first["HTS Number"], first["Volume (KG)"], first["Customs Value (US$)"]) == (
        "7601.10.30.00", "1000.00", "3100.00")
    assert (second["HTS Number"], second["Volume (KG)"], second["Unit Value (US$/KG)"]) == (
        "7606.12.30.35", "500.50", "3.10")
    assert second["Product Category"] == "Flat-rolled products"
    assert second["Created"] == (exportable - timedelta(days=2)).strftime("%m/%d/%Y")
    # Text a spreadsheet would run as a formula is neutralised.
    assert first["Importer Name"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert first["Exporter Name"] == "'@SUM(1)" and first["Manufacturer"] == "'+1-555-0100"
    assert table[0]["Importer Name"] == "'-2+3" and table[0]["Exporter Name"] == "Plain Exporter"
    for row in table:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


def test_csv_export_without_filters_has_all_of_the_company_licenses_only(signed_in, exportable):
    numbers = [r["License Number"] for r in read_csv(signed_in.get("/licenses/export.csv"))]
    assert numbers == ["AEXP30126", "AEXP20126", "AEXP10126", "AEXP10126"]
    assert [r["License Number"] for r in read_csv(signed_in.get("/licenses/export.csv?q=cancelled"))] == [
        "AEXP30126"]


def test_xlsx_export_has_typed_numbers_and_dates_and_no_formulas(signed_in, exportable):
    response = signed_in.get("/licenses/export.xlsx?status=submitted")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    data = response.get_data()
    assert int(response.headers["Content-Length"]) == len(data)
    sheet = load_workbook(io.BytesIO(data))["Licenses"]
    table = [list(row) for row in sheet.iter_rows()]
    header = [cell.value for cell in table[0]]
    assert header[:4] == ["License Number", "Product", "Status", "Created"]
    records = [dict(zip(header, row)) for row in table[1:]]
    assert [(r["License Number"].value, r["Product #"].value) for r in records] == [
        ("AEXP20126", 1), ("AEXP10126", 1), ("AEXP10126", 2)]
    second = records[2]
    for column in ["Volume (KG)", "Customs Value (US$)", "Unit Value (US$/KG)", "Product #"]:
        assert isinstance(second[column].value, (int, float, Decimal)), column
    assert float(second["Volume (KG)"].value) == 500.5 and float(second["Customs Value (US$)"].value) == 1550.25
    for column in ["Created", "Valid From", "Valid Through", "Expected Date of Export",
                   "Expected Date of Import"]:
        assert isinstance(second[column].value, datetime), column
        assert second[column].is_date
    assert second["Expected Date of Import"].value.date() == date(2026, 9, 30)
    assert second["Created"].value.date() == (exportable - timedelta(days=2)).date()
    assert second["Importer Name"].value == '\'=HYPERLINK("http://evil.example","Click")'
    assert second["Exporter Name"].value == "'@SUM(1)"
    assert records[0]["Importer Name"].value == "'-2+3"
    for row in table:
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@")), cell.value


def test_export_of_an_empty_search_is_just_the_header(signed_in, exportable):
    assert read_csv(signed_in.get("/licenses/export.csv?q=nothing+like+this")) == []
    sheet = load_workbook(io.BytesIO(signed_in.get("/licenses/export.xlsx?q=nothing").get_data()))["Licenses"]
    assert sheet.max_row == 1


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_with_a_bad_filter_goes_back_with_a_message(signed_in, exportable, kind):
    response = signed_in.get(f"/licenses/export.{kind}?created_from=31/31/2026&status=submitted")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/licenses/" and parse_qs(target.query) == {
        "created_from": ["31/31/2026"], "status": ["submitted"]}
    page = page_text(signed_in.get(response.headers["Location"]))
    assert "Correct the search before exporting it." in page
    assert "Creation Date from: “31/31/2026” is not a date. Enter it like 07/31/2026." in page


def test_export_links_carry_the_current_filters(signed_in, exportable):
    page = signed_in.get("/licenses/?status=submitted&q=exp").get_data(as_text=True)
    for kind in ("csv", "xlsx"):
        link = re.search(rf'href="(/licenses/export\.{kind}[^"]*)"', page).group(1)
        assert parse_qs(urlsplit(html.unescape(link)).query) == {"status": ["submitted"], "q": ["exp"]}


def test_the_dashboard_needs_a_signed_in_filer(client, query):
    response = client.get("/licenses/")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]
    assert client.get("/licenses/export.csv").status_code == 302
    query(lambda: make_user("officer@example.com", role="officer", company=False))
    officer = client
    sign_in(officer, "officer@example.com")
    assert officer.get("/licenses/").status_code == 302  # to the review queue
    for path in ["/licenses/export.csv", "/licenses/export.xlsx", "/licenses/searches/1"]:
        assert officer.get(path).status_code == 403, path
