"""License views: "Apply for Single License" (the draft page, product lines, preview, submit) and
the license page (the dashboard is dashboard.py). Thin: parse the request, call aimweb.licensing,
render a page or a partial."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import addressbook, branches, licensing, products
from ..clock import application_date
from ..enums import LicenseKind, LicenseStatus, PartyKind
from ..inputs import parse_amount, record_id
from ..models import License
from ..reference.hts import format_hts, normalize_hts
from ..reference.ports import all_ports
from ..rules import LOW_VALUE_VALIDITY_DAYS, low_value_hint, unit_value
from ..web.access import draft_or_404, filer_required, license_or_404, member_required, signed_in
from ..web.htmx import wants_partial
from . import bp
from .forms import (
    LicenseForm,
    LineForm,
    LowValueForm,
    UseForm,
    filed_for_choices,
    line_form_class,
    show_problems,
)

LICENSE_TYPES = [(kind.value, kind.label) for kind in LicenseKind]
PRODUCTS = [(p.key, p.name) for p in products.PRODUCTS.values()]


def only_choice() -> tuple[str, str] | None:
    """The license type and product when they are the only ones a filer can choose: "Apply for
    Single License" then starts the form at once instead of showing a page with one option in
    each list. A second product or license kind brings the page back by itself."""
    if len(LICENSE_TYPES) == 1 and len(PRODUCTS) == 1:
        return LICENSE_TYPES[0][0], PRODUCTS[0][0]
    return None


@bp.context_processor
def _apply_choice() -> dict:
    return {"only_apply_choice": only_choice()}


# ----- Apply for Single License ----------------------------------------------------------------

@bp.route("/apply", methods=["GET", "POST"])
@filer_required
def apply():
    """The guide's first step: choose "Standard License" or "Low-Value License", then the product
    (Aluminum or Steel)."""
    error = None
    if request.method == "POST":
        if (request.form.get("license_type") in dict(LICENSE_TYPES)
                and request.form.get("product") in dict(PRODUCTS)):
            draft = licensing.start_draft(current_user, request.form["product"],
                                          LicenseKind(request.form["license_type"]))
            return redirect(url_for("licenses.draft", draft_id=draft.id))
        error = "Select the license type and the product."
    return render_template("licenses/apply.html", license_types=LICENSE_TYPES,
                           products=PRODUCTS, error=error)


def _line_form(draft, formdata=None, **kwargs) -> LineForm:
    return line_form_class(draft.product)(formdata, on=licensing.decision_date(draft), **kwargs)


def _country_names(draft) -> list[str]:
    """The product's own country fields: kept for the next product when the filer asks."""
    return [spec.name for spec in products.get(draft.product).own_line_fields if spec.kind == "country"]


def _render_form(draft, form=None, line_form=None, problems=(), editing=None, partial=False,
                 announce=None, focus=None, keep_countries=False):
    """The form (or, for htmx, its product lines). `announce` is said by the polite live region
    and `focus` (a CSS selector) takes the keyboard focus once htmx has swapped the lines in."""
    if draft.is_low_value and not partial:
        return _render_low_value(draft, problems=problems)
    form = form or LicenseForm(data=draft.form_data or {})
    offer_branches = not partial and _offer_branches(draft, form)
    if line_form is None:
        if editing is not None and 0 <= editing < len(draft.lines):
            line = draft.lines[editing]
            names = line_form_class(draft.product).product.line_field_names
            data = {name: getattr(line, name) for name in names}
            line_form = _line_form(draft, None, data={**data, "hts_number": format_hts(line.hts_number)})
        else:
            editing, line_form = None, _line_form(draft)
    rest = show_problems(form, list(problems))
    line_problems = {}
    for problem in rest:
        line_problems.setdefault(problem.line, []).append(problem.message)
    typed = line_form.values()
    context = dict(draft=draft, form=form, line_form=line_form, editing=editing,
                   line_problems=line_problems, ports=all_ports().values(),
                   hts_info=_hts_info(typed["hts_number"] or "", draft.product),
                   hts_revision=products.get(draft.product).catalogue().revision,
                   line_unit_value=_unit_value(typed["quantity_kg"], typed["customs_value_usd"]),
                   announce=announce, focus=focus, keep_countries=keep_countries,
                   country_fields=_country_names(draft), quiet_errors=True, offer_branches=offer_branches)
    if partial:
        return render_template("licenses/_product_lines.html", **context)
    return render_template("licenses/draft.html", **context)


@bp.get("/drafts/<int:draft_id>")
@filer_required
def draft(draft_id: int):
    lic = _open_draft(draft_id)
    kept = None
    if request.args.get("keep") and request.args.get("edit") is None:  # no-JS "Keep countries"
        kept = _line_form(lic, None, data={n: request.args.get(n, "")[:3] for n in _country_names(lic)})
    return _render_form(lic, line_form=kept, editing=request.args.get("edit", type=int),
                        keep_countries=kept is not None)


