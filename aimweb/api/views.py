"""The JSON API's endpoints: parse, call the licensing service, answer JSON (or a problem)."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, g, url_for
from sqlalchemy import select

from .. import addressbook, licensing, products
from ..clock import application_date
from ..enums import LicenseStatus, PartyKind
from ..extensions import db
from ..licenses import search
from ..licenses.pdf import cached_license_pdf, license_pdf_filename
from ..models import License
from ..reference import countries
from ..reference.ports import all_ports
from ..rules import Problem
from ..web.answers import found
from ..web.problems import problem
from . import bp, schemas
from .access import api_key_required
from .idempotency import idempotent

ERRORS = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
          422: "UNPROCESSABLE_ENTITY", 429: "TOO_MANY_REQUESTS"}


def documented(*codes: int):
    """The problem answers an endpoint may give, in the OpenAPI document."""
    def decorator(view):
        for code in codes:
            view = bp.alt_response(code, response=ERRORS[code])(view)
        return view
    return decorator


# ----- what the answers say -----------------------------------------------------------------------

def _utc(moment: datetime | None) -> datetime | None:
    """Stored naive in UTC: said so in the answer (RFC 3339 needs the offset)."""
    return moment.replace(tzinfo=UTC) if moment is not None else None


def _text(value):
    return None if value is None else str(value)


def license_json(lic: License) -> dict:
    product = products.get(lic.product)
    lines = [{"hts_number": line.hts_number, "description": line.description, "category": line.category,
              **{name: getattr(line, name) for name in product.own_field_names},
              "quantity_kg": str(line.quantity_kg), "customs_value_usd": str(line.customs_value_usd),
              "unit_value": _text(line.unit_value)} for line in lic.lines]
    return {
        "number": lic.number, "license_type": lic.license_type.value,
        "covered_hts": list(lic.covered_hts or []) if lic.is_low_value else None,
        "product": lic.product, "status": lic.status.value,
        "status_label": lic.status.label, "expired": lic.is_expired(application_date()),
        **{f.name: getattr(lic, f.name) for f in products.HEADER_FIELDS},
        "issued_at": _utc(lic.issued_at), "valid_from": lic.valid_from, "valid_through": lic.valid_through,
        "lines": lines, "pdf": url_for("api.license_pdf", number=lic.number),
        "branch": {"id": lic.branch.id, "name": lic.branch.label} if lic.branch is not None else None,
        "filed_by": {"id": lic.created_by.id, "name": lic.created_by.full_name},
    }


def problem_items(problems: list[Problem], item: int | None = None) -> list[dict]:
    found = []
    for p in problems:
        pointer = f"/{p.field}" if p.line is None else f"/lines/{p.line}/{p.field}"
        if item is not None:
            pointer = f"/licenses/{item}{pointer}"
        entry = {"field": p.field, "pointer": pointer, "message": p.message, "line": p.line}
        if item is not None:
            entry["item"] = item
        found.append(entry)
    return found


def refused(error: licensing.LicenseError) -> Response:
    if isinstance(error, licensing.TransitionRefused):
        return problem("action-not-allowed", error.problems[0].message)
    return problem("license-invalid", "; ".join(p.message for p in error.problems[:3]),
                   errors=problem_items(error.problems))


def via(action: str) -> str:
    return f"{action} through the API (key “{g.api_key.name}”)."


def own_license(number: str) -> License:
    """The company's issued license by number: another company's is "not found"."""
    lic = db.session.scalar(select(License).where(License.number == (number or "").upper()[:12]))
    if lic is None or lic.status not in LicenseStatus.NUMBERED or lic.company_id != g.api_user.company_id:
        abort(404)
    return lic


# ----- licenses ------------------------------------------------------------------------------------

@bp.route("/licenses/check", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.arguments(schemas.LicenseIn)
@bp.response(200, schemas.CheckOut)
@documented(401, 403, 422, 429)
def check_license(data):
    """Check a license without issuing it: every problem, each with its field, in the form's words."""
    _draft, problems = licensing.check_license_data(data, data.pop("product"), company_id=g.api_user.company_id)
    return {"valid": not problems, "errors": problem_items(problems)}


