"""Aluminum (AIM, 19 CFR part 361): everything the portal knows that is specific to aluminum.

Its line fields (the smelt and cast countries) with their labels, their rules, the covered-HTS
catalogue, the Excel template's sheet and guide, the monitor's dimensions, the license number's
letter, the support address, and the officer checks only aluminum has.
"""
from __future__ import annotations

from datetime import date

from ..reference import countries
from ..reference.hts import CatalogueSource, format_hts
from .base import Field, Finding, LineCheck, MonitorDimension, Product

UNKNOWN_SMELT_CUTOFF = date(2022, 6, 28)


def smelt_choices(application_date: date) -> list[tuple[str, str]]:
    """The answers besides a country: "Not applicable", and "Unknown" up to the cut-off."""
    choices = [(countries.NOT_APPLICABLE, "Not applicable")]
    if application_date <= UNKNOWN_SMELT_CUTOFF:
        choices.append((countries.UNKNOWN, "Unknown"))
    return choices


SMELT_LARGEST = Field(
    "smelt_largest", "Country of Largest Smelt", "country", short_label="Largest Smelt", width=20,
    specials=smelt_choices,
    template_note="The country where most of the primary aluminum was smelted, or “Not applicable” "
                  "if there is no primary aluminum.")
SMELT_SECOND = Field(
    "smelt_second", "Country of Second Largest Smelt", "country", short_label="Second Largest Smelt",
    width=20, specials=smelt_choices, hint="“Not applicable” if there is no second source.",
    template_note="The second country, or “Not applicable” (also when the largest is “Not "
                  "applicable”).")
CAST = Field(
    "cast_country", "Country of Most Recent Cast", "country", short_label="Most Recent Cast", width=20,
    template_note="Always a country: never “Not applicable” or “Unknown”.")


def line_rules(line, application_date: date) -> list[tuple[str, str]]:
    """The smelt and cast rules (19 CFR 361.103): (field, message) for each problem."""
    na, unk = countries.NOT_APPLICABLE, countries.UNKNOWN
    found = []
    for spec in (SMELT_LARGEST, SMELT_SECOND):
        value = getattr(line, spec.name)
        if not value:
            found.append((spec.name, f"{spec.label} is required: a country, or “Not applicable”."))
        elif value == unk:
            if application_date > UNKNOWN_SMELT_CUTOFF:
                found.append((spec.name, f"{spec.label} cannot be “Unknown” on applications after "
                                         "June 28, 2022: give the country, or “Not applicable”."))
        elif value != na and not countries.is_country(value):
            found.append((spec.name, f"{spec.label}: {value!r} is not a country."))
    largest, second = line.smelt_largest, line.smelt_second
    if largest == na and second and second != na:
        found.append((SMELT_SECOND.name, f"{SMELT_SECOND.label} must be “Not applicable” when the "
                                         "largest is “Not applicable”."))
    if largest and largest == second and countries.is_country(largest):
        found.append((SMELT_SECOND.name, f"{SMELT_SECOND.label} must differ from the largest; choose "
                                         "“Not applicable” if there is no second source."))
    cast = line.cast_country
    if not cast:
        found.append((CAST.name, f"{CAST.label} is required."))
    elif cast in (na, unk):
        found.append((CAST.name, f"{CAST.label} must be a country: it can never be “Not applicable” "
                                 "or “Unknown”."))
    elif not countries.is_country(cast):
        found.append((CAST.name, f"{CAST.label}: {cast!r} is not a country."))
    return found


def transshipment_places(line) -> list[tuple[str, str]]:
    return [("the country of most recent cast", line.cast_country),
            ("of largest smelt", line.smelt_largest)]


def is_primary_metal(full_description: str) -> bool:
    text = full_description.lower()
    return "not alloyed" in text or "unalloyed" in text or "primary" in text


def primary_not_applicable_findings(lines) -> list[Finding]:
    return [Finding(
        "primary_not_applicable", 3,
        f"Product {line.position + 1}: {SMELT_LARGEST.label} is “Not applicable”, but HTS "
        f"{format_hts(line.hts_number)} is unalloyed (primary) aluminum, which always has a smelt "
        "country.", line.position)
        for line in lines
        if line.smelt_largest == countries.NOT_APPLICABLE and is_primary_metal(line.full_description)]


ALUMINUM = Product(
    key="aluminum",
    name="Aluminum",
    short_name="AIM",
    program="Aluminum Import Monitoring and Analysis (AIM)",
    number_letter="A",
    support_email="aluminum.license@trade.gov",
    guide_url="https://www.trade.gov/updates-aluminum-import-licensing",
    regulation="19 CFR part 361",
    covered_headings="7601, 7604, 7605, 7606, 7607, 7608, 7609, 7616.99.51.60 and 7616.99.51.70",
    hts_example="7601.10.30.00",
    own_line_fields=(SMELT_LARGEST, SMELT_SECOND, CAST),
    line_rules=line_rules,
    catalogue=CatalogueSource(),
    template_sheet="Aluminum Licenses",
    template_marker="AIM aluminum license template",
    template_instructions=(
        "“Not applicable” for a smelt country only when the product holds no primary aluminum "
        "(or, for the second, no second source). “Unknown” is accepted only on applications dated "
        f"up to {UNKNOWN_SMELT_CUTOFF:%B %d, %Y}. Most recent cast: always a country.",
    ),
    monitor_dimensions=(
        MonitorDimension("smelt", "Country of largest smelt", SMELT_LARGEST.name),
        MonitorDimension("cast", "Country of most recent cast", CAST.name),
    ),
    transshipment_places=transshipment_places,
    transshipment_explanation=(
        "a product whose country of origin is neither its country of most recent cast nor its "
        "country of largest smelt: the metal was smelted and cast elsewhere, so the origin may "
        "have been claimed for a country it only passed through."),
    line_checks=(LineCheck("primary_not_applicable", "“Not applicable” smelt on primary aluminum",
                           primary_not_applicable_findings,
                           "an unalloyed (primary) aluminum product whose country of largest smelt "
                           "is “Not applicable”: primary aluminum always has one."),),
    # 19 CFR 361.103(f): covered aluminum "valued at less than $5,000" (the limit itself is not).
    low_value_up_to=False,
)
ProductLineDraft = ALUMINUM.LineDraft
LineFacts = ALUMINUM.LineFacts
TEMPLATE_TITLES = list(ALUMINUM.template_titles)
