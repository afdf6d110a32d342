"""Who may do what: filer and officer views, and a filer's licenses (another company's is "not found")."""
from __future__ import annotations

from functools import wraps

from flask import abort, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..enums import LicenseStatus
from ..extensions import db
from ..models import License
from ..security import role_required

# Officers and admins read every license; "Mark Action Required" and "Clear" are theirs.
officer_required = role_required("officer", "admin")


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

    return wrapped


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
