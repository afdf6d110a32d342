"""No 500, ever, on bad input: every route of app.url_map, as a role that reaches it, with numbers
past 64 bits in its path and `page`, NUL bytes, 400-digit numbers, 1e308 and 9999-12-31 in every
query parameter and form field. Run it on PostgreSQL too (AIMWEB_TEST_DATABASE_URI): only there is
a NUL byte an error of the driver."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from factories import seed_world
from helpers import csrf_token, signed_in_as, url_for_rule
from werkzeug.routing import IntegerConverter

from aimweb.licenses.forms import LineForm
from aimweb.licenses.search import FILTER_NAMES

PACKAGE = Path(__file__).resolve().parent.parent / "aimweb"
TEXT_PAYLOADS = {
    "NUL": "ab\x00cd",
    "400 digits": "9" * 400,
    "1e308": "1e308",
    "far date": "9999-12-31",
    "past 64 bits": str(2**64),
    "past 32 bits": str(2**31),  # PostgreSQL's INTEGER, every id column
}
HUGE_IDS = (str(2**31), str(2**63), "9" * 26)  # past PostgreSQL's INTEGER, past 64 bits


def parameter_names() -> list[str]:
    """Every name a view may read: what the templates' fields are called, every key the code
    .get()s (a few dict keys too: harmless extra parameters), the forms' fields, the filters."""
    names = set(FILTER_NAMES) | {"line-" + name for name in LineForm.__dict__ if not name.startswith("_")}
    for path in (PACKAGE / "templates").rglob("*.html"):
        names |= set(re.findall(r'name="([a-z][a-z_\-]*)"', path.read_text(encoding="utf-8")))
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'\.get(?:list)?\(\s*"([a-z][a-z_]*)"', source))
        names |= set(re.findall(r'^\s+([a-z][a-z_]*) = \w*Field\(', source, re.M))
    return sorted(names - {"csrf_token", "csrf-token", "viewport", "htmx-config"})


@pytest.fixture
def world(query):
    return query(seed_world)


@pytest.fixture
def clients(app, world):
    """A client per level, and the CSRF token of its session."""
    anonymous = app.test_client()
    filer = signed_in_as(app, "filer@example.com")    # the company's administrator
    viewer = signed_in_as(app, "viewer@example.com")
    officer = signed_in_as(app, "officer@example.com")
    admin = signed_in_as(app, "admin@example.com")
    # The metrics scraper, with its token (aimweb/web/access.py "internal").
    app.config["METRICS_TOKEN"] = "hostile-walk-token"
    scraper = app.test_client()
    scraper.environ_base["HTTP_AUTHORIZATION"] = "Bearer hostile-walk-token"
    # The JSON API's broker software, with the filer's API key.
    broker = app.test_client()
    broker.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {world['own']['api_token']}"
    return {
        "public": [(anonymous, csrf_token(anonymous, "/signin"))],
        "signed-in": [(filer, csrf_token(filer, "/licenses/")), (officer, csrf_token(officer, "/review/"))],
        "member": [(filer, csrf_token(filer, "/licenses/")), (viewer, csrf_token(viewer, "/licenses/"))],
        "filer": [(filer, csrf_token(filer, "/licenses/"))],
        "company-admin": [(filer, csrf_token(filer, "/licenses/"))],
        "officer": [(officer, csrf_token(officer, "/review/"))],
        "admin": [(admin, csrf_token(admin, "/review/"))],
        "internal": [(scraper, "")],
        "api-key": [(broker, "")],
    }


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods)))


def _request(client, rule, url, token, fields: dict):
    """The answer, read to the end and closed (an export streams: its request stays open until then)."""
    if "GET" in rule.methods:
        response = client.get(url, query_string=fields)
    else:
        response = client.post(url, data={"csrf_token": token, **fields})
    response.get_data()
    response.close()
    return response


def test_numbers_past_what_an_id_column_holds_in_a_path_are_not_found(app, world, clients):
    wrong = []
    for rule in _rules(app):
        numeric = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        for name, huge in ((name, huge) for name in numeric for huge in HUGE_IDS):
            values = {**world["own"], name: huge}
            if name == "batch_id":
                values["issued_batch_id"] = huge
            url = url_for_rule(app, rule, values)
            assert huge in url
            for client, token in clients[app.view_functions[rule.endpoint].access]:
                response = _request(client, rule, url, token, {})
                # 405 where a rule of the same path takes the other method: werkzeug answers for the
                # path before the converter refuses the number. Either way nothing reached the database.
                if response.status_code not in (404, 405):
                    wrong.append(f"{url}: {response.status_code}")
    assert wrong == []


def test_no_route_answers_a_server_error_to_hostile_text(app, world, clients):
    names = parameter_names()
    wrong = []
    for rule in _rules(app):
        if rule.endpoint == "static":
            continue
        url = url_for_rule(app, rule, world["own"])
        for label, payload in TEXT_PAYLOADS.items():
            fields = dict.fromkeys(names, payload)
            for client, token in clients[app.view_functions[rule.endpoint].access]:
                response = _request(client, rule, url, token, fields)
                if response.status_code >= 500:
                    wrong.append(f"{sorted(rule.methods - {'HEAD', 'OPTIONS'})} {url} with {label}: "
                                 f"{response.status_code}")
    assert wrong == []


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**63), "-99999999999999999999", "0", "x"])
def test_a_page_number_out_of_range_is_not_found_or_the_first_page(app, world, clients, page):
    wrong = []
    for rule in _rules(app):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = url_for_rule(app, rule, world["own"])
        for client, _token in clients[app.view_functions[rule.endpoint].access]:
            response = _request(client, rule, url, None, {"page": page})
            if response.status_code >= 500:
                wrong.append(f"{url}?page={page}: {response.status_code}")
    assert wrong == []


@pytest.mark.parametrize("path", ["/licenses/%00", "/review/licenses/AB%00CD", "/licenses/%00/pdf"])
def test_a_nul_byte_in_a_path_is_not_found(app, clients, path):
    client, _ = clients["filer"][0] if not path.startswith("/review") else clients["officer"][0]
    assert client.get(path).status_code == 404


def test_nul_bytes_are_removed_from_a_search_and_a_saved_search_name(app, world, clients, query):
    """The text as the person saw it (a NUL shows as nothing): the search runs, the name is saved."""
    from sqlalchemy import select

    from aimweb.extensions import db
    from aimweb.models import SavedSearch

    client, token = clients["filer"][0]
    response = client.get("/licenses/", query_string={"q": "AOWN1\x000126"})
    assert response.status_code == 200 and 'href="/licenses/AOWN10126"' in response.get_data(as_text=True)
    saved = client.post("/licenses/searches", data={"csrf_token": token, "name": "Mi\x00ne", "query": "q=x"})
    assert saved.status_code < 400
    names = query(lambda: db.session.scalars(select(SavedSearch.name)).all())
    assert "Mine" in names
