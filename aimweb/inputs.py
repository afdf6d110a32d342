"""Turn what a person typed (or a spreadsheet cell held) into the values the rules check.

Pure, like rules.py: the single-license form and the Excel upload read their text through the
same functions, so "07/31/2026", "2026-07-31", "1,250.50" and "Canada"/"CA"/"CAN" mean the same
thing everywhere. A value that cannot be read becomes a Problem tied to its field; the rules then
skip their "is required" message for that field.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .products import DEFAULT, HEADER, HEADER_FIELDS, Product
from .reference import countries
from .reference.ports import all_ports, search_ports
from .rules import LicenseDraft, Problem

MAX_TEXT = 300  # longer than any field allows: the rules say what the limit is
_US_DATE = re.compile(r"(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])/(\d{4})")  # as strptime's %m/%d/%Y


def clean(text) -> str:
    return " ".join(str(text if text is not None else "").split())[:MAX_TEXT]


def parse_date(value) -> date | None:
    """A date, an ISO date (from <input type=date>) or MM/DD/YYYY (typed, as in the guide)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        # A spreadsheet date without a date format arrives as its serial number (days since 1899-12-30).
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = clean(value)
    if not text:
        return None
    m = _US_DATE.fullmatch(text)  # the usual MM/DD/YYYY without strptime (5,000 in one upload)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        except ValueError:
            raise ValueError(text) from None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_filter_date(text: str) -> date | None:
    """ISO (from <input type=date>) or MM/DD/YYYY (typed, as in the guide).

    A year outside 1900–2999 is refused: a 2-digit year ("07/31/26" would read as the year 26)
    is a typing slip, and 12/31/9999 would overflow the "to" day's end."""
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if 1900 <= parsed.year <= 2999:
            return parsed
    raise ValueError


def parse_amount(value) -> Decimal | str | None:
    """A number, or numeric text with thousands separators or a $: else the text, for the rules."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = clean(value).replace(",", "").replace("$", "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return text
    return amount if amount.is_finite() else text


def parse_country(value) -> str:
    """Alpha-2 (or a special code) when the text names a country; else the text itself."""
    text = clean(value)
    return countries.lookup_country(text) or text


def parse_port(value) -> str:
    """A 4-digit code (also "1303 — Baltimore, MD"), or a city/state that names exactly one port."""
    text = clean(value)
    m = re.match(r"^(\d{4})\b", text)
    if m:
        return m.group(1)
    if re.fullmatch(r"\d{1,3}", text):
        return text.zfill(4)
    found = search_ports(text, limit=2) if len(text) > 2 else []
    return found[0].code if len(found) == 1 else text


def _date_problem(name: str, raw) -> Problem:
    return Problem(name, f"{HEADER[name].label}: “{clean(raw)}” is not a date. Enter it like "
                         "07/31/2026.")


_READ = {"country": parse_country, "port": parse_port, "amount": parse_amount}


def header_from_data(data: Mapping, product: str = DEFAULT) -> tuple[LicenseDraft, list[Problem]]:
    """The license header from raw values keyed by field name, and what could not be read."""
    problems: list[Problem] = []
    unreadable_dates: list[Problem] = []
    draft = LicenseDraft(product=product)
    for spec in HEADER_FIELDS:
        if spec.kind == "date":
            try:
                setattr(draft, spec.name, parse_date(data.get(spec.name)))
            except ValueError:
                unreadable_dates.append(_date_problem(spec.name, data.get(spec.name)))
        else:
            setattr(draft, spec.name, _READ.get(spec.kind, clean)(data.get(spec.name)) or spec.default)
    port = draft.port_code
    if port and not (port.isdigit() and len(port) == 4) and port not in all_ports():
        problems.append(Problem("port_code", f"{HEADER['port_code'].label}: no single port matches "
                                             f"“{port}”. Type a port code, city or state and "
                                             "choose from the list."))
    return draft, problems + unreadable_dates


def line_from_data(data: Mapping, product: Product):
    """A product line of this product from raw values keyed by field name."""
    return product.LineDraft(*[_READ.get(spec.kind, clean)(data.get(spec.name))
                               for spec in product.line_fields])


def merge_problems(read: list[Problem], checked: list[Problem]) -> list[Problem]:
    """What could not be read, then what the rules found, without a second message per field."""
    unreadable = {(p.field, p.line) for p in read}
    return read + [p for p in checked if (p.field, p.line) not in unreadable]
