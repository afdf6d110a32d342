"""API keys: made and revoked by a company's filer on the account page, checked on every API request.

A key is shown once; only its SHA-256 digest is kept (aimweb.security.token_digest). It acts as
the user who made it, within that user's company: when the user leaves the company, is suspended
or loses the right to file (aimweb/api/access.py), the key stops working with them.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from .clock import utcnow
from .extensions import db
from .models import ApiKey, IdempotencyRecord, User
from .security import token_digest

TOKEN_PREFIX = "aim_"  # noqa: S105  (the visible start of every key, not a secret)
NAME_MAX = 100
# last_used_at is written at most this often per key: not a write on every request.
TOUCH_EVERY = timedelta(minutes=1)


class KeyRefused(ValueError):
    """What is wrong with the key asked for, in the account page's words (field, message)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def create_key(user: User, name: str, expires_on: date | None = None, today: date | None = None) -> tuple[ApiKey, str]:
    """A new key for the user's company: the row and the key itself (shown once, never again)."""
    name = " ".join((name or "").replace("\x00", "").split())
    if not name:
        raise KeyRefused("name", "Name the key after the software that uses it, like “Broker system”.")
    if len(name) > NAME_MAX:
        raise KeyRefused("name", f"The name may have at most {NAME_MAX} characters.")
    if expires_on is not None and today is not None and expires_on <= today:
        raise KeyRefused("expires_on", "The expiry date must be after today.")
    if user.company_id is None:
        raise KeyRefused("name", "Register your company before making an API key.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(user_id=user.id, company_id=user.company_id, name=name, prefix=token[:12],
                 digest=token_digest(token),
                 expires_at=datetime.combine(expires_on, time.min) if expires_on else None)
    db.session.add(key)
    db.session.commit()
    return key, token


def company_keys(company_id: int) -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).where(ApiKey.company_id == company_id)
                                   .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())))


def revoke_key(company_id: int, key_id: int) -> bool:
    """Revoke one of the company's keys (at once, for good). False when it is not theirs."""
    result = db.session.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.company_id == company_id,
                                                     ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.commit()
    return bool(result.rowcount)


def authenticate(token: str) -> ApiKey | None:
    """The usable key this is, or None (unknown, revoked, expired, its user suspended or moved)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.digest == token_digest(token)))
    now = utcnow()
    if key is None or not key.is_usable(now):
        return None
    user = key.user
    if user.is_suspended or user.company_id != key.company_id:
        return None
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        key.last_used_at = now
        db.session.commit()
    return key


# ----- Idempotency-Key: a retried POST returns the first answer ------------------------------------

IDEMPOTENCY_KEY_MAX = 255


def begin_request(api_key_id: int, key: str, request_digest: str) -> IdempotencyRecord | str:
    """The record of a POST with this Idempotency-Key: a finished one (replay its answer), or a new
    one to finish; "reused" when the key came with another body, "in-progress" when the first
    request with it has not answered yet."""
    record = IdempotencyRecord(api_key_id=api_key_id, key=key, request_digest=request_digest,
                               status_code=0, body="", content_type="")
    db.session.add(record)
    try:
        db.session.commit()
        return record
    except IntegrityError:
        db.session.rollback()
    first = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == api_key_id,
                                                              IdempotencyRecord.key == key))
    if first is None:  # abandoned meanwhile: the caller may simply retry
        return "in-progress"
    if first.request_digest != request_digest:
        return "reused"
    return first if first.status_code else "in-progress"


def finish_request(record_id: int, status_code: int, body: str, content_type: str) -> None:
    db.session.rollback()  # nothing of a failed change is committed with the record
    db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
                       .values(status_code=status_code, body=body, content_type=content_type))
    db.session.commit()


def abandon_request(record_id: int) -> None:
    """The request failed on our side: the key may be used again."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    db.session.commit()
