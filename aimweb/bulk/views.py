"""Apply for Multiple Licenses: the template, the upload, its progress, problems and results."""
from __future__ import annotations

import secrets

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import products
from ..extensions import db
from ..models import UploadBatch
from ..web.access import filer_required
from ..web.downloads import XLSX, attachment, safe_text, table_download
from . import bp, jobs
from .template import template_bytes
from .workbook import MAX_ROWS


def _batch_or_404(batch_id: int) -> UploadBatch:
    batch = db.session.get(UploadBatch, batch_id)
    if batch is None or batch.company_id != current_user.company_id:
        abort(404)
    return batch


@bp.get("/")
@filer_required
def upload_page(error: str | None = None, status: int = 200):
    recent = db.session.scalars(select(UploadBatch).where(UploadBatch.company_id == current_user.company_id)
                                .order_by(UploadBatch.id.desc()).limit(5)).all()
    return render_template("bulk/upload.html", form_token=secrets.token_urlsafe(24), error=error,
                           max_rows=MAX_ROWS, recent=recent), status


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
    if not token:
        return upload_page("The form had expired: choose the file and click Upload File again.", 400)
    if file is None or not file.filename:
        return upload_page("Choose the Excel file (.xlsx) to upload, then click Upload File.", 400)
    if not request.form.get("certified"):
        return upload_page("Check the box to certify that the information in the file is accurate "
                           "and complete.", 400)
    batch = jobs.receive(current_user, file.filename, file.read(), token)
    return redirect(url_for("bulk.batch", batch_id=batch.id), code=303)


@bp.get("/<int:batch_id>")
@filer_required
def batch(batch_id: int):
    batch = _batch_or_404(batch_id)
    return render_template("bulk/batch.html", batch=batch, stale=jobs.is_stale(batch), working=batch.working)


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
    rows = [["Entry ID", "License Number"]] + [[safe_text(r["entry_id"]), r["number"]] for r in batch.result]
    return table_download(rows, kind, f"AIM-licenses-upload-{batch.id}", widths={"A": 14, "B": 18})


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

    response = attachment(Response(chunks(), mimetype=XLSX), f"AIM-upload-{batch.id}-problems.xlsx")
    response.headers["Content-Length"] = str(size)
    return response
