"""The single-license form's fields, for rendering only.

No validator lives here: aimweb.licensing checks everything with aimweb.rules and the problems are
put back on these fields (`show_problems`), so the form, the upload and the officer checks can
never disagree.
"""
from __future__ import annotations

from datetime import date
from functools import cache

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from .. import products
from ..enums import ENTRY_TYPES
from ..reference import countries
from ..rules import Problem

PICK = [("", "- Select -")]


def _form_field(spec: products.Field):
    label = spec.form_label or spec.label
    if spec.kind == "entry_type":
        return SelectField(label, choices=list(ENTRY_TYPES.items()))
    if spec.kind == "country":
        return SelectField(label, choices=[])
    return StringField(label)


def _set_choices(form, fields, on: date | None) -> None:
    # A field's special answers ("Not applicable", "Unknown") are offered only where its rules
    # allow them on the application date.
    for spec in fields:
        if spec.kind == "country":
            specials = spec.specials(on) if spec.specials and on else []
            form[spec.name].choices = PICK + specials + countries.all_countries()


def _filed_for_field() -> SelectField:
    """"Filed for": the company or one of its branches (offered only when it has branches; its
    choices are the company's, set by the view with filed_for_choices)."""
    return SelectField("Filed for", choices=[], description=(
        "The company itself, or the branch of the company this license is filed for. It is shown "
        "on the license and its PDF, and the License Dashboard filters by it."))


class _HeaderForm(FlaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _set_choices(self, products.HEADER_FIELDS, None)
        _mark_required(self, [spec.name for spec in products.HEADER_FIELDS if spec.required])


# The header of a license, as the guide lists it (aimweb/products/base.py), and the certification:
# its label is the name in the error summary; the sentence is on the checkbox (draft.html).
LicenseForm = type("LicenseForm", (_HeaderForm,), {
    **{spec.name: _form_field(spec) for spec in products.HEADER_FIELDS},
    "certified": BooleanField("Certification"),
    "branch_id": _filed_for_field(),
    # The fields the header autosave reports on (views.save_header).
    "header_names": frozenset(spec.name for spec in products.HEADER_FIELDS) | {"certified", "branch_id"},
})


def filed_for_choices(form, company_name: str, branches, current: int | None) -> bool:
    """Offer the company and its open branches (and the branch the draft has, archived or not) in
    "Filed for"; False (nothing to offer) when there is no branch to choose."""
    offered = [b for b in branches if not b.is_archived or b.id == current]
    form.branch_id.choices = [("", f"The company ({company_name})")] + [
        (str(b.id), b.label + (" (archived)" if b.is_archived else "")) for b in offered]
    return bool(offered)


class LineForm(FlaskForm):
    """One product line (the "Add Products" part of the form); its inputs are named line-*.

    Its fields are the product's (`line_form_class`)."""

    class Meta:
        csrf = False  # part of the license form, which carries the token

    product: products.Product

    def __init__(self, *args, on: date, **kwargs):
        kwargs.setdefault("prefix", "line")
        super().__init__(*args, **kwargs)
        _set_choices(self, self.product.line_fields, on)
        _mark_required(self, [f.short_name for f in self])

    def values(self) -> dict:
        return {f.short_name: f.data for f in self}

    def own_fields(self) -> list:
        """The form fields of the product's own line fields, in order (for the template)."""
        return [(spec, self[spec.name]) for spec in self.product.own_line_fields]


@cache
def line_form_class(key: str) -> type[LineForm]:
    """The line form of a product (built once: WTForms binds fields per class)."""
    product = products.get(key)
    fields = {spec.name: _form_field(spec) for spec in product.line_fields}
    return type(f"{product.name}LineForm", (LineForm,), {"product": product, **fields})


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


class LowValueForm(FlaskForm):
    """A low-value license: the importer, the covered HTS numbers it may be quoted for, the
    certification (the product comes from the Apply choice; the rest is the program's design)."""

    importer_name = StringField("Importer Name")
    covered_hts = TextAreaField("Covered HTS Numbers")
    certified = BooleanField("Certification")
    branch_id = _filed_for_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _mark_required(self, ["importer_name", "covered_hts"])


class UseForm(FlaskForm):
    """One entry a low-value license is quoted on."""

    entry_number = StringField("Customs Entry Number")
    entry_date = StringField("Date of Entry")
    value_usd = StringField("Value of the covered metal (US$)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _mark_required(self, ["entry_number", "entry_date", "value_usd"])
