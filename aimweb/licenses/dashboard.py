"""The License Dashboard: list, summaries, Search & Filter, saved searches, export, license actions."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import licensing
from ..clock import application_date
from ..enums import LicenseStatus
from ..extensions import db
from ..models import License, SavedSearch
from ..web.access import filer_required, license_or_404, signed_in
from ..web.htmx import page_or_partial, wants_partial
from . import bp, export
from .search import SEARCHABLE_STATUSES, dashboard_page, line_totals, parse_filters

MAX_SAVED_SEARCHES = 50


def _saved_searches():
    return db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == current_user.id)
                              .order_by(SavedSearch.name, SavedSearch.id)).all()


@bp.get("/")
@signed_in
def dashboard():
    if current_user.is_officer:
        return redirect(url_for("review.queue"))
    if current_user.company is None:
        return redirect(url_for("account.company"))
    filters = parse_filters(request.args)
    page = None if filters.errors else dashboard_page(
        current_user.company_id, filters, request.args.get("page", 1, type=int))
    drafts = db.session.scalars(
        select(License).where(License.company_id == current_user.company_id,
                              License.status == LicenseStatus.DRAFT, License.form_data.is_not(None))
        .options(selectinload(License.lines), selectinload(License.amends))
        .order_by(License.updated_at.desc()).limit(5)).all()
    action_required = db.session.scalar(
        select(func.count()).select_from(License).where(
            License.company_id == current_user.company_id,
            License.status == LicenseStatus.ACTION_REQUIRED))
    context = dict(filters=filters, page=page, drafts=drafts, statuses=SEARCHABLE_STATUSES,
                   action_required=action_required,
                   saved=_saved_searches(), today=application_date())
    return page_or_partial("licenses/dashboard.html", "licenses/_results.html",
                           hx_target="license-results", **context)


@bp.get("/<number>/summary")
@filer_required
def summary(number: str):
    """The plus sign: the license's summary opened in place under its row (htmx)."""
    lic = license_or_404(number)
    if not wants_partial():
        return redirect(url_for("licenses.view", number=lic.number))
    return render_template("licenses/_summary.html", lic=lic, open=request.args.get("hide") is None)


# ----- Save This Search --------------------------------------------------------------------------

def _saved_or_404(search_id: int) -> SavedSearch:
    saved = db.session.get(SavedSearch, search_id)
    if saved is None or saved.user_id != current_user.id:
        abort(404)
    return saved


def _clean_name(raw: str | None) -> str | None:
    name = " ".join((raw or "").split())
    if not name:
        flash("Give the search a name, like “Submitted in July”.", "error")
        return None
    if len(name) > 80:
        flash("A search name may have at most 80 characters.", "error")
        return None
    return name


@bp.post("/searches")
@filer_required
def save_search():
    filters = parse_filters(request.form)
    query = filters.query_string()
    back = url_for("licenses.dashboard") + (f"?{query}" if query else "")
    if filters.errors:
        flash("Correct the search before saving it.", "error")
        return redirect(back)
    name = _clean_name(request.form.get("name"))
    if name is None:
        return redirect(back)
    if len(_saved_searches()) >= MAX_SAVED_SEARCHES:
        flash(f"You can keep at most {MAX_SAVED_SEARCHES} saved searches: delete one first.", "error")
        return redirect(back)
    db.session.add(SavedSearch(user_id=current_user.id, name=name, query=query))
    db.session.commit()
    flash(f"Search “{name}” saved.", "success")
    return redirect(back)


@bp.post("/searches/<int:search_id>/rename")
@filer_required
def rename_search(search_id: int):
    saved = _saved_or_404(search_id)
    name = _clean_name(request.form.get("name"))
    if name is not None:
        saved.name = name
        db.session.commit()
        flash(f"Search renamed “{name}”.", "success")
    return redirect(url_for("licenses.dashboard") + "#saved-searches")


@bp.post("/searches/<int:search_id>/delete")
@filer_required
def delete_search(search_id: int):
    saved = _saved_or_404(search_id)
    db.session.delete(saved)
    db.session.commit()
    flash(f"Search “{saved.name}” deleted.", "success")
    return redirect(url_for("licenses.dashboard") + "#saved-searches")


@bp.get("/searches/<int:search_id>")
@filer_required
def open_search(search_id: int):
    saved = _saved_or_404(search_id)
    return redirect(url_for("licenses.dashboard") + (f"?{saved.query}" if saved.query else ""))


# ----- Export ------------------------------------------------------------------------------------

@bp.get("/export.<any(csv, xlsx):kind>")
@filer_required
def export_licenses(kind: str):
    filters = parse_filters(request.args)
    if filters.errors:
        flash("Correct the search before exporting it.", "error")
        return redirect(url_for("licenses.dashboard", **{k: v for k, v in filters.raw.items() if v}))
    return export.response(current_user.company_id, filters, kind)


# ----- License Actions ---------------------------------------------------------------------------

@bp.post("/<number>/duplicate")
@filer_required
def duplicate(number: str):
    lic = license_or_404(number)
    try:
        draft = licensing.duplicate_license(lic, current_user)
    except licensing.LicenseError as error:
        flash(" ".join(p.message for p in error.problems), "error")
        return redirect(url_for("licenses.view", number=lic.number))
    flash(f"This is a copy of license {number.upper()}. Nothing is issued until you Submit; "
          "the original is unchanged.", "info")
    return redirect(url_for("licenses.draft", draft_id=draft.id))


@bp.post("/<number>/modify")
@filer_required
def modify(number: str):
    lic = license_or_404(number)
    try:
        draft = licensing.start_modification(lic, current_user)
    except licensing.LicenseError as error:
        flash(" ".join(p.message for p in error.problems), "error")
        return redirect(url_for("licenses.view", number=lic.number))
    return redirect(url_for("licenses.draft", draft_id=draft.id))


@bp.route("/<number>/cancel", methods=["GET", "POST"])
@filer_required
def cancel(number: str):
    lic = license_or_404(number)
    if request.method == "GET":
        return page_or_partial("licenses/cancel.html", "licenses/_cancel_confirm.html", lic=lic)
    try:
        lic = licensing.cancel_license(lic, current_user)
        message, category = f"License {lic.number} has been cancelled.", "success"
    except licensing.LicenseError as error:  # e.g. cancelled already, in another window
        db.session.expire_all()
        lic = license_or_404(number)
        message, category = " ".join(p.message for p in error.problems), "error"
    if wants_partial():
        # The row as it is now says it either way: Cancelled, no Modify or Cancel offered.
        return render_template("licenses/_row.html", lic=lic, totals=line_totals([lic.id]),
                               today=application_date(), oob_summary=True)
    flash(message, category)
    return redirect(url_for("licenses.view", number=lic.number), code=303)

