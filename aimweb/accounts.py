"""Accounts: signing in with its throttles, password changes, suspension and the sign-in audit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .enums import AccountEventKind, SignInOutcome
from .extensions import db
from .models import AccountEvent, OneTimeCode, SignInThrottle, User, utcnow
from .security import hash_password, keyed_hash, verify_password

# The audit's vocabulary lives in aimweb.enums; these maps are the admin page's choices.
EVENT_KINDS = {kind: kind.label for kind in AccountEventKind}
OUTCOMES = {outcome: outcome.label for outcome in SignInOutcome}


@dataclass(frozen=True)
class Client:
    """Where a request came from, as the audit records it."""

    address: str | None = None
    user_agent: str | None = None


NO_CLIENT = Client()


def record_event(kind: str, email: str, outcome: str = SignInOutcome.OK, *, user: User | None = None,
                 client: Client = NO_CLIENT, actor: User | None = None, note: str | None = None,
                 company_id: int | None = None) -> None:
    """Add one audit row to the session; the caller's commit keeps it with what it records. The
    row belongs to `company_id`, by default the user's company at this moment."""
    assert kind in EVENT_KINDS and outcome in OUTCOMES, (kind, outcome)
    if company_id is None and user is not None:
        company_id = user.company_id
    db.session.add(AccountEvent(
        at=utcnow(), user_id=user.id if user else None, company_id=company_id, email=email[:254], kind=kind,
        outcome=outcome, client_address=(client.address or "")[:45] or None,
        user_agent=(client.user_agent or "")[:300] or None,
        actor_id=actor.id if actor else None, note=(note or "")[:500] or None,
    ))


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def suspended_message(user: User | None = None) -> str:
    if user is not None and user.suspended_by_company and user.company is not None:
        return (f"Your access to {user.company.name}'s AIM account is suspended by its administrator. "
                "Ask your company's administrator to reinstate you.")
    return ("This account is suspended. Contact the AIM help desk at "
            f"{current_app.config['SUPPORT_EMAIL']} if you think this is a mistake.")


# ----- signing in --------------------------------------------------------------------------------

@dataclass
class SignInResult:
    user: User | None = None
    message: str = ""
    locked: bool = False


def _lock_message(until) -> str:
    minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
    return (
        "Too many failed sign-in attempts. For your security, sign-in to this account is paused "
        f"for about {minutes} minute{'s' if minutes != 1 else ''}. You can wait, or reset your "
        "password now with “Forgot your password?”."
    )


def _throttle_keys(email: str, client: Client) -> tuple[str, str]:
    """(this address from this client, this address from everywhere)."""
    return keyed_hash("signin", email, client.address or ""), keyed_hash("signin", email)


def _count_failure(key: str, account_key: str, limit: int, now) -> SignInThrottle:
    """One more failure on this counter, atomically (two workers failing at once both count);
    at the limit the counter locks and starts again."""
    cfg = current_app.config
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(SignInThrottle).values(
        email_key=key, account_key=account_key, failures=0, window_started_at=now).on_conflict_do_nothing())
    stale = now - timedelta(seconds=cfg["SIGN_IN_FAILURE_WINDOW_SECONDS"])
    fresh_window = (SignInThrottle.window_started_at.is_(None)) | (SignInThrottle.window_started_at < stale)
    db.session.execute(
        update(SignInThrottle).where(SignInThrottle.email_key == key).values(
            failures=case((fresh_window, 1), else_=SignInThrottle.failures + 1),
            window_started_at=case((fresh_window, now), else_=SignInThrottle.window_started_at),
            last_failure_at=now,
        ).execution_options(synchronize_session=False)
    )
    row = db.session.get(SignInThrottle, key, populate_existing=True)
    if row.failures >= limit:
        row.failures = 0
        row.window_started_at = None
        row.locked_until = now + timedelta(seconds=cfg["SIGN_IN_LOCK_SECONDS"])
    return row