@bp.route("/licenses", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.arguments(schemas.LicenseIn)
@bp.response(201, schemas.LicenseOut)
@documented(401, 403, 409, 422, 429)
def submit_license(data):
    """Submit one license: issued at once when it has no problem (else 422 with every problem)."""
    product = data.pop("product")
    draft, problems = licensing.check_license_data(data, product, company_id=g.api_user.company_id)
    if problems:
        return problem("license-invalid", "; ".join(p.message for p in problems[:3]),
                       errors=problem_items(problems))
    try:
        [number] = licensing.issue_licenses(g.api_user, [draft], note=via("Submitted"), api_key_id=g.api_key.id,
                                            branch_id=data.get("branch_id"))
    except licensing.LicenseError as error:
        return refused(error)
    lic = own_license(number)
    return license_json(lic), 201, {"Location": url_for("api.get_license", number=number)}


@bp.route("/licenses/batch", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.arguments(schemas.BatchIn)
@bp.response(201, schemas.BatchOut)
@documented(401, 403, 409, 422, 429)
def submit_batch(data):
    """Submit up to 5,000 licenses of one product, all or nothing: their numbers in order, or 422
    with every problem by item (from 0) and field, and nothing issued."""
    checked = licensing.check_many_data(data["licenses"], data["product"])
    errors = [e for index, (_draft, problems) in enumerate(checked) for e in problem_items(problems, index)]
    if errors:
        bad = sum(1 for _draft, problems in checked if problems)
        return problem("batch-invalid", f"{bad} of {len(checked)} licenses have problems: none was issued.",
                       errors=errors)
    try:
        numbers = licensing.issue_licenses(g.api_user, [draft for draft, _ in checked], note=via("Submitted"),
                                           api_key_id=g.api_key.id, branch_id=data.get("branch_id"))
    except licensing.LicenseError as error:
        return refused(error)
    return {"numbers": numbers}, 201


@bp.route("/licenses", methods=["GET"])
@api_key_required()
@bp.arguments(schemas.ListQuery, location="query")
@bp.response(200, schemas.ListOut)
@documented(401, 403, 422, 429)
def list_licenses(args):
    """The company's licenses with the dashboard's filters and sorts, a page at a time (cursor)."""
    today = application_date()
    f = search.parse_filters({k: v for k, v in args.items() if isinstance(v, str)}, today)
    after = None
    cursor = args.get("cursor")
    if cursor:
        after = int(cursor) if cursor.isdigit() and len(cursor) < 19 else -1
    if f.errors:
        return problem("search-invalid", "; ".join(f.errors.values()),
                       errors=[{"field": k, "pointer": f"/{k}", "message": v} for k, v in f.errors.items()])
    limit = args["limit"]
    rows = search.keyset_rows(g.api_user.company_id, f, today, limit + 1, after)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"licenses": [{"number": r.number, "status": r.status.value, "status_label": r.status_label,
                          "created_at": _utc(r.created_at), "import_date": r.import_date,
                          "valid_through": r.valid_through, "entry_number": r.entry_number,
                          "importer_name": r.importer_name, "port_code": r.port_code, "products": r.products,
                          "quantity_kg": _text(r.kg), "customs_value_usd": _text(r.usd), "expired": r.expired}
                         for r in rows],
            "next_cursor": str(rows[-1].id) if more else None}


@bp.route("/licenses/<string(maxlength=40):number>", methods=["GET"])
@api_key_required()
@bp.response(200, schemas.LicenseOut)
@documented(401, 403, 404, 429)
def get_license(number):
    """One license of the company, as issued (or as last modified)."""
    return license_json(own_license(number))


@bp.route("/licenses/<string(maxlength=40):number>/pdf", methods=["GET"])
@api_key_required()
@bp.response(200, content_type="application/pdf", description="The license's PDF")
@documented(401, 403, 404, 429)
def license_pdf(number):
    """The license's PDF (the same document the portal prints)."""
    lic = own_license(number)
    response = Response(cached_license_pdf(lic), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{license_pdf_filename(lic)}"'
    return response


@bp.route("/licenses/<string(maxlength=40):number>/modify", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.arguments(schemas.ModifyIn)
@bp.response(200, schemas.LicenseOut)
@documented(401, 403, 404, 409, 422, 429)
def modify_license(data, number):
    """Modify a license: all its values again (as the form's Modify), checked against the day it
    was applied for. `reply` answers an officer's Action Required."""
    lic = own_license(number)
    reply = data.pop("reply", None)
    try:
        lic = licensing.modify_license(lic, g.api_user, data, reply=reply, note=via("Corrected"),
                                       api_key_id=g.api_key.id)
    except licensing.LicenseError as error:
        return refused(error)
    return license_json(lic)


@bp.route("/licenses/<string(maxlength=40):number>/cancel", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.response(200, schemas.LicenseOut)
@documented(401, 403, 404, 409, 429)
def cancel_license(number):
    """Cancel a license, for good (it cannot be undone)."""
    lic = own_license(number)
    try:
        lic = licensing.cancel_license(lic, g.api_user, note=via("Cancelled by the filer"),
                                       api_key_id=g.api_key.id)
    except licensing.LicenseError as error:
        return refused(error)
    return license_json(lic)


@bp.route("/licenses/<string(maxlength=40):number>/duplicate", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.arguments(schemas.DuplicateIn)
@bp.response(201, schemas.LicenseOut)
@documented(401, 403, 404, 409, 422, 429)
def duplicate_license(data, number):
    """A new license copied from this one and submitted at once. The copy keeps the importer,
    exporter, countries, port and products; the entry number and dates are the ones sent (the
    original's are not copied). Send `certified: true`."""
    lic = own_license(number)
    values = {**licensing.license_data(lic), **dict.fromkeys(licensing.DUPLICATE_CLEARS, ""), **data}
    try:
        new = licensing.duplicate_and_submit(lic, g.api_user, values, note=via("Submitted"),
                                             api_key_id=g.api_key.id)
    except licensing.LicenseError as error:
        return refused(error)
    return license_json(new), 201, {"Location": url_for("api.get_license", number=new.number)}


# ----- a low-value license's uses ------------------------------------------------------------------

def use_json(use) -> dict:
    return {"entry_number": use.entry_number, "entry_date": use.entry_date, "value_usd": str(use.value_usd),
            "recorded_at": _utc(use.recorded_at), "recorded_by": use.recorded_by.full_name,
            "api_key": use.api_key.name if use.api_key is not None else None}


@bp.route("/licenses/<string(maxlength=40):number>/uses", methods=["GET"])
@api_key_required()
@bp.response(200, schemas.UsesOut)
@documented(401, 403, 404, 409, 429)
def license_uses(number):
    """The entries a low-value license was quoted on, oldest first, and the product's limit."""
    lic = own_license(number)
    if not lic.is_low_value:
        return problem("action-not-allowed", f"License {lic.number} is a standard license: it is quoted "
                                             "on one entry and records no uses.")
    return {"number": lic.number, "limit_usd": str(products.get(lic.product).low_value_limit_usd),
            "uses": [use_json(use) for use in lic.uses]}


@bp.route("/licenses/<string(maxlength=40):number>/uses", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.arguments(schemas.UseIn)
@bp.response(201, schemas.UseOut)
@documented(401, 403, 404, 409, 422, 429)
def record_use(data, number):
    """Record one entry the low-value license is quoted on (the same rules as its page: within its
    validity, once per entry, under the product's limit). A standard, cancelled or expired one: 409
    (the service refuses it)."""
    lic = own_license(number)
    try:
        use = licensing.record_use(lic, g.api_user, data, api_key_id=g.api_key.id)
    except licensing.LicenseError as error:
        return refused(error)
    return use_json(use), 201


# ----- the address book ----------------------------------------------------------------------------

def party_json(party) -> dict:
    return {"id": party.id, "kind": party.kind.slug, "name": party.name, "importer_number": party.importer_number,
            "country": party.country, "archived": party.is_archived, "created_at": _utc(party.created_at)}


@bp.route("/parties", methods=["GET"])
@api_key_required()
@bp.arguments(schemas.PartiesQuery, location="query")
@bp.response(200, schemas.PartiesOut)
@documented(401, 403, 422, 429)
def list_parties(args):
    """The company's saved importers, exporters or manufacturers (one kind a request), by name, a
    page at a time; `q` keeps the names that contain it."""
    limit, page = args["limit"], args["page"]
    rows, total = addressbook.party_page(g.api_user.company_id, PartyKind.of_slug(args["kind"]), args.get("q", ""),
                                         args["archived"], page=page, size=limit)
    return {"parties": [party_json(p) for p in rows], "total": total, "page": page,
            "pages": max(1, -(-total // limit))}


@bp.route("/parties", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.arguments(schemas.PartyIn)
@bp.response(201, schemas.PartyOut)
@documented(401, 403, 409, 422, 429)
def add_party(data):
    """Save a party to the company's address book (the Address Book page's rules: the same name,
    without case, spaces or punctuation, is saved once per kind)."""
    values = addressbook.PartyValues(PartyKind.of_slug(data["kind"]), data.get("name") or "",
                                     data.get("importer_number") or None, data.get("country") or None)
    try:
        party = addressbook.add(g.api_user.company_id, values, g.api_user)
    except addressbook.PartyRefused as refused:
        return party_refused(refused)
    return party_json(party), 201


def party_refused(refused: addressbook.PartyRefused) -> Response:
    return problem("party-invalid", refused.message,
                   errors=[{"field": refused.field, "pointer": f"/{refused.field}", "message": refused.message}])


def own_party(party_id: int):
    """The company's party by id: another company's is "not found"."""
    return found(addressbook.party_of(g.api_user.company_id, party_id))


@bp.route("/parties/<int:party_id>", methods=["GET"])
@api_key_required()
@bp.response(200, schemas.PartyOut)
@documented(401, 403, 404, 429)
def get_party(party_id):
    """One party of the company's address book."""
    return party_json(own_party(party_id))


@bp.route("/parties/<int:party_id>", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.arguments(schemas.PartyChange)
@bp.response(200, schemas.PartyOut)
@documented(401, 403, 404, 409, 422, 429)
def change_party(data, party_id):
    """Change a party's name, importer number or country (the fields sent; null clears a number or
    a country). Its kind stays. Licenses already filed keep the names as filed."""
    party = own_party(party_id)
    values = addressbook.PartyValues(party.kind, data.get("name", party.name),
                                     data.get("importer_number", party.importer_number) or None,
                                     data.get("country", party.country) or None)
    try:
        addressbook.edit(party, values)
    except addressbook.PartyRefused as refused:
        return party_refused(refused)
    return party_json(party)


@bp.route("/parties/<int:party_id>/archive", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.response(200, schemas.PartyOut)
@documented(401, 403, 404, 409, 429)
def archive_party(party_id):
    """No longer offered on the license form nor checked against uploads; kept, and restored at
    will. Archiving an archived party changes nothing."""
    party = own_party(party_id)
    addressbook.archive(party)
    return party_json(party)


@bp.route("/parties/<int:party_id>/restore", methods=["POST"])
@api_key_required(write=True)
@idempotent
@bp.response(200, schemas.PartyOut)
@documented(401, 403, 404, 409, 429)
def restore_party(party_id):
    """Offered again (a name is saved once per kind, archived or not, so nothing can take its
    place meanwhile). Restoring a party that is not archived changes nothing."""
    party = own_party(party_id)
    addressbook.restore(party)
    return party_json(party)


# ----- reference data ------------------------------------------------------------------------------

@bp.route("/reference/hts/<string(maxlength=20):product>", methods=["GET"])
@api_key_required()
@bp.response(200, schemas.HtsOut)
@documented(401, 403, 404, 429)
def hts_catalogue(product):
    """The covered HTS numbers of a product (aluminum, steel) and the catalogue's revision."""
    if product not in products.PRODUCTS:
        abort(404)
    catalogue = products.get(product).catalogue()
    return {"product": product, "revision": catalogue.revision,
            "items": [{"hts_number": item.hts10, "description": item.description, "category": item.category}
                      for item in catalogue.items.values()]}


@bp.route("/reference/ports", methods=["GET"])
@api_key_required()
@bp.response(200, schemas.CodesOut)
@documented(401, 403, 429)
def ports():
    """U.S. ports of entry: 4-digit CBP code and name."""
    return {"items": [{"code": p.code, "name": p.name_alt or p.name}
                      for p in all_ports().values()]}


@bp.route("/reference/countries", methods=["GET"])
@api_key_required()
@bp.response(200, schemas.CodesOut)
@documented(401, 403, 429)
def country_list():
    """Countries: ISO 3166 alpha-2 code and name (names and alpha-3 codes are read too)."""
    return {"items": [{"code": code, "name": name} for code, name in countries.all_countries()]}
