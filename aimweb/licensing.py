"""The licensing service: the one place a license is created or changed.

The single-license form, the Excel upload and the officer queue all call these functions; each
validates with aimweb.rules (through aimweb.inputs for typed text), owns its transaction, writes
the audit event and sends the mail. Views only parse the request and render the answer.
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from . import inputs, rules
from .extensions import db
from .mailer import send_email
from .models import License, LicenseEvent, ProductLine, User, utcnow
from .reference.hts import current_catalogue, normalize_hts

# The program runs on Washington time: "today" for the 60-day window is the filer's business day.
PROGRAM_TZ = ZoneInfo("America/New_York")
NUMBER_ALPHABET = string.ascii_uppercase + string.digits
NUMBER_ATTEMPTS = 25
MAX_LINES = 200


class LicenseError(Exception):
    """The change was refused: the problems say why, each tied to its field (and line)."""

    def __init__(self, problems: list[rules.Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def application_date() -> date:
    return datetime.now(PROGRAM_TZ).date()


def new_license_number(issued: date) -> str:
    """"A" + 4 random capital letters/digits + MMYY, like ALTEA1220 (unique by the database)."""
    body = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(4))
    return f"A{body}{issued:%m%y}"


# ----- drafts: what the form works on before Submit ------------------------------------------------

def start_draft(user: User) -> License:
    """A new draft for the user's company (an untouched one is reused, not piled up)."""
    draft = db.session.scalar(
        select(License).where(License.created_by_id == user.id, License.status == "draft",
                              License.form_data.is_(None)).order_by(License.id.desc()).limit(1)
    )
    if draft is not None and not draft.lines:
        return draft
    draft = License(status="draft", company_id=user.company_id, created_by_id=user.id)
    db.session.add(draft)
    db.session.commit()
    return draft


def _editable_draft(draft: License) -> None:
    if draft.status != "draft":
        raise LicenseError([rules.Problem("lines", f"License {draft.number} has already been "
                                                   "submitted: it can no longer be changed here.")])


def save_draft_header(draft: License, data: dict) -> None:
    """Keep what was typed in the header, exactly as typed (nothing is checked yet)."""
    _editable_draft(draft)
    fields = {name: inputs.clean(data.get(name)) for name in inputs.HEADER_FIELDS}
    fields["certified"] = bool(data.get("certified"))
    if fields != (draft.form_data or {}):
        draft.form_data = fields
        draft.version += 1
    db.session.commit()


def check_line(data: dict, on: date | None = None) -> tuple[rules.ProductLineDraft, list[rules.Problem]]:
    line = inputs.line_from_data(data)
    problems = rules.validate_line(line, application_date=on or application_date(),
                                   catalogue=current_catalogue().items)
    return line, problems


def _line_row(line: rules.ProductLineDraft, position: int) -> ProductLine:
    item = current_catalogue().items[normalize_hts(line.hts_number)]
    quantity, value = Decimal(line.quantity_kg), Decimal(line.customs_value_usd)
    return ProductLine(
        position=position, hts_number=item.hts10, description=item.description,
        category=item.category, smelt_largest=line.smelt_largest, smelt_second=line.smelt_second,
        cast_country=line.cast_country, quantity_kg=quantity, customs_value_usd=value,
        unit_value=rules.unit_value(quantity, value),
    )


def save_draft_line(draft: License, data: dict, position: int | None = None,
                    on: date | None = None) -> list[rules.Problem]:
    """Add a product line (or replace the one at `position`) when it passes the line rules."""
    _editable_draft(draft)
    line, problems = check_line(data, on)
    if not problems and position is None and len(draft.lines) >= MAX_LINES:
        problems = [rules.Problem("hts_number", f"A license holds at most {MAX_LINES} products: "
                                                "start another license for the rest.")]
    if problems:
        return problems
    if position is not None and 0 <= position < len(draft.lines):
        old = draft.lines[position]
        new = _line_row(line, old.position)
        for column in ("hts_number", "description", "category", "smelt_largest", "smelt_second",
                       "cast_country", "quantity_kg", "customs_value_usd", "unit_value"):
            setattr(old, column, getattr(new, column))
    else:
        draft.lines.append(_line_row(line, len(draft.lines)))
    draft.version += 1
    db.session.commit()
    return []


