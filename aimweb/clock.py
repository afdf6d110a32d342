"""The program's clock: "today" is the business day in New York, stored times are naive UTC."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

# The program runs on Washington time: "today" for the 60-day window is the filer's business day,
# whatever time zone the server is set to.
PROGRAM_TZ = ZoneInfo("America/New_York")


def utcnow() -> datetime:
    """Naive UTC: the same value round-trips through SQLite and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def program_now() -> datetime:
    """The wall-clock time in New York (for names and stamps a person reads)."""
    return datetime.now(PROGRAM_TZ)


def application_date() -> date:
    """Today in New York: the date every rule, check and figure is decided against."""
    return program_now().date()


def to_program_date(moment: datetime) -> date:
    """The New York date of a stored (naive UTC) time."""
    return moment.replace(tzinfo=timezone.utc).astimezone(PROGRAM_TZ).date()
