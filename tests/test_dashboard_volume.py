"""The dashboard for volume (issue 14, point 7) through HTTP: sorting by each column with its keyset
pages, page sizes, quick filters, saved searches with periods counted from the program date, the
Valid Through and Customs Entry # columns with Copy, and Export/Print selected."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import csrf_token
from factories import add_license, make_user
from helpers import page_text, row_html, rows
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from aimweb import licensing
from aimweb.extensions import db
from aimweb.models import License, SavedSearch, utcnow

TODAY = licensing.application_date()
STATUSES = ("submitted", "corrected", "action_required", "cancelled")


def insert(query, user, *specs) -> list[int]:
    return query(lambda: [add_license(user.id, **spec) for spec in specs])


def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/licenses/"), **(data or {})}, **kwargs)


def page_links(response) -> dict[str, dict[str, str]]:
    body = response.get_data(as_text=True)
    nav = body[body.index('aria-label="Pages of licenses"'):]
    return {label: {k: v[0] for k, v in parse_qs(html.unescape(href)).items()} for href, label in
            re.findall(r'href="\?([^"]*)"[^>]*aria-label="([^"]+)"', nav)}


@pytest.fixture
def volume(signed_in, filer, query):
    """60 licenses with ties: import dates shared by 6 licenses each, four statuses, numbers not in
    creation order. Returns each license's values by number."""
    now = utcnow()
    specs = []
    for i in range(60):
        number = f"A{(i * 37) % 60:02d}VX0126"  # numbers in another order than creation
        specs.append(dict(number=number, created=now - timedelta(minutes=i), status=STATUSES[i % 4],
                          import_date=TODAY + timedelta(days=i % 10), entry_number=None))
    ids = insert(query, filer, *specs)
    return {s["number"]: dict(s, id=id_) for s, id_ in zip(specs, ids)}


def expected(volume, sort, order) -> list[str]:
    key = {"created": lambda v: (v["created"], v["id"]), "import": lambda v: (v["import_date"], v["id"]),
           "number": lambda v: (v["number"], v["id"]), "status": lambda v: (v["status"], v["id"])}[sort]
    return [v["number"] for v in sorted(volume.values(), key=key, reverse=order == "desc")]


