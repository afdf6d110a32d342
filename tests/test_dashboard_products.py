"""The dashboard by product (issue 15, point 4) through HTTP: steel and aluminum licenses listed
together, the Product filter and the guide's view selector ("select the Aluminum Standard License
view") kept in the URL, by every sort with its keyset pages, saved with a search, hostile values,
and the export's Product column with each product's own columns."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from conftest import csrf_token
from factories import STEEL_LINE, add_license
from helpers import page_text, row_html, rows
from openpyxl import load_workbook
from sqlalchemy import select

from aimweb import licensing
from aimweb.extensions import db
from aimweb.models import SavedSearch, utcnow

TODAY = licensing.application_date()
STATUSES = ("submitted", "corrected", "action_required", "cancelled")


def insert(query, user, *specs) -> list[int]:
    return query(lambda: [add_license(user.id, **spec) for spec in specs])


def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/licenses/"), **(data or {})}, **kwargs)


def links(response, label: str) -> dict[str, str]:
    body = response.get_data(as_text=True)
    href = re.search(rf'href="\?([^"]*)"[^>]*aria-label="{label}"', body)[1]
    return {k: v[0] for k, v in parse_qs(html.unescape(href)).items()}


def view_options(response) -> list[tuple[str, str, bool]]:
    body = response.get_data(as_text=True)
    select_ = body[body.index('id="f-view"'):]
    select_ = select_[:select_.index("</select>")]
    return [(value, html.unescape(label), bool(selected)) for value, selected, label in
            re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select_)]


@pytest.fixture
def mixed(signed_in, filer, query):
    """40 licenses, every third one steel (S…), with ties in the import date and the status, numbers
    not in creation order. Returns each license's values by number."""
    now = utcnow()
    specs = []
    for i in range(40):
        steel = i % 3 == 0
        number = f"{'S' if steel else 'A'}{(i * 17) % 40:02d}PX0126"
        specs.append(dict(number=number, created=now - timedelta(minutes=i), status=STATUSES[i % 4],
                          import_date=TODAY + timedelta(days=i % 5), product="steel" if steel else "aluminum",
                          **({"lines": (STEEL_LINE,)} if steel else {})))
    ids = insert(query, filer, *specs)
    return {s["number"]: dict(s, id=id_) for s, id_ in zip(specs, ids)}


def expected(mixed, sort, order, product=None) -> list[str]:
    key = {"created": lambda v: (v["created"], v["id"]), "import": lambda v: (v["import_date"], v["id"]),
           "number": lambda v: (v["number"], v["id"]), "status": lambda v: (v["status"], v["id"])}[sort]
    chosen = [v for v in mixed.values() if product in (None, v["product"])]
    return [v["number"] for v in sorted(chosen, key=key, reverse=order == "desc")]


def test_the_dashboard_lists_steel_and_aluminum_licenses_each_with_its_product(signed_in, mixed):
    response = signed_in.get("/licenses/?size=100")
    assert rows(response) == expected(mixed, "created", "desc")
    assert "40 licenses" in page_text(response)
    assert '<span class="aim-row-product">Steel</span>' in row_html(response, "S00PX0126")  # under the number
    assert '<span class="aim-row-product">Aluminum</span>' in row_html(response, "A17PX0126")


def test_the_view_selector_lists_all_licenses_and_each_product_and_kind(signed_in, mixed):
    assert view_options(signed_in.get("/licenses/")) == [
        ("", "All licenses", True), ("aluminum-standard", "Aluminum Standard License", False),
        ("aluminum-low_value", "Aluminum Low-Value License", False),
        ("steel-standard", "Steel Standard License", False), ("steel-low_value", "Steel Low-Value License", False)]
    # The guide's step 18: select the Aluminum Standard License view.
    response = signed_in.get("/licenses/?view=aluminum-standard")
    assert rows(response) == expected(mixed, "created", "desc", "aluminum")[:25]
    assert "26 licenses match this search" in page_text(response)
    assert ("aluminum-standard", "Aluminum Standard License", True) in view_options(response)
    assert "Licenses: Aluminum Standard License" in page_text(response)
    # Its links say it as filters: the next page, a sort, a quick filter keep it.
    assert links(response, "Next page")["product"] == "aluminum"
    assert links(response, "Next page")["license_type"] == "standard"
    body = html.unescape(response.get_data(as_text=True))
    quick = re.search(r'href="/licenses/\?([^"]*quick=action_required[^"]*)"', body)[1]
    assert parse_qs(quick) == {"product": ["aluminum"], "license_type": ["standard"], "quick": ["action_required"]}
    # Back to every license.
    assert len(rows(signed_in.get("/licenses/?view=&product=aluminum&license_type=standard&size=100"))) == 40


def test_the_product_filter_alone_is_said_in_the_view_selector(signed_in, mixed):
    response = signed_in.get("/licenses/?product=steel")
    assert rows(response) == expected(mixed, "created", "desc", "steel")
    assert ("steel-", "Steel licenses", True) in view_options(response)
    assert 'id="f-product" name="product">' in response.get_data(as_text=True)
    assert re.search(r'<option value="steel" selected>Steel</option>', response.get_data(as_text=True))
    assert "Search &amp; Filter (1 active)" in response.get_data(as_text=True)


