"""What makes an import license valid on a given date (19 CFR 361.103): pure rules.

The header and the lines' HTS number and figures are checked here for every product; a product's
own line fields by its `line_rules` (aimweb/products). Every function takes the application date
instead of reading the clock, so tests can stand on both sides of each cut-off. validate_license
returns every problem at once, each tied to its field, in the words of the field's label.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, make_dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .enums import ENTRY_TYPES
from .products import DEFAULT, HEADER, HEADER_FIELDS, Product, get
from .products.base import HTS, QUANTITY, VALUE
from .reference import countries
from .reference.hts import HtsItem, format_hts, normalize_hts
from .reference.ports import all_ports

APPLY_WINDOW_DAYS = 60
LATE_FILING_WORKING_DAYS = 10
VALIDITY_DAYS = 75
# US$/kg. Primary ingot trades near 2-3 $/kg and fabricated foil or castings rarely above 50 $/kg:
# below 10 cents or above 1,000 dollars a kilogram is a typing error (kg vs t, cents vs dollars).
MIN_UNIT_VALUE = Decimal("0.10")
MAX_UNIT_VALUE = Decimal("1000")
MAX_QUANTITY_KG = Decimal("1000000000")
MAX_VALUE_USD = Decimal("10000000000")
MAX_NAME_LENGTH = 200

# The license as the rules see it: the header fields (aimweb/products/base.py), the product lines
# (the product's LineDraft), the filer's "Certify" checkbox (19 CFR 361.103(c)(2): nothing is
# issued without it) and the product.
LicenseDraft = make_dataclass("LicenseDraft", [
    *((f.name, object, field(default=f.default)) for f in HEADER_FIELDS),
    ("lines", list, field(default_factory=list)),
    ("certified", bool, field(default=True)),
    ("product", str, field(default=DEFAULT)),
])


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    line: int | None = None


# ----- customs entry number ----------------------------------------------------------------------

_ENTRY = re.compile(r"^([A-Z0-9]{3})-?(\d{7})-?(\d)$")


def _letter_digit(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    offset = ord(ch) - ord("A")
    # A–I → 1–9, J–R → 1–9, S–Z → 2–9 (CBP's mapping: no letter maps to 0; S starts at 2)
    if offset < 9:
        return offset + 1
    if offset < 18:
        return offset - 8
    return offset - 16


def entry_number_check_digit(first10: str) -> int:
    """Luhn check digit over the filer code (letters mapped to digits) and the 7-digit serial."""
    digits = [_letter_digit(c) for c in first10.upper()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def normalize_entry_number(text: str) -> str | None:
    m = _ENTRY.match("".join(str(text or "").split()).upper())
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


# ----- computed values and choices ---------------------------------------------------------------

def unit_value(quantity_kg, customs_value_usd) -> Decimal | None:
    try:
        q, v = Decimal(quantity_kg), Decimal(customs_value_usd)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not q.is_finite() or not v.is_finite() or q <= 0:
        return None
    try:
        return (v / q).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # a quotient beyond Decimal's precision (1e308 / 0.01): no unit value
        return None


def validity(issue_date: date, entry_type: str) -> tuple[date, date | None]:
    if entry_type == "ftz":
        return issue_date, None
    return issue_date, issue_date + timedelta(days=VALIDITY_DAYS)


def is_manufacturer_unknown(name: str) -> bool:
    return (name or "").strip().lower() == "unknown"


def _add_working_days(start: date, days: int) -> date:
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


# ----- validation ------------------------------------------------------------------------------

def _amount_problem(value, label: str, maximum: Decimal) -> str | None:
    if value is None or value == "":
        return f"{label} is required."
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return f"{label} must be a number, like 1250.50."
    if not amount.is_finite():
        return f"{label} must be a number, like 1250.50."
    if amount <= 0:
        return f"{label} must be more than zero."
    if amount > maximum:
        return f"{label} must be at most {maximum:,}."
    if amount != amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        return f"{label} may have at most 2 decimal places."
    return None


def validate_line(line, *, application_date: date, catalogue: Mapping[str, HtsItem],
                  product: Product, index: int | None = None) -> list[Problem]:
    found: list[tuple[str, str]] = []
    hts = normalize_hts(line.hts_number)
    if not (line.hts_number or "").strip():
        found.append((HTS.name, f"{HTS.label} is required."))
    elif hts is None:
        found.append((HTS.name, f"{HTS.label} must have 10 digits, like {product.hts_example}."))
    elif hts not in catalogue:
        found.append((HTS.name, f"HTS {format_hts(hts)} is not covered by {product.short_name}: "
                                f"no license is needed for it. Covered: {product.covered_headings}."))
    found += product.line_rules(line, application_date)
    q_problem = _amount_problem(line.quantity_kg, QUANTITY.label, MAX_QUANTITY_KG)
    v_problem = _amount_problem(line.customs_value_usd, VALUE.label, MAX_VALUE_USD)
    found += [(n, p) for n, p in ((QUANTITY.name, q_problem), (VALUE.name, v_problem)) if p]
    if not q_problem and not v_problem:
        raw = Decimal(line.customs_value_usd) / Decimal(line.quantity_kg)
        if raw < MIN_UNIT_VALUE or raw > MAX_UNIT_VALUE:
            side = f"under ${MIN_UNIT_VALUE}" if raw < MIN_UNIT_VALUE else f"over ${MAX_UNIT_VALUE:,}"
            found.append((VALUE.name,
                          f"The unit value would be {side} per kg: check that the volume is in "
                          "kilograms and the customs value in US dollars."))
    return [Problem(name, message, index) for name, message in found]


def _header_problems(draft, application_date: date,
                     port_codes: Collection[str]) -> list[tuple[str, str]]:
    found = []
    if (draft.entry_number or "").strip():
        entry = normalize_entry_number(draft.entry_number)
        if entry is None:
            found.append(("entry_number", "Customs Entry Number must be a 3-character filer code, "
                                          "7 digits and a check digit, like ABC-1234567-6."))
        elif entry_number_check_digit(entry[:3] + entry[4:11]) != int(entry[-1]):
            found.append(("entry_number", "Customs Entry Number's check digit does not match: "
                                          "check the number on the entry."))
    if draft.entry_type not in ENTRY_TYPES:
        found.append(("entry_type", "Entry Type must be Consumption or Foreign trade zone admission."))
    for name in ("importer_name", "exporter_name", "manufacturer_name"):
        value = (getattr(draft, name) or "").strip()
        if not value:
            hint = " (write “unknown” if you do not know it)" if name == "manufacturer_name" else ""
            found.append((name, f"{HEADER[name].label} is required{hint}."))
        elif len(value) > MAX_NAME_LENGTH:
            found.append((name, f"{HEADER[name].label} must be at most {MAX_NAME_LENGTH} characters."))
    for name in ("origin_country", "export_country"):
        value = getattr(draft, name)
        if not value:
            found.append((name, f"{HEADER[name].label} is required."))
        elif not countries.is_country(value):
            found.append((name, f"{HEADER[name].label} must be a country."))
    if not draft.port_code:
        found.append(("port_code", f"{HEADER['port_code'].label} is required."))
    elif draft.port_code not in port_codes:
        found.append(("port_code", f"{draft.port_code} is not a U.S. port of entry code."))
    if draft.export_date is None:
        found.append(("export_date", f"{HEADER['export_date'].label} is required."))
    if draft.import_date is None:
        found.append(("import_date", f"{HEADER['import_date'].label} is required."))
    else:
        if draft.export_date and draft.export_date > draft.import_date:
            found.append(("export_date", "Expected Date of Export must be on or before the "
                                         "Expected Date of Import."))
        earliest = draft.import_date - timedelta(days=APPLY_WINDOW_DAYS)
        if application_date < earliest:
            found.append(("import_date", f"A license may be applied for at most {APPLY_WINDOW_DAYS} "
                                         f"days before the date of import: apply on or after "
                                         f"{earliest:%m/%d/%Y}."))
        latest = _add_working_days(draft.import_date, LATE_FILING_WORKING_DAYS)
        if application_date > latest:
            found.append(("import_date", "The Expected Date of Import is more than "
                                         f"{LATE_FILING_WORKING_DAYS} working days ago: a license is "
                                         "applied for before the entry summary is filed."))
    return found


def validate_license(draft, *, application_date: date,
                     catalogue: Mapping[str, HtsItem] | None = None,
                     port_codes: Collection[str] | None = None) -> list[Problem]:
    """Every problem of the draft; the catalogue is its product's, unless one is given."""
    product = get(draft.product)
    catalogue = product.catalogue().items if catalogue is None else catalogue
    ports = all_ports() if port_codes is None else port_codes
    problems = [Problem(n, m) for n, m in _header_problems(draft, application_date, ports)]
    if not draft.lines:
        problems.append(Problem("lines", "Add at least one product (click “Add Products”)."))
    if not draft.certified:
        problems.append(Problem("certified", "Check the box to certify that the information is "
                                             "accurate and complete."))
    for index, line in enumerate(draft.lines):
        problems += validate_line(line, application_date=application_date, catalogue=catalogue,
                                  product=product, index=index)
    return problems