def remove_draft_line(draft: License, position: int) -> None:
    _editable_draft(draft)
    if 0 <= position < len(draft.lines):
        draft.lines.pop(position)
        for index, line in enumerate(draft.lines):
            line.position = index
        draft.version += 1
    db.session.commit()


def line_drafts(lic: License) -> list[rules.ProductLineDraft]:
    return [rules.ProductLineDraft(
        hts_number=line.hts_number, smelt_largest=line.smelt_largest,
        smelt_second=line.smelt_second, cast_country=line.cast_country,
        quantity_kg=line.quantity_kg, customs_value_usd=line.customs_value_usd,
    ) for line in lic.lines]


@dataclass
class CheckedDraft:
    header: rules.LicenseDraft
    problems: list[rules.Problem]


def check_draft(draft: License, on: date | None = None) -> CheckedDraft:
    """Every problem of the draft as it stands: header as typed, its lines, the certification."""
    data = draft.form_data or {}
    header, unreadable = inputs.header_from_data(data)
    header.lines = line_drafts(draft)
    header.certified = bool(data.get("certified"))
    found = rules.validate_license(header, application_date=on or application_date(),
                                   catalogue=current_catalogue().items)
    return CheckedDraft(header, inputs.merge_problems(unreadable, found))


# ----- issuing ---------------------------------------------------------------------------------------

def submit_draft(draft_id: int, user: User, on: date | None = None) -> License:
    """Issue the license: checked again, numbered, dated, recorded and mailed.

    Idempotent: a double click or a re-POST of the same draft returns the license already issued.
    Safe under concurrent submits: the draft moves from "draft" in one conditional UPDATE, and
    the number's unique index decides any collision (retried with a new number).
    """
    on = on or application_date()
    draft = db.session.get(License, draft_id)
    if draft is None:
        raise LookupError(draft_id)
    if draft.status != "draft":
        return draft
    checked = check_draft(draft, on)
    if checked.problems:
        raise LicenseError(checked.problems)
    header, version = checked.header, draft.version
    now = utcnow()
    valid_from, valid_through = rules.validity(on, header.entry_type)
    values = dict(
        status="submitted", entry_number=rules.normalize_entry_number(header.entry_number),
        entry_type=header.entry_type, importer_name=header.importer_name,
        exporter_name=header.exporter_name, manufacturer_name=header.manufacturer_name,
        origin_country=header.origin_country, export_country=header.export_country,
        port_code=header.port_code, export_date=header.export_date,
        import_date=header.import_date, certified_at=now, issued_at=now, created_at=now,
        valid_from=valid_from, valid_through=valid_through, form_data=None,
        version=version + 1,
    )
    # End the read transaction first: on SQLite the write then starts clean and waits its turn
    # (busy timeout) instead of failing to upgrade a stale read snapshot. The UPDATE and the
    # audit event then commit together, or not at all.
    db.session.commit()
    for _attempt in range(NUMBER_ATTEMPTS):
        try:
            result = db.session.execute(
                update(License)
                .where(License.id == draft_id, License.status == "draft", License.version == version)
                .values(number=new_license_number(on), **values)
                .execution_options(synchronize_session=False)
            )
        except IntegrityError:
            db.session.rollback()  # the number was taken: draw another
            continue
        if result.rowcount == 0:
            # Another request submitted (or changed) this draft first: show what is there now.
            db.session.rollback()
            db.session.expire_all()
            lic = db.session.get(License, draft_id)
            if lic.status == "draft":
                raise LicenseError([rules.Problem("lines", "The license was changed in another "
                                                           "window: check it and submit again.")])
            return lic
        db.session.add(LicenseEvent(license_id=draft_id, actor_id=user.id, at=now, kind="issued",
                                    note="Submitted through the single-license form."))
        db.session.commit()
        break
    else:  # pragma: no cover - 25 collisions in a row: the month's numbers are nearly gone
        raise RuntimeError("could not draw a free license number")
    db.session.expire_all()
    lic = db.session.get(License, draft_id)
    _mail_issued(lic, user)
    return lic


def _mail_issued(lic: License, user: User) -> None:
    # The license exists whatever happens to the mail: a relay outage is logged, not shown as a
    # failed submit (the filer sees the number on the page and can print the PDF).
    try:
        send_email(user.email, f"AIM license {lic.number} issued", "license_issued", lic=lic,
                   user=user)
    except Exception:  # noqa: BLE001
        current_app.logger.exception("Could not mail the confirmation of license %s", lic.number)
