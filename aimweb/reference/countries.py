"""Countries (ISO 3166 via pycountry) and the two special answers some product fields accept."""
from __future__ import annotations

from functools import lru_cache

import pycountry

NOT_APPLICABLE = "NA_"
UNKNOWN = "UNK"
SPECIAL = {NOT_APPLICABLE: "Not applicable", UNKNOWN: "Unknown"}

# Everyday names that ISO's official ones don't match.
_ALIASES = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "england": "GB", "britain": "GB",
    "russia": "RU", "south korea": "KR", "korea": "KR", "republic of korea": "KR",
    "north korea": "KP", "vietnam": "VN", "turkey": "TR", "turkiye": "TR", "taiwan": "TW",
    "czech republic": "CZ", "czechia": "CZ", "iran": "IR", "uae": "AE", "holland": "NL",
    "the netherlands": "NL", "china": "CN", "prc": "CN", "bolivia": "BO", "venezuela": "VE",
    "syria": "SY", "laos": "LA", "moldova": "MD", "tanzania": "TZ", "brunei": "BN",
    "ivory coast": "CI", "macedonia": "MK", "hong kong": "HK", "macau": "MO", "macao": "MO",
}
_SPECIAL_WORDS = {
    "not applicable": NOT_APPLICABLE, "n/a": NOT_APPLICABLE, "na": NOT_APPLICABLE,
    "unknown": UNKNOWN, NOT_APPLICABLE.lower(): NOT_APPLICABLE, UNKNOWN.lower(): UNKNOWN,
}


def _display_name(country) -> str:
    return getattr(country, "common_name", None) or country.name


@lru_cache(maxsize=1)
def all_countries() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, _display_name(c)) for c in pycountry.countries), key=lambda p: p[1])


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    names = dict(_ALIASES)
    for c in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                names.setdefault(value.lower(), c.alpha_2)
    return names


@lru_cache(maxsize=1)
def _by_code() -> dict[str, str]:
    """Alpha-2 -> display name: one dict look-up per call (pycountry's get() is about 100x slower,
    and an upload of 5,000 rows asks about 20,000 times)."""
    return dict(all_countries())


def country_name(code: str) -> str:
    if code in SPECIAL:
        return SPECIAL[code]
    return _by_code().get(code.upper(), code) if code else ""


def is_country(code: str) -> bool:
    return bool(code) and code.upper() in _by_code()  # as pycountry: "ca" is Canada too


def lookup_country(text: str) -> str | None:
    """A name, alpha-2 or alpha-3 code, or everyday alias -> alpha-2 (or a special code)."""
    key = " ".join(str(text or "").split()).lower()
    if not key:
        return None
    return _SPECIAL_WORDS.get(key) or _names().get(key)
