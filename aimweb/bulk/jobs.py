"""An upload's life: received, checked row by row, then rejected with every problem or issued.

Small files are handled inside the request; larger ones in a background thread while the page
polls the batch's progress (stored in the database, so any worker can answer). The licenses and
the batch's Issued status commit in one transaction: a server that dies mid-upload leaves no
license behind, and the batch, no longer moving, reads "interrupted: nothing was issued".
"""
from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from decimal import Decimal

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import licensing, products
from ..enums import UploadStatus
from ..extensions import db
from ..inputs import merge_problems
from ..mailer import send_email
from ..models import UploadBatch, User, utcnow
from .rows import CellProblem, Problems, group_rows, place, to_draft
from .workbook import UploadRejected, one_large_file_at_a_time, read_first_sheet, release_memory

CHUNK = 250  # licenses checked between two progress updates


def receive(user: User, filename: str, data: bytes, form_token: str, confirmed: bool = False,
            check_only: bool = False) -> UploadBatch:
    """Record the upload (once per form) and start checking it, or ask first if it was issued before.

    `check_only` ("Check File"): every row is checked and nothing is issued (the batch ends
    Checked, and the filer may then issue it with Upload File: `issue_checked`)."""
    existing = db.session.scalar(select(UploadBatch).where(UploadBatch.form_token == form_token))
    if existing is not None:
        return existing  # a double submit of the same form
    digest = hashlib.sha256(data).hexdigest()
    batch = UploadBatch(company_id=user.company_id, user_id=user.id, form_token=form_token,
                        filename=(filename or "upload.xlsx")[-255:], sha256=digest, size=len(data),
                        content=data, status=UploadStatus.VERIFYING if check_only else UploadStatus.CHECKING)
    before = db.session.scalar(
        select(UploadBatch).where(UploadBatch.company_id == user.company_id,
                                  UploadBatch.sha256 == digest, UploadBatch.status == UploadStatus.ISSUED)
        .order_by(UploadBatch.id.desc()).limit(1))
    if before is not None and not confirmed and not check_only:
        batch.status = UploadStatus.CONFIRM
        batch.message = _issued_before(before)
    db.session.add(batch)
    try:
        db.session.commit()
    except IntegrityError:  # the same form posted at the same moment: the other request's batch
        db.session.rollback()
        existing = db.session.scalar(select(UploadBatch).where(UploadBatch.form_token == form_token))
        if existing is None:
            raise
        return existing
    if batch.working:
        start(batch)
    return batch


def issue_checked(batch: UploadBatch) -> None:
    """Upload File after a Check File: the same file checked again and, if all is well, issued
    (or, when the same content was issued before, the filer is asked first)."""
    if batch.status != UploadStatus.CHECKED:
        return  # a double click: the first one started it
    before = db.session.scalar(
        select(UploadBatch).where(UploadBatch.company_id == batch.company_id, UploadBatch.id != batch.id,
                                  UploadBatch.sha256 == batch.sha256, UploadBatch.status == UploadStatus.ISSUED)
        .limit(1))
    if before is not None:
        batch.status = UploadStatus.CONFIRM
        batch.message = _issued_before(before)
        db.session.commit()
        return
    # One conditional UPDATE: of two clicks at once, only one starts the job.
    moved = db.session.execute(
        update(UploadBatch).where(UploadBatch.id == batch.id, UploadBatch.status == UploadStatus.CHECKED)
        .values(status=UploadStatus.CHECKING, result=None, heartbeat_at=utcnow()))
    db.session.commit()
    db.session.refresh(batch)
    if moved.rowcount == 1:
        start(batch)


def _issued_before(before: UploadBatch) -> str:
    return (f"A file with exactly this content was uploaded on {before.created_at:%m/%d/%Y at %H:%M} "
            f"UTC and {before.license_count} licenses were issued from it. Uploading it again issues "
            "new licenses for the same entries.")


def confirm(batch: UploadBatch) -> None:
    """The filer asked to issue the licenses of an already-uploaded file again."""
    if batch.awaits_confirmation:
        batch.status, batch.message, batch.heartbeat_at = UploadStatus.CHECKING, None, utcnow()
        db.session.commit()
        start(batch)


def start(batch: UploadBatch) -> None:
    app = current_app._get_current_object()
    if batch.size <= app.config["UPLOAD_INLINE_MAX_BYTES"]:
        process(app, batch.id)
        db.session.expire_all()
        return
    thread = threading.Thread(target=_process_in_background, args=(app, batch.id),
                              name=f"upload-{batch.id}", daemon=True)
    thread.start()


def is_stale(batch: UploadBatch) -> bool:
    limit = timedelta(seconds=current_app.config["UPLOAD_STALE_SECONDS"])
    return batch.working and utcnow() - batch.heartbeat_at > limit