@bp.post("/drafts/<int:draft_id>/header")
@filer_required
def save_header(draft_id: int):
    """The header kept as typed from its first change (app.js posts it, debounced), and what is
    still wrong in it: the errors of an earlier Preview go once the field is corrected."""
    lic = draft_or_404(draft_id)
    if not lic.is_draft:
        return jsonify(saved=False, url=url_for("licenses.draft", draft_id=lic.id)), 409
    licensing.save_draft_header(lic, request.form)
    problems: dict[str, list[str]] = {}
    for problem in licensing.check_draft(lic).problems:
        if problem.line is None and problem.field in LicenseForm.header_names:
            problems.setdefault(problem.field, []).append(problem.message)
    return jsonify(saved=True, problems=problems)


def _to_license(draft):
    """A draft already submitted: its license (for a modification, the license it corrected)."""
    lic = draft.amends if draft.status == LicenseStatus.APPLIED else draft
    return redirect(url_for("licenses.view", number=lic.number), code=303)


def _open_draft(draft_id: int) -> License:
    """The company's draft being filled in; one already submitted answers with its license."""
    lic = draft_or_404(draft_id)
    if not lic.is_draft:
        abort(_to_license(lic))
    return lic


def _save_header(draft_id: int) -> License:
    """The draft with the header fields posted with a line or Preview saved as typed."""
    lic = _open_draft(draft_id)
    licensing.save_draft_header(lic, request.form)
    return lic


def _after_line_change(lic, rejected: LineForm | None = None, editing=None, announce=None,
                       focus="#products-heading", kept: dict | None = None):
    """htmx gets the product lines in place; a plain browser the whole page (PRG when all is well).

    `rejected` is a line form carrying its problems: shown again with what was typed. `kept`:
    the country fields the filer keeps for the next product.
    """
    if wants_partial():
        line_form = rejected if rejected is not None else (
            _line_form(lic, None, data=kept) if kept else None)
        return _render_form(lic, line_form=line_form, editing=editing, partial=True,
                            announce=announce, focus=focus, keep_countries=kept is not None)
    if rejected is not None:
        return _render_form(lic, form=LicenseForm(request.form), line_form=rejected,
                            editing=editing, keep_countries=bool(request.form.get("keep_countries")))
    if kept:
        return redirect(url_for("licenses.draft", draft_id=lic.id, keep=1, **kept, _anchor="line-editor"))
    return redirect(url_for("licenses.draft", draft_id=lic.id, _anchor="products"))


def _first_error(line_form: LineForm) -> str:
    return next((f"#{f.id}" for f in line_form if f.errors), "#line-hts_number")


@bp.post("/drafts/<int:draft_id>/lines")
@bp.post("/drafts/<int:draft_id>/lines/<int:position>")
@filer_required
def save_line(draft_id: int, position: int | None = None):
    """"Add Products" (or "Save Product" for a line being edited)."""
    lic = _save_header(draft_id)
    line_form = _line_form(lic, request.form)
    values = line_form.values()
    problems = licensing.save_draft_line(lic, values, position)
    editing = position is not None and 0 <= position < len(lic.lines)
    if problems:
        show_problems(line_form, problems)
        count = sum(1 for f in line_form if f.errors) or 1
        what = f"Product {position + 1} was not saved" if editing else "The product was not added"
        return _after_line_change(lic, rejected=line_form, editing=position, focus=_first_error(line_form),
                                  announce=f"{what}: correct the {count} field{'s' if count != 1 else ''} marked.")
    if editing:
        return _after_line_change(lic, announce=f"Product {position + 1} saved.", focus=f"#edit-line-{position}")
    kept = None
    if request.form.get("keep_countries"):
        kept = {name: values[name] for name in _country_names(lic)}
    return _after_line_change(lic, announce=f"Product {len(lic.lines)} added.", focus="#line-hts_number",
                              kept=kept)


@bp.post("/drafts/<int:draft_id>/lines/<int:position>/edit")
@filer_required
def edit_line(draft_id: int, position: int):
    lic = _save_header(draft_id)
    if wants_partial():
        known = 0 <= position < len(lic.lines)
        return _render_form(lic, editing=position, partial=True, focus="#line-hts_number",
                            announce=f"Editing product {position + 1}." if known else None)
    return redirect(url_for("licenses.draft", draft_id=lic.id, edit=position, _anchor="line-editor"))


