"""Apply for Multiple Licenses: the template, the upload, its progress, problems and results."""
from __future__ import annotations

import csv
import io
import secrets

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..licenses.access import filer_required
from ..licenses.export import safe_text
from ..models import UploadBatch
from ..reference.hts import current_catalogue
from . import bp, jobs
from .template import template_bytes
from .workbook import MAX_ROWS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
                           max_rows=MAX_ROWS, recent=recent, stale=jobs.is_stale), status


@bp.get("/template.xlsx")
@filer_required
def template():
    if request.args.get("product", "aluminum") != "aluminum":
        abort(404)
    response = Response(template_bytes(current_catalogue()), mimetype=XLSX)
    response.headers["Content-Disposition"] = 'attachment; filename="AIM-aluminum-licenses-template.xlsx"'
    return response


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
    stale = jobs.is_stale(batch)
    return render_template("bulk/batch.html", batch=batch, stale=stale,
                           working=batch.status in ("checking", "issuing") and not stale)


@bp.get("/<int:batch_id>/progress")
@filer_required
def progress(batch_id: int):
    batch = _batch_or_404(batch_id)
    stale = jobs.is_stale(batch)
    if batch.status not in ("checking", "issuing") or stale:
        response = Response("")
        response.headers["HX-Refresh"] = "true"  # the whole page shows the outcome
        return response
    return render_template("bulk/_progress.html", batch=batch)


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
    if batch.status != "issued":
        abort(404)
    rows = [["Entry ID", "License Number"]] + [[safe_text(r["entry_id"]), r["number"]] for r in batch.result]
    return _table_download(rows, kind, f"AIM-licenses-upload-{batch.id}")


@bp.get("/<int:batch_id>/problems.xlsx")
@filer_required
def problems(batch_id: int):
    from .marked import marked_workbook

    batch = _batch_or_404(batch_id)
    if batch.status != "rejected" or not batch.problems:
        abort(404)
    spool, size = marked_workbook(batch, batch.content)

    def chunks():
        with spool:
            while data := spool.read(256 * 1024):
                yield data

    response = Response(chunks(), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="AIM-upload-{batch.id}-problems.xlsx"'
    response.headers["Content-Length"] = str(size)
    return response


def _table_download(rows: list[list], kind: str, name: str) -> Response:
    if kind == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        csv.writer(out).writerows(rows)
        response = Response(out.getvalue(), mimetype="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        sheet = wb.active
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 14
        sheet.column_dimensions["B"].width = 18
        buffer = io.BytesIO()
        wb.save(buffer)
        response = Response(buffer.getvalue(), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response

