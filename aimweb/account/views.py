"""Company registration and profile views."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from .. import apikeys, inputs
from ..clock import application_date, utcnow
from ..enums import CompanyRole
from ..extensions import db
from ..models import Company
from ..web.access import filer_required, signed_in
from . import bp
from .forms import CompanyForm

_FIELDS = [
    "ein", "cbp_importer_number", "name", "company_type", "street", "city", "state", "zip_code",
    "phone", "fax", "contact_first_name", "contact_last_name", "email", "alternate_email",
]


@bp.route("/company", methods=["GET", "POST"])
@signed_in
def company():
    existing = current_user.company
    if existing is None and current_user.is_officer:
        return redirect(url_for("review.queue"))
    form = CompanyForm(obj=existing) if existing else CompanyForm(
        email=current_user.email,
        contact_first_name=current_user.first_name,
        contact_last_name=current_user.last_name,
    )
    # The company's profile is its administrator's to change; its other users read it.
    read_only = existing is not None and not current_user.is_company_admin
    if read_only and request.method == "POST":
        flash("Only your company's administrator can change the company profile.", "error")
    elif form.validate_on_submit():
        values = {name: (getattr(form, name).data or None) for name in _FIELDS}
        taken = _identifier_taken(values, existing)
        if taken:
            getattr(form, taken[0]).errors.append(taken[1])
        else:
            company = existing or Company()
            for name, value in values.items():
                setattr(company, name, value)
            if existing is None:
                db.session.add(company)
                current_user.company = company
                current_user.company_role = CompanyRole.ADMINISTRATOR  # who registers it, administers it
            db.session.commit()
            flash("Your company profile was saved.", "success")
            return redirect(url_for("licenses.dashboard"))
    return render_template("account/company.html", form=form, first_time=existing is None,
                           read_only=read_only)


def _identifier_taken(values: dict, existing: Company | None) -> tuple[str, str] | None:
    """An EIN or CBP number already held by another company: one company, one registration."""
    clauses = [
        getattr(Company, name) == values[name]
        for name in ("ein", "cbp_importer_number")
        if values[name]
    ]
    query = select(Company).where(or_(*clauses))
    if existing is not None:
        query = query.where(Company.id != existing.id)
    other = db.session.scalars(query.limit(1)).first()
    if other is None:
        return None
    field = "ein" if values["ein"] and other.ein == values["ein"] else "cbp_importer_number"
    label = "EIN" if field == "ein" else "CBP-assigned importer number"
    return field, (
        f"This {label} is already registered in AIM, so the company already has an account. "
        "Please write to aluminum.license@trade.gov to be added to it."
    )


# ----- API keys (the JSON API, aimweb/api) ---------------------------------------------------------

def _keys_page(created=None, token=None, errors=None, values=None, status=200):
    from ..api.access import can_manage_keys

    if not can_manage_keys(current_user):
        abort(403)
    return render_template("account/api_keys.html", keys=apikeys.company_keys(current_user.company_id),
                           created=created, token=token, errors=errors or {}, values=values or {},
                           now=utcnow()), status


@bp.route("/api-keys", methods=["GET"])
@filer_required
def api_keys():
    return _keys_page()


@bp.route("/api-keys", methods=["POST"])
@filer_required
def create_api_key():
    from ..api.access import can_manage_keys

    if not can_manage_keys(current_user):
        abort(403)
    values = {"name": request.form.get("name", ""), "expires_on": request.form.get("expires_on", "")}
    try:
        expires_on = inputs.parse_date(values["expires_on"])
    except inputs.UnreadableDate as error:
        return _keys_page(errors={"expires_on": f"Expires on: {error}"}, values=values)
    try:
        key, token = apikeys.create_key(current_user, values["name"], expires_on, application_date())
    except apikeys.KeyRefused as refused:
        return _keys_page(errors={refused.field: refused.message}, values=values)
    return _keys_page(created=key, token=token)


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
@filer_required
def revoke_api_key(key_id: int):
    from ..api.access import can_manage_keys

    if not can_manage_keys(current_user):
        abort(403)
    if not apikeys.revoke_key(current_user.company_id, key_id):
        abort(404)
    flash("The key was revoked: software using it is refused from now on.", "success")
    return redirect(url_for("account.api_keys"))
