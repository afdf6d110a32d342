"""The API's request and response shapes (marshmallow): flask-smorest reads them into the OpenAPI
document. They say which JSON goes where, nothing more: whether a license is valid is decided by
the licensing service (aimweb/rules.py, aimweb/inputs.py), in the form's words."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from .. import products
from ..enums import LicenseKind, LicenseStatus, PartyKind
from ..products import HEADER_FIELDS

MAX_BATCH = 5000
PRODUCT_KEYS = list(products.PRODUCTS)
AMOUNT = {"type": ["string", "number"], "description": "A number, or text like “12,500.00”."}


class Loose(Schema):
    class Meta:
        unknown = EXCLUDE


def _text(f) -> fields.Field:
    described = f.label + (f" ({f.template_note})" if f.template_note else "")
    if f.kind == "entry_type":
        return fields.String(allow_none=True, metadata={"description": described, "enum": ["consumption", "ftz"]})
    return fields.String(allow_none=True, metadata={"description": described})


LineIn = Loose.from_dict({
    "hts_number": fields.String(allow_none=True, metadata={"description": "HTS Number, 10 digits, dots optional"}),
    **{f.name: fields.String(allow_none=True, metadata={"description": f.label})
       for f in products.own_line_fields()},
    "quantity_kg": fields.Raw(allow_none=True, metadata={**AMOUNT, "description": "Volume (KG)"}),
    "customs_value_usd": fields.Raw(allow_none=True, metadata={**AMOUNT, "description": "Customs Value (US$)"}),
}, name="LineIn")

_license_fields = {
    **{f.name: _text(f) for f in HEADER_FIELDS},
    "certified": fields.Boolean(load_default=False, metadata={
        "description": "The filer certifies that the information is accurate and complete (19 CFR "
                       "361.103(c)(2)): nothing is issued without true."}),
    "lines": fields.List(fields.Nested(LineIn), load_default=list, metadata={"description": "The products"}),
    "branch_id": fields.Integer(allow_none=True, strict=True, metadata={
        "description": "The branch of the company the license is filed for (its id, from a license's `branch`); "
                       "null or left out: the company itself. Modify keeps the license's branch and Duplicate "
                       "copies it when left out. A branch of another company or an archived one is refused."}),
}
LicenseIn = Loose.from_dict({
    "product": fields.String(load_default=products.DEFAULT, validate=validate.OneOf(PRODUCT_KEYS)),
    **_license_fields}, name="LicenseIn")
ModifyIn = Loose.from_dict({
    **_license_fields,
    "reply": fields.String(allow_none=True, metadata={"description": "What the filer writes to the officer "
                                                                     "(answering Action Required)"})}, name="ModifyIn")
DuplicateIn = Loose.from_dict({
    **{name: field for name, field in _license_fields.items() if name != "lines"},
    "lines": fields.List(fields.Nested(LineIn),
                         metadata={"description": "The products (the original's when left out)"}),
}, name="DuplicateIn")


BatchLicenseIn = Loose.from_dict({k: v for k, v in _license_fields.items() if k != "branch_id"},
                                 name="BatchLicenseIn")


class BatchIn(Loose):
    product = fields.String(load_default=products.DEFAULT, validate=validate.OneOf(PRODUCT_KEYS))
    branch_id = fields.Integer(allow_none=True, strict=True, metadata={
        "description": "The branch of the company every license of the batch is filed for; null or left out: "
                       "the company itself"})
    licenses = fields.List(fields.Nested(BatchLicenseIn), required=True,
                           validate=validate.Length(min=1, max=MAX_BATCH))


class ProblemItem(Schema):
    field = fields.String(required=True, metadata={"description": "The field the problem is about"})
    pointer = fields.String(metadata={"description": "JSON pointer into the request body"})
    message = fields.String(required=True, metadata={"description": "In the form's words"})
    line = fields.Integer(allow_none=True, metadata={"description": "The product line (from 0)"})
    item = fields.Integer(metadata={"description": "The license of a batch (from 0)"})


class Problem(Schema):
    """RFC 9457 problem details."""
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(ProblemItem))


class LineOut(Schema):
    hts_number = fields.String()
    description = fields.String()
    category = fields.String()
    quantity_kg = fields.String()
    customs_value_usd = fields.String()
    unit_value = fields.String(allow_none=True)


for _f in products.own_line_fields():
    LineOut._declared_fields[_f.name] = fields.String(allow_none=True)


class BranchOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"description": "The branch's name and suffix"})


class UserOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


def _out(f) -> fields.Field:
    """A header field as a license answers it."""
    if f.kind == "date":
        return fields.Date(allow_none=True)
    return fields.String(allow_none=f.kind == "entry_number")


LicenseOut = Schema.from_dict({
    "number": fields.String(required=True),
    "license_type": fields.String(required=True, validate=validate.OneOf([k.value for k in LicenseKind]), metadata={
        "description": "standard (one entry) or low_value (reused on entries under the product's limit)"}),
    "covered_hts": fields.List(fields.String(), allow_none=True, metadata={
        "description": "A low-value license's covered HTS numbers; null for a standard license"}),
    "branch": fields.Nested(BranchOut, allow_none=True, metadata={
        "description": "The branch the license is filed for; null: the company itself"}),
    "filed_by": fields.Nested(UserOut, metadata={"description": "The user who filed the license"}),
    "product": fields.String(required=True, validate=validate.OneOf(PRODUCT_KEYS)),
    "status": fields.String(required=True, validate=validate.OneOf([s.value for s in LicenseStatus])),
    "status_label": fields.String(required=True),
    "expired": fields.Boolean(required=True),
    **{f.name: _out(f) for f in HEADER_FIELDS},
    "issued_at": fields.DateTime(allow_none=True),
    "valid_from": fields.Date(allow_none=True),
    "valid_through": fields.Date(allow_none=True),
    "lines": fields.List(fields.Nested(LineOut)),
    "pdf": fields.String(metadata={"description": "Where its PDF is"}),
}, name="LicenseOut")


class CheckOut(Schema):
    valid = fields.Boolean(required=True)
    errors = fields.List(fields.Nested(ProblemItem), required=True)


class BatchOut(Schema):
    numbers = fields.List(fields.String(), required=True)


class Row(Schema):
    number = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    created_at = fields.DateTime()
    import_date = fields.Date(allow_none=True)
    valid_through = fields.Date(allow_none=True)
    entry_number = fields.String(allow_none=True)
    importer_name = fields.String()
    port_code = fields.String()
    products = fields.Integer()
    quantity_kg = fields.String(allow_none=True)
    customs_value_usd = fields.String(allow_none=True)
    expired = fields.Boolean()


class ListOut(Schema):
    licenses = fields.List(fields.Nested(Row), required=True)
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as `cursor` for the next page"})


class ListQuery(Loose):
    status = fields.String(metadata={"description": "A status (submitted, corrected, action_required, cancelled…)"})
    created_from = fields.String(metadata={"description": "Creation Date From (MM/DD/YYYY or YYYY-MM-DD)"})
    created_to = fields.String()
    created_within = fields.String(metadata={"description": "last-7, last-30, …"})
    import_from = fields.String()
    import_to = fields.String()
    import_within = fields.String()
    q = fields.String(metadata={"description": "License or entry number, importer, exporter, manufacturer"})
    quick = fields.String(metadata={"description": "A quick filter of the dashboard (action_required, expiring)"})
    branch = fields.String(metadata={"description": "A branch id (licenses filed for it), or `company` (filed for "
                                                    "the company itself)"})
    filed_by = fields.String(metadata={"description": "A user id: the licenses that user filed"})
    sort = fields.String(validate=validate.OneOf(["created", "import", "number", "status"]))
    order = fields.String(validate=validate.OneOf(["asc", "desc"]))
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=250))
    cursor = fields.String(metadata={"description": "next_cursor of the previous page"})


class HtsItem(Schema):
    hts_number = fields.String(required=True)
    description = fields.String()
    category = fields.String()


class HtsOut(Schema):
    product = fields.String(required=True)
    revision = fields.String(required=True)
    items = fields.List(fields.Nested(HtsItem), required=True)


class CodeName(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class CodesOut(Schema):
    items = fields.List(fields.Nested(CodeName), required=True)


class UseIn(Schema):
    """One entry a low-value license is quoted on."""

    class Meta:
        unknown = EXCLUDE

    entry_number = fields.String(allow_none=True, metadata={"description": "Entry Number (11 characters)"})
    entry_date = fields.String(allow_none=True, metadata={"description": "Date of Entry, MM/DD/YYYY or YYYY-MM-DD"})
    value_usd = fields.Raw(allow_none=True, metadata={**AMOUNT, "description": "Value of the covered metal (US$)"})


class UseOut(Schema):
    entry_number = fields.String(required=True)
    entry_date = fields.Date(required=True)
    value_usd = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)
    recorded_by = fields.String(required=True)
    api_key = fields.String(allow_none=True, metadata={"description": "The key it was recorded with (null: the page)"})


class UsesOut(Schema):
    number = fields.String(required=True)
    limit_usd = fields.String(required=True, metadata={"description": "A use must be worth less (steel: at most)"})
    uses = fields.List(fields.Nested(UseOut), required=True)


# ----- the address book --------------------------------------------------------------------------

PARTY_KINDS = [kind.slug for kind in PartyKind]


class PartyIn(Loose):
    """A party to save in the company's address book (the Address Book page's rules)."""

    kind = fields.String(required=True, validate=validate.OneOf(PARTY_KINDS),
                         metadata={"description": "importer, exporter or manufacturer"})
    name = fields.String(allow_none=True,
                         metadata={"description": "As it is written on licenses (at most 200 characters)"})
    importer_number = fields.String(allow_none=True, metadata={
        "description": "Importers only: an EIN (##-#######) or a CBP-assigned importer number (YYDDPP-NNNNN)"})
    country = fields.String(allow_none=True, metadata={"description": "ISO 3166 alpha-2 code (optional)"})


class PartyChange(Loose):
    """The fields of a saved party to change (the others stay as they are)."""

    name = fields.String(metadata={"description": "As it is written on licenses (at most 200 characters)"})
    importer_number = fields.String(allow_none=True, metadata={
        "description": "Importers only: an EIN or a CBP-assigned importer number; null removes it"})
    country = fields.String(allow_none=True, metadata={"description": "ISO 3166 alpha-2 code; null removes it"})


class PartyOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PARTY_KINDS))
    name = fields.String(required=True)
    importer_number = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    archived = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class PartiesQuery(Loose):
    kind = fields.String(required=True, validate=validate.OneOf(PARTY_KINDS))
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Name contains (any case)"})
    archived = fields.Boolean(load_default=False, metadata={"description": "The archived parties instead"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=250))


class PartiesOut(Schema):
    parties = fields.List(fields.Nested(PartyOut), required=True)
    total = fields.Integer(required=True, metadata={"description": "Of the kind, with the filter, on every page"})
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
