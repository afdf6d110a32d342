"""The printable license: one US Letter page rendered by WeasyPrint, kept per license version."""
from __future__ import annotations

import mimetypes
import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from flask import Response, current_app, render_template, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import formatting, products
from ..clock import program_now
from ..enums import LicenseStatus
from ..extensions import db
from ..models import License, LicensePdf
from ..rules import unit_value
from ..web.access import license_or_404, signed_in
from . import bp
from .search import Filters, order_by

# PDFs rendered by this process: the tests prove a cached download renders nothing.
render_count = 0
_count_lock = threading.Lock()


# ----- what the page says ------------------------------------------------------------------------

def license_pdf_html(lic: License) -> str:
    """The license as the HTML page that WeasyPrint prints (needs an app context)."""
    total_kg, total_usd = lic.total_kg, lic.total_usd
    return render_template(
        "licenses/pdf.html",
        lic=lic,
        company=lic.company,
        contact=lic.created_by,
        lines=list(lic.lines),
        entry_type=formatting.entry_type(lic.entry_type),
        port=formatting.port(lic.port_code),
        total_kg=total_kg,
        total_usd=total_usd,
        total_unit=unit_value(total_kg, total_usd),
    )


# ----- rendering without touching the network or the disk -----------------------------------------

def static_root() -> Path:
    return Path(current_app.static_folder).resolve()


def static_path(url: str, root: Path) -> Path | None:
    """The file under root that a file: URL names, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query:
        return None
    path = Path(url2pathname(unquote(parts.path))).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


@lru_cache(maxsize=64)
def _asset(path: Path) -> bytes:
    # Static assets don't change while the process runs; fonts are read once, not per render.
    return path.read_bytes()


@lru_cache(maxsize=1)
def _fetcher_class():
    # WeasyPrint takes about a second to import: only a process that prints a PDF pays for it.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves files under aimweb/static; refuses every other URL (http, file:///etc, data:)."""

        def __init__(self, root: Path):
            super().__init__(allowed_protocols=("file",), allow_redirects=False)
            self.root = root

        def fetch(self, url, headers=None):
            path = static_path(url, self.root)
            if path is None:
                current_app.logger.warning("License PDF: refused to fetch %r", url[:200])
                raise ValueError(f"the license PDF only uses the portal's own assets, not {url[:200]}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, _asset(path), {"Content-Type": mime})

    return StaticOnlyFetcher


def make_fetcher():
    return _fetcher_class()(static_root())


# A tagged PDF (PDF/UA-1): a screen reader reads the headings, the tables with their header cells
# and the document's language and title, not a stream of loose words. (WeasyPrint's pdf_variant
# turns on pdf_tags and the PDF/UA metadata.)
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}


def html_to_pdf(html: str) -> bytes:
    global render_count
    from weasyprint import HTML

    base_url = static_root().as_uri() + "/"
    pdf = HTML(string=html, base_url=base_url, url_fetcher=make_fetcher()).write_pdf(**PDF_OPTIONS)
    with _count_lock:
        render_count += 1
    return pdf


def render_license_pdf(lic: License) -> bytes:
    return html_to_pdf(license_pdf_html(lic))


# ----- the cache and the download ----------------------------------------------------------------

def cached_license_pdf(lic: License) -> bytes:
    """The PDF of this version of the license: from the cache, or rendered once and stored."""
    license_id, version, status = lic.id, lic.version, lic.status
    row = db.session.get(LicensePdf, (license_id, version))
    if row is not None and row.status == status:
        return row.content
    html = license_pdf_html(lic)
    # End the read transaction: nothing is held while WeasyPrint works (a few hundred ms).
    db.session.commit()
    content = html_to_pdf(html)
    db.session.execute(
        delete(LicensePdf).where(LicensePdf.license_id == license_id, LicensePdf.version <= version)
    )
    db.session.add(LicensePdf(license_id=license_id, version=version, status=status, content=content))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent download stored the same version first
        db.session.rollback()
    return content


@bp.get("/<number>/pdf", endpoint="pdf")
@signed_in
def license_pdf(number: str):
    lic = license_or_404(number)
    number = lic.number
    etag = f"{number}-v{lic.version}-{lic.status}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(cached_license_pdf(lic), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{license_pdf_filename(lic)}"'
    response.set_etag(etag)
    return _shown_inline(response)


def license_pdf_filename(lic: License) -> str:
    """The file name of a license's PDF (the portal's and the API's): AIM-license-<number>.pdf."""
    return f"{products.get(lic.product).short_name}-license-{lic.number}.pdf"


def _shown_inline(response: Response) -> Response:
    """The headers of a PDF shown in the browser. Never kept (like every signed-in response, see
    security.py): a corrected or cancelled license shows at once, and nothing stays on a shared
    computer; an ETag still answers a revalidation. Chrome shows an inline PDF through an internal
    <embed>: the portal's CSP (object-src 'none', default-src 'self') would blank it
    (crbug.com/271452). A PDF runs no script; only framing matters."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# ----- several licenses in one PDF (Print selected on the dashboard) ------------------------------

def company_licenses(company_id: int, ids: list[int], filters: Filters) -> list[License]:
    """The company's licenses with a number among `ids`, in the dashboard's order (an id of another
    company's license, or of a draft, is not among them)."""
    return list(db.session.scalars(
        select(License).where(License.company_id == company_id, License.status.in_(LicenseStatus.NUMBERED),
                              License.id.in_(ids))
        .options(selectinload(License.lines), selectinload(License.events), selectinload(License.company),
                 selectinload(License.created_by))
        .order_by(*order_by(filters.sort, filters.order))))


def licenses_pdf(licenses: list[License]) -> bytes:
    """One PDF of the licenses, each starting on a page of its own and numbering its own pages
    ("Page 1 of 2" is the license's): each is laid out as its own document, as when printed alone,
    and the pages are written once as one tagged file."""
    global render_count
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    base_url, fetcher, fonts = static_root().as_uri() + "/", make_fetcher(), FontConfiguration()
    pages_html = [license_pdf_html(lic) for lic in licenses]
    db.session.commit()  # nothing is held while WeasyPrint works
    documents = [HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(font_config=fonts, **PDF_OPTIONS)
                 for html in pages_html]
    combined = documents[0].copy([page for document in documents for page in document.pages])
    pdf = combined.write_pdf(**PDF_OPTIONS)
    with _count_lock:
        render_count += 1
    return pdf


def selected_response(licenses: list[License]) -> Response:
    response = Response(licenses_pdf(licenses), mimetype="application/pdf")
    stamp = program_now().strftime("%Y%m%d-%H%M")
    response.headers["Content-Disposition"] = f'inline; filename="licenses-{stamp}.pdf"'
    return _shown_inline(response)
