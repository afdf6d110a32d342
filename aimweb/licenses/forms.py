"""The single-license form's fields, for rendering only.

No validator lives here: aimweb.licensing checks everything with aimweb.rules and the problems are
put back on these fields (`show_problems`), so the form, the upload and the officer checks can
never disagree.
"""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField

from ..reference import countries
from ..rules import ENTRY_TYPES, Problem, smelt_choices

PICK = [("", "- Select -")]


def _country_choices():
    return PICK + countries.all_countries()


class LicenseForm(FlaskForm):
    """The header of a license, as the guide lists it, and the certification."""

    entry_number = StringField("Customs Entry Number (optional)")
    entry_type = SelectField("Entry Type", choices=list(ENTRY_TYPES.items()))
    importer_name = StringField("Importer Name")
    exporter_name = StringField("Exporter Name")
    manufacturer_name = StringField("Manufacturer Name")
    origin_country = SelectField("Country of Origin", choices=[])
    export_country = SelectField("Country from which the product(s) were exported", choices=[])
    port_code = StringField("Expected Port of Entry")
    export_date = StringField("Expected Date of Export")
    import_date = StringField("Expected Date of Import")
    # The label is the name in the error summary; the sentence is on the checkbox (draft.html).
    certified = BooleanField("Certification")

    REQUIRED = ("importer_name", "exporter_name", "manufacturer_name", "origin_country",
                "export_country", "port_code", "export_date", "import_date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.origin_country.choices = _country_choices()
        self.export_country.choices = _country_choices()
        _mark_required(self, self.REQUIRED)


class LineForm(FlaskForm):
    """One product line (the "Add Products" part of the form); its inputs are named line-*."""

    class Meta:
        csrf = False  # part of the license form, which carries the token

    hts_number = StringField("HTS Number")
    smelt_largest = SelectField("Country of Largest Smelt", choices=[])
    smelt_second = SelectField("Country of Second Largest Smelt", choices=[])
    cast_country = SelectField("Country of Most Recent Cast", choices=[])
    quantity_kg = StringField("Volume (KG)")
    customs_value_usd = StringField("Customs Value (US$)")

    def __init__(self, *args, on: date, **kwargs):
        kwargs.setdefault("prefix", "line")
        super().__init__(*args, **kwargs)
        # "Not applicable" and "Unknown" are offered only where the rules allow them on this date.
        smelt = PICK + smelt_choices(on) + countries.all_countries()
        self.smelt_largest.choices = smelt
        self.smelt_second.choices = smelt
        self.cast_country.choices = _country_choices()
        _mark_required(self, [f.short_name for f in self])

    def values(self) -> dict:
        return {f.short_name: f.data for f in self}


def _mark_required(form, names) -> None:
    for name in names:
        form[name].flags.required = True


def show_problems(form, problems: list[Problem]) -> list[Problem]:
    """Put each problem on its field; return those that belong elsewhere (lines, the list)."""
    rest = []
    for problem in problems:
        if problem.field in form and problem.line is None:
            form[problem.field].errors = list(form[problem.field].errors) + [problem.message]
        else:
            rest.append(problem)
    return rest