@pytest.mark.parametrize("sort", ["created", "import", "number", "status"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("product", ["aluminum", "steel"])
def test_the_product_filter_pages_by_each_sort_key(signed_in, mixed, sort, order, product):
    want = expected(mixed, sort, order, product)
    first = signed_in.get(f"/licenses/?product={product}&sort={sort}&order={order}&size=25")
    assert rows(first) == want[:25]
    if len(want) > 25:
        nxt = links(first, "Next page")
        assert nxt["product"] == product and nxt["sort"] == sort and "after" in nxt
        second = signed_in.get("/licenses/", query_string=nxt)
        assert rows(second) == want[25:]
        back = links(second, "Previous page")
        assert rows(signed_in.get("/licenses/", query_string=back)) == want[:25]
    # A key of a license of the other product still gives this product's next licenses.
    other = next(v for v in mixed.values() if v["product"] != product)
    after = signed_in.get(f"/licenses/?product={product}&sort={sort}&order={order}&after={other['id']}")
    assert set(rows(after)) <= set(want)


def test_a_saved_search_keeps_the_product_and_the_view(signed_in, filer, query, mixed):
    response = post(signed_in, "/licenses/searches", {
        "name": "Steel submitted", "product": "steel", "license_type": "standard", "status": "submitted",
        "sort": "number", "order": "asc"}, follow_redirects=True)
    assert "Search “Steel submitted” saved." in page_text(response)
    (search_id, saved), = query(lambda: db.session.execute(
        select(SavedSearch.id, SavedSearch.query).where(SavedSearch.user_id == filer.id)).all())
    assert parse_qs(saved) == {"status": ["submitted"], "product": ["steel"], "license_type": ["standard"],
                               "sort": ["number"], "order": ["asc"]}
    opened = signed_in.get(f"/licenses/searches/{search_id}", follow_redirects=True)
    assert rows(opened) == [n for n in expected(mixed, "number", "asc", "steel") if mixed[n]["status"] == "submitted"]
    assert ("steel-standard", "Steel Standard License", True) in view_options(opened)
    # The Save This Search form of a view carries its product and kind.
    tools = opened.get_data(as_text=True)
    tools = tools[tools.index('id="search-tools"'):]
    assert 'name="product" value="steel"' in tools and 'name="license_type" value="standard"' in tools


@pytest.mark.parametrize("params", [
    "product=%3Cscript%3Ealert(1)%3C/script%3E", "product=steel%27%20OR%201=1--", "license_type=" + "x" * 5000,
    "product=STEEL", "product=steel%00x"])
def test_a_hostile_product_or_kind_is_a_message_never_an_error(signed_in, mixed, params):
    response = signed_in.get(f"/licenses/?{params}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert "Correct the search above" in page_text(response)
    assert rows(response) == []
    for target in re.findall(r'<li><a href="#([\w-]+)">', body):  # each message links to its field
        assert f'id="{target}"' in body, target
    for kind in ("csv", "xlsx"):
        assert signed_in.get(f"/licenses/export.{kind}?{params}").status_code == 302


def test_a_nul_byte_is_dropped_from_the_product(signed_in, mixed):
    # web/bounds.py removes NUL from every parameter: "steel\0" is steel, "\0" no product.
    assert rows(signed_in.get("/licenses/?product=steel%00&size=100")) == expected(mixed, "created", "desc", "steel")
    assert len(rows(signed_in.get("/licenses/?product=%00&license_type=%00&size=100"))) == 40


@pytest.mark.parametrize("view", ["nothing", "steel-lowest", "%00", "-", "<b>", "steel-standard-x", "x" * 5000])
def test_an_unknown_view_is_no_view(signed_in, mixed, view):
    response = signed_in.get(f"/licenses/?view={view}&size=100")
    assert response.status_code == 200 and len(rows(response)) == 40
    assert "<b>" not in response.get_data(as_text=True).split('id="license-view"')[1][:2000]


def read_csv(response) -> list[dict]:
    text = response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_export_says_each_license_product_with_its_own_columns(signed_in, filer, query):
    insert(query, filer, dict(number="AEXA10126", created=utcnow() - timedelta(hours=2)),
           dict(number="SEXS10126", created=utcnow() - timedelta(hours=1), product="steel", lines=(STEEL_LINE,),
                importer="=cmd|' /C calc'!A0"))
    table = read_csv(signed_in.get("/licenses/export.csv"))
    steel, aluminum = table
    assert (steel["License Number"], steel["Product"]) == ("SEXS10126", "Steel")
    assert steel["Country of Melt and Pour"] == "South Korea"
    assert steel["Country of Largest Smelt"] == steel["Country of Most Recent Cast"] == ""
    assert steel["HTS Number"] == "7208.10.15.00" and steel["Product Category"] == "Hot-rolled plate, in coils"
    assert steel["Importer Name"] == "'=cmd|' /C calc'!A0"  # formula-safe
    assert (aluminum["Product"], aluminum["Country of Largest Smelt"], aluminum["Country of Melt and Pour"]) == (
        "Aluminum", "Canada", "")
    # Filtered by product: only that product's licenses.
    assert [r["License Number"] for r in read_csv(signed_in.get("/licenses/export.csv?product=steel"))] == [
        "SEXS10126"]
    sheet = load_workbook(io.BytesIO(signed_in.get("/licenses/export.xlsx?view=aluminum-standard").get_data()))
    table = [[c.value for c in row] for row in sheet["Licenses"].iter_rows()]
    record = dict(zip(table[0], table[1]))
    assert len(table) == 2 and record["License Number"] == "AEXA10126" and record["Product"] == "Aluminum"
    assert record["Country of Most Recent Cast"] == "Canada" and record["Country of Melt and Pour"] is None