@pytest.mark.parametrize("sort", ["created", "import", "number", "status"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_sort_order_pages_by_its_key_and_every_way_to_a_page_agrees(signed_in, volume, sort, order):
    want = expected(volume, sort, order)
    first = signed_in.get(f"/licenses/?sort={sort}&order={order}")
    assert rows(first) == want[:25]
    assert "60 licenses · page 1 of 3" in page_text(first)
    # Next carries the key of the last row and keeps the order; following it walks the whole list.
    seen, response = rows(first), first
    for _ in range(2):
        nxt = page_links(response)["Next page"]
        assert nxt["sort"] == sort and nxt["order"] == order and "after" in nxt
        response = signed_in.get("/licenses/", query_string=nxt)
        seen += rows(response)
    assert seen == want
    # Previous from page 3 by its key, and every page by its number alone (the last counted from
    # the end) are the same pages.
    previous = page_links(response)["Previous page"]
    assert "before" in previous
    assert rows(signed_in.get("/licenses/", query_string=previous)) == want[25:50]
    for number, part in ((1, want[:25]), (2, want[25:50]), (3, want[50:])):
        assert rows(signed_in.get(f"/licenses/?sort={sort}&order={order}&page={number}")) == part


def test_a_column_heading_sorts_by_it_and_again_the_other_way(signed_in, volume):
    page = signed_in.get("/licenses/").get_data(as_text=True)
    assert 'aria-sort="descending"' in page  # Created, newest first, as before
    link = re.search(r'<a class="aim-sort" href="\?([^"]+)">License Number', page)[1]
    assert parse_qs(html.unescape(link)) == {"sort": ["number"], "order": ["asc"]}
    by_number = signed_in.get("/licenses/?" + html.unescape(link))
    assert rows(by_number) == expected(volume, "number", "asc")[:25]
    again = re.search(r'<a class="aim-sort" href="\?([^"]+)">License Number', by_number.get_data(as_text=True))[1]
    assert parse_qs(html.unescape(again))["order"] == ["desc"]


@pytest.mark.parametrize("size", [25, 100, 250])
def test_page_sizes(signed_in, filer, query, size):
    insert(query, filer, *[dict(number=f"AS{i:03d}0126", created=utcnow() - timedelta(minutes=i)) for i in range(260)])
    response = signed_in.get(f"/licenses/?size={size}")
    assert rows(response) == [f"AS{i:03d}0126" for i in range(size)]
    assert f"page 1 of {-(-260 // size)}" in page_text(response)
    nxt = page_links(response)["Next page"]
    assert nxt["size"] == str(size)
    assert rows(signed_in.get("/licenses/", query_string=nxt))[0] == f"AS{size:03d}0126"
    assert re.search(rf'aria-current="true">{size}<', response.get_data(as_text=True))


@pytest.mark.parametrize("params", ["size=7", "size=100000", "size=-1", "size=%00", "sort=evil&order=sideways",
                                    "sort=id;drop table license", "order=" + "x" * 5000, "quick=everything",
                                    "created_within=last-%00", "size=25&page=-4"])
def test_unknown_sort_size_or_quick_filter_shows_the_default_never_an_error(signed_in, volume, params):
    response = signed_in.get(f"/licenses/?{params}")
    assert response.status_code == 200
    assert len(rows(response)) == 25 or "choose a period" in page_text(response)
    last = signed_in.get("/licenses/?sort=number&page=99999999999999999999999")
    assert rows(last) == expected(volume, "number", "asc")[50:]  # past the end: the last page


def test_valid_through_and_customs_entry_columns_and_copy_in_each_row(signed_in, filer, query):
    insert(query, filer, dict(number="AENT10126", entry_number="ABC12345676", valid_through=date(2026, 7, 26)),
           dict(number="ANOE10126", entry_number=None))
    response = signed_in.get("/licenses/")
    text = page_text(response)
    assert "Valid Through" in text and "Customs Entry #" in text
    row = row_html(response, "AENT10126")
    assert "07/26/2026" in row and "ABC12345676" in row
    assert 'data-copy="AENT10126"' in row and "license number AENT10126" in row
    assert 'name="license" value=' in row and 'aria-label="Select license AENT10126"' in row


# ----- quick filters ------------------------------------------------------------------------------

def test_quick_filters_action_required_expiring_and_drafts(signed_in, filer, query):
    created = utcnow() - timedelta(days=60)
    insert(query, filer,
           dict(number="AACT10126", status="action_required", created=created,
                valid_through=TODAY + timedelta(days=40)),
           dict(number="AEXP30126", created=created, valid_through=TODAY + timedelta(days=3)),
           dict(number="AEXP70126", status="corrected", created=created, valid_through=TODAY + timedelta(days=7)),
           dict(number="AEXP80126", created=created, valid_through=TODAY + timedelta(days=8)),
           dict(number="AEXPD0126", created=created, valid_through=TODAY - timedelta(days=1)),
           dict(number="AEXPC0126", status="cancelled", created=created, valid_through=TODAY + timedelta(days=2)),
           dict(number=None, status="draft", importer="Half Typed Metals"))
    query(lambda: (db.session.execute(License.__table__.update().where(License.number.is_(None))
                                      .values(form_data={"importer_name": "Half Typed Metals"})),
                   db.session.commit()))
    page = signed_in.get("/licenses/").get_data(as_text=True)
    for value, label in (("action_required", "Action Required (1)"), ("expiring", "Expiring within 7 days"),
                         ("drafts", "Drafts")):
        assert f'href="/licenses/?quick={value}">{label}</a>' in page
    assert rows(signed_in.get("/licenses/?quick=action_required")) == ["AACT10126"]
    # Issued (not cancelled), its last valid day from today to 7 days on.
    assert sorted(rows(signed_in.get("/licenses/?quick=expiring"))) == ["AEXP30126", "AEXP70126"]
    drafts = signed_in.get("/licenses/?quick=drafts")
    text = page_text(drafts)
    assert rows(drafts) == [] and "1 draft" in text and "Half Typed Metals" in text and "Resume" in text
    # A quick filter keeps the order and page size, and the search form keeps the quick filter.
    sorted_page = signed_in.get("/licenses/?sort=number&order=desc&size=100").get_data(as_text=True)
    assert 'href="/licenses/?sort=number&amp;order=desc&amp;size=100&amp;quick=expiring"' in sorted_page
    expiring = signed_in.get("/licenses/?quick=expiring").get_data(as_text=True)
    assert '<input type="hidden" name="quick" value="expiring">' in expiring


def test_a_quick_filter_combines_with_the_search(signed_in, filer, query):
    insert(query, filer, dict(number="AEXPA0126", importer="Rhine Alloys", valid_through=TODAY + timedelta(days=1)),
           dict(number="AEXPB0126", importer="Other Metals", valid_through=TODAY + timedelta(days=1)))
    assert rows(signed_in.get("/licenses/?quick=expiring&q=rhine")) == ["AEXPA0126"]
    # A search made in place (htmx) sends the quick filters and the phone's filter button again,
    # so they say what is shown.
    found = signed_in.get("/licenses/?quick=expiring&q=rhine",
                          headers={"HX-Request": "true", "HX-Target": "license-results"}).get_data(as_text=True)
    assert '<nav id="quick-filters"' in found and 'hx-swap-oob="true">Search &amp; Filter (1 active)</button>' in found
    assert re.search(r'quick=expiring"\s*aria-current="page">Expiring within 7 days', found)


# ----- periods counted from the program date ----------------------------------------------------

def test_a_saved_search_for_the_last_30_days_stays_the_last_30_days(app, signed_in, filer, query):
    now = utcnow()
    insert(query, filer, dict(number="AD100126", created=now - timedelta(days=10)),
           dict(number="AD250126", created=now - timedelta(days=25)),
           dict(number="AD400126", created=now - timedelta(days=40)))
    assert rows(signed_in.get("/licenses/?created_within=last-30")) == ["AD100126", "AD250126"]
    saved = post(signed_in, "/licenses/searches", {"name": "Recent", "created_within": "last-30", "sort": "number",
                                                   "order": "desc", "size": "100"})
    assert saved.status_code == 302
    stored = query(lambda: db.session.scalar(select(SavedSearch.query)))
    assert parse_qs(stored) == {"created_within": ["last-30"], "sort": ["number"], "order": ["desc"], "size": ["100"]}
    search_id = query(lambda: db.session.scalar(select(SavedSearch.id)))
    # Ten days later the same saved search is the last 30 days of that day.
    app.config["PROGRAM_TODAY"] = (TODAY + timedelta(days=10)).isoformat()
    opened = signed_in.get(f"/licenses/searches/{search_id}")
    assert rows(signed_in.get(opened.headers["Location"])) == ["AD100126"]


def test_date_of_import_in_the_next_7_days(signed_in, filer, query):
    insert(query, filer, dict(number="AIM30126", import_date=TODAY + timedelta(days=3)),
           dict(number="AIM90126", import_date=TODAY + timedelta(days=9)),
           dict(number="AIMP0126", import_date=TODAY - timedelta(days=2)))
    assert rows(signed_in.get("/licenses/?import_within=next-7")) == ["AIM30126"]
    assert rows(signed_in.get("/licenses/?import_within=last-7")) == ["AIMP0126"]


@pytest.mark.parametrize(("params", "message"), [
    ("created_within=last-0", "Creation Date: choose a period from the list."),
    ("created_within=last-99999", "Creation Date: choose a period from the list."),
    ("import_within=yesterday", "Date of Import: choose a period from the list."),
    ("import_within=next-7&import_from=2026-05-01", "Date of Import: choose a period or dates, not both."),
])
def test_a_bad_period_gets_a_clear_message(signed_in, filer, params, message):
    response = signed_in.get(f"/licenses/?{params}")
    assert response.status_code == 200 and message in page_text(response)


# ----- Export selected, Print selected -----------------------------------------------------------

@pytest.fixture
def picked(signed_in, filer, query):
    now = utcnow()
    ids = insert(query, filer, *[dict(number=f"ASEL{i}0126", created=now - timedelta(minutes=i)) for i in range(4)])
    other = query(lambda: make_user("other@example.com").id)
    foreign = query(lambda: add_license(other, "AFORE0126"))
    return {"ids": ids, "foreign": foreign}


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_export_selected_has_only_the_ticked_licenses_in_the_dashboard_order(signed_in, picked):
    ids = picked["ids"]
    response = post(signed_in, "/licenses/selected/export.csv", {"license": [ids[2], ids[0]], "sort": "number",
                                                                 "order": "desc"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert [r["License Number"] for r in read_csv(response)] == ["ASEL20126", "ASEL00126"]
    xlsx = post(signed_in, "/licenses/selected/export.xlsx", {"license": [ids[1], ids[3]]})
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["ASEL10126", "ASEL30126"]


def test_print_selected_is_one_pdf_with_one_license_per_page(signed_in, picked):
    ids = picked["ids"]
    response = post(signed_in, "/licenses/selected/pdf", {"license": [ids[0], ids[1]]})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 2
    assert "ASEL00126" in reader.pages[0].extract_text() and "ASEL10126" in reader.pages[1].extract_text()
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/licenses/selected/export.csv", "/licenses/selected/export.xlsx",
                                  "/licenses/selected/pdf"])
def test_another_company_license_is_refused_and_nothing_is_sent(signed_in, picked, path):
    response = post(signed_in, path, {"license": [picked["ids"][0], picked["foreign"]]})
    assert response.status_code == 404
    assert b"AFORE0126" not in response.data and b"ASEL00126" not in response.data
    for bad in ("abc", "-1", "99999999999999999999999", "1.5", "\u00b2", "9" * 5000):
        assert post(signed_in, path, {"license": [picked["ids"][0], bad]}).status_code == 404


@pytest.mark.parametrize(("path", "most", "what"), [("/licenses/selected/export.csv", 250, "export"),
                                                    ("/licenses/selected/pdf", 50, "print")])
def test_none_or_too_many_selected_goes_back_with_a_message(signed_in, picked, path, most, what):
    none = post(signed_in, path, {"q": "asel"})
    assert none.status_code == 303 and parse_qs(urlsplit(none.headers["Location"]).query) == {"q": ["asel"]}
    assert "Select one or more licenses first" in page_text(signed_in.get(none.headers["Location"]))
    many = post(signed_in, path, {"license": [str(i) for i in range(1, most + 2)]})
    assert many.status_code == 303
    message = page_text(signed_in.get(many.headers["Location"]))
    assert f"You can {what} at most {most} selected licenses at a time (you selected {most + 1})" in message


def test_selection_needs_the_csrf_token_and_a_filer(client, signed_in, picked):
    assert signed_in.post("/licenses/selected/pdf", data={"license": picked["ids"][0]}).status_code == 400
