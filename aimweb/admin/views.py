"""The sign-in audit for officers: who signed in, failed, was paused, changed a password, was
invited, changed role, removed or suspended, when and from where; every account's, filtered by
e-mail address and kind, paged, and exported as CSV (aimweb/web/audit.py)."""
from __future__ import annotations

from ..web import audit
from ..web.access import officer_required
from . import bp


@bp.get("/sign-ins")
@officer_required
def sign_ins():
    return audit.page(
        company_id=None, title="Sign-in Audit", endpoint="admin.sign_ins", csv_endpoint="admin.sign_ins_csv",
        intro="Sign-ins, refused sign-ins, pauses, password changes and resets, invitations, role "
              "changes, removals and suspensions of every account, newest first. Entries are never "
              "changed or deleted.")


@bp.get("/sign-ins.csv")
@officer_required
def sign_ins_csv():
    return audit.csv_download(company_id=None, filename="aim-sign-ins.csv")
