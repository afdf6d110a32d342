"""Test helpers shared by the test modules (no test module imports another): pages read as text,
CSRF tokens, forms posted the way a browser posts them, sign-in."""
from __future__ import annotations

import html
import io
import re
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

import openpyxl
from factories import PASSWORD

from aimweb import create_app, rules
from aimweb.clock import application_date
from aimweb.products.aluminum import TEMPLATE_TITLES as TITLES
from aimweb.products.steel import STEEL

STEEL_TITLES = list(STEEL.template_titles)

HTMX = {"HX-Request": "true"}
_TODAY = application_date()
# The single-license form's header: import in 20 days, export in 5.
_IMPORT = _TODAY + timedelta(days=20)
_EXPORT = _TODAY + timedelta(days=5)
# The upload's rows: import in 20 days, export 10 days before.
UPLOAD_IMPORT = datetime.combine(_TODAY + timedelta(days=20), datetime.min.time())
UPLOAD_EXPORT = UPLOAD_IMPORT - timedelta(days=10)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def text_of(markup: str) -> str:
    """The words of a piece of page as a person reads them: tags dropped, spaces collapsed."""
    return re.sub(r" ([.,;:])", r"\1", " ".join(re.sub(r"<[^>]+>", " ", markup).split()))


def csrf_token(client, path: str) -> str:
    body = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
        r'name="csrf-token" content="([^"]+)"', body
    )
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def post_form(client, path: str, data: dict, **kwargs):
    """POST a form the way a browser does: with the CSRF token from the page."""
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}, **kwargs)


def officer_post(client, path, data, **kwargs):
    """An officer's form (Mark Action Required, Close Review) posted with a token of the queue."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/review/"), **data}, **kwargs)


def sign_in(client, email="filer@example.com", password=PASSWORD, **kwargs):
    return post_form(client, "/signin", {"email": email, "password": password}, **kwargs)


def signed_in_as(app, email, password=PASSWORD):
    """A new client signed in as `email`."""
    client = app.test_client()
    assert sign_in(client, email, password).status_code == 302
    return client


def rows(response) -> list[str]:
    """The license numbers listed on a dashboard (or results) page, in order."""
    return re.findall(r'<th scope="row"[^>]*><a href="/licenses/(\w+)"', response.get_data(as_text=True))


def row_html(response, number: str) -> str:
    body = response.get_data(as_text=True)
    start = body.index(f'href="/licenses/{number}" class="aim-number"')
    start = body.rindex("<tr", 0, start)
    return html.unescape(body[start:body.index("</tr>", start)])


# The company a new filer registers on /account/company (every field of the form).
COMPANY = {
    "ein": "12-3456789", "cbp_importer_number": "", "name": "Riverstone Metals LLC",
    "company_type": "importer", "street": "4800 Riverstone Blvd", "city": "Missouri City",
    "state": "TX", "zip_code": "77459", "phone": "281-555-0134", "fax": "",
    "contact_first_name": "Dana", "contact_last_name": "Whitaker", "email": "dana@example.com",
    "alternate_email": "",
}


# ----- the single-license form --------------------------------------------------------------------

HEADER = {
    "entry_number": "ABC-1234567-6", "entry_type": "consumption",
    "importer_name": "Gulf Coast Metals LLC", "exporter_name": "Northern Rolling Mills Inc.",
    "manufacturer_name": "Alouette Smelting", "origin_country": "CA", "export_country": "CA",
    "port_code": "1303", "export_date": _EXPORT.isoformat(), "import_date": _IMPORT.isoformat(),
}
LINE = {
    "line-hts_number": "7601.10.30.00", "line-smelt_largest": "CA", "line-smelt_second": "NA_",
    "line-cast_country": "CA", "line-quantity_kg": "12,500", "line-customs_value_usd": "38750.00",
}


def start(client, product="aluminum", kind="standard") -> str:
    """Apply for Single License → the license type (Standard License), the product: the URL of
    the new draft."""
    token = csrf_token(client, "/licenses/apply")
    response = client.post("/licenses/apply", data={"csrf_token": token, "license_type": kind,
                                                    "product": product})
    assert response.status_code == 302
    return response.headers["Location"]


def post(client, path, data, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/licenses/apply"), **data},
                       **kwargs)


def add_line(client, draft, line=LINE, header=HEADER, htmx=True):
    return post(client, f"{draft}/lines", {**header, **line}, headers=HTMX if htmx else {})


def issue(client, lines=(LINE,), header=HEADER, product="aluminum") -> str:
    draft = start(client, product)
    for line in lines:
        assert "aim-line--error" not in add_line(client, draft, line, header).get_data(as_text=True)
    assert post(client, f"{draft}/preview", {**header, "certified": "y"}).status_code == 302
    response = post(client, f"{draft}/submit", preview_form(client, draft))
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def preview_form(client, draft) -> dict:
    """What the preview's Submit form posts besides the token: the licenses with the same customs
    entry number that its warning showed (none, usually)."""
    m = re.search(r'name="seen_same_entry" value="([^"]*)"', client.get(f"{draft}/preview").get_data(as_text=True))
    assert m, f"no Submit form on {draft}/preview"
    return {"seen_same_entry": m.group(1)}


# ----- the upload ---------------------------------------------------------------------------------

def row(entry_id, hts="7601.10.30.00", kg=12500, usd=38750, **changes):
    values = {
        "Entry ID": entry_id, "Customs Entry #": "", "Importer Name": "Gulf Coast Metals LLC",
        "Exporter Name": "Northern Rolling Mills", "Manufacturer": "Alouette", "Country of Origin": "Canada",
        "Country of Export": "CA", "Port of Entry": "1303 - Baltimore, MD",
        "Expected Date of Export": UPLOAD_EXPORT, "Expected Date of Import": UPLOAD_IMPORT.strftime("%m/%d/%Y"),
        "HTS Number": hts, "Country of Largest Smelt": "Canada",
        "Country of Second Largest Smelt": "Not applicable", "Country of Most Recent Cast": "CAN",
        "Volume (KG)": kg, "Customs Value (US$)": usd,
    }
    values.update(changes)
    return [values[t] for t in TITLES]


def steel_row(entry_id, hts="7208.10.15.00", kg=24000, usd=19200, **changes):
    """A row of the steel template: the same header as row(), then HTS, melt and pour, figures."""
    values = dict(zip(TITLES, row(entry_id, hts, kg, usd)), **{"Manufacturer": "Pohang Steel Works",
                  "Country of Origin": "South Korea", "Country of Export": "KR",
                  "Country of Melt and Pour": "KR"})
    values.update(changes)
    return [values[t] for t in STEEL_TITLES]


def workbook(rows, template: bytes | None = None, titles=TITLES) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(template)) if template else openpyxl.Workbook()
    sheet = wb.worksheets[0]
    if not template:
        sheet.append(titles)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, data: bytes, filename="licenses.xlsx", certified=True, token=None, product=None,
           check=False, entry_type=None):
    """The upload form posted: Upload File (or Check File), as Product of the file `product`
    (None: the form's default, aluminum) and Entry Type of the file `entry_type` (None: the
    form's default, consumption)."""
    page = client.get("/licenses/multiple/").get_data(as_text=True)
    token = token or re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_token(client, "/licenses/multiple/"), "form_token": token,
            "file": (io.BytesIO(data), filename)}
    if product:
        form["product"] = product
    if entry_type is not None:
        form["entry_type"] = entry_type
    if check:
        form["action"] = "check"
    if certified:
        form["certified"] = "y"
    response = client.post("/licenses/multiple/", data=form, content_type="multipart/form-data")
    # Werkzeug's test client spools a body over 500 KB to a temporary file and, unless it follows
    # redirects, never closes it: closed here rather than left to the garbage collector.
    response.request.environ["wsgi.input"].close()
    return response


