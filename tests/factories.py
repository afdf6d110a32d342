"""Test data builders: the one user builder (its argon2 hash computed once per run) and the
licenses, drafts, upload batches and saved searches the tests need, written straight into the
database. Each runs in the caller's app context and commits."""
from __future__ import annotations

import os
import zlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from sqlalchemy import select

from aimweb import addressbook, apikeys
from aimweb.clock import application_date, utcnow
from aimweb.enums import CompanyRole, PartyKind
from aimweb.extensions import db
from aimweb.models import Branch, Company, Invitation, License, ProductLine, SavedSearch, UploadBatch, User
from aimweb.security import hash_password

PASSWORD = "Correct-Horse-9"

# The date the tests run on (aimweb/clock.py, PROGRAM_TODAY): a Tuesday in mid-May, far from a
# month's or year's end, so "in 20 days" and "75 days ago" stay ordinary dates. Set here, the first
# test module imported, so dates computed at import agree with the app's clock.
PROGRAM_TODAY = "2026-05-12"
os.environ["AIMWEB_PROGRAM_TODAY"] = PROGRAM_TODAY

LINE_A = dict(hts_number="7601103000", description="Unwrought aluminum, not alloyed",
              category="Unwrought aluminum", smelt_largest="CA", smelt_second="NA_",
              cast_country="CA", quantity_kg=Decimal("1000.00"), customs_value_usd=Decimal("3100.00"),
              unit_value=Decimal("3.10"))

# A steel line (aimweb/products/steel.py): its own field is the country of melt and pour.
STEEL_LINE = dict(hts_number="7208101500", description="Pickled",
                  category="Hot-rolled plate, in coils", smelt_largest="", smelt_second="", cast_country="",
                  melt_pour_country="KR", quantity_kg=Decimal("20000.00"), customs_value_usd=Decimal("16000.00"),
                  unit_value=Decimal("0.80"))


def password_hash(password: str = PASSWORD) -> str:
    """argon2 is slow on purpose: each password is hashed once per test run (the same hash
    whether the password is passed or left to the default)."""
    return _hash(password)


@cache
def _hash(password: str) -> str:
    return hash_password(password)


def make_user(email="filer@example.com", password=PASSWORD, role="filer", company=True,
              company_name: str | None = None, *, first="Test", last="Filer", company_type="importer",
              ein: str | None = None) -> User:
    """A verified account (with a company of its own unless company=False)."""
    user = User(email=email, display_name=f"{first} {last}", first_name=first, last_name=last,
                password_hash=password_hash(password), role=role, email_verified_at=utcnow())
    if company:
        user.company_role = CompanyRole.ADMINISTRATOR  # who registers a company administers it
        user.company = Company(
            ein=ein or f"12-{zlib.crc32(email.encode()) % 10**7:07d}",
            name=company_name or f"Company of {email}", company_type=company_type,
            street="4800 Riverstone Blvd", city="Missouri City", state="TX", zip_code="77459",
            phone="281-555-0134", contact_first_name=first, contact_last_name=last, email=email,
        )
    db.session.add(user)
    db.session.commit()
    return user


def add_member(company_user: User, email: str, role: CompanyRole = CompanyRole.FILER, *,
               first="Test", last="Colleague") -> User:
    """A verified account in `company_user`'s company with this company role (as if invited)."""
    user = make_user(email, company=False, first=first, last=last)
    user.company_id, user.company_role = company_user.company_id, role
    db.session.commit()
    return user


def add_invitation(company_user: User, email: str, role: CompanyRole = CompanyRole.FILER) -> int:
    """An open invitation of the user's company (its token unknown: it cannot be accepted): its id."""
    now = utcnow()
    invitation = Invitation(company_id=company_user.company_id, email=email, company_role=role,
                            token_hash=f"{zlib.crc32(email.encode()):064x}", invited_by_id=company_user.id,
                            created_at=now, expires_at=now + timedelta(days=7))
    db.session.add(invitation)
    db.session.commit()
    return invitation.id


def add_license(user_id: int, number: str | None, *, status="submitted", created: datetime | None = None,
                import_date: date | None = None, valid_through: date | None = None,
                importer="Gulf Coast Metals LLC", exporter="Northern Rolling Mills Inc.",
                manufacturer="Alouette Smelting", entry_number=None, port="1303",
                lines=(LINE_A,), product="aluminum", license_type="standard", branch_id: int | None = None) -> int:
    """A license (or, with status "draft" and no number, a draft) of the user's company: its id.
    A steel license takes steel lines (STEEL_LINE)."""
    user = db.session.get(User, user_id)
    created = created or utcnow()
    today = application_date()
    lic = License(
        number=number, status=status, company_id=user.company_id, created_by_id=user.id,
        product=product, license_type=license_type, branch_id=branch_id,
        entry_number=entry_number, entry_type="consumption", importer_name=importer,
        exporter_name=exporter, manufacturer_name=manufacturer, origin_country="CA",
        export_country="CA", port_code=port, export_date=(import_date or today) - timedelta(days=5),
        import_date=import_date or today + timedelta(days=20), certified_at=created,
        issued_at=created, created_at=created, updated_at=created, valid_from=created.date(),
        valid_through=valid_through or created.date() + timedelta(days=75))
    if status == "draft" and number is None:
        lic.form_data, lic.certified_at, lic.issued_at = {}, None, None
    for position, line in enumerate(lines):
        lic.lines.append(ProductLine(position=position, **line))
    db.session.add(lic)
    db.session.commit()
    return lic.id


