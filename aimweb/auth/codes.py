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


def check_code(purpose: str, email: str, code: str) -> CodeCheck:
    """Check a typed code against the newest live one; wrong tries count, the 5th burns it."""
    now = utcnow()
    row = db.session.scalars(
        select(OneTimeCode)
        .where(OneTimeCode.purpose == purpose, OneTimeCode.email == email)
        .where(OneTimeCode.consumed_at.is_(None))
        .order_by(OneTimeCode.created_at.desc())
        .limit(1)
        .with_for_update()
    ).first()
    expired_msg = "This code has expired or was replaced. Click “Send new code” to get a new one."
    if row is None or row.expires_at <= now:
        return CodeCheck(False, expired_msg)
    code = "".join(code.split())
    if hmac.compare_digest(row.code_hash, _hash(purpose, email, code)):
        row.consumed_at = row.verified_at = now
        db.session.commit()
        return CodeCheck(True, code_id=row.id)
    row.attempts += 1
    left = current_app.config["CODE_MAX_ATTEMPTS"] - row.attempts
    if left <= 0:
        row.consumed_at = now
        db.session.commit()
        return CodeCheck(False, "Too many wrong tries: this code no longer works. Click “Send new code”.")
    db.session.commit()
    return CodeCheck(False, f"That code is not right. {left} {'try' if left == 1 else 'tries'} left.")


def verified_recently(code_id: int | None, purpose: str, email: str, within_seconds: int = 1800) -> bool:
    """The session says this code was verified: check it really was, for this address, lately."""
    if not code_id:
        return False
    row = db.session.get(OneTimeCode, code_id)
    return bool(
        row
        and row.purpose == purpose
        and row.email == email
        and row.verified_at
        and (utcnow() - row.verified_at).total_seconds() < within_seconds
    )


def count_codes(purpose: str, email: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(OneTimeCode).where(
            OneTimeCode.purpose == purpose, OneTimeCode.email == email
        )
    )
