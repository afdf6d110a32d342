"""The licensing service: the one place a license is created or changed.

The single-license form, the Excel upload and the officer queue all call these functions; each
validates with aimweb.rules (through aimweb.inputs for typed text), owns its transaction, writes
the audit event and puts the mail in the same transaction (aimweb/outbox.py), then has
aimweb.screening re-check the licenses it changed. Views only parse the request and render the
answer.
"""
from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from . import branches, inputs, products, rules, screening
from .clock import application_date, to_program_date
from .enums import ALLOWED_FROM, Action, EventKind, LicenseKind, LicenseStatus, ReviewState
from .extensions import db
from .mailer import send_email
from .models import Branch, License, LicenseEvent, LicenseUse, MonitorChange, ProductLine, User, utcnow
from .products import HEADER_FIELDS, Product
from .reference.hts import format_hts, normalize_hts
from .reference.ports import all_ports

# The 4 random characters of a new license number: no character that reads like another one, on
# screen, on paper or over the phone. Both of 0/O and of 1/I/L are left out (a reader cannot know
# which of the pair a number uses), and one of each of 2/Z, 5/S, 8/B: 28 characters, 614,656
# numbers per product letter and month. Numbers issued before used A-Z and 0-9 and still resolve;
# a typed number is read through inputs.license_number_spellings (O for 0, l for 1, …).
NUMBER_ALPHABET = "23456789ACDEFGHJKMNPQRTUVWXY"
NUMBER_ATTEMPTS = 25
MAX_LINES = 200


