"""A company's people: invitations by e-mail, company roles, suspension and removal by the company's
administrator. Every change ends the sessions it must, writes the sign-in audit, and commits.

19 CFR 361.102 lets one company account have several users. The rules kept here, not in the views:
a company always keeps an active administrator (the last one cannot leave, be demoted, suspended
or removed); a removed or suspended user's sessions end at once (User.session_version) and their
licenses stay with the company; an invitation's link works once, expires, and is rate limited.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from .accounts import NO_CLIENT, Client, record_event
from .enums import AccountEventKind, CompanyRole
from .extensions import db
from .models import Company, Invitation, User, utcnow
from .security import hash_password, keyed_hash


class MemberError(ValueError):
    """Why a change to the company's people was refused, in words for the administrator."""


def _token_hash(token: str) -> str:
    return keyed_hash("invitation", token)


# ----- the people of a company ---------------------------------------------------------------------

def people(company: Company) -> list[User]:
    """The company's users, administrators first, then by name."""
    users = db.session.scalars(select(User).where(User.company_id == company.id)).all()
    order = {CompanyRole.ADMINISTRATOR: 0, CompanyRole.FILER: 1, CompanyRole.VIEWER: 2}
    return sorted(users, key=lambda u: (order[u.member_role], u.full_name.lower(), u.email))


def member_of(company_id: int, user_id: int) -> User | None:
    """A user of this company (another company's is None: "not found")."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.company_id == company_id else None


def active_admins(company_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.company_id == company_id, User.suspended_at.is_(None),
        (User.company_role == CompanyRole.ADMINISTRATOR) | User.company_role.is_(None)))


def _keep_an_administrator(user: User, change: str) -> None:
    """Refuse a change that would leave the company without an active administrator."""
    if user.member_role == CompanyRole.ADMINISTRATOR and not user.is_suspended and \
            active_admins(user.company_id) <= 1:
        raise MemberError(f"{user.full_name} is the company's only administrator and cannot be {change}. "
                          "Make another user an administrator first.")


def _recorded(kind: AccountEventKind, user: User, by: User, client: Client, note: str) -> bool:
    """Audit the administrator's change to a colleague and commit both: done."""
    record_event(kind, user.email, user=user, client=client, actor=by, note=note)
    db.session.commit()
    return True


def change_role(user: User, role: CompanyRole, by: User, client: Client = NO_CLIENT) -> bool:
    """Give a member another company role; False when it already was theirs."""
    if user.member_role == role:
        return False
    if role != CompanyRole.ADMINISTRATOR:
        _keep_an_administrator(user, "given another role")
    before = user.member_role
    # No session ends: every request reads the role afresh (aimweb/web/access.py), so the new
    # role holds from the colleague's next click.
    user.company_role = role
    return _recorded(AccountEventKind.ROLE_CHANGED, user, by, client, f"{before.label} to {role.label}")


def suspend(user: User, by: User, client: Client = NO_CLIENT) -> bool:
    """The administrator suspends a colleague: no sign-in, every session ends now (the account
    stays in the company, its licenses too). False when already suspended."""
    if user.is_suspended:
        return False
    _keep_an_administrator(user, "suspended by the company")
    user.suspended_at = utcnow()
    user.suspended_by_company = True
    user.suspended_reason = None
    user.session_version += 1
    return _recorded(AccountEventKind.SUSPENDED, user, by, client, f"By the administrator of {user.company.name}")


def reinstate(user: User, by: User, client: Client = NO_CLIENT) -> bool:
    """Lift a suspension the company made. One made by Commerce is Commerce's to lift."""
    if not user.is_suspended:
        return False
    if not user.suspended_by_company:
        raise MemberError(f"{user.full_name}'s account was suspended by Commerce. "
                          f"Write to {current_app.config['SUPPORT_EMAIL']} about it.")
    user.suspended_at = None
    user.suspended_by_company = False
    return _recorded(AccountEventKind.REINSTATED, user, by, client, f"By the administrator of {user.company.name}")


def remove(user: User, by: User, client: Client = NO_CLIENT) -> None:
    """Take a user out of the company: their sessions end now; the licenses they filed stay the
    company's (License.company_id never changes). The account itself remains: it can join another
    company by invitation or register one."""
    _keep_an_administrator(user, "removed")
    company = user.company
    user.company_id = None
    user.company = None
    user.company_role = None
    user.session_version += 1
    record_event(AccountEventKind.REMOVED, user.email, user=user, client=client, actor=by,
                 note=f"From {company.name}", company_id=company.id)
    db.session.commit()


