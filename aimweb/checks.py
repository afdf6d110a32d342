"""The automatic checks behind the officers' review queue: pure functions, like rules.py.

Each takes the facts of one license and the figures it is compared with (passed in, never read
from the database or the clock here) and returns findings with a plain-language reason. The
licensing service gathers the figures, runs `run_all` on every submitted or corrected license,
and stores what it returns. Thresholds are settings (REVIEW_* in config.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import formatting, products, rules
from .enums import LicenseStatus
from .products.base import Finding
from .reference import countries
from .reference.hts import format_hts

CHECKS = {
    "unit_value": "Unit value far from usual",
    "transshipment": "Possible transshipment",
    # the checks only one product has (aimweb/products: `line_checks`)
    **{c.key: c.title for p in products.PRODUCTS.values() for c in p.line_checks},
    "late_filing": "Applied for after the import",
    "modifications": "Modified repeatedly",
    "surge": "Volume surge",
    "low_value_split": "Low-value entries that may be one shipment",
}
MAD_TO_SIGMA = Decimal("1.4826")  # MAD of a normal distribution times this is its standard deviation


@dataclass(frozen=True)
class Thresholds:
    unit_value_limit: Decimal = Decimal(5)   # robust z-score (distance / (1.4826 x MAD))
    min_sample: int = 20                     # licenses of that HTS before the check fires
    surge_ratio: Decimal = Decimal(3)        # this month's kg over the company's monthly average
    surge_min_kg: Decimal = Decimal(10000)
    surge_history_months: int = 6
    modifications_limit: int = 3
    late_filing_days: int = 0                # days after the date of import a filing may come unflagged
    late_filing_window_days: int = 90        # how far back review-refresh looks for unflagged ones
    # Per product: the origins its transshipment check watches (None: every origin).
    transshipment_origins: Mapping[str, frozenset[str] | None] = field(
        default_factory=lambda: {key: watched_origins(p.transshipment_origins)
                                 for key, p in products.PRODUCTS.items()})
    low_value_window_days: int = 7           # entries this close together may be one shipment
    low_value_max_uses: int = 5              # more entries than this within the window: flagged

    @classmethod
    def from_config(cls, config: Mapping) -> Thresholds:
        return cls(
            unit_value_limit=Decimal(str(config.get("REVIEW_UNIT_VALUE_LIMIT", cls.unit_value_limit))),
            min_sample=int(config.get("REVIEW_MIN_SAMPLE", cls.min_sample)),
            surge_ratio=Decimal(str(config.get("REVIEW_SURGE_RATIO", cls.surge_ratio))),
            surge_min_kg=Decimal(str(config.get("REVIEW_SURGE_MIN_KG", cls.surge_min_kg))),
            surge_history_months=int(config.get("REVIEW_SURGE_HISTORY_MONTHS", cls.surge_history_months)),
            modifications_limit=int(config.get("REVIEW_MODIFICATIONS_LIMIT", cls.modifications_limit)),
            late_filing_days=int(config.get("REVIEW_LATE_FILING_DAYS", cls.late_filing_days)),
            late_filing_window_days=int(config.get("REVIEW_LATE_FILING_WINDOW_DAYS",
                                                   cls.late_filing_window_days)),
            transshipment_origins={
                key: watched_origins(config.get(p.transshipment_setting, p.transshipment_origins))
                for key, p in products.PRODUCTS.items()},
            low_value_window_days=int(config.get("REVIEW_LOW_VALUE_WINDOW_DAYS", cls.low_value_window_days)),
            low_value_max_uses=int(config.get("REVIEW_LOW_VALUE_MAX_USES", cls.low_value_max_uses)),
        )


def watched_origins(setting) -> frozenset[str] | None:
    """A product's watched origins from its default or its setting: a list of country codes, or
    one string of them separated by commas or spaces (AIMWEB_REVIEW_STEEL_TRANSSHIPMENT_ORIGINS=
    "VN,MY"); None for every origin."""
    if setting is None:
        return None
    codes = setting.replace(",", " ").split() if isinstance(setting, str) else setting
    return frozenset(str(code).strip().upper() for code in codes if str(code).strip())


def transshipment_explanation(product: products.Product, t: Thresholds) -> str:
    """What the transshipment check looks for in this product, in plain words, with the watched
    origins named (the officers' pages show it)."""
    watched = t.transshipment_origins.get(product.key)
    names = ", ".join(sorted(countries.country_name(code) for code in watched or ())) or "none"
    return product.transshipment_explanation.format(origins=names)


__all__ = ["Finding"]  # made here and by the products' own checks (aimweb/products/base.py)

# A line's facts are its product's LineFacts (aimweb/products): position, hts_number,
# full_description, the product's own fields, quantity_kg and unit_value.


@dataclass(frozen=True)
class UnitValueStat:
    sample: int
    median: Decimal
    mad: Decimal


@dataclass
class LicenseFacts:
    status: str
    origin_country: str
    import_date: date | None
    corrections: int
    lines: list = field(default_factory=list)
    product: str = products.DEFAULT
    filed_on: date | None = None        # the day the license was applied for (program date)
    entry_number: str | None = None
    # A low-value license's uses: (date of entry, value in US$), in any order.
    uses: list = field(default_factory=list)


@dataclass
class Context:
    """What a license is compared with."""

    today: date
    unit_values: Mapping[str, UnitValueStat] = field(default_factory=dict)
    # kg of this company per HTS: (this month's total including this license, monthly history)
    volumes: Mapping[str, tuple[Decimal, list[Decimal]]] = field(default_factory=dict)


def explanations(t: Thresholds) -> list[tuple[str, list[tuple[str, str]]]]:
    """What each check looks for, in plain words: (check title, [(product name or "", text)]),
    for the officers' pages. The transshipment check and the products' own checks say it per
    product."""
    every = list(products.PRODUCTS.values())
    own: dict[str, list[tuple[str, str]]] = {}
    for p in every:
        for c in p.line_checks:
            own.setdefault(c.key, []).append((p.name, c.explanation))
    said = {
        "unit_value": [("", f"a product whose unit value (US$/kg) is more than {t.unit_value_limit} "
                            "typical spreads from the median of recent licenses of the same HTS number, "
                            f"once that number has {t.min_sample} licenses. Each HTS number, aluminum "
                            "or steel, has its own median, recomputed daily from the last 365 days.")],
        "transshipment": [(p.name, transshipment_explanation(p, t)) for p in every],
        **own,
        "late_filing": [("", "a license applied for after its expected date of import: lawful until "
                             "the entry summary is filed, but the goods crossed the border unlicensed. "
                             "Check the customs entry number it gives, or ask for one.")],
        "modifications": [("", f"a license corrected {t.modifications_limit} times or more.")],
        "surge": [("", f"a company's kilograms of one HTS number this month at least {t.surge_ratio} "
                       f"times its monthly average of the previous {t.surge_history_months} months "
                       f"(and at least {formatting.kg(t.surge_min_kg)}).")],
    }
    return [(CHECKS[key], said[key]) for key in CHECKS if key in said]


def unit_value_findings(lines: list, stats: Mapping[str, UnitValueStat],
                        t: Thresholds) -> list[Finding]:
    found = []
    for line in lines:
        stat = stats.get(line.hts_number)
        if line.unit_value is None or stat is None or stat.sample < t.min_sample:
            continue
        # A spread of zero (identical prices) would make any difference infinite: floor it at 1 %.
        spread = max(stat.mad * MAD_TO_SIGMA, stat.median * Decimal("0.01"), Decimal("0.01"))
        z = abs(line.unit_value - stat.median) / spread
        if z > t.unit_value_limit:
            side = "above" if line.unit_value > stat.median else "below"
            found.append(Finding(
                "unit_value", 3 if z > 2 * t.unit_value_limit else 2,
                f"Product {line.position + 1}: unit value {formatting.usd(line.unit_value)}/kg is far {side} the "
                f"usual {formatting.usd(stat.median)}/kg for HTS {format_hts(line.hts_number)} (median of "
                f"{stat.sample} recent licenses; {z:.0f} times the typical spread). Misclassification "
                "or a wrong value?", line.position))
    return found


def transshipment_findings(origin: str, lines: list, product: products.Product,
                           watched: frozenset[str] | None = None) -> list[Finding]:
    """The origin should be a country where the product's own processing happened; with
    `watched` origins (steel), only a line from one of them is judged."""
    if not origin or (watched is not None and origin not in watched):
        return []
    found = []
    for line in lines:
        # A place left empty (a steel line applied for before melt and pour was asked) tells nothing.
        places = [(words, country) for words, country in product.transshipment_places(line) if country]
        if places and all(origin != country for _, country in places):
            where = [f"{words} ({countries.country_name(country)})" for words, country in places]
            said = f"is not {where[0]}" if len(where) == 1 else "is neither " + " nor ".join(where)
            pattern = (f", and {countries.country_name(origin)} is an origin watched for "
                       f"transshipment ({product.name.lower()} made elsewhere finished or relabelled "
                       "there)" if watched is not None else "")
            found.append(Finding(
                "transshipment", 2,
                f"Product {line.position + 1}: the country of origin, {countries.country_name(origin)}, "
                f"{said}{pattern}: possible transshipment.", line.position))
    return found


def late_filing_findings(facts: LicenseFacts, t: Thresholds) -> list[Finding]:
    """A license applied for after its expected date of import (more than `late_filing_days`).

    The old check ("import date passed, not corrected") flagged every license whose import date
    lay 30 days behind: that is nearly every license ever used (767,016 of 1,000,000 in the bench),
    and nothing an officer can do with it — an unused license carries no penalty and the license
    does not record whether it was used. This one looks at the filing itself: 19 CFR 361.103(d)
    allows applying until the entry summary is filed (the rules refuse more than 10 working days
    after the import), so a license filed after the import is lawful but means the goods crossed
    the border unlicensed, and the license must be matched with an entry that already exists. The
    officer can act on that: ask for (or check) the customs entry number with Action Required.
    Without an entry number the license cannot be matched at all, so it ranks higher. The facts
    compared never change with time (filing day, import date), so a license is flagged when it is
    issued or corrected; `review-refresh` only sweeps the last `late_filing_window_days` for
    licenses issued before the check existed, not the whole history.
    """
    if (facts.status not in LicenseStatus.ISSUED or facts.import_date is None
            or facts.filed_on is None):
        return []
    days = (facts.filed_on - facts.import_date).days
    if days <= t.late_filing_days:
        return []
    late = f"{days} day{'s' if days != 1 else ''}"
    said = (f"Applied for {late} after the expected date of import "
            f"({formatting.us_date(facts.import_date)}): the goods were imported before the license existed.")
    if facts.entry_number:
        return [Finding("late_filing", 1, f"{said} Check that customs entry {facts.entry_number} quotes it.")]
    return [Finding("late_filing", 2, f"{said} No customs entry number was given: ask the filer for it.")]


def modifications_findings(corrections: int, t: Thresholds) -> list[Finding]:
    if corrections < t.modifications_limit:
        return []
    return [Finding("modifications", 1 if corrections < 2 * t.modifications_limit else 2,
                    f"The license was modified {corrections} times.")]


def surge_findings(volumes: Mapping[str, tuple[Decimal, list[Decimal]]], t: Thresholds) -> list[Finding]:
    found = []
    for hts, (current, history) in sorted(volumes.items()):
        if len(history) < t.surge_history_months or current < t.surge_min_kg:
            continue
        average = sum(history, Decimal(0)) / len(history)
        if average > 0 and current >= t.surge_ratio * average:
            found.append(Finding(
                "surge", 2,
                f"This company's volume of HTS {format_hts(hts)} this month, {formatting.kg(current)}, is "
                f"{current / average:.1f} times its monthly average of the previous "
                f"{len(history)} months ({formatting.kg(average)})."))
    return found


def low_value_split_findings(facts: LicenseFacts, t: Thresholds) -> list[Finding]:
    """Entries on one low-value license that look like one shipment split into small ones: within
    `low_value_window_days`, together worth what no single entry may be under the license (the
    product's limit), or more than `low_value_max_uses` of them. The busiest window is reported."""
    uses = sorted(facts.uses)
    if len(uses) < 2:
        return []
    product = products.get(facts.product)
    best = None  # (over the limit, count, total, first, last) of the heaviest window
    start = 0
    for end in range(len(uses)):
        while (uses[end][0] - uses[start][0]).days >= t.low_value_window_days:
            start += 1
        window = uses[start:end + 1]
        total = sum((Decimal(value) for _, value in window), Decimal(0))
        key = (not rules.within_low_value_limit(product, total), len(window), total,
               window[0][0], window[-1][0])
        if best is None or key[:3] > best[:3]:
            best = key
    over, count, total, first, last = best
    if count < 2 or not (over or count > t.low_value_max_uses):
        return []
    days = f"within {t.low_value_window_days} days ({formatting.us_date(first)} to {formatting.us_date(last)})"
    if over:
        return [Finding(
            "low_value_split", 2,
            f"{count} entries used this low-value license {days}, worth {formatting.usd(total)} "
            f"together: more than one entry may hold under it ({product.low_value_wording}). One "
            "shipment split into small entries to stay under the limit needs a standard license: "
            "ask the filer whether these entries were one shipment.")]
    return [Finding(
        "low_value_split", 1,
        f"{count} entries used this low-value license {days}, more than {t.low_value_max_uses}: "
        f"each is under the limit ({formatting.usd(total)} together), but so many small entries so "
        "close together may be one shipment split up.")]


def run_all(facts: LicenseFacts, context: Context, t: Thresholds) -> list[Finding]:
    """Every finding on one license, most serious first."""
    product = products.get(facts.product)
    found = (unit_value_findings(facts.lines, context.unit_values, t)
             + transshipment_findings(facts.origin_country, facts.lines, product,
                                      t.transshipment_origins.get(product.key))
             + [f for check in product.line_checks for f in check.find(facts.lines)]
             + late_filing_findings(facts, t)
             + modifications_findings(facts.corrections, t)
             + surge_findings(context.volumes, t)
             + low_value_split_findings(facts, t))
    return sorted(found, key=lambda f: -f.severity)


def median_and_mad(values: list[Decimal]) -> UnitValueStat:
    ordered = sorted(values)
    median = _median(ordered)
    deviations = sorted(abs(v - median) for v in ordered)
    return UnitValueStat(len(ordered), median, _median(deviations))


def _median(ordered: list[Decimal]) -> Decimal:
    n = len(ordered)
    if n == 0:
        return Decimal(0)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
