"""How license values read on pages, in the PDF and in mail: US dates, amounts, country names."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from .reference.countries import country_name
from .reference.hts import format_hts
from .reference.ports import all_ports
from .rules import ENTRY_TYPES


def us_date(value: date | datetime | None) -> str:
    return value.strftime("%m/%d/%Y") if value else "—"


def us_datetime(value: datetime | None) -> str:
    return value.strftime("%m/%d/%Y %H:%M UTC") if value else "—"


def amount(value) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def country(code: str | None) -> str:
    return country_name(code) if code else "—"


def hts(number: str) -> str:
    return format_hts(number) if number and len(number) == 10 and number.isdigit() else number


def port(code: str | None) -> str:
    found = all_ports().get(code or "")
    return found.label if found else (code or "—")


def entry_type(code: str) -> str:
    return ENTRY_TYPES.get(code, code)


def helpers() -> dict:
    return dict(us_date=us_date, us_datetime=us_datetime, amount=amount, country=country,
                hts=hts, port=port, entry_type=entry_type)
