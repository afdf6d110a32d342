"""How values read on pages, in the PDF, in mail and in exports: the one set of formatters.

Each is a Jinja filter (`{{ lic.import_date|us_date }}`), registered once by register(app); Python
code that writes text for people (exports, mail, rule messages) calls the same functions. No
platform-specific strftime directive (%-d works only on glibc): the day is formatted by hand.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from .enums import ENTRY_TYPES
from .reference.countries import country_name
from .reference.hts import format_hts
from .reference.ports import all_ports

MISSING = "—"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def us_date(value: date | datetime | None) -> str:
    """07/31/2026, as on the forms and in the guide."""
    return f"{value.month:02d}/{value.day:02d}/{value.year:04d}" if value else MISSING


def us_datetime(value: datetime | None) -> str:
    """07/31/2026 14:05 UTC: stored times are UTC."""
    return f"{us_date(value)} {value.hour:02d}:{value.minute:02d} UTC" if value else MISSING


def long_date(value: date | datetime | None) -> str:
    """December 1, 2026."""
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}" if value else MISSING


def long_datetime(value: datetime | None) -> str:
    """December 1, 2026, 14:05 UTC."""
    return f"{long_date(value)}, {value.hour:02d}:{value.minute:02d} UTC" if value else MISSING


def iso_datetime(value: datetime | None) -> str:
    """2026-12-01 14:05:09, for exports read by programs as well as people."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def amount(value) -> str:
    """1,250.50: a kilogram volume or a dollar value with its cents."""
    return MISSING if value is None else f"{Decimal(value):,.2f}"


def usd(value) -> str:
    """$1,250.50."""
    return MISSING if value is None else f"${Decimal(value):,.2f}"


def kg(value) -> str:
    """12,500 kg, whole kilograms (averages and surges; a line's volume uses amount)."""
    return MISSING if value is None else f"{Decimal(value):,.0f} kg"


def metric_tons(value) -> str:
    """12.5: metric tons with one decimal, as on the public monitor."""
    return MISSING if value is None else f"{Decimal(value):,.1f}"


def whole(value) -> str:
    """12,500: a count or a whole number with thousands separators."""
    return MISSING if value is None else f"{Decimal(value):,.0f}"


def country(code: str | None) -> str:
    return country_name(code) if code else MISSING


def hts(number: str) -> str:
    """7601.10.30.00 for a 10-digit HTS number; anything else as it is."""
    return format_hts(number) if number and len(number) == 10 and number.isdigit() else number


def port(code: str | None) -> str:
    found = all_ports().get(code or "")
    return found.label if found else (code or MISSING)


def entry_type(code: str) -> str:
    return ENTRY_TYPES.get(code, code)


FILTERS = (us_date, us_datetime, long_date, long_datetime, iso_datetime, amount, usd, kg,
           metric_tons, whole, country, hts, port, entry_type)


def register(app) -> None:
    for fn in FILTERS:
        app.add_template_filter(fn)
