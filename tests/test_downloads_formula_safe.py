"""Every CSV and XLSX the portal produces writes text a person typed as text, never as a formula."""
from __future__ import annotations

import csv
import io
import re

from conftest import csrf_token, make_user, sign_in
from helpers import HEADER, LINE, issue
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from aimweb.extensions import db
from aimweb.models import License, UploadBatch, User

RISKY = ("=", "+", "-", "@", "\t", "\r")
TYPED = {"importer_name": "=HYPERLINK(\"http://evil.example\")", "exporter_name": "+1+1",
         "manufacturer_name": "@SUM(1)"}
EVIL_EMAIL = "=cmd@example.com"
ENTRY_ID = "-2+3"


def cells(response) -> list[str]:
    if response.mimetype == "text/csv":
        return [c for row in csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
                for c in row]
    book = load_workbook(io.BytesIO(response.get_data()))
    return [c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
            for c in row if isinstance(c, str)]


def download_urls(app) -> dict[str, list[str]]:
    """Every route that answers with a CSV or XLSX file, by endpoint, with its concrete URLs."""
    found: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        text = rule.rule
        if not re.search(r"\.(csv|xlsx)$|\.<any\(csv, xlsx\):kind>$", text):
            continue
        kinds = ["csv", "xlsx"] if "<any(csv, xlsx):kind>" in text else [None]
        paths = [text.replace("<any(csv, xlsx):kind>", k) if k else text for k in kinds]
        product = re.search(r"<any\(([a-z, ]+)\):product>", text)   # the monitor of each product
        if product:
            paths = [p.replace(product.group(0), key) for p in paths for key in product.group(1).split(", ")]
        found[rule.endpoint] = paths
    return found


def _batch_with_hostile_rows(app, status: str, user_email: str) -> int:
    wb = Workbook()
    wb.active.append(["Entry ID", "Importer Name"])
    wb.active.append([ENTRY_ID, TYPED["importer_name"]])
    content = io.BytesIO()
    wb.save(content)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == user_email))
        batch = UploadBatch(company_id=user.company_id, user_id=user.id, form_token=f"t-{status}",
                            filename="x.xlsx", sha256="0" * 64, size=1, content=content.getvalue(),
                            status=status, rows=1,
                            problems=[{"row": 2, "column": "A", "title": "Entry ID",
                                       "message": "=not a formula either"}],
                            result=[{"entry_id": ENTRY_ID, "number": "AAAAA0001"}])
        db.session.add(batch)
        db.session.commit()
        return batch.id


def test_every_download_writes_typed_text_as_text(app, client):
    with app.app_context():
        make_user(EVIL_EMAIL)
        make_user("officer@example.com", role="officer", company=False)
    assert sign_in(client, EVIL_EMAIL).status_code == 302
    issue(client, header={**HEADER, **TYPED}, lines=(LINE,))
    done = _batch_with_hostile_rows(app, "issued", EVIL_EMAIL)
    rejected = _batch_with_hostile_rows(app, "rejected", EVIL_EMAIL)

    urls = download_urls(app)
    # A new download route must be added here, with the hostile value it can carry.
    expected = {
        "licenses.export_licenses": list(TYPED.values()),
        "licenses.export_selected": list(TYPED.values()),  # posted with the license ticked
        "bulk.results": [ENTRY_ID],
        # The filer's own workbook, as uploaded (no formula: refused at upload) plus the numbers;
        # this batch's content holds a formula no upload lets in, so the table comes instead.
        "bulk.results_workbook": [ENTRY_ID],
        "bulk.problems": ["=not a formula either"],  # the rows themselves: test_bulk_hostile
        "bulk.template": [],
        "monitor.download": [],
        "monitor.old_download": [],   # the aluminum monitor's first URL: redirected
        "review.audit_csv": [EVIL_EMAIL],
        "admin.sign_ins_csv": [EVIL_EMAIL],
        "account.activity_csv": [EVIL_EMAIL],   # the company administrator's own sign-in
    }
    assert set(urls) == set(expected)
    batch_ids = {"bulk.results": done, "bulk.results_workbook": done, "bulk.problems": rejected}
    with app.app_context():
        ticked = {"license": db.session.scalar(select(License.id).where(License.number.is_not(None))),
                  "csrf_token": csrf_token(client, "/licenses/")}
    for endpoint, paths in urls.items():
        officer = endpoint.startswith(("review.", "admin."))
        if officer:
            other = app.test_client()
            assert sign_in(other, "officer@example.com").status_code == 302
        for path in paths:
            path = path.replace("<int:batch_id>", str(batch_ids.get(endpoint, 0)))
            if endpoint == "licenses.export_selected":
                response = client.post(path, data=ticked)
            else:
                response = (other if officer else client).get(
                    path, follow_redirects=endpoint in ("bulk.results_workbook", "monitor.old_download"))
            assert response.status_code == 200, path
            written = cells(response)
            assert written, path
            for value in expected[endpoint]:
                assert "'" + value in written, (path, value)
            risky = [c for c in written if c.startswith(RISKY)]
            assert risky == [], (path, risky)
