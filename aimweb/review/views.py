"""The Commerce officers' review queue: flagged licenses, Action Required, Close Review, the audit
trail.

Officers read everything and change no license data: "Mark Action Required" and "Close Review"
(the review state and event kind stay "cleared") go through the licensing service like every other
change. The license page and the panel step through the queue (Previous/Next) with the queue's
filters, carried in their query string.
"""
from __future__ import annotations

import csv
import io
from urllib.parse import parse_qsl

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import checks, formatting, licensing, products
from ..checks import CHECKS
from ..clock import application_date
from ..enums import ReviewState
from ..extensions import db
from ..models import License
from ..reference.countries import all_countries
from ..web.access import officer_required
from ..web.bounds import page_number
from ..web.downloads import CSV, attachment, safe_text
from ..web.htmx import current_page, page_or_partial, wants_partial
from . import bp
from .queries import (
    EVENT_LABELS,
    PAGE_SIZE,
    audit_query,
    findings_of,
    latest_answer,
    max_queue_page,
    queue_categories,
    queue_filters,
    queue_neighbours,
    queue_page,
    replies_of,
)


@bp.get("/")
@officer_required
def queue():
    number = (request.args.get("number") or "").strip().upper()
    if number:
        if db.session.scalar(select(License.id).where(License.number == number[:12])):
            return redirect(url_for("review.license", number=number))
        flash(f"No license numbered {number[:12]}.", "warning")
    if wants_partial("q-category-group"):
        # The Product select asks for its categories (the rest of the filters is left as it is).
        raw, errors = queue_filters(request.args)
        return render_template("review/_queue_category.html", raw=raw, errors=errors,
                               categories=queue_categories(raw["product"]))
    context = _queue_context(request.args)
    context["categories"] = queue_categories(context["raw"]["product"])
    if wants_partial("queue-results"):
        # The results, and the category filter out of band: it lists the chosen product's.
        return render_template("review/_queue_filtered.html", **context)
    thresholds = checks.Thresholds.from_config(current_app.config)
    return render_template("review/queue.html", countries=all_countries(),
                           explanations=checks.explanations(thresholds), **context)


