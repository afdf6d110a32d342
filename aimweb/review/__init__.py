"""The Commerce officers' review queue: flagged licenses, Action Required, Clear, the audit trail.

Officers read everything and change no license data: "Mark Action Required" and "Clear" go
through the licensing service like every other change.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from .. import licensing
from ..checks import CHECKS
from ..extensions import db
from ..licenses import display
from ..licenses.export import safe_text
from ..licenses.search import _parse_date
from ..models import Company, Finding, License, LicenseEvent, ProductLine, User
from ..reference.countries import all_countries
from ..reference.hts import current_catalogue
from ..security import role_required

bp = Blueprint("review", __name__, url_prefix="/review")
officer_required = role_required("officer", "admin")
PAGE_SIZE = 25
QUEUE_STATES = ("flagged", "answered")
EVENT_LABELS = {"issued": "Submitted", "corrected": "Corrected (by the filer)", "cancelled": "Cancelled",
                "action_required": "Marked Action Required", "cleared": "Cleared"}


def _queue_filters(args) -> tuple[dict, dict]:
    raw = {k: (args.get(k) or "").strip()[:100] for k in ("check", "category", "country", "company",
                                                         "created_from", "created_to")}
    errors = {}
    for name in ("created_from", "created_to"):
        if raw[name]:
            try:
                _parse_date(raw[name])
            except ValueError:
                errors[name] = "Enter a date like 07/31/2026."
    if raw["check"] and raw["check"] not in CHECKS:
        errors["check"] = "Choose a check from the list."
    return raw, errors


def _queue_ids(raw: dict, state: str):
    """Ids of licenses in one queue state matching the filters, most serious then newest first.

    One state at a time, so the index (review_state, review_score, created_at) gives the order
    and a page stops after its rows, instead of sorting the whole queue.
    """
    query = select(License.id).where(License.review_state == state)
    if raw["check"]:
        query = query.where(select(Finding.id).where(Finding.license_id == License.id,
                                                     Finding.check == raw["check"]).exists())
    if raw["category"]:
        query = query.where(select(ProductLine.id).where(ProductLine.license_id == License.id,
                                                         ProductLine.category == raw["category"]).exists())
    if raw["country"]:
        query = query.where(License.origin_country == raw["country"])
    if raw["company"]:
        query = query.where(License.company_id.in_(
            select(Company.id).where(Company.name.ilike(f"%{raw['company']}%"))))
    if raw["created_from"]:
        query = query.where(License.created_at >= datetime.combine(_parse_date(raw["created_from"]), time.min))
    if raw["created_to"]:
        query = query.where(License.created_at < datetime.combine(_parse_date(raw["created_to"]) + timedelta(days=1), time.min))
    return query


def _queue_page(raw: dict, page: int) -> tuple[list, int]:
    """The page's (license, company name) rows and the queue's size: answers first (the filer is
    waiting), then the flagged licenses, each most serious then newest first."""
    order = (License.review_score.desc(), License.created_at.desc())
    counts = {state: db.session.scalar(select(func.count()).select_from(_queue_ids(raw, state).subquery()))
              for state in ("answered", "flagged")}
    offset, ids = (page - 1) * PAGE_SIZE, []
    for state in ("answered", "flagged"):
        if offset >= counts[state]:
            offset -= counts[state]
            continue
        wanted = PAGE_SIZE - len(ids)
        ids += db.session.scalars(_queue_ids(raw, state).order_by(*order).limit(wanted).offset(offset)).all()
        offset = 0
        if len(ids) >= PAGE_SIZE:
            break
    found = {lic.id: (lic, name) for lic, name in db.session.execute(
        select(License, Company.name).join(Company, Company.id == License.company_id)
        .where(License.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found], counts["answered"] + counts["flagged"]


def _findings(license_ids: list[int]) -> dict[int, list[Finding]]:
    found: dict[int, list[Finding]] = {}
    if license_ids:
        for finding in db.session.scalars(select(Finding).where(Finding.license_id.in_(license_ids))
                                          .order_by(Finding.severity.desc(), Finding.id)):
            found.setdefault(finding.license_id, []).append(finding)
    return found


@bp.get("/")
@officer_required
def queue():
    number = (request.args.get("number") or "").strip().upper()
    if number:
        if db.session.scalar(select(License.id).where(License.number == number[:12])):
            return redirect(url_for("review.license", number=number))
        flash(f"No license numbered {number[:12]}.", "warning")
    context = _queue_context(request.args)
    if request.htmx and request.htmx.target == "queue-results":
        return render_template("review/_queue_results.html", **context)
    categories = sorted({item.category for item in current_catalogue().items.values()})
    return render_template("review/queue.html", categories=categories, countries=all_countries(),
                           **context)


def _queue_context(args) -> dict:
    raw, errors = _queue_filters(args)
    page = max(args.get("page", 1, type=int), 1)
    rows, count = [], 0
    if not errors:
        rows, count = _queue_page(raw, page)
    findings = _findings([lic.id for lic, _ in rows])
    return dict(rows=rows, findings=findings, count=count, page=page, raw=raw, errors=errors,
                checks=CHECKS, pages=max(1, -(-count // PAGE_SIZE)), **display.helpers())


def _queue_args_of_the_page():
    """The queue's filters when an htmx request comes from the queue page, else None."""
    current = urlsplit(request.htmx.current_url or "") if request.htmx else None
    if current is None or current.path != url_for("review.queue"):
        return None
    return MultiDict(parse_qsl(current.query))


