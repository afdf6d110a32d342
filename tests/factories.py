"""Test data builders: the one user builder (its argon2 hash computed once per run) and the
licenses, drafts, upload batches and saved searches the tests need, written straight into the
database. Each runs in the caller's app context and commits."""
from __future__ import annotations

import os
import zlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from aimweb import apikeys
from aimweb.clock import application_date, utcnow
from aimweb.extensions import db
from aimweb.models import Company, License, ProductLine, SavedSearch, UploadBatch, User
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
        user.company = Company(
            ein=ein or f"12-{zlib.crc32(email.encode()) % 10**7:07d}",
            name=company_name or f"Company of {email}", company_type=company_type,
            street="4800 Riverstone Blvd", city="Missouri City", state="TX", zip_code="77459",
            phone="281-555-0134", contact_first_name=first, contact_last_name=last, email=email,
        )
    db.session.add(user)
    db.session.commit()
    return user


def add_license(user_id: int, number: str | None, *, status="submitted", created: datetime | None = None,
                import_date: date | None = None, valid_through: date | None = None,
                importer="Gulf Coast Metals LLC", exporter="Northern Rolling Mills Inc.",
                manufacturer="Alouette Smelting", entry_number=None, port="1303",
                lines=(LINE_A,)) -> int:
    """A license (or, with status "draft" and no number, a draft) of the user's company: its id."""
    user = db.session.get(User, user_id)
    created = created or utcnow()
    today = application_date()
    lic = License(
        number=number, status=status, company_id=user.company_id, created_by_id=user.id,
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
    world = {}
    for name, user, number in (("own", filer, "AOWN10126"), ("other", other, "AOTH10126")):
        add_license(user.id, number)
        world[name] = dict(number=number, draft_id=add_license(user.id, None, status="draft"),
                           batch_id=add_upload_batch(user.id), search_id=add_saved_search(user.id),
                           issued_batch_id=add_upload_batch(user.id, status="issued"),
                           position=0, kind="csv", filename="app/app.css", product="aluminum")
        key, world[name]["api_token"] = apikeys.create_key(user, f"{name} system")
        world[name]["key_id"] = key.id
    return world
