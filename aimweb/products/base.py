"""What a product definition is made of: its fields, monitor dimensions and hooks (pure data).

A Field is one thing a license says (a header field every product shares, or a product line
field): its attribute name on drafts and models, its label in the portal's words, how it is read
and shown, and its Excel template column. A Product gathers the line fields of its own, its line
rules, its catalogue, its template, its monitor dimensions and its officer checks; aimweb/products/
aluminum.py is one. No Flask, no database here: services and blueprints import products, never
the other way round.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, make_dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cached_property

from ..reference.hts import CatalogueSource

EMPTY = "—"


@dataclass(frozen=True)
class Field:
    name: str          # the attribute on drafts and models ("importer_name")
    label: str         # the portal's words: form, problem messages, PDF, changes
    kind: str          # text | country | port | date | amount | hts | entry_type | entry_number
    column_title: str | None = None   # the Excel template's and the export's title, if not the label
    short_label: str | None = None    # a table column's heading, if not the label
    form_label: str | None = None     # the form's label, if not the label
    template_note: str = ""           # the template's comment for the column
    width: int = 16                   # the template's column width
    hint: str = ""                    # the form's hint under the field
    required: bool = True             # marked required on the form
    in_template: bool = True          # a column of the Excel template
    default: object = ""
    # Extra answers a country field accepts on an application date ("Not applicable", "Unknown").
    specials: Callable[[date], list[tuple[str, str]]] | None = None

    @property
    def title(self) -> str:
        return self.column_title or self.label

    @property
    def heading(self) -> str:
        return self.short_label or self.label

    def display(self, value) -> str:
        """The value as pages, the PDF and the change list show it ("—" when empty)."""
        from .. import formatting  # formatting reads rules, which reads these fields

        if value is None or value == "":
            return EMPTY
        shown_by = _SHOWN_BY.get(self.kind)
        return getattr(formatting, shown_by)(value) if shown_by else str(value)

    def fact(self, value) -> str:
        """The value in a page's list of facts: as displayed, an optional field left empty says
        so ("Not given")."""
        if not self.required and (value is None or value == ""):
            return "Not given"
        return self.display(value)


# The formatting function (aimweb/formatting.py) that shows each kind of field; the rest show as text.
_SHOWN_BY = {"country": "country", "port": "port", "entry_type": "entry_type", "date": "us_date",
             "amount": "amount", "hts": "hts"}


# The license header: the same for every product, defined once.
HEADER_FIELDS: tuple[Field, ...] = (
    Field("entry_number", "Customs Entry Number", "entry_number", column_title="Customs Entry #",
          form_label="Customs Entry Number (optional)", required=False, width=17,
          template_note="Optional but encouraged: filer code, 7 digits and check digit, like "
                        "ABC-1234567-6."),
    Field("entry_type", "Entry Type", "entry_type", required=False, in_template=False,
          default="consumption"),
    Field("importer_name", "Importer Name", "text", width=28, template_note="Required."),
    Field("exporter_name", "Exporter Name", "text", width=28, template_note="Required."),
    Field("manufacturer_name", "Manufacturer Name", "text", column_title="Manufacturer", width=26,
          template_note="Required: the manufacturer's name, or “unknown”."),
    Field("origin_country", "Country of Origin", "country", width=20,
          template_note="A country: pick from the list, or type its name or ISO code (CA, CAN)."),
    Field("export_country", "Country of Export", "country", column_title="Country of Export",
          form_label="Country from which the product(s) were exported", width=20,
          template_note="The country from which the products were exported: name or ISO code."),
    Field("port_code", "Expected Port of Entry", "port", column_title="Port of Entry", width=26,
          template_note="The 4-digit CBP port code (pick from the list), e.g. 1303 for Baltimore, MD."),
    Field("export_date", "Expected Date of Export", "date", width=14, default=None,
          template_note="A date, MM/DD/YYYY: on or before the date of import."),
    Field("import_date", "Expected Date of Import", "date", width=14, default=None,
          template_note="A date, MM/DD/YYYY: at most 60 days after today."),
)
HEADER = {f.name: f for f in HEADER_FIELDS}
# A license page shows the header in two parts: the entry and its parties, then the shipment.
ENTRY_FIELDS, SHIPMENT_FIELDS = HEADER_FIELDS[:5], HEADER_FIELDS[5:]

# The line fields every product has: before its own fields (HTS) and after them (the figures).
HTS = Field("hts_number", "HTS Number", "hts", width=16,
            template_note="A covered 10-digit HTS number, with or without dots, e.g. {hts_example}.")
QUANTITY = Field("quantity_kg", "Volume (KG)", "amount", width=14, default=None,
                 template_note="Kilograms, more than zero (up to 2 decimals).", hint="Kilograms, like 12500.")
VALUE = Field("customs_value_usd", "Customs Value (US$)", "amount", width=16, default=None,
              template_note="US dollars, more than zero (up to 2 decimals).",
              hint="US dollars, like 38750.00.")
ENTRY_ID = Field("entry_id", "Entry ID", "text", width=10,
                 template_note="Your own number for each license. Rows with the same Entry ID form "
                               "ONE license with several products: their columns B to J must then "
                               "be the same.")


@dataclass(frozen=True)
class Finding:
    """What an officer check found on a license (aimweb.checks runs them; products add their own)."""

    check: str
    severity: int  # 1 low, 2 medium, 3 high
    reason: str
    line: int | None = None


@dataclass(frozen=True)
class LineCheck:
    """An officer check that only makes sense for one product (the queue's filter shows its title)."""

    key: str
    title: str
    find: Callable[[list], list[Finding]]   # the license's line facts -> findings
    explanation: str = ""                   # what it looks for, in plain words (officers' pages)


@dataclass(frozen=True)
class MonitorDimension:
    key: str             # in the monitor's URL: ?dimension=KEY
    label: str           # "Country of largest smelt"
    line_attribute: str  # the ProductLine attribute it groups by
    is_country: bool = True
    # The key of a line's attribute value when it is not the value itself (steel's product group
    # is read from the line's category).
    key_of: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Product:
    key: str                               # License.product
    name: str                              # "Aluminum"
    short_name: str                        # "AIM": "not covered by AIM"
    program: str                           # "Aluminum Import Monitoring and Analysis (AIM)"
    number_letter: str                     # the license number's first letter
    support_email: str
    regulation: str
    covered_headings: str                  # for "not covered" messages
    hts_example: str                       # a covered HTS number, in hints and messages
    own_line_fields: tuple[Field, ...]
    # (line draft, application date) -> [(field name, message)] for the product's own fields
    line_rules: Callable[[object, date], list[tuple[str, str]]]
    # Called: the covered-HTS catalogue in use (reference.hts.Catalogue); .path(): where
    # `flask hts-load --product KEY` puts a new revision.
    catalogue: CatalogueSource
    template_sheet: str
    template_marker: str
    template_instructions: tuple[str, ...]   # the product's own lines of the template's guide
    monitor_dimensions: tuple[MonitorDimension, ...]
    # line facts -> [(words, country)] where the product's own processing happened: the origin
    # should be one of them, else possible transshipment.
    transshipment_places: Callable[[object], list[tuple[str, str]]]
    line_checks: tuple[LineCheck, ...] = ()
    # The monitor's name for the line's category (its "View by" choice and filter).
    monitor_category_label: str = "Product category"
    guide_url: str = ""                    # the program's guides and videos on trade.gov, if known
    # The origins the transshipment check watches (country codes; the setting
    # REVIEW_<KEY>_TRANSSHIPMENT_ORIGINS replaces them), or None: a line from any origin is
    # checked. And what the officers' pages say the check looks for in this product, in plain
    # words ("{origins}": the watched countries' names).
    transshipment_origins: tuple[str, ...] | None = None
    transshipment_explanation: str = ""

    @property
    def transshipment_setting(self) -> str:
        return f"REVIEW_{self.key.upper()}_TRANSSHIPMENT_ORIGINS"
    # The low-value license (19 CFR 361.103(f), 360.103(f)): an entry's covered metal worth less
    # than (or, `low_value_up_to`, at most) this many US$ may quote it. Compared only by
    # rules.within_low_value_limit.
    low_value_limit_usd: Decimal = Decimal(5000)
    low_value_up_to: bool = False

    @property
    def low_value_wording(self) -> str:
        """The limit as the regulation words it: "less than $5,000" or "$5,000 or less"."""
        amount = f"${self.low_value_limit_usd:,.0f}"
        return f"{amount} or less" if self.low_value_up_to else f"less than {amount}"

    @cached_property
    def line_fields(self) -> tuple[Field, ...]:
        return (replace(HTS, hint=f"10 digits, with or without dots, like {self.hts_example}.",
                        template_note=HTS.template_note.format(hts_example=self.hts_example)),
                *self.own_line_fields, QUANTITY, VALUE)

    @cached_property
    def own_field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.own_line_fields)

    @cached_property
    def line_field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.line_fields)

    @cached_property
    def template_columns(self) -> tuple[Field, ...]:
        """The Excel template's columns, in order: Entry ID, the header, the product line."""
        return (ENTRY_ID, *(f for f in HEADER_FIELDS if f.in_template), *self.line_fields)

    @cached_property
    def template_titles(self) -> tuple[str, ...]:
        return tuple(f.title for f in self.template_columns)

    @cached_property
    def fields(self) -> dict[str, Field]:
        return {f.name: f for f in (*HEADER_FIELDS, *self.line_fields)}

    def label(self, name: str) -> str:
        return self.fields[name].label

    @cached_property
    def LineDraft(self) -> type:
        """A product line before it is saved: hts_number, the own fields, quantity_kg, customs_value_usd."""
        return make_dataclass(
            f"{self.name}LineDraft",
            [("hts_number", str, field(default=""))]
            + [(f.name, str, field(default="")) for f in self.own_line_fields]
            + [("quantity_kg", Decimal | None, field(default=None)),
               ("customs_value_usd", Decimal | None, field(default=None))])

    @cached_property
    def LineFacts(self) -> type:
        """What the officer checks know of a saved line (aimweb.checks)."""
        return make_dataclass(
            f"{self.name}LineFacts",
            [("position", int), ("hts_number", str), ("full_description", str)]
            + [(f.name, str) for f in self.own_line_fields]
            + [("quantity_kg", Decimal), ("unit_value", Decimal | None)], frozen=True)
