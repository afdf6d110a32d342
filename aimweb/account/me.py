"""My account: the user's name and password, their recent sign-ins and refused attempts, and
"Sign out everywhere" (auth.sign_out_everywhere,
beside "Sign out")."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import accounts
from ..accounts import Client
from ..enums import AccountEventKind, SignInOutcome
from ..extensions import db, limiter
from ..mailer import send_email
from ..security import start_session, verify_password
from ..web.access import signed_in
from . import bp
from .forms import ChangePasswordForm, NameForm


def _client() -> Client:
    return Client(request.remote_addr, request.headers.get("User-Agent"))


def _page(name_form=None, password_form=None, status=200):
    return render_template(
        "account/me.html", name_form=name_form or NameForm(obj=current_user),
        password_form=password_form or ChangePasswordForm(), events=accounts.recent_sign_ins(current_user),
        refused=SignInOutcome.OK), status


@bp.get("/")
@signed_in
def me():
    return _page()


@bp.post("/name")
@signed_in
def change_name():
    form = NameForm()
    if not form.validate_on_submit():
        return _page(name_form=form, status=400)
    accounts.change_name(current_user, form.display_name.data, form.first_name.data, form.last_name.data,
                         _client())
    flash("Your name was saved.", "success")
    return redirect(url_for("account.me"), 303)


@bp.post("/password")
@signed_in
@limiter.limit("10 per hour", methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    form.user_inputs = [user.email, user.first_name, user.last_name, user.display_name]
    if not form.validate_on_submit():
        return _page(password_form=form, status=400)
    if not verify_password(user.password_hash, form.current_password.data):
        accounts.record_event(AccountEventKind.PASSWORD_CHANGED, user.email, SignInOutcome.WRONG_PASSWORD,
                              user=user, client=_client())
        db.session.commit()
        form.current_password.errors.append("The current password is not right.")
        return _page(password_form=form, status=400)
    # Every other session ends (the version moves on); this one starts again under the new version.
    accounts.set_password(user, form.password.data, client=_client())
    send_email(user.email, "AIM: your password was changed", "password_changed", user=user)
    db.session.commit()
    start_session(user)
    flash("Your password was changed. You were signed out everywhere else.", "success")
    return redirect(url_for("account.me"), 303)
