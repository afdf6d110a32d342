"""The company's people (its administrator's page): users with role, last sign-in and status;
invite a colleague, change a role, suspend, reinstate, remove; and the invitation link's page."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import members
from ..accounts import Client, user_by_email
from ..enums import CompanyRole
from ..extensions import db, limiter
from ..mailer import send_email
from ..models import Invitation
from ..security import start_session
from ..web import answers, audit
from ..web.access import company_admin_required, public
from . import bp
from .forms import InviteForm, JoinForm, RoleForm


def _client() -> Client:
    return Client(request.remote_addr, request.headers.get("User-Agent"))


def _invite_limit():
    return current_app.config["RATELIMIT_CODES"]


def _page(invite_form=None, status=200):
    company = current_user.company
    return render_template(
        "account/people.html", company=company, people=members.people(company),
        invitations=members.pending_invitations(company), form=invite_form or InviteForm(),
        last_admin=members.active_admins(company.id) <= 1,
        roles=list(CompanyRole)), status


@bp.get("/people")
@company_admin_required
def people():
    return _page()


@bp.post("/people/invite")
@company_admin_required
@limiter.limit(_invite_limit)
def invite():
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    company = current_user.company
    role = CompanyRole(form.company_role.data)
    try:
        invitation, token = members.invite(company, form.email.data, role, current_user, _client())
    except members.MemberError as refused:
        form.email.errors.append(str(refused))
        return _page(form, 400)
    send_email(invitation.email, f"AIM: {current_user.full_name} invites you to {company.name}'s account",
               "invitation", invitation=invitation, inviter=current_user, company=company,
               link=url_for("account.join", invitation=token, _external=True),
               days=current_app.config["INVITATION_TTL_SECONDS"] // 86400)
    db.session.commit()  # the invitation and its mail together; the mail goes after the answer
    flash(f"An invitation will be emailed to {invitation.email}. The link works once, for "
          f"{current_app.config['INVITATION_TTL_SECONDS'] // 86400} days.", "success")
    return redirect(url_for("account.people"), 303)


def _member(member_id: int):
    return answers.found(members.member_of(current_user.company_id, member_id))


def _done(message: str, category: str = "success"):
    return answers.done(message, "account.people", category)


@bp.post("/people/<int:member_id>/role")
@company_admin_required
def change_role(member_id: int):
    user = _member(member_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _done("Select a role.", "error")
    role = CompanyRole(form.company_role.data)
    try:
        changed = members.change_role(user, role, current_user, _client())
    except members.MemberError as refused:
        return _done(str(refused), "error")
    if not changed:
        return _done(f"{user.full_name} already had that role.", "info")
    called = "a company administrator" if role == CompanyRole.ADMINISTRATOR else role.label.lower()
    return _done(f"{user.full_name} is now {called}.")


def _change(member_id: int, change, done: str, not_done: str):
    """Suspend or reinstate a member: the service's answer (or its refusal) as the page's message."""
    user = _member(member_id)
    try:
        changed = change(user, current_user, _client())
    except members.MemberError as refused:
        return _done(str(refused), "error")
    return _done((done if changed else not_done).format(name=user.full_name), "success" if changed else "info")


@bp.post("/people/<int:member_id>/suspend")
@company_admin_required
def suspend(member_id: int):
    return _change(member_id, members.suspend,
                   "{name} is suspended: they were signed out everywhere and cannot sign in.",
                   "{name} was already suspended.")


@bp.post("/people/<int:member_id>/reinstate")
@company_admin_required
def reinstate(member_id: int):
    return _change(member_id, members.reinstate, "{name} can sign in again.", "{name} was not suspended.")


@bp.route("/people/<int:member_id>/remove", methods=["GET", "POST"])
@company_admin_required
def remove(member_id: int):
    """Remove (or, for oneself, Leave the company): asked first on a page of its own, since it
    signs them out everywhere at once and only a new invitation brings them back."""
    user = _member(member_id)
    if request.method == "GET":
        return render_template("account/remove.html", user=user, you=user.id == current_user.id,
                               company=current_user.company)
    try:
        members.remove(user, current_user, _client())
    except members.MemberError as refused:
        return _done(str(refused), "error")
    if user.id == current_user.id:
        flash("You left the company. Its licenses stay with it.", "success")
        return redirect(url_for("auth.sign_in"), 303)
    return _done(f"{user.full_name} was removed from the company and signed out everywhere. "
                 "The licenses they filed stay with the company.")


@bp.post("/invitations/<int:invitation_id>/withdraw")
@company_admin_required
def withdraw(invitation_id: int):
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.company_id != current_user.company_id:
        abort(404)
    done = members.withdraw(invitation, current_user, _client())
    return _done(f"The invitation to {invitation.email} no longer works." if done
                 else f"The invitation to {invitation.email} was already used or withdrawn.",
                 "success" if done else "info")


# ----- the invitation's link --------------------------------------------------------------------

@bp.route("/join", methods=["GET", "POST"])
@public
@limiter.limit(_invite_limit, methods=["POST"])
def join():
    # The token travels in the query string (GET) and a hidden field (POST): never in the path,
    # which the request log writes down.
    token = (request.values.get("invitation") or "")[:100]
    invitation = members.open_invitation(token)
    if invitation is None:
        return render_template("account/join.html", invitation=None)
    signed_in = current_user.is_authenticated
    existing = None if signed_in else user_by_email(invitation.email)
    form = JoinForm() if not signed_in and existing is None else None
    if form is not None:
        form.user_inputs = [invitation.email]
    problem = None
    if request.method == "POST" and (signed_in or form is not None):
        accepted = None
        if signed_in:  # CSRFProtect checked the token already
            if current_user.email != invitation.email:
                abort(403)
            accepted = _accept(invitation, current_user._get_current_object())
        elif form is not None and form.validate_on_submit():
            accepted = _accept(invitation, None, members.NewAccount(
                form.display_name.data.strip(), form.first_name.data.strip(), form.last_name.data.strip(),
                form.password.data))
        if isinstance(accepted, str):
            problem = accepted
        elif accepted is not None:
            start_session(accepted)
            flash(f"Welcome to {invitation.company.name}'s AIM account. You are a "
                  f"{invitation.company_role.label.lower()}.", "success")
            return redirect(url_for("licenses.dashboard"), 303)
    return render_template("account/join.html", invitation=invitation, token=token, form=form,
                           existing=existing, problem=problem)


def _accept(invitation, user, new=None):
    try:
        return members.accept(invitation, user, new, _client())
    except members.MemberError as refused:
        return str(refused)


# ----- the company's audit --------------------------------------------------------------------

@bp.get("/activity")
@company_admin_required
def activity():
    return audit.page(
        company_id=current_user.company_id, title="Company Activity", endpoint="account.activity",
        csv_endpoint="account.activity_csv",
        intro=f"Sign-ins, refused sign-ins, pauses, password changes and resets, invitations, role "
              f"changes, removals and suspensions of {current_user.company.name}'s users, newest "
              "first. Entries are never changed or deleted.")


@bp.get("/activity.csv")
@company_admin_required
def activity_csv():
    return audit.csv_download(company_id=current_user.company_id, filename="aim-company-activity.csv")