def _queue_context(args) -> dict:
    raw, errors = queue_filters(args)
    page = page_number(args, max_queue_page())
    rows, count, more = [], 0, False
    if not errors:
        rows, count, more = queue_page(raw, page)
    findings = findings_of([lic.id for lic, _ in rows])
    replies = replies_of([lic.id for lic, _ in rows if lic.review_state == ReviewState.ANSWERED])
    return dict(rows=rows, findings=findings, replies=replies, count=count, more=more, page=page, raw=raw,
                errors=errors, filter_args=_filter_args(raw, errors), checks=CHECKS,
                pages=max(1, -(-count // PAGE_SIZE)))


def _filter_args(raw: dict, errors: dict) -> dict:
    """The queue's filters a license link carries (those set; none when one is unreadable)."""
    return {} if errors else {name: value for name, value in raw.items() if value}


def _queue_state(value) -> ReviewState | None:
    """The `at` parameter: the queue state a license was in when the officer acted on it."""
    return next((state for state in ReviewState.QUEUED if state == value), None)


def _queue_args_of_the_page():
    """The queue's filters when an htmx request comes from the queue page, else None."""
    current = current_page()
    if current is None or current.path != url_for("review.queue"):
        return None
    return MultiDict(parse_qsl(current.query))


def _license_or_404(number: str) -> License:
    lic = db.session.scalar(select(License).where(License.number == (number or "").upper()[:12]))
    if lic is None:
        abort(404)
    return lic


def _on_queue_page() -> bool:
    current = current_page()
    return current is not None and current.path == url_for("review.queue")


def _license_context(lic: License, at: ReviewState | None = None) -> dict:
    """The panel's context. The queue's filters come from the query string; `at` is where the
    license stood in the queue before an officer's action moved it out (else its own state, or
    the `at` parameter): Previous/Next step on from that place."""
    recent = db.session.scalars(select(License).where(License.company_id == lic.company_id,
                                                      License.number.is_not(None), License.id != lic.id)
                                .order_by(License.created_at.desc()).limit(10)).all()
    raw, errors = queue_filters(request.args)
    filter_args = _filter_args(raw, errors)
    at = lic.review_state if lic.review_state in ReviewState.QUEUED else (
        at or _queue_state(request.args.get("at")))
    previous, following = queue_neighbours({name: filter_args.get(name, "") for name in raw}, lic, at)
    events = list(lic.events)
    answer = latest_answer(events) if lic.review_state == ReviewState.ANSWERED else None
    findings = findings_of([lic.id]).get(lic.id, [])
    product = products.get(lic.product)
    # Beside a transshipment finding, what that check looks for in this product.
    transshipment_note = (checks.transshipment_explanation(
        product, checks.Thresholds.from_config(current_app.config))
        if any(f.check == "transshipment" for f in findings) else None)
    return dict(lic=lic, events=events, findings=findings, product=product,
                transshipment_note=transshipment_note,
                recent=recent, checks=CHECKS, answer=answer, previous=previous, following=following,
                filter_args=filter_args, standalone=not _on_queue_page(),
                # The officer's forms post to URLs with the filters and the place (see _officer_action).
                here={**filter_args, **({"at": at.value} if at else {})},
                today=application_date())


@bp.get("/licenses/<number>")
@officer_required
def license(number: str):
    lic = _license_or_404(number)
    return page_or_partial("review/license.html", "review/_panel.html", **_license_context(lic))


def _after_action(lic: License, done: str | None = None, error: licensing.LicenseError | None = None,
                  typed: dict | None = None, at: ReviewState | None = None):
    context = _license_context(lic, at)
    problems = error.problems if error else []
    # At the field it is about (message, note); anything else (a cancelled license) above the forms.
    context["field_errors"] = {p.field: p.message for p in problems if p.field in ("message", "note")}
    context["form_error"] = " ".join(p.message for p in problems if p.field not in ("message", "note"))
    context["typed"] = typed or {}
    if wants_partial():
        # The panel says what was done (a flash would only show on some later full page). On the
        # queue page, the queue is redrawn out of band with the page's filters: the license leaves
        # it (or moves) and the count is right. Not a bare <tr> delete: that fails (and logs an
        # error) when the row is already gone, e.g. a Clear after a Mark Action Required.
        queue_args = _queue_args_of_the_page() if error is None else None
        queue_html = (Markup(render_template("review/_queue_results.html", oob=True,  # noqa: S704 - Jinja autoescaped it
                                             **_queue_context(queue_args)))
                      if queue_args is not None else None)
        return render_template("review/_panel.html", done=done, queue_html=queue_html, **context)
    if error:
        return render_template("review/license.html", **context), 400
    flash(done, "success")
    place = {"at": at} if at in ReviewState.QUEUED else {}
    return redirect(url_for("review.license", number=lic.number, **context["filter_args"], **place), code=303)


def _officer_action(number: str, field: str, act, done: str):
    """Mark Action Required or Close Review: the officer's text from `field`, the service's answer."""
    lic = _license_or_404(number)
    text = request.form.get(field, "")
    at = lic.review_state if lic.review_state in ReviewState.QUEUED else _queue_state(request.args.get("at"))
    try:
        lic = act(lic, current_user, text)
    except licensing.LicenseError as error:
        return _after_action(lic, error=error, typed={field: text[:2000]}, at=at)
    return _after_action(lic, done.format(number=lic.number), at=at)


@bp.post("/licenses/<number>/action-required")
@officer_required
def action_required(number: str):
    return _officer_action(number, "message", licensing.mark_action_required,
                           "License {number} is marked Action Required; the filer will be emailed.")


@bp.post("/licenses/<number>/clear")
@officer_required
def clear(number: str):
    return _officer_action(number, "note", licensing.clear_license,
                           "Review of license {number} closed: no action needed.")


# ----- the audit trail ---------------------------------------------------------------------------

@bp.get("/audit")
@officer_required
def audit():
    page = page_number(request.args)
    rows = db.session.execute(audit_query(request.args).limit(50).offset((page - 1) * 50)).all()
    # The filters without the page: the page links add their own.
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("review/audit.html", rows=rows, page=page, labels=EVENT_LABELS,
                           args=args)


@bp.get("/audit.csv")
@officer_required
def audit_csv():
    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow(["When (UTC)", "License Number", "What", "Who", "Officer-only", "Note", "Changes",
                         "Filer's reply"])
        result = db.session.execute(audit_query(request.args).execution_options(yield_per=2000))
        for count, (event, number, email) in enumerate(result, start=1):
            changes = "; ".join(f"{c['label']}: {c['before']} -> {c['after']}" for c in event.changes or [])
            writer.writerow([formatting.iso_datetime(event.at), number,
                             event.kind.label, safe_text(email or "AIM"),
                             "yes" if event.internal else "no", safe_text(event.note or ""),
                             safe_text(changes), safe_text(event.reply or "")])
            if count % 500 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return attachment(Response(stream_with_context(lines()), mimetype=CSV), "aim-audit-trail.csv")