def _license_or_404(number: str) -> License:
    lic = db.session.scalar(select(License).where(License.number == (number or "").upper()[:12]))
    if lic is None:
        abort(404)
    return lic


def _license_context(lic: License) -> dict:
    recent = db.session.scalars(select(License).where(License.company_id == lic.company_id,
                                                      License.number.is_not(None), License.id != lic.id)
                                .order_by(License.created_at.desc()).limit(10)).all()
    return dict(lic=lic, events=list(lic.events), findings=_findings([lic.id]).get(lic.id, []),
                recent=recent, event_labels=EVENT_LABELS, checks=CHECKS,
                today=licensing.application_date(), **display.helpers())


@bp.get("/licenses/<number>")
@officer_required
def license(number: str):
    lic = _license_or_404(number)
    template = "review/_panel.html" if request.htmx else "review/license.html"
    return render_template(template, **_license_context(lic))


def _after_action(lic: License, done: str | None = None, error: licensing.LicenseError | None = None,
                  typed: dict | None = None):
    context = _license_context(lic)
    problems = error.problems if error else []
    # At the field it is about (message, note); anything else (a cancelled license) above the forms.
    context["field_errors"] = {p.field: p.message for p in problems if p.field in ("message", "note")}
    context["form_error"] = " ".join(p.message for p in problems if p.field not in ("message", "note"))
    context["typed"] = typed or {}
    if request.htmx:
        # The panel says what was done (a flash would only show on some later full page). On the
        # queue page, the queue is redrawn out of band with the page's filters: the license leaves
        # it (or moves) and the count is right. Not a bare <tr> delete: that fails (and logs an
        # error) when the row is already gone, e.g. a Clear after a Mark Action Required.
        queue_args = _queue_args_of_the_page() if error is None else None
        queue_html = (Markup(render_template("review/_queue_results.html", oob=True,
                                             **_queue_context(queue_args)))
                      if queue_args is not None else None)
        return render_template("review/_panel.html", done=done, queue_html=queue_html, **context)
    if error:
        return render_template("review/license.html", **context), 400
    flash(done, "success")
    return redirect(url_for("review.license", number=lic.number), code=303)


@bp.post("/licenses/<number>/action-required")
@officer_required
def action_required(number: str):
    lic = _license_or_404(number)
    message = request.form.get("message", "")
    try:
        lic = licensing.mark_action_required(lic, current_user, message)
    except licensing.LicenseError as error:
        return _after_action(lic, error=error, typed={"message": message[:2000]})
    return _after_action(lic, f"License {lic.number} is marked Action Required; the filer will be emailed.")


@bp.post("/licenses/<number>/clear")
@officer_required
def clear(number: str):
    lic = _license_or_404(number)
    note = request.form.get("note", "")
    try:
        lic = licensing.clear_license(lic, current_user, note)
    except licensing.LicenseError as error:
        return _after_action(lic, error=error, typed={"note": note[:2000]})
    return _after_action(lic, f"License {lic.number} is cleared.")


# ----- the audit trail ---------------------------------------------------------------------------

def _audit_query(args):
    query = (select(LicenseEvent, License.number, User.email)
             .join(License, License.id == LicenseEvent.license_id)
             .outerjoin(User, User.id == LicenseEvent.actor_id))
    number = (args.get("number") or "").strip().upper()[:12]
    kind = args.get("kind") or ""
    if number:
        query = query.where(License.number == number)
    if kind in EVENT_LABELS:
        query = query.where(LicenseEvent.kind == kind)
    if args.get("officers"):
        query = query.where(LicenseEvent.kind.in_(("action_required", "cleared")))
    return query.order_by(LicenseEvent.at.desc(), LicenseEvent.id.desc())


@bp.get("/audit")
@officer_required
def audit():
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.session.execute(_audit_query(request.args).limit(50).offset((page - 1) * 50)).all()
    # The filters without the page: the page links add their own.
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("review/audit.html", rows=rows, page=page, labels=EVENT_LABELS,
                           args=args, **display.helpers())


@bp.get("/audit.csv")
@officer_required
def audit_csv():
    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow(["When (UTC)", "License Number", "What", "Who", "Officer-only", "Note", "Changes"])
        result = db.session.execute(_audit_query(request.args).execution_options(yield_per=2000))
        for count, (event, number, email) in enumerate(result, start=1):
            changes = "; ".join(f"{c['label']}: {c['before']} -> {c['after']}" for c in event.changes or [])
            writer.writerow([event.at.strftime("%Y-%m-%d %H:%M:%S"), number,
                             EVENT_LABELS.get(event.kind, event.kind), email or "AIM",
                             "yes" if event.internal else "no", safe_text(event.note or ""),
                             safe_text(changes)])
            if count % 500 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    from flask import stream_with_context

    response = Response(stream_with_context(lines()), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="aim-audit-trail.csv"'
    return response

