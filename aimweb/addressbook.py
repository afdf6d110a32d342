"""A company's address book: the importers, exporters and manufacturers its filers save, offer
as they type, save from a license, and against which an upload's names are checked.

A license keeps the names as filed (License.importer_name, …): a party is never linked to a
license, so editing or archiving one changes no license. Names are unique per company and kind
once normalised (aimweb/parties.py: case, spaces, punctuation and accents aside).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import identifiers
from .archive import set_archived
from .enums import PartyKind
from .extensions import db
from .models import License, Party, User
from .parties import PartyIndex, name_key
from .reference import countries

SUGGESTIONS = 8
NAME_MAX = 200


class PartyRefused(ValueError):
    """Why a party was not saved, for the field it belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class PartyValues:
    kind: PartyKind
    name: str
    importer_number: str | None = None
    country: str | None = None


def party_page(company_id: int, kind: PartyKind, text: str = "", archived: bool = False, *,
               page: int = 1, size: int = 100) -> tuple[list[Party], int]:
    """One page of the company's parties of a kind whose name holds the text (the archived ones
    instead when asked), by name, and how many there are in all. Read in the order of the index
    (company, kind, name key): a broker's thousands of parties cost one page."""
    query = select(Party).where(Party.company_id == company_id, Party.kind == kind,
                                Party.archived_at.is_not(None) if archived else Party.archived_at.is_(None))
    key = name_key(text)
    if key:
        query = query.where(Party.name_key.contains(key, autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Party.name_key, Party.id).limit(size).offset((page - 1) * size)).all()
    return list(rows), total


def party_of(company_id: int, party_id: int) -> Party | None:
    """One of the company's parties (another company's is None: "not found")."""
    party = db.session.get(Party, party_id)
    return party if party is not None and party.company_id == company_id else None


def _same(company_id: int, kind: PartyKind, key: str) -> Party | None:
    return db.session.scalar(select(Party).where(Party.company_id == company_id, Party.kind == kind,
                                                 Party.name_key == key))


def _check(values: PartyValues) -> str:
    name = " ".join((values.name or "").split())
    if not name:
        raise PartyRefused("name", f"Enter the {values.kind.label.lower()}'s name.")
    if len(name) > NAME_MAX:
        raise PartyRefused("name", f"The name must be at most {NAME_MAX} characters.")
    key = name_key(name)
    if not key:
        raise PartyRefused("name", "Enter a name with letters or digits.")
    if len(key) > NAME_MAX:  # "ß" compares as "ss", "ﬃ" as "ffi": the key can outgrow the name
        raise PartyRefused("name", f"The name must be at most {NAME_MAX} characters once written out "
                                   "(letters like ß or ﬃ count as two or three).")
    if key == name_key("unknown"):
        raise PartyRefused("name", "“Unknown” is not a party: it is written on the license itself.")
    values.importer_number = importer_number(values.importer_number, values.kind)
    values.country = (values.country or "").strip().upper() or None
    if values.country and not countries.is_country(values.country):
        raise PartyRefused("country", "Choose the country from the list (its two-letter ISO code).")
    return name


def importer_number(text: str | None, kind: PartyKind) -> str | None:
    """An importer's EIN (##-#######) or CBP-assigned importer number (YYDDPP-NNNNN), written the
    one way (None when empty); PartyRefused on the field "importer_number" otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if kind != PartyKind.IMPORTER:
        raise PartyRefused("importer_number", "Only an importer has an importer number.")
    digits = "".join(c for c in text if c.isdigit())
    normalize = identifiers.normalize_ein if len(digits) == 9 else identifiers.normalize_cbp_number
    normalized, problem = normalize(text)
    if problem:
        raise PartyRefused("importer_number", problem if len(digits) == 9 else
                           "Enter an EIN (##-#######, like 12-3456789) or a CBP-assigned importer number "
                           "(YYDDPP-NNNNN, like 210101-00001).")
    return normalized


def _taken(party: Party) -> PartyRefused:
    where = " (archived: restore it from the archived list)" if party.is_archived else ""
    return PartyRefused("name", f"“{party.name}” is already in the address book as "
                                f"{party.kind.label.lower()}{where}.")


def add(company_id: int, values: PartyValues, by: User) -> Party:
    """A new party; PartyRefused when its name is missing or already saved (same kind)."""
    name = _check(values)
    existing = _same(company_id, values.kind, name_key(name))
    if existing is not None:
        raise _taken(existing)
    party = Party(company_id=company_id, kind=values.kind, name=name, name_key=name_key(name),
                  importer_number=values.importer_number or None, country=values.country or None,
                  created_by_id=by.id)
    db.session.add(party)
    _commit(party)
    return party


def edit(party: Party, values: PartyValues) -> Party:
    """Change a party's name, number or country (its kind stays). Licenses are not touched."""
    values.kind = party.kind
    name = _check(values)
    existing = _same(party.company_id, party.kind, name_key(name))
    if existing is not None and existing.id != party.id:
        raise _taken(existing)
    party.name, party.name_key = name, name_key(name)
    party.importer_number = values.importer_number or None
    party.country = values.country or None
    _commit(party)
    return party