# ----- invitations ---------------------------------------------------------------------------------

def pending_invitations(company: Company) -> list[Invitation]:
    now = utcnow()
    return db.session.scalars(
        select(Invitation).where(Invitation.company_id == company.id, Invitation.accepted_at.is_(None),
                                 Invitation.withdrawn_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.created_at.desc())).all()


def invite(company: Company, email: str, role: CompanyRole, by: User,
           client: Client = NO_CLIENT) -> tuple[Invitation, str]:
    """A new invitation (an older open one to the same address stops working) and its token, for
    the caller to mail in the same transaction. Raises MemberError when the address already
    belongs to the company or the company sent too many invitations this hour."""
    now = utcnow()
    member = db.session.scalar(select(User).where(User.email == email, User.company_id == company.id))
    if member is not None:
        raise MemberError(f"{email} is already a user of {company.name}.")
    sent = db.session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.company_id == company.id, Invitation.created_at > now - timedelta(hours=1)))
    if sent >= current_app.config["INVITATIONS_PER_HOUR"]:
        raise MemberError("Your company has sent many invitations in the last hour. "
                          "Please try again later.")
    db.session.execute(update(Invitation).where(
        Invitation.company_id == company.id, Invitation.email == email,
        Invitation.accepted_at.is_(None), Invitation.withdrawn_at.is_(None)).values(withdrawn_at=now)
        .execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    invitation = Invitation(company_id=company.id, email=email, company_role=role,
                            token_hash=_token_hash(token), invited_by_id=by.id, created_at=now,
                            expires_at=now + timedelta(seconds=current_app.config["INVITATION_TTL_SECONDS"]))
    db.session.add(invitation)
    record_event(AccountEventKind.INVITED, email, client=client, actor=by,
                 note=f"To {company.name} as {role.label}", company_id=company.id)
    return invitation, token


def withdraw(invitation: Invitation, by: User, client: Client = NO_CLIENT) -> bool:
    if invitation.accepted_at or invitation.withdrawn_at:
        return False
    invitation.withdrawn_at = utcnow()
    record_event(AccountEventKind.INVITATION_WITHDRAWN, invitation.email, client=client, actor=by,
                 company_id=invitation.company_id)
    db.session.commit()
    return True


def open_invitation(token: str | None) -> Invitation | None:
    """The invitation this link's token opens, if it still works."""
    token = (token or "").strip()
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token)))
    return invitation if invitation is not None and invitation.is_open(utcnow()) else None


@dataclass
class NewAccount:
    display_name: str
    first_name: str
    last_name: str
    password: str


def accept(invitation: Invitation, user: User | None, new: NewAccount | None = None,
           client: Client = NO_CLIENT) -> User:
    """Join the invitation's company: `user` (signed in, without a company) or a new account made
    from `new` (its address is verified: the link reached it). The invitation is used by one
    conditional update, so two copies of the link cannot both join. Raises MemberError."""
    now = utcnow()
    if user is not None and (user.company_id is not None or user.is_officer):
        raise MemberError("Your account already belongs to a company. An account belongs to one "
                          "company: ask your administrator to remove you first, or use another address.")
    if user is None:
        if db.session.scalar(select(User.id).where(User.email == invitation.email)):
            raise MemberError("An account with this email address already exists. Sign in to accept.")
        user = User(email=invitation.email, display_name=new.display_name, first_name=new.first_name,
                    last_name=new.last_name, password_hash=hash_password(new.password), role="filer",
                    email_verified_at=now, last_sign_in_at=now)
        db.session.add(user)
        db.session.flush()
        record_event(AccountEventKind.SIGNED_UP, user.email, user=user, client=client)
    taken = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
                                 Invitation.withdrawn_at.is_(None), Invitation.expires_at > now)
        .values(accepted_at=now, accepted_by_id=user.id).execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        db.session.rollback()
        raise MemberError("This invitation was already used or has expired. Ask your company's "
                          "administrator for a new one.")
    user.company_id = invitation.company_id
    user.company_role = invitation.company_role
    record_event(AccountEventKind.JOINED, user.email, user=user, client=client,
                 actor=invitation.invited_by, note=f"{invitation.company.name} as {invitation.company_role.label}")
    db.session.commit()
    return user