class LicenseError(Exception):
    """The change was refused: the problems say why, each tied to its field (and line)."""

    def __init__(self, problems: list[rules.Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class TransitionRefused(LicenseError):
    """The license's status does not allow the action (cancelled, already submitted, …)."""

    def __init__(self, message: str):
        super().__init__([rules.Problem("status", message)])


class SameEntryNumber(LicenseError):
    """Submit was pressed without having seen that other live licenses carry the entry number."""

    def __init__(self, licenses: list[License]):
        super().__init__([rules.Problem("entry_number", same_entry_message(licenses))])
        self.licenses = licenses


def same_entry_message(licenses: list[License]) -> str:
    numbers = ", ".join(lic.number for lic in licenses)
    one = len(licenses) == 1
    return (f"License{'' if one else 's'} {numbers} already carr{'ies' if one else 'y'} this customs "
            f"entry number. If this license replaces {'it' if one else 'them'}, cancel what you will "
            "not use. If the entry needs more than one license (the importer, exporter or "
            "manufacturer differ), Submit.")


def decision_date(draft: License) -> date:
    """The application date the rules apply to: today, or for a modification the day the license
    was applied for (a correction after the import is still checked against the original window)."""
    if draft.amends_id is not None and draft.amends is not None and draft.amends.issued_at:
        return to_program_date(draft.amends.issued_at)
    return application_date()


def _monitor_changed(product: str | None, *import_dates: date | None) -> None:
    """The months of the product's public monitor these licenses count in are stale (its refresh
    rebuilds them): rows added to the change's own transaction, so a rolled-back change marks nothing."""
    months = sorted({f"{d:%Y-%m}" for d in import_dates if d is not None})
    if months:
        key = products.get(product).key
        db.session.execute(MonitorChange.__table__.insert(), [{"product": key, "month": m} for m in months])


def new_license_number(issued: date, letter: str) -> str:
    """The product's letter (with the kind's mark: AL for a low-value aluminum license) + 4
    random characters of NUMBER_ALPHABET + MMYY, like A7KQ41226 or AL7KQ41226 (unique by the
    database)."""
    body = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(4))
    return f"{letter}{body}{issued:%m%y}"


def header_values(header) -> dict:
    """The header fields of a checked draft as the license stores them."""
    values = {f.name: getattr(header, f.name) for f in HEADER_FIELDS}
    values["entry_number"] = rules.normalize_entry_number(header.entry_number)
    return values


def _line_values(product: Product, line, item) -> dict:
    """A checked line as its ProductLine row holds it (the catalogue item gives the description)."""
    quantity, value = Decimal(line.quantity_kg), Decimal(line.customs_value_usd)
    values = {name: getattr(line, name) for name in product.own_field_names}
    return dict(hts_number=item.hts10, description=item.description, category=item.category,
                quantity_kg=quantity, customs_value_usd=value,
                unit_value=rules.unit_value(quantity, value), **values)


def _stored_line_values(product: Product, line: ProductLine) -> dict:
    names = ("hts_number", "description", "category", *product.own_field_names, "quantity_kg",
             "customs_value_usd", "unit_value")
    return {name: getattr(line, name) for name in names}


# ----- drafts: what the form works on before Submit ------------------------------------------------

def start_draft(user: User, product: str = products.DEFAULT,
                kind: LicenseKind = LicenseKind.STANDARD) -> License:
    """A new draft of the product and kind for the user's company (an untouched one is reused,
    not piled up)."""
    products.get(product)
    kind = LicenseKind(kind)
    draft = db.session.scalar(
        select(License).where(License.created_by_id == user.id, License.status == LicenseStatus.DRAFT,
                              License.product == product, License.license_type == kind,
                              License.form_data.is_(None)).order_by(License.id.desc()).limit(1)
    )
    if draft is not None and not draft.lines:
        return draft
    draft = License(status=LicenseStatus.DRAFT, company_id=user.company_id, created_by_id=user.id,
                    product=product, license_type=kind)
    db.session.add(draft)
    db.session.commit()
    return draft


# ----- the one guard of every status change ----------------------------------------------------

CANCELLED_MESSAGE = ("License {number} is cancelled: a cancelled license cannot be changed or "
                     "restored. Duplicate it to apply for a new one.")


def _refusal(lic: License, action: Action) -> str:
    """Why `action` is refused on the license as it stands, in the filer's or officer's words."""
    if lic.status == LicenseStatus.CANCELLED:
        if action is Action.CANCEL:
            return f"License {lic.number} is already cancelled."
        return CANCELLED_MESSAGE.format(number=lic.number)
    if action is Action.RECORD_USE and not lic.is_low_value:
        return (f"License {lic.number} is a standard license, for one entry: only a low-value "
                "license records the entries it is used on.")
    if lic.is_low_value and action is Action.MODIFY:
        return (f"License {lic.number} is a low-value license: it is not modified. Cancel it and "
                "apply again, or renew it with Duplicate License.")
    if action is Action.EDIT_DRAFT or action is Action.SUBMIT:
        return f"License {lic.number} has already been submitted: it can no longer be changed here."
    return f"License {lic.number or ''} is {lic.status.label}: it cannot be changed this way."


def require(lic: License, action: Action) -> None:
    """Raise TransitionRefused (with the message to show) unless the status allows `action`."""
    if not lic.can(action):
        raise TransitionRefused(_refusal(lic, action))


def _refused_meanwhile(license_id: int, action: Action) -> None:
    """A conditional UPDATE matched nothing: say why, from the license as it is now."""
    db.session.rollback()
    db.session.expire_all()
    require(db.session.get(License, license_id), action)


def _editable_draft(draft: License) -> None:
    require(draft, Action.EDIT_DRAFT)


def save_draft_header(draft: License, data: dict) -> None:
    """Keep what was typed in the header, exactly as typed (nothing is checked yet)."""
    _editable_draft(draft)
    if draft.is_low_value:
        fields = {name: inputs.clean(data.get(name))[:LOW_VALUE_TEXT_MAX] for name in LOW_VALUE_FIELDS}
    else:
        fields = {f.name: inputs.clean(data.get(f.name)) for f in HEADER_FIELDS}
    fields["certified"] = bool(data.get("certified"))
    # "Filed for" (the company or a branch) is offered only when the company has branches: a form
    # without it keeps the draft's choice (a duplicate's, a modification's).
    branch = data.get(BRANCH) if BRANCH in data else (draft.form_data or {}).get(BRANCH)
    if branch:
        fields[BRANCH] = inputs.clean(branch)[:20]
    if fields != (draft.form_data or {}):
        draft.form_data = fields
        draft.version += 1
    db.session.commit()


def check_line(data: dict, on: date | None = None,
               product: str = products.DEFAULT) -> tuple[object, list[rules.Problem]]:
    """A product line of the product from the form's values, and its problems."""
    spec = products.get(product)
    line = inputs.line_from_data(data, spec)
    problems = rules.validate_line(line, application_date=on or application_date(),
                                   catalogue=spec.catalogue().items, product=spec)
    return line, problems


def _line_row(product: Product, line, position: int) -> ProductLine:
    item = product.catalogue().items[normalize_hts(line.hts_number)]
    return ProductLine(position=position, **_line_values(product, line, item))


def save_draft_line(draft: License, data: dict, position: int | None = None,
                    on: date | None = None) -> list[rules.Problem]:
    """Add a product line (or replace the one at `position`) when it passes the line rules."""
    _editable_draft(draft)
    if draft.is_low_value:
        return [rules.Problem("covered_hts", "A low-value license lists no products: give its "
                                             "covered HTS numbers.")]
    line, problems = check_line(data, on or decision_date(draft), draft.product)
    if not problems and position is None and len(draft.lines) >= MAX_LINES:
        problems = [rules.Problem("hts_number", f"A license holds at most {MAX_LINES} products: "
                                                "start another license for the rest.")]
    if problems:
        return problems
    product = products.get(draft.product)
    if position is not None and 0 <= position < len(draft.lines):
        old = draft.lines[position]
        for column, value in _stored_line_values(product, _line_row(product, line, old.position)).items():
            setattr(old, column, value)
    else:
        draft.lines.append(_line_row(product, line, len(draft.lines)))
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


def line_drafts(lic: License) -> list:
    product = products.get(lic.product)
    return [product.LineDraft(*[getattr(line, name) for name in product.line_field_names])
            for line in lic.lines]


@dataclass
class CheckedDraft:
    header: rules.LicenseDraft
    problems: list[rules.Problem]
    branch_id: int | None = None  # filed for this branch of the company; None: the company itself


# The draft's and the API's key for "Filed for": a branch id, or nothing for the company itself.
BRANCH = branches.FIELD


def _filed_for(draft: License, checked: CheckedDraft) -> CheckedDraft:
    """The draft's "Filed for" checked (aimweb/branches.py): one of its company's branches, not
    archived (a modification may keep the archived branch the license already has)."""
    current = draft.amends.branch_id if draft.amends_id is not None and draft.amends is not None else None
    checked.branch_id, problems = branches.filed_for(draft.company_id, (draft.form_data or {}).get(BRANCH),
                                                     current)
    checked.problems = [*problems, *checked.problems]
    return checked


def check_draft(draft: License, on: date | None = None) -> CheckedDraft:
    """Every problem of the draft as it stands: "Filed for", header as typed, its lines, the
    certification."""
    if draft.is_low_value:
        return _filed_for(draft, check_low_value_draft(draft))
    data = draft.form_data or {}
    header, unreadable = inputs.header_from_data(data, draft.product)
    header.lines = line_drafts(draft)
    header.certified = bool(data.get("certified"))
    found = rules.validate_license(header, application_date=on or decision_date(draft))
    return _filed_for(draft, CheckedDraft(header, inputs.merge_problems(unreadable, found)))


# ----- issuing ---------------------------------------------------------------------------------------

def submit_draft(draft_id: int, user: User, on: date | None = None,
                 seen_same_entry: Collection[str] | None = None, reply: str | None = None,
                 note: str | None = None, api_key_id: int | None = None) -> License:
    """Issue the license: checked again, numbered, dated, recorded and mailed.

    Idempotent: a double click or a re-POST of the same draft returns the license already issued.
    Safe under concurrent submits: the draft leaves Draft in one conditional UPDATE, and
    the number's unique index decides any collision (retried with a new number).

    `seen_same_entry`: the numbers of the licenses with the same customs entry number the filer
    was shown (the preview's warning); another live one raises SameEntryNumber and issues
    nothing. None: not asked (the demo data).

    `reply`: for a modification, what the filer writes to the officer (see `clean_reply`), kept
    on the correction's audit event beside its changes.

    `note`, `api_key_id`: how it was submitted, for the history (the API: its key's name and id).
    """
    reply = clean_reply(reply)
    draft = db.session.get(License, draft_id)
    if draft is None:
        raise LookupError(draft_id)
    if draft.status == LicenseStatus.APPLIED:
        return draft.amends
    if not draft.can(Action.SUBMIT):
        return draft
    on = on or decision_date(draft)
    checked = check_draft(draft, on)
    if checked.problems:
        raise LicenseError(checked.problems)
    if seen_same_entry is not None:
        unseen = [lic for lic in same_entry_licenses(draft, checked.header.entry_number, on)
                  if lic.number not in seen_same_entry]
        if unseen:
            raise SameEntryNumber(unseen)
    if draft.amends_id is not None:
        return _apply_modification(draft, checked.header, user, reply, note, api_key_id, checked.branch_id)
    header, version, kind = checked.header, draft.version, draft.kind
    now = utcnow()
    if kind == LicenseKind.LOW_VALUE:
        valid_from, valid_through = rules.low_value_validity(on)
        content = dict(importer_name=header.importer_name.strip(), covered_hts=header.covered_hts)
    else:
        valid_from, valid_through = rules.validity(on, header.entry_type)
        content = header_values(header)
    values = dict(
        status=LicenseStatus.SUBMITTED, **content, certified_at=now, issued_at=now,
        created_at=now, valid_from=valid_from, valid_through=valid_through, form_data=None,
        version=version + 1, branch_id=checked.branch_id,
    )
    product = draft.product
    letter = products.get(product).number_letter + kind.number_mark
    note = note or "Submitted through the single-license form."
    if draft.duplicated_from is not None:
        note = f"Duplicated from {draft.duplicated_from.number}. {note}"
    # End the read transaction first: on SQLite the write then starts clean and waits its turn
    # (busy timeout) instead of failing to upgrade a stale read snapshot. The UPDATE and the
    # audit event then commit together, or not at all.
    db.session.commit()
    for _attempt in range(NUMBER_ATTEMPTS):
        try:
            result = db.session.execute(
                update(License)
                .where(License.id == draft_id, License.status.in_(ALLOWED_FROM[Action.SUBMIT]),
                       License.version == version)
                .values(number=new_license_number(on, letter), **values)
                # The draft in this session takes the new values: the mail renders from it.
                .execution_options(synchronize_session="evaluate")
            )
        except IntegrityError:
            db.session.rollback()  # the number was taken: draw another
            continue
        if result.rowcount == 0:
            # Another request submitted (or changed) this draft first: show what is there now.
            db.session.rollback()
            db.session.expire_all()
            lic = db.session.get(License, draft_id)
            if lic.can(Action.SUBMIT):
                raise LicenseError([rules.Problem("lines", "The license was changed in another "
                                                           "window: check it and submit again.")])
            return lic
        db.session.add(LicenseEvent(license_id=draft_id, actor_id=user.id, at=now, kind=EventKind.ISSUED,
                                    note=note, api_key_id=api_key_id))
        screening.add_volumes(draft.company_id, screening.month_of(now),
                              screening.kg_by_hts(header.lines))
        _monitor_changed(product, header.import_date)
        _mail(draft, user, "{program} license {number} issued", "license_issued")
        db.session.commit()
        break
    else:  # pragma: no cover - 25 collisions in a row: the month's numbers are nearly gone
        raise RuntimeError("could not draw a free license number")
    db.session.expire_all()
    screening.review_licenses([draft_id], on)
    return db.session.get(License, draft_id)


def _mail(lic: License, user: User | None, subject: str, template: str, **context) -> None:
    """Put the mail about this change in its transaction (the outbox): call it before the commit,
    with `lic` as this transaction has it (the callers' UPDATEs synchronize or refresh it).

    `user` None: the license's filer. The subject's {number} is the license number, {program}
    its product's program (AIM, SIMA).
    """
    user = user or lic.created_by
    subject = subject.format(number=lic.number, program=products.get(lic.product).short_name)
    # A mail that cannot even be rendered must not undo the change: logged, not shown.
    try:
        send_email(user.email, subject, template, lic=lic, user=user, **context)
    except Exception:
        current_app.logger.exception("Could not mail %r for license %s", subject, lic.number)


# ----- duplicate, modify, cancel (the guide's License Actions) -------------------------------------

def header_form_data(lic: License) -> dict:
    """A license's header as the form holds it (the certification is asked for again)."""
    branch = {BRANCH: str(lic.branch_id)} if lic.branch_id else {}  # Modify keeps it, Duplicate copies it
    if lic.is_low_value:
        return {"importer_name": lic.importer_name, "certified": False,
                "covered_hts": " ".join(format_hts(h) for h in lic.covered_hts or []), **branch}
    data = {}
    for f in HEADER_FIELDS:
        value = getattr(lic, f.name)
        data[f.name] = value.isoformat() if f.kind == "date" and value else (value or "")
    return {**data, "certified": False, **branch}


# What a duplicate leaves empty: a license covers one customs entry, and a copy with the
# original's entry number and dates would be a second license for the same shipment (or, dated in
# the past, refused at Preview). The importer, exporter, countries, port and products stay.
DUPLICATE_CLEARS = ("entry_number", "export_date", "import_date")


def _draft_from(lic: License, user: User, amends: License | None = None,
                clear: tuple[str, ...] = ()) -> License:
    product = products.get(lic.product)
    form_data = {**header_form_data(lic), **dict.fromkeys(clear, "")}
    draft = License(status=LicenseStatus.DRAFT, company_id=user.company_id, created_by_id=user.id,
                    product=product.key, license_type=lic.kind, form_data=form_data,
                    amends_id=amends.id if amends else None,
                    duplicated_from_id=None if amends else lic.id)
    for line in lic.lines:
        draft.lines.append(ProductLine(position=line.position, **_stored_line_values(product, line)))
    db.session.add(draft)
    db.session.commit()
    return draft


def duplicate_license(lic: License, user: User) -> License:
    """A new draft copied from the license, without its entry number and dates (DUPLICATE_CLEARS);
    nothing is issued until Submit, the original untouched. The license's history will say
    "Duplicated from <number>"."""
    require(lic, Action.DUPLICATE)
    return _draft_from(lic, user, clear=DUPLICATE_CLEARS)


def same_entry_licenses(draft: License, entry_number: str | None, on: date | None = None) -> list[License]:
    """The company's live licenses (issued, not cancelled, not expired on `on`) that already carry
    this customs entry number, other than the one a modification corrects. A warning, not a
    refusal: one entry may need several licenses when their headers differ."""
    entry = rules.normalize_entry_number(entry_number or "")
    if not entry:
        return []
    on = on or application_date()
    query = (select(License).where(License.entry_number == entry, License.company_id == draft.company_id,
                                   License.status.in_(LicenseStatus.ISSUED), License.id != draft.id)
             .order_by(License.created_at))
    if draft.amends_id is not None:
        query = query.where(License.id != draft.amends_id)
    return [lic for lic in db.session.scalars(query.limit(20)) if not lic.is_expired(on)]


def start_modification(lic: License, user: User) -> License:
    """The draft in which the filer modifies a license (the open one, if there is one)."""
    require(lic, Action.MODIFY)
    open_draft = db.session.scalar(
        select(License).where(License.amends_id == lic.id, License.status == LicenseStatus.DRAFT,
                              License.company_id == user.company_id)
        .order_by(License.id.desc()).limit(1))
    return open_draft or _draft_from(lic, user, amends=lic)


def _change(field: products.Field, label: str, before, after) -> dict:
    return {"field": field.name, "label": label, "before": field.display(before),
            "after": field.display(after)}


def license_changes(original: License, header: dict, lines: list[ProductLine],
                    branch_id: int | None = None) -> list[dict]:
    """What a modification changes, field by field, product by product (before → after); first
    what it is filed for (`branch_id`: the branch, None the company)."""
    changes = []
    if branch_id != original.branch_id:
        changes.append({"field": BRANCH, "label": "Filed for", "before": filed_for_label(original.branch),
                        "after": filed_for_label(db.session.get(Branch, branch_id) if branch_id else None)})
    for f in HEADER_FIELDS:
        before, after = getattr(original, f.name), header[f.name]
        if (before or None) != (after or None):
            changes.append(_change(f, f.label, before, after))
    line_fields = products.get(original.product).line_fields
    hts = line_fields[0]
    old, new = list(original.lines), list(lines)
    for index in range(max(len(old), len(new))):
        label = f"Product {index + 1}"
        if index >= len(old):
            changes.append({"field": "lines", "label": label, "before": "—",
                            "after": f"added ({hts.display(new[index].hts_number)})"})
        elif index >= len(new):
            changes.append({"field": "lines", "label": label,
                            "before": hts.display(old[index].hts_number), "after": "removed"})
        else:
            for f in line_fields:
                before, after = getattr(old[index], f.name), getattr(new[index], f.name)
                if before != after:
                    changes.append(_change(f, f"{label} {f.label}", before, after))
    return changes


REPLY_MAX = 2000


def clean_reply(text: str | None) -> str | None:
    """The filer's reply to the officer as kept: spaces at the ends of lines and around the text
    dropped, line breaks kept (no more than one empty line in a row), None when nothing is left.
    Longer than REPLY_MAX characters: refused (LicenseError on the field "reply")."""
    lines = [" ".join(line.split()) for line in (text or "").replace("\x00", "").splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    reply = "\n".join(kept).strip()
    if len(reply) > REPLY_MAX:
        raise LicenseError([rules.Problem("reply", f"The reply may have at most {REPLY_MAX:,} characters; "
                                                   f"it has {len(reply):,}.")])
    return reply or None


def _apply_modification(draft: License, header: rules.LicenseDraft, user: User,
                        reply: str | None = None, note: str | None = None,
                        api_key_id: int | None = None, branch_id: int | None = None) -> License:
    original = db.session.get(License, draft.amends_id)
    require(original, Action.MODIFY)
    values = header_values(header)
    changes = license_changes(original, values, list(draft.lines), branch_id)
    values["branch_id"] = branch_id
    _valid_from, valid_through = rules.validity(original.valid_from, header.entry_type)
    original_id, seen, draft_id, now = original.id, original.version, draft.id, utcnow()
    # A correction of a license marked Action Required returns to the officers' queue as answered.
    review_state = (ReviewState.ANSWERED if original.status == LicenseStatus.ACTION_REQUIRED
                    else original.review_state)
    month, company_id = screening.month_of(original.created_at), original.company_id
    imported_before, product = original.import_date, original.product
    volume_change = screening.kg_by_hts(draft.lines)
    for hts, kg in screening.kg_by_hts(original.lines).items():
        volume_change[hts] = volume_change.get(hts, Decimal(0)) - kg
    db.session.commit()  # end the read transaction (see submit_draft)
    result = db.session.execute(
        update(License)
        .where(License.id == original_id, License.status.in_(ALLOWED_FROM[Action.MODIFY]),
               License.version == seen)
        .values(status=LicenseStatus.CORRECTED, version=seen + 1, valid_through=valid_through,
                certified_at=now, updated_at=now, review_state=review_state, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount == 0:
        _refused_meanwhile(original_id, Action.MODIFY)
        raise LicenseError([rules.Problem("lines", "The license was changed meanwhile: open it "
                                                   "again and repeat your modification.")])
    db.session.execute(delete(ProductLine).where(ProductLine.license_id == original_id))
    db.session.execute(update(ProductLine).where(ProductLine.license_id == draft_id)
                       .values(license_id=original_id).execution_options(synchronize_session=False))
    db.session.execute(update(License).where(License.id == draft_id)
                       .values(status=LicenseStatus.APPLIED, form_data=None)
                       .execution_options(synchronize_session=False))
    db.session.add(LicenseEvent(license_id=original_id, actor_id=user.id, at=now, kind=EventKind.CORRECTED,
                                note=" ".join(filter(None, (note, None if changes else
                                                            "Submitted again without a change."))) or None,
                                changes=changes, reply=reply, api_key_id=api_key_id))
    screening.add_volumes(company_id, month, {h: kg for h, kg in volume_change.items() if kg})
    _monitor_changed(product, imported_before, header.import_date)
    db.session.flush()
    db.session.expire_all()  # the UPDATEs above moved lines and values past the loaded copies
    _mail(db.session.get(License, original_id), user, "{program} license {number} corrected",
          "license_corrected", changes=changes)
    db.session.commit()
    db.session.expire_all()
    screening.review_licenses([original_id])
    return db.session.get(License, original_id)


def filed_for_label(branch: Branch | None) -> str:
    """What a license's history says it was filed for."""
    return branch.label if branch is not None else "the company"


def cancel_license(lic: License, user: User, note: str | None = None,
                   api_key_id: int | None = None) -> License:
    """Cancelled for good: no later change, no restore. Cancelling twice is refused (and
    changes nothing): TransitionRefused says the license is already cancelled."""
    require(lic, Action.CANCEL)
    license_id, now = lic.id, utcnow()
    company_id, month = lic.company_id, screening.month_of(lic.created_at)
    volumes, imported, product = screening.kg_by_hts(lic.lines), lic.import_date, lic.product
    db.session.commit()
    result = db.session.execute(
        update(License).where(License.id == license_id, License.status.in_(ALLOWED_FROM[Action.CANCEL]))
        .values(status=LicenseStatus.CANCELLED, version=License.version + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount == 0:
        _refused_meanwhile(license_id, Action.CANCEL)  # e.g. cancelled in another window
    db.session.add(LicenseEvent(license_id=license_id, actor_id=user.id, at=now,
                                kind=EventKind.CANCELLED, note=note or "Cancelled by the filer.",
                                api_key_id=api_key_id))
    screening.add_volumes(company_id, month, screening.negated(volumes))
    if result.rowcount:
        _monitor_changed(product, imported)
    db.session.commit()
    db.session.expire_all()
    screening.review_licenses([license_id])
    return db.session.get(License, license_id)


# ----- the low-value license (19 CFR 361.103(f), 360.103(f); README "Low-value licenses") --------

# What a low-value draft's form keeps, as typed (the product comes from the Apply choice).
LOW_VALUE_FIELDS = ("importer_name", "covered_hts")
LOW_VALUE_TEXT_MAX = 2000


@dataclass
class LowValueHeader:
    """A low-value draft as checked: what the license will say (no shipment, no lines)."""
    product: str
    importer_name: str
    covered_hts: list
    certified: bool
    lines: tuple = ()
    import_date: None = None
    entry_number: None = None


def check_low_value_draft(draft: License) -> CheckedDraft:
    data = draft.form_data or {}
    typed = SimpleNamespace(product=draft.product, importer_name=data.get("importer_name") or "",
                            covered_hts=data.get("covered_hts") or "",
                            certified=bool(data.get("certified")))
    found, problems = rules.validate_low_value(
        typed, catalogue=products.get(draft.product).catalogue().items)
    header = LowValueHeader(draft.product, typed.importer_name.strip(), found, typed.certified)
    return CheckedDraft(header, problems)


def record_use(lic: License, user: User, data: dict, today: date | None = None,
               api_key_id: int | None = None) -> LicenseUse:
    """Record one entry the low-value license is quoted on (entry number, date of entry, value
    of the covered metal in US$). Refused (LicenseError, each problem at its field) when the
    license is not the user's company's, is not low-value or no longer in force (cancelled), the
    entry is outside its validity, already recorded, or worth the product's limit or more."""
    if user.company_id is None or lic.company_id != user.company_id:
        raise TransitionRefused(f"License {lic.number} is not your company's.")
    require(lic, Action.RECORD_USE)
    today = today or application_date()
    if lic.is_expired(today):
        raise TransitionRefused(f"License {lic.number} expired on {lic.valid_through:%m/%d/%Y}: "
                                "apply for a new low-value license (Duplicate License renews it).")
    problems, entry_date, value = [], None, inputs.parse_amount(data.get("value_usd"))
    try:
        entry_date = inputs.parse_date(data.get("entry_date"))
    except inputs.UnreadableDate as error:
        problems.append(rules.Problem("entry_date", f"Date of Entry: {error}"))
    problems += [p for p in rules.validate_use(
        product=products.get(lic.product), entry_number=inputs.clean(data.get("entry_number")),
        entry_date=entry_date, value_usd=value, valid_from=lic.valid_from,
        valid_through=lic.valid_through, today=today) if not (p.field == "entry_date" and problems)]
    entry = rules.normalize_entry_number(inputs.clean(data.get("entry_number")))
    if entry and not any(p.field == "entry_number" for p in problems) and db.session.scalar(
            select(LicenseUse.id).where(LicenseUse.license_id == lic.id, LicenseUse.entry_number == entry)):
        problems.append(rules.Problem("entry_number", f"Entry {entry} is already recorded on this license."))
    if problems:
        raise LicenseError(problems)
    license_id = lic.id
    use = LicenseUse(license_id=license_id, entry_number=entry, entry_date=entry_date,
                     value_usd=Decimal(value), recorded_by_id=user.id, recorded_at=utcnow(),
                     api_key_id=api_key_id)
    db.session.add(use)
    # Cancelled meanwhile (another window): the status is read again in this transaction.
    db.session.flush()
    status = db.session.scalar(select(License.status).where(License.id == license_id))
    if status not in ALLOWED_FROM[Action.RECORD_USE]:
        _refused_meanwhile(license_id, Action.RECORD_USE)
    try:
        db.session.commit()
    except IntegrityError:  # the same entry recorded by a double click
        db.session.rollback()
        raise LicenseError([rules.Problem("entry_number", f"Entry {entry} is already recorded on this "
                                                          "license.")]) from None
    screening.review_licenses([license_id], today)
    return use


# ----- many licenses at once (Apply for Multiple Licenses) -----------------------------------------

def check_licenses(drafts: list, on: date | None = None) -> list[list[rules.Problem]]:
    """The problems of each draft, by the same rules as the single form."""
    on = on or application_date()
    ports = all_ports()
    catalogues = {key: products.get(key).catalogue().items for key in {d.product for d in drafts}}
    return [rules.validate_license(d, application_date=on, catalogue=catalogues[d.product],
                                   port_codes=ports) for d in drafts]


def _free_numbers(count: int, on: date, letter: str) -> list[str]:
    """`count` new license numbers, none of them already used (checked in chunks)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        wanted = [new_license_number(on, letter) for _ in range(count - len(numbers))]
        fresh = set(wanted) - numbers
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            taken = db.session.scalars(select(License.number).where(License.number.in_(chunk)))
            fresh -= set(taken)
        numbers |= fresh
    return list(numbers)


def issue_licenses(user: User, drafts: list, upload_batch_id: int | None = None,
                   on: date | None = None, note: str = "Submitted by Excel upload.",
                   before_commit=None, api_key_id: int | None = None, branch_id=None) -> list[str]:
    """Issue every draft in ONE transaction (all or nothing): their numbers, in order.

    `branch_id`: the branch of the user's company every license is filed for (None: the company
    itself; the upload files for the company), checked by aimweb/branches.py.

    `before_commit(numbers)` may record more in the same transaction (the upload's result).
    Checked again here, so nothing invalid is issued whoever calls. Rows are inserted in bulk
    (Core executemany), not one ORM object at a time: thousands of licenses take well under a second.
    """

    on = on or application_date()
    branch_id, problems = branches.filed_for(user.company_id, branch_id)
    problems += [p for found in check_licenses(drafts, on) for p in found]
    if problems:
        raise LicenseError(problems)
    kinds = {d.product for d in drafts}
    if len(kinds) > 1:
        raise ValueError("licenses of one product at a time")
    product = products.get(kinds.pop() if kinds else None)
    catalogue = product.catalogue().items
    for attempt in range(3):
        numbers = _free_numbers(len(drafts), on, product.number_letter)
        now = utcnow()
        rows = []
        for number, draft in zip(numbers, drafts):
            valid_from, valid_through = rules.validity(on, draft.entry_type)
            rows.append(dict(
                number=number, status=LicenseStatus.SUBMITTED, company_id=user.company_id,
                created_by_id=user.id, license_type=LicenseKind.STANDARD, product=product.key, branch_id=branch_id,
                **header_values(draft), certified_at=now,
                issued_at=now, valid_from=valid_from, valid_through=valid_through, version=2,
                created_at=now, updated_at=now, upload_batch_id=upload_batch_id))
        try:
            db.session.execute(License.__table__.insert(), rows)
            ids = _ids_by_number(numbers)
            lines, events = [], []
            for number, draft in zip(numbers, drafts):
                license_id = ids[number]
                for position, line in enumerate(draft.lines):
                    item = catalogue[normalize_hts(line.hts_number)]
                    lines.append(dict(license_id=license_id, position=position,
                                      **_line_values(product, line, item)))
                events.append(dict(license_id=license_id, actor_id=user.id, at=now, kind=EventKind.ISSUED,
                                   note=note, api_key_id=api_key_id))
            db.session.execute(ProductLine.__table__.insert(), lines)
            db.session.execute(LicenseEvent.__table__.insert(), events)
            screening.add_volumes(user.company_id, screening.month_of(now), screening.kg_by_hts(lines))
            _monitor_changed(product.key, *(draft.import_date for draft in drafts))
            if before_commit is not None:
                before_commit(numbers)
            db.session.commit()
            ordered = [ids[n] for n in numbers]
            for start in range(0, len(ordered), 500):
                screening.review_licenses(ordered[start:start + 500], on)
            return numbers
        except IntegrityError:
            db.session.rollback()  # a number was taken meanwhile: draw them again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ids_by_number(numbers: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(numbers), 900):
        chunk = numbers[start:start + 900]
        ids.update(db.session.execute(select(License.number, License.id)
                                      .where(License.number.in_(chunk))).all())
    return ids


# ----- the officers' actions: Action Required, Clear --------------------------------------------

def _officer_event(license_id: int, officer: User, kind: EventKind, note: str | None, internal: bool) -> None:
    db.session.add(LicenseEvent(license_id=license_id, actor_id=officer.id, at=utcnow(), kind=kind,
                                note=note, internal=internal))


def _officer_text(text: str | None, field: str, missing: str) -> str:
    """An officer's message or note on one line, as kept: refused when empty or over 2,000 characters."""
    text = " ".join((text or "").split())
    if not text:
        raise LicenseError([rules.Problem(field, missing)])
    if len(text) > 2000:
        raise LicenseError([rules.Problem(field, f"The {field} may have at most 2,000 characters.")])
    return text


def mark_action_required(lic: License, officer: User, message: str) -> License:
    """Send the license back to the filer: "something may need to be corrected or confirmed"."""
    require(lic, Action.MARK_ACTION_REQUIRED)
    message = _officer_text(message, "message", "Write the message to the filer: what should be "
                                                "corrected or confirmed.")
    license_id = lic.id
    db.session.commit()  # end the read transaction (see submit_draft)
    # One conditional UPDATE: a cancel or correction committed meanwhile is not overwritten from
    # a stale copy, and the version (the PDF's cache key) always moves on.
    result = db.session.execute(
        update(License).where(License.id == license_id,
                              License.status.in_(ALLOWED_FROM[Action.MARK_ACTION_REQUIRED]))
        .values(status=LicenseStatus.ACTION_REQUIRED, officer_message=message,
                review_state=ReviewState.WAITING, version=License.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount == 0:
        _refused_meanwhile(license_id, Action.MARK_ACTION_REQUIRED)
    screening.sync_queue(license_id)
    _officer_event(license_id, officer, EventKind.ACTION_REQUIRED, message, internal=False)
    db.session.refresh(lic)  # the UPDATE bypassed the loaded copy
    _mail(lic, None, "{program} license {number}: Action Required", "action_required", message=message)
    db.session.commit()
    db.session.expire_all()
    return db.session.get(License, license_id)


def clear_license(lic: License, officer: User, note: str) -> License:
    """Close the review with an officer-only note; a pending Action Required is withdrawn."""
    require(lic, Action.CLEAR)
    note = _officer_text(note, "note", "Write a note for the file: why is this license clear?")
    license_id = lic.id
    db.session.commit()
    corrected = db.session.scalar(select(func.count()).select_from(LicenseEvent).where(
        LicenseEvent.license_id == license_id, LicenseEvent.kind == EventKind.CORRECTED))
    # A pending Action Required is withdrawn: back to the status it had. Decided in the UPDATE
    # itself, so a correction the filer commits meanwhile (now Corrected) is kept.
    pending = License.status == LicenseStatus.ACTION_REQUIRED
    before = LicenseStatus.CORRECTED if corrected else LicenseStatus.SUBMITTED
    result = db.session.execute(
        update(License).where(License.id == license_id, License.status.in_(ALLOWED_FROM[Action.CLEAR]))
        .values(status=case((pending, literal(before, License.status.type)), else_=License.status),
                version=case((pending, License.version + 1), else_=License.version),
                review_state=ReviewState.CLEARED)
        .execution_options(synchronize_session=False))
    if result.rowcount == 0:
        _refused_meanwhile(license_id, Action.CLEAR)
    screening.sync_queue(license_id)
    _officer_event(license_id, officer, EventKind.CLEARED, note, internal=True)
    db.session.commit()
    db.session.expire_all()
    return db.session.get(License, license_id)


# ----- whole licenses from values (the JSON API) -------------------------------------------------

def check_license_data(data: Mapping, product: str = products.DEFAULT,
                       on: date | None = None, company_id: int | None = None,
                       current_branch: int | None = None) -> tuple[rules.LicenseDraft, list[rules.Problem]]:
    """A license from raw values (header fields, "lines", "certified", and with `company_id` an
    optional "branch_id") and every problem the form would show, in its words, each with its field
    (and line). `current_branch`: the branch the license being modified already has."""
    draft, problems = check_many_data([data], product, on)[0]
    if company_id is not None:
        _branch, refused = branches.filed_for(company_id, data.get(BRANCH), current_branch)
        problems = [*refused, *problems]
    return draft, problems


def check_many_data(items: list[Mapping], product: str = products.DEFAULT,
                    on: date | None = None) -> list[tuple[rules.LicenseDraft, list[rules.Problem]]]:
    read = [inputs.license_from_data(data, product) for data in items]
    found = check_licenses([draft for draft, _ in read], on)
    checked = []
    for (draft, unreadable), problems in zip(read, found):
        problems = inputs.merge_problems(unreadable, problems)
        if len(draft.lines) > MAX_LINES:
            problems.append(rules.Problem("lines", f"A license holds at most {MAX_LINES} products: "
                                                   "start another license for the rest."))
        checked.append((draft, problems))
    return checked


def license_data(lic: License) -> dict:
    """A license's values as check_license_data reads them (what a duplicate starts from)."""
    product = products.get(lic.product)
    lines = [{name: _plain(getattr(line, name)) for name in product.line_field_names} for line in lic.lines]
    return {**header_form_data(lic), "lines": lines}


def _plain(value):
    return str(value) if isinstance(value, Decimal) else (value or "")


def _fill_draft(draft: License, data: Mapping, checked: rules.LicenseDraft) -> None:
    """A draft takes a whole checked license: its header as given, its lines replaced."""
    product = products.get(draft.product)
    # The branch sent, or (left out) the one the draft was started with: Modify keeps, Duplicate copies.
    branch = data.get(BRANCH) if BRANCH in data else (draft.form_data or {}).get(BRANCH)
    draft.form_data = {**{f.name: inputs.clean(data.get(f.name)) for f in HEADER_FIELDS},
                       "certified": checked.certified, **({BRANCH: str(branch)} if branch else {})}
    draft.lines.clear()
    db.session.flush()
    for position, line in enumerate(checked.lines):
        draft.lines.append(_line_row(product, line, position))
    draft.version += 1
    db.session.commit()


def modify_license(lic: License, user: User, data: Mapping, reply: str | None = None,
                   note: str | None = None, api_key_id: int | None = None) -> License:
    """Modify an issued license to a whole new set of values, checked against the day it was
    applied for (as the form's Modify does); an open modification draft is replaced."""
    require(lic, Action.MODIFY)
    clean_reply(reply)
    checked, problems = check_license_data(data, lic.product, to_program_date(lic.issued_at), lic.company_id,
                                           lic.branch_id)
    if problems:
        raise LicenseError(problems)
    draft = start_modification(lic, user)
    _fill_draft(draft, data, checked)
    return submit_draft(draft.id, user, reply=reply, note=note, api_key_id=api_key_id)


def duplicate_and_submit(lic: License, user: User, data: Mapping, note: str | None = None,
                         api_key_id: int | None = None) -> License:
    """Duplicate a license and submit the copy with `data` at once; nothing is made when the copy
    has a problem. Its history says "Duplicated from <number>"."""
    require(lic, Action.DUPLICATE)
    checked, problems = check_license_data(data, lic.product, company_id=lic.company_id)
    if problems:
        raise LicenseError(problems)
    draft = duplicate_license(lic, user)
    _fill_draft(draft, data, checked)
    return submit_draft(draft.id, user, note=note, api_key_id=api_key_id)
