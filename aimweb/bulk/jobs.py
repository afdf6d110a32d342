"""An upload's life: received, queued, checked row by row, then rejected with every problem or issued.

Small files are handled inside the request; larger ones by a `process_upload` job of the worker
(aimweb/jobs.py) while the page polls the batch's progress (stored in the database, so any web
worker can answer). The licenses and the batch's Issued status commit in one transaction.

A job first claims the batch: one conditional UPDATE moves it from Queued to Checking and counts
the attempt. The count is the job's claim: every later write of the job (progress, rejection, the
Issued status that commits with the licenses) is `UPDATE ... WHERE attempts = <claim>` and fails
(`ClaimLost`, rolling the licenses back) once another job holds the batch. A worker killed
mid-upload (`kill -9`) therefore leaves nothing issued and a batch that stops moving; the upload
sweep (every minute, and when a worker starts) puts it back in the queue, and the next job checks
the file from the start. After UPLOAD_MAX_ATTEMPTS jobs the sweep ends it Failed, nothing issued,
with a message: a batch is issued once, or not at all, and always ends in a state the page explains.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from flask import Flask, current_app
from sqlalchemy import case, literal, select, update
from sqlalchemy.exc import IntegrityError

from .. import jobs as queue
from .. import licensing, products
from ..enums import UploadStatus
from ..extensions import db
from ..inputs import merge_problems
from ..mailer import send_email
from ..models import UploadBatch, User, utcnow
from .rows import CellProblem, Problems, group_rows, place, read_width, to_draft
from .workbook import UploadRejected, one_large_file_at_a_time, read_first_sheet, release_memory

CHUNK = 250  # licenses checked between two progress updates


def receive(user: User, filename: str, data: bytes, form_token: str, confirmed: bool = False,
            check_only: bool = False, product: str = products.DEFAULT,
            entry_type: str = "consumption") -> UploadBatch:
    """Record the upload (once per form) and start checking it, or ask first if it was issued before.

    `check_only` ("Check File"): every row is checked and nothing is issued (the batch ends
    Checked, and the filer may then issue it with Upload File: `issue_checked`). `product` is the
    one the filer chose for the file (a key of products.PRODUCTS): a workbook of another is refused.
    `entry_type` (a key of enums.ENTRY_TYPES), chosen for the file too, is every license's."""
    existing = db.session.scalar(select(UploadBatch).where(UploadBatch.form_token == form_token))
    if existing is not None:
        return existing  # a double submit of the same form
    digest = hashlib.sha256(data).hexdigest()
    batch = UploadBatch(company_id=user.company_id, user_id=user.id, form_token=form_token, product=product,
                        entry_type=entry_type,
                        filename=(filename or "upload.xlsx")[-255:], sha256=digest, size=len(data),
                        # Check File's batch stays Verifying while queued: its job then knows to
                        # issue nothing (claim keeps the status).
                        content=data, status=UploadStatus.VERIFYING if check_only else UploadStatus.QUEUED)
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
        .values(status=UploadStatus.QUEUED, result=None, heartbeat_at=utcnow()))
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
        batch.status, batch.message, batch.heartbeat_at = UploadStatus.QUEUED, None, utcnow()
        db.session.commit()
        start(batch)


def start(batch: UploadBatch) -> None:
    app = current_app._get_current_object()
    if batch.size <= app.config["UPLOAD_INLINE_MAX_BYTES"]:
        process(app, batch.id)
        db.session.expire_all()
        return
    queue.enqueue("process_upload", batch.id)  # not queued (broker down): the sweep queues it


@queue.task("process_upload")
def process_upload(batch_id: int) -> None:
    with one_large_file_at_a_time:
        process(current_app._get_current_object(), batch_id)
        release_memory()  # a large file's cells, freed: the worker's memory goes back to its size


def is_stale(batch: UploadBatch) -> bool:
    """No job has moved it for UPLOAD_STALE_SECONDS: its worker stopped, or none is free yet."""
    limit = timedelta(seconds=current_app.config["UPLOAD_STALE_SECONDS"])
    return batch.working and utcnow() - batch.heartbeat_at > limit


class ClaimLost(Exception):
    """Another job holds the batch now: this one stops and writes nothing."""