def add_monthly_volumes(email: str, kg_by_months_back: dict[int, int], hts="7601103000") -> None:
    """The company's licensed kilograms of one HTS number in earlier months (months back from this
    one -> kg), as the screening service keeps them: the history the surge check compares with."""
    from aimweb import screening
    from aimweb.models import CompanyHtsMonth

    company_id = db.session.scalar(select(User.company_id).where(User.email == email))
    this_month = screening.month_of(utcnow())
    for back, kg in kg_by_months_back.items():
        db.session.add(CompanyHtsMonth(company_id=company_id, hts_number=hts,
                                       month=screening.month_back(this_month, back), kg=Decimal(kg)))
    db.session.commit()


def add_branch(company_user: User, name="North Plant", *, suffix: str | None = None, archived=False) -> int:
    """A branch of the user's company (aimweb/branches.py), in Houston: its id."""
    branch = Branch(company_id=company_user.company_id, name=name, suffix=suffix, street="1200 Smith St",
                    city="Houston", state="TX", zip_code="77002", archived_at=utcnow() if archived else None)
    db.session.add(branch)
    db.session.commit()
    return branch.id


def add_upload_batch(user_id: int, *, status="rejected", filename="licenses.xlsx") -> int:
    """An upload of the user's company: rejected with one problem (nothing issued), or "issued"
    (with no licenses, enough for its pages): its id."""
    user = db.session.get(User, user_id)
    problems = [{"row": 2, "column": "A", "title": "Entry ID", "message": "Enter the Entry ID."}]
    batch = UploadBatch(company_id=user.company_id, user_id=user.id, form_token=f"t-{user.id}-{status}-{filename}",
                        filename=filename, sha256="0" * 64, size=0, content=b"", status=status,
                        message="The file has problems." if status == "rejected" else None,
                        problems=problems if status == "rejected" else None,
                        result=[] if status == "issued" else None, finished_at=utcnow())
    db.session.add(batch)
    db.session.commit()
    return batch.id


def add_party(user: User, name: str, kind: PartyKind = PartyKind.IMPORTER, **values) -> int:
    """A saved party of the user's company's address book (through the service)."""
    return addressbook.add(user.company_id, addressbook.PartyValues(kind, name, **values), user).id


def add_saved_search(user_id: int, name="Submitted", query="status=submitted") -> int:
    search = SavedSearch(user_id=user_id, name=name, query=query)
    db.session.add(search)
    db.session.commit()
    return search.id


def seed_world() -> dict:
    """Two filers' companies, each with a license, a draft, a rejected and an issued upload and a
    saved search, and an officer: the values of every route's URL parts, per company ("own" is
    filer@example.com's, "other" is other@example.com's)."""
    filer = make_user("filer@example.com")
    other = make_user("other@example.com")
    make_user("officer@example.com", role="officer", company=False)
    make_user("admin@example.com", role="admin", company=False)
    # filer@example.com administers its company; a filer and a viewer of it (company roles), and
    # per company a colleague the walks may suspend or remove and an open invitation.
    colleague = add_member(filer, "colleague@example.com", CompanyRole.FILER)
    viewer = add_member(filer, "viewer@example.com", CompanyRole.VIEWER)
    world = {"searches": {user.email: add_saved_search(user.id) for user in (colleague, viewer)}}
    for name, user, number in (("own", filer, "AOWN10126"), ("other", other, "AOTH10126")):
        add_license(user.id, number)
        leaver = add_member(user, f"leaver-{name}@example.com", CompanyRole.FILER)
        world[name] = dict(number=number, draft_id=add_license(user.id, None, status="draft"),
                           batch_id=add_upload_batch(user.id), search_id=add_saved_search(user.id),
                           issued_batch_id=add_upload_batch(user.id, status="issued"),
                           member_id=leaver.id, user_id=leaver.id,
                           invitation_id=add_invitation(user, f"invited-{name}@example.com"),
                           branch_id=add_branch(user, f"Branch {name}"),
                           position=0, kind="csv", filename="app/app.css", product="steel",
                           slug="license-invalid")
        world[name]["party_id"] = add_party(user, f"Party of {name} Inc.")
        key, world[name]["api_token"] = apikeys.create_key(user, f"{name} system")
        world[name]["key_id"] = key.id
    return world
