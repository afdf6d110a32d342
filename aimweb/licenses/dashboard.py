"""The License Dashboard: list, summaries, Search & Filter, saved searches, export, license actions."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select

from .. import licensing
from ..clock import application_date
from ..extensions import db
from ..inputs import record_id
from ..models import SavedSearch
from ..web.access import filer_required, license_or_404, member_required, signed_in
from ..web.htmx import page_or_partial, wants_partial
from . import bp, export, pdf
from .search import (
    COMPANY_ITSELF,
    LICENSE_VIEWS,
    PAGE_SIZES,
    PERIODS,
    PRODUCT_NAMES,
    QUICK_FILTERS,
    SEARCHABLE_STATUSES,
    SORT_LABELS,
    Row,
    dashboard_header,
    dashboard_page,
    drafts_page,
    filter_choices,
    parse_filters,
    recent_drafts,
)

MAX_SAVED_SEARCHES = 50
# Export selected: at most a page of the largest size. Print selected renders every license in the
# request (about 0.2-0.5 s each with WeasyPrint, measured at 540 ms under load 8): 50 stay within
# gunicorn's 30 s.
MAX_SELECTED = 250
MAX_PRINTED = 50


def _license_key(args, name: str) -> int | None:
    """A page link's key (a license id): ignored unless a whole number the database can hold."""
    return record_id(args[name]) if name in args else None


_SAVED = (select(SavedSearch.id, SavedSearch.name).where(SavedSearch.user_id == bindparam("user_id"))
          .order_by(SavedSearch.name, SavedSearch.id))


def _saved_searches():
    return db.session.connection().execute(_SAVED, {"user_id": current_user.id}).all()


@bp.get("/")
@signed_in
def dashboard():
    if current_user.is_officer:
        return redirect(url_for("review.queue"))
    if current_user.company_id is None:
        return redirect(url_for("account.company"))
    company_id, today = current_user.company_id, application_date()
    whole_page = not wants_partial("license-results")  # a search in place shows the results only
    # The Branch and Filed by choices: for the filters' selects, and to check a branch or user asked for.
    choices = (filter_choices(company_id)
               if whole_page or request.args.get("branch") or request.args.get("filed_by") else None)
    filters = parse_filters(request.args, today, choices)
    header = dashboard_header(company_id, current_user.id)
    number = request.args.get("page", 1, type=int)
    if filters.errors:
        page = None
    elif filters.drafts:
        page = drafts_page(company_id, filters, number)
    else:
        page = dashboard_page(company_id, filters, number, header.stamp, today,
                              after=_license_key(request.args, "after"), before=_license_key(request.args, "before"))
    context = dict(choices=choices, company_itself=COMPANY_ITSELF,
                   filters=filters, page=page, header=header, statuses=SEARCHABLE_STATUSES, today=today,
                   quick_filters=QUICK_FILTERS, periods=PERIODS, license_views=LICENSE_VIEWS,
                   product_names=PRODUCT_NAMES, sort_labels=SORT_LABELS, page_sizes=PAGE_SIZES,
                   max_selected=MAX_SELECTED, max_printed=MAX_PRINTED,
                   drafts=recent_drafts(company_id) if whole_page and header.has_drafts and not filters.drafts else [],
                   saved=_saved_searches() if whole_page and header.has_saved_searches else [])
    return page_or_partial("licenses/dashboard.html", "licenses/_results.html",
                           hx_target="license-results", **context)


@bp.get("/<number>/summary")
@member_required
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


def _changed(message: str, to: str | None = None):
    """Commit a change to the user's saved searches, say what it was and go back (by default to
    the list of saved searches)."""
    db.session.commit()
    flash(message, "success")
    return redirect(to or url_for("licenses.dashboard") + "#saved-searches")


@bp.post("/searches")
@member_required
def save_search():
    filters = parse_filters(request.form, application_date(), filter_choices(current_user.company_id))
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
    return _changed(f"Search “{name}” saved.", back)


