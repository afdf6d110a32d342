"""Apply for Multiple Licenses: the template, the upload, its progress, problems and results."""
from __future__ import annotations

import secrets
import zipfile

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import addressbook, products
from ..enums import ENTRY_TYPES
from ..extensions import db
from ..models import License, ProductLine, UploadBatch
from ..web.access import filer_required
from ..web.downloads import XLSX, attachment, safe_text, table_download
from . import bp, jobs
from .results import NotWritable, matching, totals, with_license_numbers, with_party_warnings
from .template import template_bytes
from .workbook import MAX_ROWS, UploadRejected


def _batch_or_404(batch_id: int) -> UploadBatch:
    batch = db.session.get(UploadBatch, batch_id)
    if batch is None or batch.company_id != current_user.company_id:
        abort(404)
    return batch


def _chosen_product(value: str | None) -> str:
    """The product the page offers first: the one asked for (?product=steel, or the form's), else
    the default."""
    return value if value in products.PRODUCTS else products.DEFAULT


def _chosen_entry_type(value: str | None) -> str:
    """The entry type the page offers first: the one asked for, else consumption."""
    return value if value in ENTRY_TYPES else "consumption"


@bp.get("/")
@filer_required
def upload_page(error: str | None = None, status: int = 200, error_field: str | None = None):
    """The upload page; `error_field` names the choice an error is about ("entry_type"): the
    message is shown at that field too."""
    recent = db.session.scalars(select(UploadBatch).where(UploadBatch.company_id == current_user.company_id)
                                .order_by(UploadBatch.id.desc()).limit(5)).all()
    chosen = _chosen_product(request.values.get("product"))
    return render_template("bulk/upload.html", form_token=secrets.token_urlsafe(24), error=error,
                           error_field=error_field, max_rows=MAX_ROWS, recent=recent,
                           products=products.PRODUCTS.values(), chosen=chosen, entry_types=ENTRY_TYPES,
                           chosen_entry_type=_chosen_entry_type(request.values.get("entry_type"))), status


@bp.get("/template.xlsx")
@filer_required
def template():
    try:
        product = products.get(request.args.get("product"))
    except KeyError:
        abort(404)
    return attachment(Response(template_bytes(product), mimetype=XLSX),
                      f"{product.short_name}-{product.key}-licenses-template.xlsx")


@bp.post("/")
@filer_required
def upload():
    token = (request.form.get("form_token") or "")[:64]
    file = request.files.get("file")
    check_only = request.form.get("action") == "check"  # "Check File": nothing is issued
    button = "Check File" if check_only else "Upload File"
    product = request.form.get("product") or products.DEFAULT
    if product not in products.PRODUCTS:
        return upload_page(f"Choose the Product of the file, then click {button}.", 400)
    entry_type = request.form.get("entry_type") or "consumption"
    if entry_type not in ENTRY_TYPES:
        return upload_page(f"Choose the Entry Type of the file (Consumption or Foreign trade zone "
                           f"admission), then click {button}.", 400, error_field="entry_type")
    if not token:
        return upload_page(f"The form had expired: choose the file and click {button} again.", 400)
    if file is None or not file.filename:
        return upload_page(f"Choose the Excel file (.xlsx), then click {button}.", 400)
    if not check_only and not request.form.get("certified"):
        return upload_page("Check the box to certify that the information in the file is accurate "
                           "and complete.", 400)
    batch = jobs.receive(current_user, file.filename, file.read(), token, check_only=check_only,
                         product=product, entry_type=entry_type)
    return redirect(url_for("bulk.batch", batch_id=batch.id), code=303)


@bp.get("/<int:batch_id>")
@filer_required
def batch(batch_id: int):
    batch = _batch_or_404(batch_id)
    stale = jobs.is_stale(batch)
    result = batch.result or []
    if batch.issued and result and "kg" not in result[0]:
        result = _with_amounts(batch, result)  # a batch issued before the totals were kept
    result = _with_warnings(batch, result)
    text = (request.args.get("q") or "").strip()[:100]
    return render_template("bulk/batch.html", batch=batch, stale=stale,
                           working=batch.working, totals=totals(result), warned=_warned(result),
                           shown=matching(result, text), q=text, error=None)


def _with_warnings(batch: UploadBatch, result: list[dict]) -> list[dict]:
    """The names of a checked or issued file close to a saved party (checked on each showing: a
    party saved since counts)."""
    if not result or not (batch.checked or batch.issued):
        return result
    return with_party_warnings(result, addressbook.index_for(batch.company_id), batch.product)