def result_page(client, response, timeout=20.0) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    deadline = time.monotonic() + timeout
    while True:
        html = client.get(location).get_data(as_text=True)
        if "Checking " not in html or time.monotonic() > deadline:
            return html
        time.sleep(0.2)


def url_for_rule(app, rule, values: dict) -> str:
    """The URL of a url_map rule with its parts taken from `values` (see factories.seed_world)."""
    if rule.endpoint in ("bulk.results", "bulk.results_workbook"):  # only an issued upload has results
        values = {**values, "batch_id": values["issued_batch_id"]}
    with app.test_request_context():
        return app.url_map.bind("localhost").build(
            rule.endpoint, {name: values[name] for name in rule.arguments}, force_external=False)


# ----- the low-value license ------------------------------------------------------------------------

ENTRY_1 = "ABC-1234567-6"


def entry(serial: int) -> str:
    """A valid customs entry number (filer code ABC) with its check digit."""
    first = f"ABC{serial:07d}"
    return f"ABC-{serial:07d}-{rules.entry_number_check_digit(first)}"


def start_low_value(client, product="aluminum") -> str:
    return start(client, product, kind="low_value")


def issue_low_value(client, product="aluminum", hts="7601.10.30.00, 7604.10.10.00",
                    importer="Gulf Coast Metals LLC") -> str:
    draft = start_low_value(client, product)
    response = post(client, f"{draft}/preview", {"importer_name": importer, "covered_hts": hts,
                                                 "certified": "y"})
    assert response.status_code == 302, page_text(response)[:2000]
    preview = page_text(client.get(response.headers["Location"]))
    assert "Low-Value License" in preview and "Submit" in preview
    response = post(client, f"{draft}/submit", {})
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


@contextmanager
def migrated_to(path, revision: str = "head"):
    """A data migration's test: an app on a SQLite file of its own (the test database is shared by
    the session) at `revision`, in its app context; taken back down to nothing afterwards."""
    from flask_migrate import downgrade, upgrade

    from aimweb.extensions import db

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}/m.db"})
    with app.app_context():
        upgrade(revision=revision)
        yield app
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


# A company row as an old revision's table holds it (data migrations' tests).
INSERT_COMPANY = ("INSERT INTO company (name, company_type, street, city, state, zip_code, phone, contact_first_name, "
                  "contact_last_name, email, created_at, updated_at) VALUES (:name, 'importer', '1 Main St', "
                  "'Houston', 'TX', '77002', '281-555-0134', 'A', 'B', 'a@example.com', '2026-05-01', '2026-05-01')")
