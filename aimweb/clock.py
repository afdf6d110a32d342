"""The program's clock: "today" is the business day in New York, stored times are naive UTC."""
from __future__ import annotations

import os
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

# The program runs on Washington time: "today" for the 60-day window is the filer's business day,
# whatever time zone the server is set to.
PROGRAM_TZ = ZoneInfo("America/New_York")


def pinned_today() -> date | None:
    """PROGRAM_TODAY (config, or AIMWEB_PROGRAM_TODAY outside an app), YYYY-MM-DD: for tests and
    demos only, the clock runs on that day (at the real time of day), so every date a rule, a
    stamp or a test computes agrees. Never set in production."""
    # In an app, its config (which AIMWEB_PROGRAM_TODAY already overrides); read on every stamp.
    value = (current_app.config.get("PROGRAM_TODAY") if has_app_context()
             else os.environ.get("AIMWEB_PROGRAM_TODAY"))
    return _day(value) if value else None


@lru_cache(maxsize=8)
def _day(value: str) -> date:
    return date.fromisoformat(value)


def program_now() -> datetime:
    """The wall-clock time in New York (for names and stamps a person reads)."""
    now = datetime.now(PROGRAM_TZ)
    pinned = pinned_today()
    if pinned is not None:
        now = datetime.combine(pinned, now.timetz())
    return now


def utcnow() -> datetime:
    """Naive UTC: the same value round-trips through SQLite and PostgreSQL."""
    return program_now().astimezone(UTC).replace(tzinfo=None)


def application_date() -> date:
    """Today in New York: the date every rule, check and figure is decided against."""
    return program_now().date()


def to_program_date(moment: datetime) -> date:
    """The New York date of a stored (naive UTC) time."""
    return moment.replace(tzinfo=UTC).astimezone(PROGRAM_TZ).date()