def _commit(party: Party) -> None:
    try:
        db.session.commit()
    except IntegrityError:  # the same name saved at the same moment by a colleague
        db.session.rollback()
        raise PartyRefused("name", f"“{party.name}” was just saved by someone else.") from None


def archive(party: Party) -> bool:
    """No longer offered nor checked against; kept (False when it already was archived)."""
    return set_archived(party, True)


def restore(party: Party) -> bool:
    return set_archived(party, False)


def unsaved_parties(lic: License) -> list[tuple[PartyKind, str]]:
    """The license's importer, exporter and manufacturer not in the address book yet (archived
    counts as saved: restoring it is the way back), "unknown" left out."""
    wanted = [(kind, getattr(lic, kind.field) or "") for kind in PartyKind]
    wanted = [(kind, name) for kind, name in wanted if name_key(name) and name_key(name) != name_key("unknown")]
    if not wanted:
        return []
    saved = set(db.session.execute(select(Party.kind, Party.name_key).where(
        Party.company_id == lic.company_id, Party.name_key.in_([name_key(n) for _, n in wanted]))).all())
    return [(kind, name) for kind, name in wanted if (kind, name_key(name)) not in saved]


def save_from_license(lic: License, kind: PartyKind, by: User) -> tuple[Party, bool]:
    """Save the license's party of that kind as filed: (the party, True) when newly saved, (the
    party already saved under that name, False) otherwise: pressing twice saves once."""
    name = " ".join((getattr(lic, kind.field) or "").split())
    existing = _same(lic.company_id, kind, name_key(name))
    if existing is not None:
        return existing, False
    try:
        return add(lic.company_id, PartyValues(kind, name), by), True
    except PartyRefused:
        existing = _same(lic.company_id, kind, name_key(name))
        if existing is None:
            raise
        return existing, False


def suggestions(company_id: int, kind: PartyKind, text: str, limit: int = SUGGESTIONS) -> list[Party]:
    """Saved parties of the kind whose name starts with, then holds, what was typed (not archived)."""
    key = name_key(text)
    if not key:
        return []
    base = select(Party).where(Party.company_id == company_id, Party.kind == kind, Party.archived_at.is_(None))
    first = db.session.scalars(base.where(Party.name_key.startswith(key, autoescape=True))
                               .order_by(Party.name_key).limit(limit)).all()
    if len(first) < limit:
        seen = [p.id for p in first] or [0]
        first += db.session.scalars(base.where(Party.name_key.contains(key, autoescape=True),
                                               Party.id.not_in(seen))
                                    .order_by(Party.name_key).limit(limit - len(first))).all()
    return first


def index_for(company_id: int) -> PartyIndex:
    """The company's saved parties (not archived), ready to check an upload's names."""
    rows = db.session.execute(select(Party.kind, Party.name).where(
        Party.company_id == company_id, Party.archived_at.is_(None)).order_by(Party.id)).all()
    return PartyIndex((kind, name) for kind, name in rows)


def counts(company_id: int) -> dict[PartyKind, int]:
    rows = db.session.execute(select(Party.kind, func.count()).where(
        Party.company_id == company_id, Party.archived_at.is_(None)).group_by(Party.kind)).all()
    return dict(rows)