# ----- the low-value license (19 CFR 361.103(f), 360.103(f)) --------------------------------------
# Our design (README "Low-value licenses"): one license per filer company, product and importer,
# naming the covered HTS numbers it may be quoted for, valid LOW_VALUE_VALIDITY_DAYS from issue,
# renewed by applying again (Duplicate); each entry it is quoted on is worth less than (aluminum)
# or at most (steel) the product's limit.

LOW_VALUE_VALIDITY_DAYS = 365
LOW_VALUE_MAX_HTS = 50
# An entry recorded as a use may be dated up to this many days ahead (an entry summary being
# prepared), never before the license was valid.
USE_DAYS_AHEAD = 10


def within_low_value_limit(product: Product, value_usd: Decimal) -> bool:
    """THE comparison of an entry's covered-metal value with the product's low-value limit:
    "less than" for aluminum, "up to" for steel (Product.low_value_up_to)."""
    limit = product.low_value_limit_usd
    return value_usd <= limit if product.low_value_up_to else value_usd < limit


def low_value_validity(issue_date: date) -> tuple[date, date]:
    return issue_date, issue_date + timedelta(days=LOW_VALUE_VALIDITY_DAYS - 1)


def parse_hts_list(text: str) -> list[str]:
    """The HTS numbers typed in one box: separated by commas, semicolons, spaces or lines."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


def validate_low_value(draft, *, catalogue: Mapping[str, HtsItem]) -> tuple[list[str], list[Problem]]:
    """A low-value license draft (product, importer_name, covered_hts as typed, certified): the
    covered HTS numbers normalised, and every problem."""
    product = get(draft.product)
    problems = []
    importer = (draft.importer_name or "").strip()
    if not importer:
        problems.append(Problem("importer_name", f"{HEADER['importer_name'].label} is required."))
    elif len(importer) > MAX_NAME_LENGTH:
        problems.append(Problem("importer_name", f"{HEADER['importer_name'].label} must be at most "
                                                 f"{MAX_NAME_LENGTH} characters."))
    typed = parse_hts_list(draft.covered_hts)
    found: list[str] = []
    if not typed:
        problems.append(Problem("covered_hts", "Covered HTS Numbers: give at least one, like "
                                               f"{product.hts_example}."))
    for text in typed[:LOW_VALUE_MAX_HTS + 1]:
        hts = normalize_hts(text)
        if hts is None:
            problems.append(Problem("covered_hts", f"Covered HTS Numbers: {text[:20]!r} must have 10 "
                                                   f"digits, like {product.hts_example}."))
        elif hts not in catalogue:
            problems.append(Problem("covered_hts", f"HTS {format_hts(hts)} is not covered by "
                                                   f"{product.short_name}: no license is needed for it."))
        elif hts not in found:
            found.append(hts)
    if len(typed) > LOW_VALUE_MAX_HTS:
        problems.append(Problem("covered_hts", f"Covered HTS Numbers: at most {LOW_VALUE_MAX_HTS}."))
    if not draft.certified:
        problems.append(Problem("certified", "Check the box to certify that the information is "
                                             "accurate and complete."))
    return found, problems


def validate_use(*, product: Product, entry_number: str, entry_date: date | None, value_usd,
                 valid_from: date, valid_through: date, today: date) -> list[Problem]:
    """One entry a low-value license is quoted on: every problem, the limit's with its reason."""
    problems = []
    entry = normalize_entry_number(entry_number or "")
    if not (entry_number or "").strip():
        problems.append(Problem("entry_number", "Customs Entry Number is required."))
    elif entry is None:
        problems.append(Problem("entry_number", "Customs Entry Number must be a 3-character filer "
                                                "code, 7 digits and a check digit, like ABC-1234567-6."))
    elif entry_number_check_digit(entry[:3] + entry[4:11]) != int(entry[-1]):
        problems.append(Problem("entry_number", "Customs Entry Number's check digit does not match: "
                                                "check the number on the entry."))
    if entry_date is None:
        problems.append(Problem("entry_date", "Date of Entry is required."))
    elif entry_date < valid_from or entry_date > valid_through:
        problems.append(Problem("entry_date", f"Date of Entry must be within the license's validity, "
                                              f"{valid_from:%m/%d/%Y} through {valid_through:%m/%d/%Y}."))
    elif entry_date > today + timedelta(days=USE_DAYS_AHEAD):
        problems.append(Problem("entry_date", f"Date of Entry may be at most {USE_DAYS_AHEAD} days "
                                              "from today."))
    amount = _amount_problem(value_usd, "Value of the covered metal (US$)", MAX_VALUE_USD)
    if amount:
        problems.append(Problem("value_usd", amount))
    elif not within_low_value_limit(product, Decimal(value_usd)):
        problems.append(Problem("value_usd", f"An entry worth ${Decimal(value_usd):,.2f} cannot use a "
                                             f"low-value license: it is for entries of covered "
                                             f"{product.name.lower()} worth {product.low_value_wording}. "
                                             "Apply for a standard license for this entry."))
    return problems


def low_value_hint(product: Product, lines) -> str | None:
    """A standard license whose products total within the low-value limit: a low-value license
    may serve (a hint, never a refusal)."""
    try:
        total = sum((Decimal(line.customs_value_usd) for line in lines), Decimal(0))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not lines or not within_low_value_limit(product, total):
        return None
    return (f"This entry's covered {product.name.lower()} is worth ${total:,.2f}, "
            f"{product.low_value_wording}: a low-value license, applied for once and quoted on each "
            "such entry, may serve instead of a license per entry.")