@bp.post("/drafts/<int:draft_id>/lines/<int:position>/remove")
@filer_required
def remove_line(draft_id: int, position: int):
    lic = _save_header(draft_id)
    known = 0 <= position < len(lic.lines)
    licensing.remove_draft_line(lic, position)
    return _after_line_change(lic, announce=f"Product {position + 1} removed." if known else None)


@bp.post("/drafts/<int:draft_id>/preview")
@filer_required
def preview(draft_id: int):
    lic = _save_header(draft_id)
    checked = licensing.check_draft(lic)
    if checked.problems:
        if lic.is_low_value:
            return _render_low_value(lic, problems=checked.problems)
        return _render_form(lic, form=LicenseForm(request.form), problems=checked.problems)
    return redirect(url_for("licenses.show_preview", draft_id=lic.id))


@bp.get("/drafts/<int:draft_id>/preview")
@filer_required
def show_preview(draft_id: int):
    lic = _open_draft(draft_id)
    checked = licensing.check_draft(lic)
    if checked.problems:
        flash("Some information is missing or wrong: correct it, then click Preview again.", "warning")
        return redirect(url_for("licenses.draft", draft_id=lic.id))
    return _preview_page(lic, checked)


def _preview_page(lic, checked, reply: str = "", reply_error: str | None = None):
    """The preview with its Submit form; for a modification, what changes and (a license marked
    Action Required) the reply to the officer, as typed when Submit was refused."""
    if lic.is_low_value:
        return render_template("licenses/low_value_preview.html", draft=lic, header=checked.header,
                               product=products.get(lic.product), validity_days=LOW_VALUE_VALIDITY_DAYS,
                               branch=_branch_of(lic, checked))
    header = licensing.header_values(checked.header)
    changes = (licensing.license_changes(lic.amends, header, list(lic.lines), checked.branch_id)
               if lic.amends_id is not None else None)
    same_entry = licensing.same_entry_licenses(lic, header["entry_number"])
    return render_template("licenses/preview.html", draft=lic, header=checked.header, changes=changes,
                           low_value_hint=low_value_hint(products.get(lic.product), lic.lines),
                           same_entry=same_entry, reply=reply, reply_error=reply_error,
                           reply_max=licensing.REPLY_MAX,
                           branch=_branch_of(lic, checked),
                           same_entry_message=same_entry and licensing.same_entry_message(same_entry))


def _branch_of(lic, checked):
    """The branch the previewed license is filed for (None: the company itself)."""
    return checked.branch_id and branches.branch_of(lic.company_id, checked.branch_id)


@bp.post("/drafts/<int:draft_id>/submit")
@filer_required
def submit(draft_id: int):
    lic = draft_or_404(draft_id)
    if not lic.is_draft:  # a double click or a re-POST: the confirmation of the license issued
        issued = lic.amends if lic.status == LicenseStatus.APPLIED else lic
        return redirect(url_for("licenses.submitted", number=issued.number), code=303)
    # The licenses with the same entry number that the preview showed (the filer saw the warning).
    seen = {n for n in request.form.get("seen_same_entry", "")[:400].upper().split() if n}
    # The reply to the officer (a license marked Action Required): bounded here only so a huge
    # post is not kept whole; the service says when it is too long, and the preview shows it again.
    reply = request.form.get("reply", "")[:licensing.REPLY_MAX * 4]
    try:
        lic = licensing.submit_draft(lic.id, current_user, seen_same_entry=seen, reply=reply)
    except licensing.SameEntryNumber as warning:
        flash(f"Nothing was issued yet. {warning.problems[0].message}", "warning")
        if reply.strip():  # a redirect would lose what they wrote to the officer
            return _preview_page(lic, licensing.check_draft(lic), reply=reply)
        return redirect(url_for("licenses.show_preview", draft_id=draft_id))
    except licensing.LicenseError as error:
        refused = [p.message for p in error.problems if p.field == "reply"]
        if refused:
            return _preview_page(lic, licensing.check_draft(lic), reply=reply, reply_error=refused[0]), 400
        flash(" ".join(p.message for p in error.problems if p.field == "status")
              or "The license could not be issued: correct what is marked, then Preview again.", "error")
        return redirect(url_for("licenses.draft", draft_id=draft_id))
    return redirect(url_for("licenses.submitted", number=lic.number), code=303)


@bp.get("/submitted/<number>")
@member_required
def submitted(number: str):
    """The confirmation after Submit: the number to quote, its validity, what to do next."""
    lic = license_or_404(number)
    if lic.is_cancelled:  # it is no longer "issued": the license page says what it is
        return redirect(url_for("licenses.view", number=lic.number))
    if lic.is_low_value:  # its page says where to quote it and records its uses
        flash(f"Low-value license {lic.number} issued: quote it on each entry it covers, and "
              "record each entry below.", "success")
        return redirect(url_for("licenses.view", number=lic.number), code=303)
    same_entry = licensing.same_entry_licenses(lic, lic.entry_number)
    return render_template("licenses/submitted.html", lic=lic, same_entry=same_entry,
                           corrected=lic.status == LicenseStatus.CORRECTED,
                           totals=(len(lic.lines), lic.total_kg, lic.total_usd))