def claim(batch_id: int) -> int | None:
    """Take a queued batch for this job: its claim (the attempt number), or None (not queued).

    A Check File batch is Verifying from the start to its end: a second job for it (queued twice,
    or by the sweep) takes it over, and the first one's writes then find the claim gone."""
    taken = db.session.execute(
        update(UploadBatch)
        .where(UploadBatch.id == batch_id, UploadBatch.status.in_([UploadStatus.QUEUED, UploadStatus.VERIFYING]))
        .values(status=case((UploadBatch.status == UploadStatus.QUEUED,
                             literal(UploadStatus.CHECKING, UploadBatch.status.type)), else_=UploadBatch.status),
                attempts=UploadBatch.attempts + 1, heartbeat_at=utcnow(), progress=0)
        .returning(UploadBatch.attempts).execution_options(synchronize_session=False)).scalar()
    db.session.commit()
    return taken


def _write(batch: UploadBatch, claim: int, commit: bool = True, **values) -> None:
    """Write the batch while the claim is this job's (in the caller's transaction when not `commit`)."""
    done = db.session.execute(
        update(UploadBatch).where(UploadBatch.id == batch.id, UploadBatch.attempts == claim,
                                  UploadBatch.status.in_(UploadStatus.RUNNING))
        .values(heartbeat_at=utcnow(), **values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.rollback()
        raise ClaimLost(batch.id)
    if commit:
        db.session.commit()


def _reject(batch: UploadBatch, claim: int, problems: Problems | None = None, message: str | None = None) -> None:
    _write(batch, claim, status=UploadStatus.REJECTED, finished_at=utcnow(), message=message,
           problems=[p.as_dict() for p in problems.first()] if problems else [],
           problem_count=problems.total if problems else 0)


def process(app: Flask, batch_id: int) -> None:
    with app.app_context():
        try:
            mine = claim(batch_id)
            if mine is None:  # done, or another job has it (a job queued twice)
                return
            batch = db.session.get(UploadBatch, batch_id)
            support = products.get(batch.product).support_email
            try:
                _check_and_issue(batch, mine)
            except UploadRejected as error:
                db.session.rollback()
                _reject(batch, mine, message=str(error))
            except ClaimLost:
                raise
            except Exception:  # the filer gets a message, the log the trace
                app.logger.exception("Upload %s failed", batch_id)
                db.session.rollback()
                _write(batch, mine, status=UploadStatus.FAILED, finished_at=utcnow(),
                       message="An unexpected error stopped the check. Nothing was issued. Please "
                               f"upload the file again; if it happens again, write to {support}.")
        except ClaimLost:
            app.logger.warning("Upload %s: another job took it over; this one stopped", batch_id)
        finally:
            db.session.remove()


@queue.periodic("upload_sweep", "QUEUE_UPLOAD_SWEEP")
def sweep() -> dict[str, int]:
    """Batches no job has moved for UPLOAD_STALE_SECONDS: a worker died with them (or their job
    was never queued). Queued again, or ended Failed after UPLOAD_MAX_ATTEMPTS jobs."""
    cfg = current_app.config
    now = utcnow()
    stale = UploadBatch.heartbeat_at < now - timedelta(seconds=cfg["UPLOAD_STALE_SECONDS"])
    found = db.session.execute(
        select(UploadBatch.id, UploadBatch.status, UploadBatch.attempts)
        .where(UploadBatch.status.in_(UploadStatus.WORKING), stale).order_by(UploadBatch.id).limit(200)).all()
    db.session.commit()
    done = {"requeued": 0, "ended": 0}
    for batch_id, status, attempts in found:
        # Each change only if the batch is still as it was read (no job moved it meanwhile).
        same = (UploadBatch.id == batch_id, UploadBatch.status == status, UploadBatch.attempts == attempts, stale)
        if status != UploadStatus.QUEUED and attempts >= cfg["UPLOAD_MAX_ATTEMPTS"]:
            values = dict(status=UploadStatus.FAILED, finished_at=now, heartbeat_at=now,
                          message=f"The check was interrupted {attempts} times (the server running it "
                                  "stopped). Nothing was issued: please upload the file again.")
        else:  # a Check File batch is queued again as it is (Verifying)
            values = dict(status=status if status == UploadStatus.VERIFYING else UploadStatus.QUEUED,
                          heartbeat_at=now)
        changed = db.session.execute(update(UploadBatch).where(*same).values(**values)
                                     .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if changed and values["status"] == UploadStatus.FAILED:
            current_app.logger.error("Upload %s failed for good after %s interrupted jobs", batch_id, attempts)
            done["ended"] += 1
        elif changed:
            current_app.logger.warning("Upload %s: its job stopped moving; queued again", batch_id)
            queue.enqueue("process_upload", batch_id)
            done["requeued"] += 1
    return done


def _summary(group, draft) -> dict:
    """What the results page shows of one license of the file (amounts as text: JSON)."""
    return {"entry_id": group.entry_id, "rows": group.rows, "importer": draft.importer_name,
            # The other parties as filed: the results page checks them against the address book.
            "exporter": draft.exporter_name, "manufacturer": draft.manufacturer_name,
            "kg": str(sum((line.quantity_kg for line in draft.lines), Decimal(0))),
            "usd": str(sum((line.customs_value_usd for line in draft.lines), Decimal(0)))}


def _check_and_issue(batch: UploadBatch, claim: int) -> None:
    batch_id = batch.id
    product = products.get(batch.product)  # the filer's choice: its template's columns are read
    entry_type = batch.entry_type  # the filer's choice too: every license's
    # The content is read apart from the batch, so it is not kept on it for the rest of the job.
    content = db.session.scalar(select(UploadBatch.content).where(UploadBatch.id == batch_id))
    sheet = read_first_sheet(content, len(product.template_columns), keep=read_width())
    del content
    rows, sheet_name = sheet.rows, sheet.name
    del sheet
    groups, problems = group_rows(rows, product.key, sheet_name)
    row_count = max(len(rows) - 1, 0)
    del rows  # the groups hold the values
    _write(batch, claim, rows=row_count, progress=0)
    drafts = []
    for start_at in range(0, len(groups), CHUNK):
        chunk = groups[start_at:start_at + CHUNK]
        read = [to_draft(group, entry_type) for group in chunk]
        found = licensing.check_licenses([draft for draft, _ in read])
        for group, (draft, unreadable), checked in zip(chunk, read, found):
            problems.extend(place(group, p) for p in merge_problems(unreadable, checked))
            if not problems:  # once the file is rejected, nothing will be issued from it
                drafts.append(draft)
        _write(batch, claim, progress=chunk[-1].rows[-1] - 1)
    if problems:
        _reject(batch, claim, problems)
        return
    summaries = [_summary(group, draft) for group, draft in zip(groups, drafts)]
    if batch.status == UploadStatus.VERIFYING:  # Check File: all is well, nothing is issued
        _write(batch, claim, status=UploadStatus.CHECKED, finished_at=utcnow(), license_count=len(drafts),
               result=summaries, progress=row_count)
        return
    _write(batch, claim, status=UploadStatus.ISSUING, progress=row_count)
    user = db.session.get(User, batch.user_id)

    def record(numbers: list[str]) -> None:  # in the licenses' own transaction
        result = [{**summary, "number": n} for summary, n in zip(summaries, numbers)]
        # Only while the claim is ours: otherwise ClaimLost, and the licenses roll back with it.
        _write(batch, claim, commit=False, status=UploadStatus.ISSUED, finished_at=utcnow(),
               license_count=len(numbers), result=result)
        try:  # the mail commits with the licenses (aimweb/outbox.py)
            issued = SimpleNamespace(filename=batch.filename, license_count=len(numbers), result=result,
                                     product=product, entry_type=entry_type)
            send_email(user.email, f"{product.short_name}: {len(numbers)} licenses issued from {batch.filename}",
                       "upload_issued", batch=issued, user=user)
        except Exception:
            current_app.logger.exception("Could not mail the result of upload %s", batch_id)

    try:
        licensing.issue_licenses(user, drafts, upload_batch_id=batch.id, before_commit=record)
    except licensing.LicenseError as error:  # checked again at issue: e.g. the date moved on
        db.session.rollback()
        found = Problems()
        found.extend(CellProblem(2, "A", "Entry ID", p.message) for p in error.problems)
        _reject(batch, claim, found)
