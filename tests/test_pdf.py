"""The printable license: what the PDF says, one page, no outside fetches, the per-version cache."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from conftest import make_user, sign_in
from pypdf import PdfReader

from aimweb import rules
from aimweb.extensions import db
from aimweb.licenses import pdf
from aimweb.models import License, LicensePdf, ProductLine
from aimweb.reference.hts import packaged_catalogue

LINES = [  # hts, largest smelt, second smelt, cast, kg, US$
    ("7601103000", "CA", "NA_", "CA", "12500.00", "38750.00"),
    ("7606123035", "AE", "IN", "CN", "2040.50", "9182.25"),
    ("7616995160", "NA_", "NA_", "MX", "310.00", "4650.00"),
]


def make_license(user, number="ALTEA1220", status="submitted", lines=LINES, **fields) -> License:
    catalogue = packaged_catalogue()
    lic = License(
        number=number, status=status, company=user.company, created_by=user,
        entry_number="ABC-1234567-6", entry_type="consumption",
        importer_name="Gulf Coast Metals LLC", exporter_name="Northern Rolling Mills Inc.",
        manufacturer_name="Alouette Smelting", origin_country="CA", export_country="CA",
        port_code="5301", export_date=date(2025, 3, 3), import_date=date(2025, 3, 10),
        certified_at=datetime(2025, 2, 20, 14, 5), issued_at=datetime(2025, 2, 20, 14, 5),
        valid_from=date(2025, 2, 20), valid_through=date(2025, 5, 6),
    )
    for key, value in fields.items():
        setattr(lic, key, value)
    for position, (hts, largest, second, cast, kg, usd) in enumerate(lines):
        item = catalogue[hts]
        lic.lines.append(ProductLine(
            position=position, hts_number=hts, description=item.description, category=item.category,
            smelt_largest=largest, smelt_second=second, cast_country=cast,
            quantity_kg=Decimal(kg), customs_value_usd=Decimal(usd),
            unit_value=(Decimal(usd) / Decimal(kg)).quantize(Decimal("0.01")),
        ))
    db.session.add(lic)
    db.session.commit()
    return lic


@pytest.fixture(autouse=True)
def _app_context(app):
    # The models are created directly here, outside any request.
    with app.app_context():
        yield


def pdf_text(content: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages), len(reader.pages)


@pytest.fixture
def license_(filer):
    return make_license(filer)


def test_pdf_shows_the_license_number_filer_header_products_and_totals(signed_in, license_):
    response = signed_in.get("/licenses/ALTEA1220/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="AIM-license-ALTEA1220.pdf"'
    # Chrome's viewer is an <embed>: the portal's object-src 'none' would show a blocked page.
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text, pages = pdf_text(response.data)
    assert pages == 1
    for expected in [
        "Aluminum Import License", "ALTEA1220", "Submitted",
        "Valid from 02/20/2025 through 05/06/2025",
        "Company of filer@example.com", "4800 Riverstone Blvd", "Missouri City, TX 77459",
        "12-", "Test Filer", "281-555-0134", "filer@example.com",
        "ABC-1234567-6", "Consumption", "Gulf Coast Metals LLC", "Northern Rolling Mills Inc.",
        "Alouette Smelting", "Canada", "5301 — Houston, TX", "03/03/2025", "03/10/2025",
        "7601.10.30.00", "7606.12.30.35", "7616.99.51.60", "Castings", "Unwrought aluminum",
        "United Arab Emirates", "India", "China", "Mexico", "Not applicable",
        "12,500.00", "38,750.00", "3.10",
        "2,040.50", "9,182.25", "4.50",
        "310.00", "4,650.00", "15.00",
        "Total, 3 products", "14,850.50", "52,582.25", "3.54",
        "accurate and complete to the best of their knowledge",
        "Certified by Test Filer", "02/20/2025 14:05 UTC",
    ]:
        assert expected in text, expected


def test_foreign_trade_zone_license_does_not_expire(signed_in, filer):
    make_license(filer, entry_type="ftz", valid_through=None)
    text, _ = pdf_text(signed_in.get("/licenses/ALTEA1220/pdf").data)
    assert "Foreign trade zone admission: does not expire" in text
    assert "Foreign trade zone admission" in text.split("Entry type", 1)[1]


def test_eight_lines_with_long_descriptions_still_fit_one_page(app, filer):
    lines = [("7601103000", "CA", "NA_", "CA", "1000000.00", "2600000.00")] * 8
    lic = make_license(filer, lines=lines, importer_name="A very long importer name " * 7)
    text, pages = pdf_text(pdf.render_license_pdf(lic))
    assert pages == 1
    assert "Total, 8 products" in text and "8,000,000.00" in text


def test_hostile_names_are_printed_as_text_and_nothing_outside_static_is_fetched(app, filer, monkeypatch):
    asked = []
    real_make_fetcher = pdf.make_fetcher

    def recording_fetcher():
        fetcher = real_make_fetcher()
        real_fetch = fetcher.fetch

        def fetch(url, headers=None):
            asked.append(url)
            return real_fetch(url, headers)

        fetcher.fetch = fetch
        return fetcher

    monkeypatch.setattr(pdf, "make_fetcher", recording_fetcher)
    lic = make_license(
        filer,
        importer_name='<img src="http://example.com/x.png">',
        exporter_name='<link href="file:///etc/passwd">',
        manufacturer_name="<style>@import url(http://example.com/a.css)</style>",
    )
    text, pages = pdf_text(pdf.render_license_pdf(lic))
    assert pages == 1
    assert '<img src="http://example.com/x.png">' in text
    assert '<link href="file:///etc/passwd">' in text
    assert "@import url(http://example.com/a.css)" in text
    static = pdf.static_root().as_uri() + "/"
    assert asked, "the stylesheet comes through the fetcher"
    assert all(url.startswith(static) for url in asked), asked


@pytest.mark.parametrize("url", [
    "http://example.com/x.png",
    "https://example.com/a.css",
    "file:///etc/passwd",
    "data:text/css,body{}",
    "ftp://example.com/x",
    "file://evil.example.com/static/app/pdf.css",
])
def test_fetcher_refuses_everything_but_the_static_folder(app, url):
    with pytest.raises(ValueError, match="only uses the portal's own assets"):
        pdf.make_fetcher().fetch(url)


def test_fetcher_refuses_a_path_that_climbs_out_of_static(app):
    root = pdf.static_root()
    escape = root.as_uri() + "/app/../../licenses/pdf.py"
    with pytest.raises(ValueError, match="only uses the portal's own assets"):
        pdf.make_fetcher().fetch(escape)
    assert pdf.make_fetcher().fetch(root.as_uri() + "/app/pdf.css").read().startswith(b"/*")


def test_second_download_is_served_from_the_cache(signed_in, license_):
    before = pdf.render_count
    first = signed_in.get("/licenses/ALTEA1220/pdf")
    second = signed_in.get("/licenses/ALTEA1220/pdf")
    assert pdf.render_count == before + 1
    assert first.data == second.data
    assert db.session.query(LicensePdf).count() == 1


def test_a_new_version_is_rendered_again_and_replaces_the_old_one(signed_in, license_):
    signed_in.get("/licenses/ALTEA1220/pdf")
    before = pdf.render_count
    license_.importer_name = "Bayou Aluminum Inc."
    license_.version += 1
    db.session.commit()
    text, _ = pdf_text(signed_in.get("/licenses/ALTEA1220/pdf").data)
    assert pdf.render_count == before + 1
    assert "Bayou Aluminum Inc." in text
    assert [row.version for row in db.session.query(LicensePdf)] == [2]


def test_a_cancelled_license_shows_cancelled_even_without_a_version_bump(signed_in, license_):
    signed_in.get("/licenses/ALTEA1220/pdf")
    license_.status = "cancelled"
    db.session.commit()
    text, _ = pdf_text(signed_in.get("/licenses/ALTEA1220/pdf").data)
    assert "Cancelled" in text and "CANCELLED" in text


def test_etag_answers_304_until_the_license_changes(signed_in, license_):
    first = signed_in.get("/licenses/ALTEA1220/pdf")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-store"  # never kept in a browser's or proxy's cache
    before = pdf.render_count
    again = signed_in.get("/licenses/ALTEA1220/pdf", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert pdf.render_count == before
    license_.version += 1
    db.session.commit()
    changed = signed_in.get("/licenses/ALTEA1220/pdf", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_another_companys_user_gets_404(client, license_):
    make_user("other@example.com")
    sign_in(client, "other@example.com")
    assert client.get("/licenses/ALTEA1220/pdf").status_code == 404


def test_an_officer_may_print_any_license(client, license_):
    make_user("officer@example.com", role="officer", company=False)
    sign_in(client, "officer@example.com")
    response = client.get("/licenses/ALTEA1220/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_anonymous_is_sent_to_sign_in(client, license_):
    response = client.get("/licenses/ALTEA1220/pdf")
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


def test_a_draft_has_no_pdf(signed_in, filer):
    make_license(filer, number="ADRFT0125", status="draft")
    assert signed_in.get("/licenses/ADRFT0125/pdf").status_code == 404
    assert signed_in.get("/licenses/NOSUCH/pdf").status_code == 404


# ----- issue 14: a tagged PDF, one page for ten lines (the version printed: test_pdf_versions.py) ---

LONGEST = "7601103000"  # its description is the catalogue's longest (129 characters)


def test_ten_products_with_the_longest_descriptions_and_names_fit_one_page(app, filer):
    lines = [(LONGEST, "AE", "IN", "CN", "1000000.00", "2600000.00")] * 10
    longest = ("Northern Extrusion and Rolling Mills International Trading Company " * 4)[:200]
    assert len(longest) == rules.MAX_NAME_LENGTH
    lic = make_license(filer, lines=lines, importer_name=longest, exporter_name=longest,
                       manufacturer_name=longest)
    text, pages = pdf_text(pdf.render_license_pdf(lic))
    assert pages == 1
    assert "Total, 10 products" in text and "10,000,000.00" in text
    assert "Certified by Test Filer" in text  # the certification is on that page too


def test_the_pdf_is_tagged_for_screen_readers(app, filer):
    """PDF/UA: marked content with a structure tree (headings, tables), the language and the title."""
    reader = PdfReader(io.BytesIO(pdf.render_license_pdf(make_license(filer))))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == "Aluminum Import License ALTEA1220"
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()

    kinds = set()

    def walk(node):
        node = node.get_object()
        if "/S" in node:
            kinds.add(str(node["/S"]))
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, dict):
                walk(kid)

    walk(root["/StructTreeRoot"])
    assert {"/H1", "/H2", "/Table", "/TH", "/TD"} <= kinds, kinds