def sign_in(email: str, password: str, client: Client = NO_CLIENT) -> SignInResult:
    """Check a password with the throttles: five wrong ones from one client address pause that
    address's tries at this account; SIGN_IN_ACCOUNT_MAX_FAILURES from all addresses pause all."""
    cfg = current_app.config
    now = utcnow()
    here_key, everywhere_key = _throttle_keys(email, client)
    here = db.session.get(SignInThrottle, here_key)
    everywhere = db.session.get(SignInThrottle, everywhere_key)
    user = user_by_email(email)
    for throttle in (here, everywhere):
        if throttle and throttle.locked_until and throttle.locked_until > now:
            record_event(AccountEventKind.SIGN_IN_FAILED, email, SignInOutcome.LOCKED, user=user, client=client)
            db.session.commit()
            return SignInResult(message=_lock_message(throttle.locked_until), locked=True)
    if verify_password(user.password_hash if user else None, password):
        if user.is_suspended:
            record_event(AccountEventKind.SIGN_IN_FAILED, email, SignInOutcome.SUSPENDED, user=user, client=client)
            db.session.commit()
            return SignInResult(message=suspended_message(user))
        if here:
            db.session.delete(here)
        user.last_sign_in_at = now
        record_event(AccountEventKind.SIGN_IN, email, user=user, client=client)
        db.session.commit()
        return SignInResult(user=user)

    record_event(AccountEventKind.SIGN_IN_FAILED, email, SignInOutcome.WRONG_PASSWORD, user=user, client=client)
    limit = cfg["SIGN_IN_MAX_FAILURES"]
    here = _count_failure(here_key, everywhere_key, limit, now)
    everywhere = _count_failure(everywhere_key, everywhere_key, cfg["SIGN_IN_ACCOUNT_MAX_FAILURES"], now)
    message = "The email address or password is incorrect."
    locked = None
    for throttle, scope in ((here, SignInOutcome.FROM_ONE_ADDRESS), (everywhere, SignInOutcome.FROM_EVERYWHERE)):
        if throttle.locked_until and throttle.locked_until > now:
            record_event(AccountEventKind.LOCKED, email, scope, user=user, client=client)
            locked = throttle.locked_until
    if locked:
        message = _lock_message(locked)
    elif here.failures >= limit - 2:
        left = limit - here.failures
        message += (f" {left} more wrong {'try' if left == 1 else 'tries'} and sign-in will be "
                    "paused for a while. Forgot it? Use “Forgot your password?”.")
    db.session.commit()
    return SignInResult(message=message)


def sign_out(user: User, client: Client = NO_CLIENT) -> None:
    # The session is a signed cookie: bumping the version makes a copy taken before sign-out
    # (or left in another browser) worthless, instead of leaving it valid for its lifetime.
    user.session_version += 1
    record_event(AccountEventKind.SIGNED_OUT, user.email, user=user, client=client)
    db.session.commit()


def sign_out_everywhere(user: User, client: Client = NO_CLIENT) -> None:
    """End every session of this user, in every browser, this one included."""
    user.session_version += 1
    record_event(AccountEventKind.SIGNED_OUT_ALL, user.email, user=user, client=client)
    db.session.commit()


def change_name(user: User, display_name: str, first_name: str, last_name: str,
                client: Client = NO_CLIENT) -> None:
    user.display_name, user.first_name, user.last_name = display_name, first_name, last_name
    record_event(AccountEventKind.NAME_CHANGED, user.email, user=user, client=client)
    db.session.commit()


# What "My account" lists as the user's recent sign-ins and refused attempts.
SIGN_IN_KINDS = (AccountEventKind.SIGN_IN, AccountEventKind.SIGN_IN_FAILED, AccountEventKind.LOCKED)


def recent_sign_ins(user: User, limit: int = 20) -> list[AccountEvent]:
    return db.session.scalars(
        select(AccountEvent).where(AccountEvent.user_id == user.id, AccountEvent.kind.in_(SIGN_IN_KINDS))
        .order_by(AccountEvent.at.desc(), AccountEvent.id.desc()).limit(limit)).all()


# ----- passwords and suspension ------------------------------------------------------------------

def set_password(user: User, password: str, kind: str = AccountEventKind.PASSWORD_CHANGED,
                 client: Client = NO_CLIENT, actor: User | None = None) -> None:
    """A new password: every other session ends, sign-in locks lift, and a verified reset code
    still held by some session (a copy of this one, say) can no longer set another."""
    now = utcnow()
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.purpose == "reset", OneTimeCode.email == user.email)
        .where(OneTimeCode.spent_at.is_(None))
        .values(spent_at=now, consumed_at=case((OneTimeCode.consumed_at.is_(None), now),
                                               else_=OneTimeCode.consumed_at))
        .execution_options(synchronize_session=False)
    )
    account_key = keyed_hash("signin", user.email)
    db.session.execute(SignInThrottle.__table__.delete().where(
        (SignInThrottle.account_key == account_key) | (SignInThrottle.email_key == account_key)))
    record_event(kind, user.email, user=user, client=client, actor=actor)


def suspend_user(user: User, by: User | None = None, reason: str = "", client: Client = NO_CLIENT) -> bool:
    """Suspend an account: it can't sign in and its sessions end now. False when it already was
    (by Commerce: one made by the company's administrator becomes Commerce's, theirs to lift)."""
    if user.is_suspended and not user.suspended_by_company:
        return False
    user.suspended_at = utcnow()
    user.suspended_by_company = False
    user.suspended_reason = reason.strip()[:500] or None
    user.session_version += 1
    record_event(AccountEventKind.SUSPENDED, user.email, user=user, client=client, actor=by, note=reason)
    db.session.commit()
    return True


def reinstate_user(user: User, by: User | None = None, reason: str = "", client: Client = NO_CLIENT) -> bool:
    """Lift a suspension; the user signs in again with the same password. False when not suspended."""
    if not user.is_suspended:
        return False
    user.suspended_at = None
    user.suspended_by_company = False
    user.suspended_reason = None
    record_event(AccountEventKind.REINSTATED, user.email, user=user, client=client, actor=by, note=reason)
    db.session.commit()
    return True
