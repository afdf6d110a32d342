"""Benchmark of the license PDF (issue 3, point 9 b and c), on its own app and temporary SQLite DB.

(b) The first download of a license version through /licenses/<number>/pdf (a cache miss: template,
    WeasyPrint, storing the PDF) next to a bare WeasyPrint render of the same HTML in the same run,
    alternated so both see the same machine load. The bare render gets the same base URL (with
    WeasyPrint's default fetcher), so it loads the same stylesheet and fonts: the same work, minus
    the portal. Target: at most 1.2x.
(c) A repeated download of an unchanged license's PDF (served from the cache). Target: under 10 ms.

Run: .venv/bin/python bench/bench_pdf.py [rounds]
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/<own db> runs it on
     PostgreSQL instead (the public schema of that database is dropped and recreated).
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import text, update

from aimweb import create_app
from aimweb.extensions import db
from aimweb.licenses import pdf
from aimweb.models import Company, License, LicensePdf, ProductLine, User, utcnow
from aimweb.security import hash_password

PASSWORD = "Bench-Password-9"
NUMBER = "ABNCH1225"
LINES = [  # hts, description, category, largest smelt, second smelt, cast, kg, US$
    ("7601103000", "Of uniform cross section throughout its length, the least cross-sectional dimension "
     "of which is not greater than 9.5 mm, in coils", "Unwrought aluminum", "CA", "NA_", "CA",
     "12500.00", "38750.00"),
    ("7606123035", "Other", "Plates, sheets and strip", "AE", "IN", "CN", "2040.50", "9182.25"),
    ("7616995160", "Castings", "Castings", "NA_", "NA_", "MX", "310.00", "4650.00"),
]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def seed() -> License:
    user = User(email="bench@example.com", display_name="Bench Filer", first_name="Bench",
                last_name="Filer", password_hash=hash_password(PASSWORD), role="filer",
                email_verified_at=utcnow())
    user.company = Company(
        ein="12-3456789", name="Bench Aluminum Imports LLC", company_type="importer",
        street="4800 Riverstone Blvd", city="Missouri City", state="TX", zip_code="77459",
        phone="281-555-0134", contact_first_name="Bench", contact_last_name="Filer",
        email="bench@example.com",
    )
    lic = License(
        number=NUMBER, status="submitted", company=user.company, created_by=user,
        entry_number="ABC-1234567-6", importer_name="Gulf Coast Metals LLC",
        exporter_name="Northern Rolling Mills Inc.", manufacturer_name="Alouette Smelting",
        origin_country="CA", export_country="CA", port_code="5301",
        export_date=date(2025, 3, 3), import_date=date(2025, 3, 10),
        certified_at=datetime(2025, 2, 20, 14, 5), issued_at=datetime(2025, 2, 20, 14, 5),
        valid_from=date(2025, 2, 20), valid_through=date(2025, 5, 6),
    )
    for position, (hts, description, category, largest, second, cast, kg, usd) in enumerate(LINES):
        lic.lines.append(ProductLine(
            position=position, hts_number=hts, description=description, category=category,
            smelt_largest=largest, smelt_second=second, cast_country=cast,
            quantity_kg=Decimal(kg), customs_value_usd=Decimal(usd),
            unit_value=(Decimal(usd) / Decimal(kg)).quantize(Decimal("0.01")),
        ))
    db.session.add(lic)
    db.session.commit()
    return lic


def main(rounds: int = 15) -> None:
    from weasyprint import HTML

    workdir = tempfile.mkdtemp(prefix="aimweb-bench-pdf-")
    uri = os.environ.get("AIMWEB_BENCH_DATABASE_URI") or f"sqlite:///{workdir}/bench.sqlite3"
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": uri,
    })
    url = f"/licenses/{NUMBER}/pdf"
    with app.app_context():
        if uri.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        license_id = seed().id
        html = pdf.license_pdf_html(db.session.get(License, license_id))
        base_url = pdf.static_root().as_uri() + "/"
        db.session.remove()

    client = app.test_client()
    signed_in = client.post("/signin", data={"email": "bench@example.com", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code

    def bump_version():
        with app.app_context():
            db.session.execute(update(License).where(License.id == license_id)
                               .values(version=License.version + 1))
            db.session.commit()

    def endpoint_miss() -> float:
        bump_version()
        before = pdf.render_count
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
        assert pdf.render_count == before + 1, "expected a cache miss"
        return elapsed

    def bare() -> float:
        start = time.perf_counter()
        HTML(string=html, base_url=base_url).write_pdf(**pdf.PDF_OPTIONS)
        return time.perf_counter() - start

    for _ in range(2):  # warm up: fonts, WeasyPrint's own stylesheets, the app's first requests
        endpoint_miss()
        bare()
    misses, bares = [], []
    for _ in range(rounds):
        misses.append(endpoint_miss())
        bares.append(bare())

    # (c) the same version again and again: the cache, no render.
    before = pdf.render_count
    hits, revalidations = [], []
    for _ in range(200):
        start = time.perf_counter()
        response = client.get(url)
        hits.append(time.perf_counter() - start)
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    size, etag = len(response.data), response.headers["ETag"]
    for _ in range(200):
        start = time.perf_counter()
        response = client.get(url, headers={"If-None-Match": etag})
        revalidations.append(time.perf_counter() - start)
        assert response.status_code == 304
    assert pdf.render_count == before, "a repeated download re-rendered"
    with app.app_context():
        stored = db.session.query(LicensePdf).count()
        dialect = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)

    miss, bare_median = statistics.median(misses), statistics.median(bares)
    hit = statistics.median(hits)
    p95 = statistics.quantiles(hits, n=20)[-1]
    print(f"PDF of a 3-line license on {dialect}: {size} bytes; {rounds} rounds; {stored} cached row(s)")
    print(f"(b) first download, cache miss (endpoint): median {ms(miss)}")
    print(f"    bare WeasyPrint, same HTML:           median {ms(bare_median)}")
    print(f"    ratio endpoint / bare:                {miss / bare_median:7.2f}x   (target <= 1.2x)")
    print(f"(c) repeated download, cache hit:         median {ms(hit)}  p95 {ms(p95)}   (target < 10 ms)")
    print(f"    revalidation (If-None-Match -> 304):  median {ms(statistics.median(revalidations))}")
    print("targets met" if miss / bare_median <= 1.2 and hit < 0.010 else "TARGETS MISSED")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
