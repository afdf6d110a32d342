"""Who may do what: every view declares its access level, and a filer's licenses (another
company's is "not found").

Each decorator records its level on the view (`view.access`); tests/test_architecture.py walks
app.url_map and fails for an endpoint without one, then checks every route answers each role as
its level says. A new route is covered the day it is added.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..enums import LicenseStatus
from ..extensions import db
from ..models import License
from ..security import role_required

# The levels, loosest first. "filer" is a signed-in filer with a registered company.
LEVELS = ("public", "signed-in", "filer", "officer")


def _declare(view, level: str):
    try:
        view.access = level
    except AttributeError:  # a bound method (Flask's static view) takes no attributes: wrap it
        inner = view

        @wraps(inner)
        def view(*args, **kwargs):
            return inner(*args, **kwargs)

        view.access = level
    return view


def public(view):
    """Anyone, signed in or not (sign-in pages, the landing page, the public monitor, static)."""
    return _declare(view, "public")


def signed_in(view):
    """Any signed-in account; the view decides what a filer and an officer each see."""
    return _declare(login_required(view), "signed-in")


def officer_required(view):
    """Officers and admins: they read every license; "Mark Action Required" and "Clear" are theirs."""
    return _declare(role_required("officer", "admin")(view), "officer")


def filer_required(view):
    """A signed-in filer with a registered company (officers review; they never file)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.is_officer:
            abort(403)
        if current_user.company_id is None:
            return redirect(url_for("account.company"))
        return view(*args, **kwargs)

    return _declare(wrapped, "filer")


def may_view(lic: License) -> bool:
    return current_user.is_officer or (
        current_user.company_id is not None and lic.company_id == current_user.company_id
    )


def license_or_404(number: str) -> License:
    """An issued license by number; another company's is "not found", not "forbidden"."""
    lic = db.session.scalar(select(License).where(License.number == (number or "").upper()[:12]))
    if lic is None or lic.status not in LicenseStatus.NUMBERED or not may_view(lic):
        abort(404)
    return lic


def draft_or_404(draft_id: int) -> License:
    """A license being filled in by the filer's company (or the license it became)."""
    lic = db.session.get(License, draft_id)
    if lic is None or current_user.company_id is None or lic.company_id != current_user.company_id:
        abort(404)
    return lic