# ----- live helpers for the product line (htmx) -------------------------------------------------

@bp.get("/hts")
@filer_required
def hts_lookup():
    """The product description and category of a typed HTS number, or why it can't be used."""
    return render_template("licenses/_hts_info.html",
                           **_hts_info(request.args.get("line-hts_number", ""), request.args.get("product")))


@bp.get("/unit-value")
@filer_required
def unit_value_preview():
    value = _unit_value(request.args.get("line-quantity_kg", "")[:40],
                        request.args.get("line-customs_value_usd", "")[:40])
    return render_template("licenses/_unit_value.html", value=value)


def _hts_info(text: str, product: str | None) -> dict:
    text = (text or "").strip()[:40]
    hts10 = normalize_hts(text)
    spec = products.PRODUCTS.get(product or "") or products.get(None)
    return dict(text=text, hts10=hts10, product=spec,
                item=spec.catalogue().items.get(hts10) if hts10 else None)


def _unit_value(quantity, value):
    quantity, value = parse_amount(quantity), parse_amount(value)
    # Text (unreadable, or beyond inputs' bounds) has no unit value; the field says why.
    return unit_value(quantity, value) if isinstance(quantity, Decimal) and isinstance(value, Decimal) else None


# ----- the license page --------------------------------------------------------------------------

@bp.get("/<number>")
@signed_in
def view(number: str):
    return _license_page(license_or_404(number))


def _license_page(lic, use_form: UseForm | None = None):
    # Officers' internal notes (a "Clear" note) are never shown to the filer.
    events = [e for e in lic.events if current_user.is_officer or not e.internal]
    unsaved = addressbook.unsaved_parties(lic) if current_user.can_file else []
    return render_template("licenses/view.html", lic=lic, events=events, today=application_date(),
                           use_form=use_form or UseForm(formdata=None), unsaved=unsaved)


@bp.post("/<number>/address-book")
@filer_required
def save_party(number: str):
    """"Save to address book": the license's importer, exporter or manufacturer as filed (once)."""
    lic = license_or_404(number)
    kind = PartyKind.of_slug(request.form.get("kind") or "")
    if kind is None:
        flash("Choose which party to save.", "error")
    else:
        try:
            party, saved = addressbook.save_from_license(lic, kind, current_user)
        except addressbook.PartyRefused as refused:
            flash(refused.message, "error")
        else:
            flash(f"{kind.label} “{party.name}” was saved to the address book." if saved else
                  f"{kind.label} “{party.name}” was already in the address book.", "success" if saved else "info")
    return redirect(url_for("licenses.view", number=lic.number), 303)


# ----- the low-value license: its form and its uses ------------------------------------------------

def _render_low_value(draft, problems=()):
    form = LowValueForm(data=draft.form_data or {})
    offer_branches = _offer_branches(draft, form)
    rest = show_problems(form, list(problems))
    return render_template("licenses/low_value_draft.html", draft=draft, form=form, rest=rest,
                           product=products.get(draft.product), quiet_errors=True,
                           validity_days=LOW_VALUE_VALIDITY_DAYS, offer_branches=offer_branches)


def _offer_branches(draft, form) -> bool:
    """Fill the form's "Filed for" with the company and its branches (and the one the draft has);
    False when the company has no branch to offer (the field is then left out)."""
    current = (draft.form_data or {}).get(licensing.BRANCH) or ""
    return filed_for_choices(form, draft.company.name, branches.company_branches(draft.company_id),
                             record_id(current))


@bp.post("/<number>/uses")
@filer_required
def record_use(number: str):
    """Record one entry the low-value license was quoted on; refused (the reason at its field)
    at or over the product's limit, outside the validity, or once cancelled."""
    lic = license_or_404(number)
    form = UseForm(request.form)
    try:
        licensing.record_use(lic, current_user, {name: form[name].data for name in
                                                 ("entry_number", "entry_date", "value_usd")})
    except licensing.LicenseError as error:
        rest = show_problems(form, error.problems)
        for problem in rest:
            flash(problem.message, "error")
        # 200 like the form's Preview with problems: the page again, each reason at its field.
        return _license_page(lic, form)
    flash(f"Entry {form.entry_number.data.strip().upper()} recorded.", "success")
    return redirect(url_for("licenses.view", number=lic.number, _anchor="uses"), code=303)
