"""E-mailed one-time codes: random, stored as a keyed hash, single use, short-lived, few tries."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import OneTimeCode, utcnow
from ..security import keyed_hash


@dataclass
class CodeCheck:
    ok: bool
    message: str = ""
    code_id: int | None = None


def _hash(purpose: str, email: str, code: str) -> str:
    return keyed_hash("code", purpose, email, code)


def throttle_message(purpose: str, email: str) -> str | None:
    """Why a new code can't be sent yet, or None."""
    cfg = current_app.config
    now = utcnow()
    recent = db.session.scalars(
        select(OneTimeCode.created_at)
        .where(OneTimeCode.purpose == purpose, OneTimeCode.email == email)
        .where(OneTimeCode.created_at > now - timedelta(hours=1))
        .order_by(OneTimeCode.created_at.desc())
    ).all()
    if recent and (now - recent[0]).total_seconds() < cfg["CODE_RESEND_INTERVAL_SECONDS"]:
        wait = cfg["CODE_RESEND_INTERVAL_SECONDS"] - int((now - recent[0]).total_seconds())
        return f"A code was sent moments ago. Please wait {wait} seconds before asking for a new one."
    if len(recent) >= cfg["CODE_MAX_PER_HOUR"]:
        return "Too many codes were requested for this address. Please try again in an hour."
    return None


def issue_code(purpose: str, email: str) -> str:
    """Make a new code for (purpose, email); every older unused one stops working.

    The caller commits, with the mail that carries the code."""
    now = utcnow()
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.purpose == purpose, OneTimeCode.email == email)
        .where(OneTimeCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(
        OneTimeCode(
            purpose=purpose,
            email=email,
            code_hash=_hash(purpose, email, code),
            created_at=now,
            expires_at=now + timedelta(seconds=current_app.config["CODE_TTL_SECONDS"]),
        )
    )
    return code


def _wrong_tries(purpose: str, email: str, now) -> int:
    """Wrong tries at every code of this address and purpose within the hour: a new code
    doesn't give a guesser a fresh set of tries."""
    return db.session.scalar(
        select(func.coalesce(func.sum(OneTimeCode.attempts), 0))
        .where(OneTimeCode.purpose == purpose, OneTimeCode.email == email)
        .where(OneTimeCode.created_at > now - timedelta(hours=1))
    )


def check_code(purpose: str, email: str, code: str) -> CodeCheck:
    """Check a typed code against the newest live one. A try is taken before the comparison and
    the code is consumed by one conditional update: of two copies of a session posting the same
    code at once, exactly one wins. Wrong tries count per code (the 5th burns it) and per address
    and purpose across codes (CODE_MAX_WRONG_PER_HOUR)."""
    cfg = current_app.config
    now = utcnow()
    row = db.session.execute(
        select(OneTimeCode.id, OneTimeCode.code_hash, OneTimeCode.expires_at)
        .where(OneTimeCode.purpose == purpose, OneTimeCode.email == email)
        .where(OneTimeCode.consumed_at.is_(None))
        .order_by(OneTimeCode.created_at.desc())
        .limit(1)
    ).first()
    expired_msg = "This code has expired or was replaced. Click “Send new code” to get a new one."
    if row is None or row.expires_at <= now:
        db.session.rollback()
        return CodeCheck(False, expired_msg)
    live = (OneTimeCode.id == row.id) & OneTimeCode.consumed_at.is_(None)
    taken = db.session.execute(
        update(OneTimeCode).where(live).values(attempts=OneTimeCode.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        db.session.rollback()
        return CodeCheck(False, expired_msg)
    # Counted with this try: the update above holds the row (PostgreSQL) or the database
    # (SQLite) until commit, so concurrent tries are counted one after the other.
    wrong_so_far = _wrong_tries(purpose, email, now) - 1
    if wrong_so_far >= cfg["CODE_MAX_WRONG_PER_HOUR"]:
        db.session.execute(update(OneTimeCode).where(live).values(
            consumed_at=now, attempts=OneTimeCode.attempts - 1))
        db.session.commit()
        return CodeCheck(False, "Too many wrong codes were typed for this address. "
                                "Please try again in an hour.")
    code = "".join(code.split())
    if hmac.compare_digest(row.code_hash, _hash(purpose, email, code)):
        # The right code is no wrong try: the one taken is given back as the code is consumed.
        db.session.execute(update(OneTimeCode).where(live).values(
            consumed_at=now, verified_at=now, attempts=OneTimeCode.attempts - 1))
        db.session.commit()
        return CodeCheck(True, code_id=row.id)
    attempts = db.session.scalar(select(OneTimeCode.attempts).where(OneTimeCode.id == row.id))
    left = min(cfg["CODE_MAX_ATTEMPTS"] - attempts, cfg["CODE_MAX_WRONG_PER_HOUR"] - wrong_so_far - 1)
    if left <= 0:
        db.session.execute(update(OneTimeCode).where(live).values(consumed_at=now))
        db.session.commit()
        if attempts >= cfg["CODE_MAX_ATTEMPTS"]:
            return CodeCheck(False, "Too many wrong tries: this code no longer works. Click “Send new code”.")
        return CodeCheck(False, "Too many wrong codes were typed for this address. "
                                "Please try again in an hour.")
    db.session.commit()
    return CodeCheck(False, f"That code is not right. {left} {'try' if left == 1 else 'tries'} left.")


VERIFIED_CODE_SECONDS = 1800


def verified_recently(code_id: int | None, purpose: str, email: str,
                      within_seconds: int = VERIFIED_CODE_SECONDS) -> bool:
    """The session says this code was verified: check it really was, for this address, lately,
    and that it has not done its job already."""
    if not code_id:
        return False
    row = db.session.get(OneTimeCode, code_id, populate_existing=True)
    return bool(
        row
        and row.purpose == purpose
        and row.email == email
        and row.verified_at
        and row.spent_at is None
        and (utcnow() - row.verified_at).total_seconds() < within_seconds
    )


def spend_code(code_id: int | None, purpose: str, email: str) -> bool:
    """Use a verified code for what it was for (create the account, set the password): one
    conditional update, so of two copies of a session only one gets to do it."""
    if not code_id:
        return False
    now = utcnow()
    return db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == code_id, OneTimeCode.purpose == purpose, OneTimeCode.email == email)
        .where(OneTimeCode.verified_at > now - timedelta(seconds=VERIFIED_CODE_SECONDS))
        .where(OneTimeCode.spent_at.is_(None))
        .values(spent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def count_codes(purpose: str, email: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(OneTimeCode).where(
            OneTimeCode.purpose == purpose, OneTimeCode.email == email
        )
    )
