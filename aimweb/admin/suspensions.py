"""Commerce's platform administrators: find any account by e-mail address and suspend it (it
cannot sign in, and its sessions end at once) or lift the suspension. `flask suspend-user` does
the same from the command line."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import accounts
from ..accounts import Client
from ..extensions import db
from ..models import User
from ..web.access import admin_required
from . import bp


def _client() -> Client:
    return Client(request.remote_addr, request.headers.get("User-Agent"))


@bp.get("/accounts")
@admin_required
def accounts_page():
    email = (request.args.get("email") or "").replace("\x00", "").strip().lower()[:254]
    found = db.session.scalars(
        select(User).where(User.email.contains(email, autoescape=True)).order_by(User.email).limit(50)
    ).all() if email else []
    return render_template("admin/accounts.html", email=email, found=found)


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _back(user: User):
    return redirect(url_for("admin.accounts_page", email=user.email), 303)


@bp.post("/accounts/<int:user_id>/suspend")
@admin_required
def suspend_account(user_id: int):
    user = _account(user_id)
    if user.id == current_user.id:
        flash("You cannot suspend your own account.", "error")
        return _back(user)
    reason = (request.form.get("reason") or "").strip()[:500]
    done = accounts.suspend_user(user, by=current_user, reason=reason, client=_client())
    flash(f"{user.email} is suspended: its sessions have ended and it cannot sign in." if done
          else f"{user.email} was already suspended.", "success" if done else "info")
    return _back(user)


@bp.post("/accounts/<int:user_id>/reinstate")
@admin_required
def reinstate_account(user_id: int):
    user = _account(user_id)
    reason = (request.form.get("reason") or "").strip()[:500]
    done = accounts.reinstate_user(user, by=current_user, reason=reason, client=_client())
    flash(f"{user.email} can sign in again." if done else f"{user.email} was not suspended.",
          "success" if done else "info")
    return _back(user)
