"""Who may do what: every view declares its access level, and a filer's licenses (another
company's is "not found").

Each decorator records its level on the view (`view.access`); tests/test_architecture.py walks
app.url_map and fails for an endpoint without one, then checks every route answers each role as
its level says. A new route is covered the day it is added.
"""
from __future__ import annotations

import hmac
import ipaddress
from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..enums import LicenseStatus
from ..extensions import db
from ..models import License
from ..security import role_required

# The levels, loosest first. "member" is any user of a registered company (a viewer too: read,
# print, export); "filer" one whose company role may file (administrator or filer: apply, modify,
# cancel, duplicate, upload); "company-admin" the company's administrator (its people). "admin" is
# Commerce's platform administrator (User.role). "internal" is for machines, not people: the
# metrics scraper (signing in gives nothing there). "api-key" is the JSON API (aimweb/api): an API
# key in "Authorization: Bearer", never a session.
LEVELS = ("public", "signed-in", "member", "filer", "company-admin", "officer", "admin", "internal", "api-key")


def declare(view, level: str):
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
    return declare(view, "public")


def signed_in(view):
    """Any signed-in account; the view decides what a filer and an officer each see."""
    return declare(login_required(view), "signed-in")


def officer_required(view):
    """Officers and admins: they read every license; "Mark Action Required" and "Clear" are theirs."""
    return declare(role_required("officer", "admin")(view), "officer")


def admin_required(view):
    """Commerce's platform administrators only (suspend any account)."""
    return declare(role_required("admin")(view), "admin")


def _company_user(allowed, level: str):
    """A signed-in user of a registered company whose company role passes `allowed` (officers
    review; they never file). Another role is refused (403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.is_officer:
                abort(403)
            if current_user.company_id is None:
                return redirect(url_for("account.company"))
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        return declare(wrapped, level)

    return decorator


# Any user of the company, a viewer too: reading, printing, exporting.
member_required = _company_user(lambda user: True, "member")
# A user who may file: apply, modify, cancel, duplicate, upload (not a viewer).
filer_required = _company_user(lambda user: user.can_file, "filer")
# The company's administrator: its people and invitations.
company_admin_required = _company_user(lambda user: user.is_company_admin, "company-admin")


def internal(view):
    """The Prometheus scraper inside the network: "Authorization: Bearer <METRICS_TOKEN>", or a
    client address in METRICS_ALLOWED_NETWORKS. Anyone else, signed in or not, is told "not found"
    (nothing says the endpoint exists)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_internal_caller():
            abort(404)
        return view(*args, **kwargs)

    return declare(wrapped, "internal")


def is_internal_caller() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].encode(), str(token).encode()):
        return True
    networks = allowed_networks(current_app.config.get("METRICS_ALLOWED_NETWORKS"))
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def allowed_networks(value) -> list[str]:
    """METRICS_ALLOWED_NETWORKS as a list: JSON ["10.0.0.0/8"] from the environment, or "a, b"."""
    if isinstance(value, str):
        return [n for n in value.replace(",", " ").split() if n]
    return list(value or [])


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
