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

from .enums import LicenseKind
from .products import DEFAULT, HEADER, HEADER_FIELDS, PRODUCTS, Product
from .reference import countries
from .reference.ports import all_ports, search_ports
from .rules import LicenseDraft, Problem

MAX_TEXT = 300  # longer than any field allows: the rules say what the limit is
_US_DATE = re.compile(r"(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])/(\d{4})")  # as strptime's %m/%d/%Y


def clean(text) -> str:
    # NUL dropped here too (not only in the web layer's bounds): JSON bodies reach this directly.
    return " ".join(str(text if text is not None else "").replace("\x00", "").split())[:MAX_TEXT]


FIRST_YEAR, LAST_YEAR = 1900, 2999
# Typed dates: a year outside these is a slip ("07/31/26" read as the year 26, 9999 for "never"),
# and 9999-12-31 would overflow the date arithmetic of the rules and the search's "to" day.
MAX_AMOUNT_DIGITS = 15
# Amounts: no field allows 10^15 or more, or more than 15 places after the point; beyond that
# Decimal's quantize and division raise InvalidOperation, so such text goes to the rules as text.


class UnreadableDate(ValueError):
    """Why a typed value is not a date the portal takes, in words for the person who typed it."""


def parse_date(value) -> date | None:
    """A date, an ISO date (from <input type=date>) or MM/DD/YYYY (typed, as in the guide).

    The one date reader for the license form, the upload rows, the dashboard search and the
    officers' queue: years FIRST_YEAR–LAST_YEAR, 4-digit years only. Raises UnreadableDate."""
    if isinstance(value, datetime):
        return _in_range(value.date(), value)
    if isinstance(value, date):
        return _in_range(value, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        # A spreadsheet date without a date format arrives as its serial number (days since 1899-12-30).
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = clean(value)
    if not text:
        return None
    m = _US_DATE.fullmatch(text)  # the usual MM/DD/YYYY without strptime (5,000 in one upload)
    if m:
        try:
            typed = date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        except ValueError:
            raise UnreadableDate(f"“{text}” is not a date. Enter it like 07/31/2026.") from None
        return _in_range(typed, text)
    if re.fullmatch(r"\d{1,2}[/-]\d{1,2}[/-]\d{1,2}", text):
        raise UnreadableDate(f"“{text}”: type the year with 4 digits, like 07/31/2026.")
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"):
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return _in_range(parsed, text)
    raise UnreadableDate(f"“{text}” is not a date. Enter it like 07/31/2026.")


def _in_range(parsed: date, typed) -> date:
    if FIRST_YEAR <= parsed.year <= LAST_YEAR:
        return parsed
    shown = typed if isinstance(typed, str) else f"{parsed:%m/%d/%Y}"
    raise UnreadableDate(f"“{shown}”: the year must be between {FIRST_YEAR} and {LAST_YEAR}.")


def parse_amount(value) -> Decimal | str | None:
    """A number, or numeric text with thousands separators or a $: else the text, for the rules."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal, float)):
        # A spreadsheet number: a float by its shortest repr, so 0.1 stays 0.1.
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return amount if _within_bounds(amount) else str(value)
    text = clean(value).replace(",", "").replace("$", "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return text
    return amount if _within_bounds(amount) else text


def _within_bounds(amount: Decimal) -> bool:
    if not amount.is_finite():
        return False
    return not amount or (-MAX_AMOUNT_DIGITS <= amount.adjusted() < MAX_AMOUNT_DIGITS and \
        amount.as_tuple().exponent >= -MAX_AMOUNT_DIGITS)


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


# Characters a person reads or types for one another. A new license number uses at most one of
# each group (licensing.NUMBER_ALPHABET); numbers issued before may use any of them.
LOOK_ALIKES = ("0O", "1IL", "2Z", "5S", "8B")
_SAME_AS = {char: group for group in LOOK_ALIKES for char in group}
_DIGIT_OF = {char: group[0] for group in LOOK_ALIKES for char in group}
_LICENSE_NUMBER_SHAPE = re.compile(r"[A-Z0-9](?:[1IL])?[A-Z0-9]{4}[0-9OILZSB]{4}")
# A low-value license's mark after the product's letter (AL…, SL…: 10 characters, a standard
# number 9), typed as any of its look-alikes (1, I).
_LOW_VALUE_MARK = LicenseKind.LOW_VALUE.number_mark
# The products' letters (A aluminum, S steel): a digit typed for one (5 for S) is read as it.
_LETTER_OF = {char: letter for letter in {p.number_letter for p in PRODUCTS.values()}
              for char in _SAME_AS.get(letter, letter)}


# The largest id a table can hold: every primary key is INTEGER, 32 bits on PostgreSQL (SQLite's
# take 64). A larger id in a URL or a form is "not found" before any query: PostgreSQL refuses to
# compare an INTEGER column with it ("integer out of range"), which was a 500.
MAX_ID = 2**31 - 1


def record_id(value) -> int | None:
    """The id a form or a query string names (ASCII digits, 1 to MAX_ID), else None: "²" and "١"
    are digits to str.isdigit() that int() refuses, and a longer number fits no column."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def license_number_spellings(value) -> list[str]:
    """Every license number a typed one may be: case, spaces and dashes ignored, and a look-alike
    (O/0, I/L/1, Z/2, S/5, B/8) among the 4 middle characters read as any of its group, in the
    month and year as the digit, and as the first character a product's letter (5 for S). Empty
    when the text is not shaped like a license number.

    At most 3^4 = 81 numbers, looked up exactly by the number's unique index: "aox5ko126" finds
    A0X5K0126 or AOX5K0126 (both possible before look-alikes were left out), whichever exists.
    """
    typed = re.sub(r"[\s\-\u2010-\u2015]", "", str(value or ""))[:40].upper()
    if not _LICENSE_NUMBER_SHAPE.fullmatch(typed):
        return []
    mark = ""
    if len(typed) == 10:
        mark, typed = _LOW_VALUE_MARK, typed[0] + typed[2:]
    letter, body, month_year = typed[0], typed[1:5], typed[5:]
    if letter.isdigit():
        if letter not in _LETTER_OF:
            return []
        letter = _LETTER_OF[letter]
    month_year = "".join(_DIGIT_OF.get(char, char) for char in month_year)
    bodies = [""]
    for char in body:
        bodies = [start + alike for start in bodies for alike in _SAME_AS.get(char, char)]
    return [letter + mark + middle + month_year for middle in bodies]


def _date_problem(name: str, error: UnreadableDate) -> Problem:
    return Problem(name, f"{HEADER[name].label}: {error}")


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
            except UnreadableDate as error:
                unreadable_dates.append(_date_problem(spec.name, error))
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


def license_from_data(data: Mapping, product: str = DEFAULT) -> tuple[LicenseDraft, list[Problem]]:
    """A whole license from raw values (the API's JSON): the header fields, "lines" (a list of
    line values keyed by field name) and "certified" (true only when said so); what could not be read."""
    draft, problems = header_from_data(data, product)
    spec = PRODUCTS[product]
    lines = data.get("lines")
    lines = lines if isinstance(lines, list) else []
    draft.lines = [line_from_data(line if isinstance(line, Mapping) else {}, spec) for line in lines]
    draft.certified = data.get("certified") is True
    return draft, problems


def merge_problems(read: list[Problem], checked: list[Problem]) -> list[Problem]:
    """What could not be read, then what the rules found, without a second message per field."""
    unreadable = {(p.field, p.line) for p in read}
    return read + [p for p in checked if (p.field, p.line) not in unreadable]
