"""Dashboard search: filters read from the URL, checked, and turned into one query."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from sqlalchemy import Select, func, or_, select

from ..enums import LicenseStatus
from ..extensions import db
from ..inputs import UnreadableDate, license_number_spellings, parse_date
from ..models import License, ProductLine
from ..rules import normalize_entry_number

FILTER_NAMES = ("status", "created_from", "created_to", "import_from", "import_to", "q")
# The Status filter's choices, in the vocabulary's order: every status of a license with a number.
SEARCHABLE_STATUSES = {s.value: s.label for s in LicenseStatus if s in LicenseStatus.NUMBERED}
FILTER_LABELS = {"status": "Status", "created_from": "Creation Date From", "created_to": "Creation Date To",
                 "import_from": "Date of Import From", "import_to": "Date of Import To", "q": "Search text"}
PAGE_SIZE = 25


@dataclass
class Filters:
    status: str = ""
    created_from: date | None = None
    created_to: date | None = None
    import_from: date | None = None
    import_to: date | None = None
    q: str = ""
    raw: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any(self.raw.get(name) for name in FILTER_NAMES)

    def query_string(self, **extra) -> str:
        values = {k: v for k, v in self.raw.items() if v}
        values.update({k: v for k, v in extra.items() if v})
        return urlencode(values)


def parse_filters(args) -> Filters:
    raw = {name: (args.get(name) or "").strip()[:100] for name in FILTER_NAMES}
    f = Filters(raw=raw, q=raw["q"])
    if raw["status"]:
        if raw["status"] in SEARCHABLE_STATUSES:
            f.status = raw["status"]
        else:
            f.errors["status"] = "Choose a status from the list."
    labels = {"created": "Creation Date", "import": "Date of Import"}
    for prefix, label in labels.items():
        for end in ("from", "to"):
            name = f"{prefix}_{end}"
            if raw[name]:
                try:
                    setattr(f, name, parse_date(raw[name]))
                except UnreadableDate as error:
                    f.errors[name] = f"{label} {end}: {error}"
        start, stop = getattr(f, f"{prefix}_from"), getattr(f, f"{prefix}_to")
        if start and stop and stop < start:
            f.errors[f"{prefix}_to"] = f"{label}: “To” must be on or after “From”."
    return f


LICENSE_NUMBER = re.compile(r"^A[A-Z0-9]{4}\d{4}$")


def license_query(company_id: int, f: Filters) -> Select:
    """The company's issued licenses matching the filters, newest first.

    Served by the indexes (company_id, created_at), (company_id, status, created_at) and
    (company_id, import_date); a license or entry number is looked up exactly by its own index.
    "Has a number" is said with the status (LicenseStatus.NUMBERED: drafts and applied
    modification drafts are the only licenses without one) because the status is in those indexes
    and the number is not: the count of a
    company's 50,000 licenses then reads the (company_id, status, created_at) index alone instead
    of 50,000 table rows (bench/bench_dashboard.py: 110 ms -> 7 ms on SQLite).
    """
    query = select(License).where(License.company_id == company_id,
                                  License.status.in_(LicenseStatus.NUMBERED))
    if f.status:
        query = query.where(License.status == f.status)
    if f.created_from:
        query = query.where(License.created_at >= datetime.combine(f.created_from, time.min))
    if f.created_to:
        query = query.where(License.created_at < datetime.combine(f.created_to + timedelta(days=1), time.min))
    if f.import_from:
        query = query.where(License.import_date >= f.import_from)
    if f.import_to:
        query = query.where(License.import_date <= f.import_to)
    if f.q:
        query = query.where(_text_match(f.q))
    return query.order_by(License.created_at.desc(), License.id.desc())


def _text_match(q: str):
    """A license number (look-alikes typed for one another: inputs.license_number_spellings) or a
    customs entry number exactly; otherwise a part of a name."""
    number = q.strip().upper()
    spellings = license_number_spellings(q)
    exact = [License.number.in_(spellings) if spellings else License.number == number]
    entry = normalize_entry_number(q)
    if entry:
        exact.append(License.entry_number == entry)
    if LICENSE_NUMBER.match(number) or entry:
        return or_(*exact)
    like = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*exact, *(column.ilike(like, escape="\\") for column in
                         (License.importer_name, License.exporter_name, License.manufacturer_name)))


def line_totals(license_ids: list[int]) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Product count, total kg and total US$ of each license on a page, in one query."""
    if not license_ids:
        return {}
    rows = db.session.execute(
        select(ProductLine.license_id, func.count(), func.sum(ProductLine.quantity_kg),
               func.sum(ProductLine.customs_value_usd))
        .where(ProductLine.license_id.in_(license_ids)).group_by(ProductLine.license_id))
    return {row[0]: (row[1], Decimal(row[2] or 0), Decimal(row[3] or 0)) for row in rows}


@dataclass
class Page:
    licenses: list
    totals: dict
    number: int
    count: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // PAGE_SIZE))


def dashboard_page(company_id: int, f: Filters, page: int) -> Page:
    query = license_query(company_id, f)
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(max(page, 1), pages)
    # The page's ids first, then their rows: where an index holds every filtered and ordered column,
    # the ids (and the rows skipped by the offset) come from the index alone, and only 25 rows are
    # read from the table.
    ids = db.session.scalars(query.with_only_columns(License.id)
                             .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    licenses = db.session.scalars(
        select(License).where(License.id.in_(ids))
        .order_by(License.created_at.desc(), License.id.desc())).all() if ids else []
    return Page(licenses, line_totals([lic.id for lic in licenses]), page, count)
