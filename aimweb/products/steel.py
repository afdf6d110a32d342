"""Steel (SIMA, 19 CFR part 360): everything the portal knows that is specific to steel.

One line field (the country of melt and pour) with its rule, the catalogue of the 746 covered
HTS numbers (Section 232 basic steel mill products, each with its product category), the Excel
template's sheet and guide, the monitor's dimensions (country of melt and pour, product group),
the license number's letter and the support address. The header, the lifecycle and every shared
line field (HTS number, volume, value) are the same as aluminum's.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from functools import cache
from importlib import resources

from ..reference import countries
from ..reference.hts import CatalogueSource
from .base import Field, MonitorDimension, Product

# The country of melt and pour has been required on every steel license application since
# October 13, 2020 (SIMA's final rule); before, the application had no such field.
MELT_POUR_REQUIRED_FROM = date(2020, 10, 13)

MELT_POUR = Field(
    "melt_pour_country", "Country of Melt and Pour", "country", width=20,
    hint="Where the raw steel was first made liquid and poured into its first solid shape.",
    template_note="Where the raw steel was first produced in a liquid state and poured into its "
                  "first solid shape: always a country, never “Not applicable” or “Unknown”.")


def line_rules(line, application_date: date) -> list[tuple[str, str]]:
    """The melt-and-pour rule (19 CFR 360.103): (field, message) for each problem."""
    value = line.melt_pour_country
    label = MELT_POUR.label
    if not value:
        if application_date >= MELT_POUR_REQUIRED_FROM:
            return [(MELT_POUR.name, f"{label} is required.")]
        return []
    if value in (countries.NOT_APPLICABLE, countries.UNKNOWN):
        return [(MELT_POUR.name, f"{label} must be a country: it can never be “Not applicable” "
                                 "or “Unknown”.")]
    if not countries.is_country(value):
        return [(MELT_POUR.name, f"{label}: {value!r} is not a country.")]
    return []


def transshipment_places(line) -> list[tuple[str, str]]:
    return [("the country of melt and pour", line.melt_pour_country)]


# The origins the steel transshipment check watches by default: the countries where Commerce found
# (2018-2021) that corrosion-resistant or cold-rolled steel finished there from another country's
# substrate circumvented the duties on that country's steel (Vietnam, Costa Rica, the United Arab
# Emirates, Malaysia). The program office keeps its own list in the setting
# REVIEW_STEEL_TRANSSHIPMENT_ORIGINS. Steel melted in one country and rolled or coated in another
# takes the second's origin lawfully and often, so a mismatch alone would flag a large share of
# honest licenses; a mismatch with a watched origin is the pattern worth an officer's time.
WATCHED_ORIGINS = ("VN", "CR", "AE", "MY")


@cache
def product_groups() -> dict[str, str]:
    """Section 232 product category -> its group (Flat, Long, Pipe and Tube, Semi-Finished,
    Stainless Products): our own inference, for display (reference/data/PROVENANCE.md)."""
    text = resources.files("aimweb.reference").joinpath("data", "steel_product_categories.csv") \
        .read_text("utf-8")
    return {row["category"]: row["group_inferred"] for row in csv.DictReader(io.StringIO(text))}


def product_group(category: str) -> str:
    return product_groups().get(category, "Other")


STEEL = Product(
    key="steel",
    name="Steel",
    short_name="SIMA",
    program="Steel Import Monitoring and Analysis (SIMA)",
    number_letter="S",
    support_email="steel.license@trade.gov",
    regulation="19 CFR part 360",
    covered_headings="7206.10 to 7216.50, 7216.99 to 7301.10, 7302.10, 7302.40 to 7302.90 and "
                     "7304.10 to 7306.90 (Section 232 basic steel mill products)",
    hts_example="7208.10.15.00",
    own_line_fields=(MELT_POUR,),
    line_rules=line_rules,
    catalogue=CatalogueSource("steel_hts_covered.csv", "steel"),
    template_sheet="Steel Licenses",
    template_marker="SIMA steel license template",
    template_instructions=(
        "Country of Melt and Pour: where the raw steel was first produced in a liquid state and "
        "poured into its first solid shape. Always a country: never “Not applicable” or “Unknown”.",
    ),
    # Beside the shared ones (country of origin, product category: the Section 232 category,
    # 6-digit HTS).
    monitor_dimensions=(
        MonitorDimension("melt_pour", "Country of melt and pour", MELT_POUR.name),
        MonitorDimension("product_group", "Product group", "category", is_country=False,
                         key_of=product_group),
    ),
    transshipment_places=transshipment_places,
    transshipment_origins=WATCHED_ORIGINS,
    transshipment_explanation=(
        "a product melted and poured in a country other than its country of origin, when that "
        "origin is one the office watches for transshipment: {origins}. Steel often takes the "
        "origin of the country that rolled, drew or coated it, which is lawful, so a different "
        "country of melt and pour alone is not flagged; in the watched countries, steel made "
        "elsewhere has been found to be only finished or relabelled there to take their origin "
        "and avoid the duties on its own. Ask for the mill test certificate, which names the melt "
        "shop."),
    monitor_category_label="Section 232 product category",
    # 19 CFR 360.103(f): "up to $5,000" ("$5,000 or less"); aluminum's 361.103(f) says "less than".
    low_value_up_to=True,
)