def _warned(result: list[dict]) -> int:
    return sum(len(r.get("warnings") or ()) for r in result)


def _with_amounts(batch: UploadBatch, result: list[dict]) -> list[dict]:
    rows = db.session.execute(
        select(License.number, License.importer_name, func.sum(ProductLine.quantity_kg),
               func.sum(ProductLine.customs_value_usd))
        .join(ProductLine, ProductLine.license_id == License.id)
        .where(License.upload_batch_id == batch.id).group_by(License.id)).all()
    found = {number: (importer, kg, usd) for number, importer, kg, usd in rows}
    return [{**r, **dict(zip(("importer", "kg", "usd"), found.get(r["number"], ("", 0, 0))))}
            for r in result]


@bp.post("/<int:batch_id>/issue")
@filer_required
def issue(batch_id: int):
    """Upload File on a file that Check File found without problem."""
    batch = _batch_or_404(batch_id)
    if batch.checked and not request.form.get("certified"):
        return batch_page(batch, "Check the box to certify that the information in the file is "
                                 "accurate and complete, then click Upload File.")
    jobs.issue_checked(batch)
    return redirect(url_for("bulk.batch", batch_id=batch.id), code=303)


def batch_page(batch: UploadBatch, error: str):
    result = _with_warnings(batch, batch.result or [])
    return render_template("bulk/batch.html", batch=batch, stale=False, working=False,
                           totals=totals(result), warned=_warned(result), shown=result, q="",
                           error=error), 400


@bp.get("/<int:batch_id>/workbook.xlsx")
@filer_required
def results_workbook(batch_id: int):
    """"Download results": the filer's own workbook, License Number and Entry Type columns filled in."""
    batch = _batch_or_404(batch_id)
    if not batch.issued:
        abort(404)
    numbers = {row: r["number"] for r in batch.result or [] for row in r.get("rows") or ()}
    try:
        data = with_license_numbers(batch.content, numbers, ENTRY_TYPES.get(batch.entry_type, batch.entry_type))
    except (NotWritable, UploadRejected, zipfile.BadZipFile, KeyError):
        # A sheet laid out unlike any spreadsheet program's: the table of numbers instead.
        return redirect(url_for("bulk.results", batch_id=batch.id, kind="xlsx"))
    stem = batch.filename.rsplit(".", 1)[0] or f"upload-{batch.id}"
    return attachment(Response(data, mimetype=XLSX), f"{stem}-with-license-numbers.xlsx")


@bp.get("/<int:batch_id>/progress")
@filer_required
def progress(batch_id: int):
    batch = _batch_or_404(batch_id)
    if not batch.working:
        response = Response("")
        response.headers["HX-Refresh"] = "true"  # the whole page shows the outcome
        return response
    return render_template("bulk/_progress.html", batch=batch, stale=jobs.is_stale(batch))


@bp.post("/<int:batch_id>/confirm")
@filer_required
def confirm(batch_id: int):
    batch = _batch_or_404(batch_id)
    jobs.confirm(batch)
    return redirect(url_for("bulk.batch", batch_id=batch.id), code=303)


@bp.get("/<int:batch_id>/results.<any(csv, xlsx):kind>")
@filer_required
def results(batch_id: int, kind: str):
    batch = _batch_or_404(batch_id)
    if not batch.issued:
        abort(404)
    entry_type = ENTRY_TYPES.get(batch.entry_type, batch.entry_type)
    rows = [["Entry ID", "License Number", "Entry Type"]] + [[safe_text(r["entry_id"]), r["number"], entry_type]
                                                             for r in batch.result]
    return table_download(rows, kind, f"{products.get(batch.product).short_name}-licenses-upload-{batch.id}",
                          widths={"A": 14, "B": 18, "C": 30})


@bp.get("/<int:batch_id>/problems.xlsx")
@filer_required
def problems(batch_id: int):
    from .marked import marked_workbook

    batch = _batch_or_404(batch_id)
    if not batch.rejected or not batch.problems:
        abort(404)
    spool, size = marked_workbook(batch, batch.content)

    def chunks():
        with spool:
            while data := spool.read(256 * 1024):
                yield data

    response = attachment(Response(chunks(), mimetype=XLSX),
                          f"{products.get(batch.product).short_name}-upload-{batch.id}-problems.xlsx")
    response.headers["Content-Length"] = str(size)
    return response