def _progress(batch: UploadBatch, done: int) -> None:
    batch.progress, batch.heartbeat_at = done, utcnow()
    db.session.commit()


def _reject(batch: UploadBatch, problems: Problems | None = None, message: str | None = None) -> None:
    batch.status, batch.finished_at = UploadStatus.REJECTED, utcnow()
    batch.problems = [p.as_dict() for p in problems.first()] if problems else []
    batch.problem_count = problems.total if problems else 0
    batch.message = message
    db.session.commit()


def process(app: Flask, batch_id: int) -> None:
    with app.app_context():
        batch = db.session.get(UploadBatch, batch_id)
        try:
            _check_and_issue(batch)
        except UploadRejected as error:
            db.session.rollback()
            _reject(batch, message=str(error))
        except Exception:  # the filer gets a message, the log the trace
            app.logger.exception("Upload %s failed", batch_id)
            db.session.rollback()
            batch = db.session.get(UploadBatch, batch_id)
            if batch is None:  # removed meanwhile (only a test database is emptied under a job)
                return
            batch.status, batch.finished_at = UploadStatus.FAILED, utcnow()
            batch.message = ("An unexpected error stopped the check. Nothing was issued. Please "
                             "upload the file again; if it happens again, write to "
                             "aluminum.license@trade.gov.")
            db.session.commit()
        finally:
            db.session.remove()


def _process_in_background(app: Flask, batch_id: int) -> None:
    with one_large_file_at_a_time:
        process(app, batch_id)
        release_memory()  # a large file's cells, freed: the worker's memory goes back to its size


def _summary(group, draft) -> dict:
    """What the results page shows of one license of the file (amounts as text: JSON)."""
    return {"entry_id": group.entry_id, "rows": group.rows, "importer": draft.importer_name,
            "kg": str(sum((line.quantity_kg for line in draft.lines), Decimal(0))),
            "usd": str(sum((line.customs_value_usd for line in draft.lines), Decimal(0)))}


def _check_and_issue(batch: UploadBatch) -> None:
    batch_id = batch.id
    product = products.get(None)  # an upload is of the template the page offers (one product today)
    # The content is read apart from the batch, so it is not kept on it for the rest of the job.
    content = db.session.scalar(select(UploadBatch.content).where(UploadBatch.id == batch_id))
    rows = read_first_sheet(content, len(product.template_columns)).rows
    del content
    groups, problems = group_rows(rows, product.key)
    batch.rows = max(len(rows) - 1, 0)
    del rows  # the groups hold the values
    _progress(batch, 0)
    drafts = []
    for start_at in range(0, len(groups), CHUNK):
        chunk = groups[start_at:start_at + CHUNK]
        read = [to_draft(group) for group in chunk]
        found = licensing.check_licenses([draft for draft, _ in read])
        for group, (draft, unreadable), checked in zip(chunk, read, found):
            problems.extend(place(group, p) for p in merge_problems(unreadable, checked))
            if not problems:  # once the file is rejected, nothing will be issued from it
                drafts.append(draft)
        _progress(batch, chunk[-1].rows[-1] - 1)
    if problems:
        _reject(batch, problems)
        return
    summaries = [_summary(group, draft) for group, draft in zip(groups, drafts)]
    if batch.status == UploadStatus.VERIFYING:  # Check File: all is well, nothing is issued
        batch.status, batch.finished_at, batch.license_count = UploadStatus.CHECKED, utcnow(), len(drafts)
        batch.result = summaries
        _progress(batch, batch.rows)
        return
    batch.status = UploadStatus.ISSUING
    _progress(batch, batch.rows)
    user = db.session.get(User, batch.user_id)

    def record(numbers: list[str]) -> None:  # in the licenses' own transaction
        batch.status, batch.finished_at, batch.license_count = UploadStatus.ISSUED, utcnow(), len(numbers)
        batch.result = [{**summary, "number": n} for summary, n in zip(summaries, numbers)]
        try:  # the mail commits with the licenses (aimweb/outbox.py)
            send_email(user.email, f"AIM: {len(numbers)} licenses issued from {batch.filename}",
                       "upload_issued", batch=batch, user=user)
        except Exception:
            current_app.logger.exception("Could not mail the result of upload %s", batch_id)

    try:
        licensing.issue_licenses(user, drafts, upload_batch_id=batch.id, before_commit=record)
    except licensing.LicenseError as error:  # checked again at issue: e.g. the date moved on
        db.session.rollback()
        found = Problems()
        found.extend(CellProblem(2, "A", "Entry ID", p.message) for p in error.problems)
        _reject(batch, found)