@bp.post("/searches/<int:search_id>/rename")
@member_required
def rename_search(search_id: int):
    saved = _saved_or_404(search_id)
    name = _clean_name(request.form.get("name"))
    if name is None:
        return redirect(url_for("licenses.dashboard") + "#saved-searches")
    saved.name = name
    return _changed(f"Search renamed “{name}”.")


@bp.post("/searches/<int:search_id>/delete")
@member_required
def delete_search(search_id: int):
    saved = _saved_or_404(search_id)
    db.session.delete(saved)
    return _changed(f"Search “{saved.name}” deleted.")


@bp.get("/searches/<int:search_id>")
@member_required
def open_search(search_id: int):
    saved = _saved_or_404(search_id)
    return redirect(url_for("licenses.dashboard") + (f"?{saved.query}" if saved.query else ""))


# ----- Export ------------------------------------------------------------------------------------

@bp.get("/export.<any(csv, xlsx):kind>")
@member_required
def export_licenses(kind: str):
    filters = parse_filters(request.args, application_date())
    if filters.errors or filters.drafts:
        flash("Drafts have no license to export yet." if filters.drafts and not filters.errors
              else "Correct the search before exporting it.", "error")
        return redirect(url_for("licenses.dashboard", **{k: v for k, v in filters.raw.items() if v}))
    return export.response(current_user.company_id, filters, kind)


# ----- Export selected, Print selected -----------------------------------------------------------

def _selected(most: int = MAX_SELECTED) -> tuple[list[int] | None, object]:
    """The licenses ticked on the dashboard (form values `license`, ids) and the search to go back
    to. None (with a message flashed) when there are none, more than `most`, or one is not an id."""
    filters = parse_filters(request.form, application_date())
    query = filters.query_string()
    back = redirect(url_for("licenses.dashboard") + (f"?{query}" if query else ""), code=303)
    raw = request.form.getlist("license")
    if len(raw) > most:
        what = "print" if most == MAX_PRINTED else "export"
        flash(f"You can {what} at most {most} selected licenses at a time (you selected {len(raw):,}): "
              + ("print fewer at a time." if what == "print" else "export the whole search instead."), "error")
        return None, back
    ids = [record_id(value) for value in raw]
    if None in ids:   # not an id at all: no license of anyone's
        abort(404)
    if not ids:
        flash("Select one or more licenses first: tick the box in front of each.", "error")
        return None, back
    return sorted(set(ids)), filters


@bp.post("/selected/export.<any(csv, xlsx):kind>")
@member_required   # a viewer exports and prints too
def export_selected(kind: str):
    ids, filters = _selected()
    if ids is None:
        return filters
    # Only the company's licenses: an id of another company's (or a draft) is a license not found.
    if export.count_selected(current_user.company_id, ids) != len(ids):
        abort(404)
    return export.response(current_user.company_id, filters, kind, ids=ids)


@bp.post("/selected/pdf")
@member_required
def print_selected():
    ids, filters = _selected(MAX_PRINTED)
    if ids is None:
        return filters
    licenses = pdf.company_licenses(current_user.company_id, ids, filters)
    if len(licenses) != len(ids):
        abort(404)
    return pdf.selected_response(licenses)


# ----- License Actions ---------------------------------------------------------------------------

def _new_draft_from(number: str, start):
    """Duplicate and Modify: a draft started from the license by `start`, opened in the form."""
    lic = license_or_404(number)
    try:
        draft = start(lic, current_user)
    except licensing.LicenseError as error:
        flash(" ".join(p.message for p in error.problems), "error")
        return redirect(url_for("licenses.view", number=lic.number))
    return redirect(url_for("licenses.draft", draft_id=draft.id))  # the form says what it is


@bp.post("/<number>/duplicate")
@filer_required
def duplicate(number: str):
    return _new_draft_from(number, licensing.duplicate_license)


@bp.post("/<number>/modify")
@filer_required
def modify(number: str):
    return _new_draft_from(number, licensing.start_modification)


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
        return render_template("licenses/_rows.html", rows=[Row.of(lic, application_date())], oob_summary=True)
    flash(message, category)
    return redirect(url_for("licenses.view", number=lic.number), code=303)

