"""Who may file (19 CFR 361.102): identifiers, U.S. street addresses, ZIP codes, phone numbers."""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
import pycountry
import zipcodes

# The IRS has never issued EINs with these two-digit prefixes.
INVALID_EIN_PREFIXES = frozenset(
    ["00", "07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78", "79", "89", "96", "97"]
)
_EIN = re.compile(r"^(\d{2})-?(\d{7})$")
# CBP-assigned importer number: YYDDPP-NNNNN.
_CBP_NUMBER = re.compile(r"^(\d{6})-?(\d{5})$")
_PO_BOX = re.compile(
    r"\b(p\.?\s*o\.?\s*b(ox)?|post\s*office\s*box|pob|p\.?\s*o\.?\s*drawer|box\s+\d+)\b", re.I
)

COMPANY_TYPES = [
    ("importer", "Importer"),
    ("importing_company", "Importing Company"),
    ("customs_broker", "Customs Broker"),
    ("agent", "Agent"),
]


@lru_cache(maxsize=1)
def us_states() -> list[tuple[str, str]]:
    """States, DC and the inhabited territories, by code, as (code, name)."""
    subs = pycountry.subdivisions.get(country_code="US")
    return sorted(
        ((s.code[3:], s.name) for s in subs if s.code != "US-UM"), key=lambda pair: pair[0]
    )


def normalize_ein(text: str) -> tuple[str | None, str | None]:
    """(EIN as NN-NNNNNNN, None) or (None, the problem)."""
    m = _EIN.match((text or "").strip())
    if not m:
        return None, "The EIN must be nine digits in the format ##-#######, like 12-3456789."
    if m.group(1) in INVALID_EIN_PREFIXES:
        return None, f"{m.group(1)} is not a prefix the IRS issues. Check the EIN on your IRS letter."
    return f"{m.group(1)}-{m.group(2)}", None


def normalize_cbp_number(text: str) -> tuple[str | None, str | None]:
    m = _CBP_NUMBER.match((text or "").strip())
    if not m:
        return None, "The CBP-assigned importer number has the format YYDDPP-NNNNN, like 210101-00001."
    return f"{m.group(1)}-{m.group(2)}", None


def street_problem(street: str) -> str | None:
    if _PO_BOX.search(street or ""):
        return "Enter a U.S. street address. A P.O. box cannot be used."
    if not re.search(r"\d", street or ""):
        return "Enter a street address with a building number, like 100 Main Street."
    return None


def zip_problem(zip_code: str, state: str) -> str | None:
    zip5 = (zip_code or "").strip()
    if not re.fullmatch(r"[0-9]{5}(-[0-9]{4})?", zip5):   # ASCII digits: zipcodes panics on others
        return "Enter a 5-digit ZIP code, like 77459 (or ZIP+4, like 77459-1234)."
    try:
        matches = zipcodes.matching(zip5[:5])
    except (ValueError, TypeError):
        matches = []
    if not matches:
        return f"{zip5[:5]} is not a U.S. ZIP code."
    if state and all(m["state"] != state for m in matches):
        return f"ZIP code {zip5[:5]} is in {matches[0]['state']}, not {state}."
    if all(m["zip_code_type"] == "PO BOX" for m in matches):
        return f"ZIP code {zip5[:5]} is for P.O. boxes only. Enter the ZIP code of the street address."
    return None


def normalize_phone(text: str) -> tuple[str | None, str | None]:
    """(NNN-NNN-NNNN, None) or (None, the problem)."""
    digits = re.sub(r"\D", "", text or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    problem = "Enter a U.S. telephone number in the format ###-###-####, like 202-482-3809."
    if len(digits) != 10:
        return None, problem
    try:
        number = phonenumbers.parse(digits, "US")
    except phonenumbers.NumberParseException:
        return None, problem
    if not phonenumbers.is_valid_number(number):
        return None, f"{digits[:3]}-{digits[3:6]}-{digits[6:]} is not a valid U.S. telephone number."
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", None
