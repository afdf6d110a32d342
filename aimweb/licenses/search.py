"""Dashboard search: filters read from the URL, checked, and turned into one query."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy import Select, or_, select

from ..models import LICENSE_STATUSES, License

FILTER_NAMES = ("status", "created_from", "created_to", "import_from", "import_to", "q")
SEARCHABLE_STATUSES = {k: v for k, v in LICENSE_STATUSES.items() if k != "draft"}
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


def _parse_date(text: str) -> date | None:
    """ISO (from <input type=date>) or MM/DD/YYYY (typed, as in the guide)."""
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError


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
                    setattr(f, name, _parse_date(raw[name]))
                except ValueError:
                    f.errors[name] = f"{label} {end}: enter a date like 07/31/2026."
        start, stop = getattr(f, f"{prefix}_from"), getattr(f, f"{prefix}_to")
        if start and stop and stop < start:
            f.errors[f"{prefix}_to"] = f"{label}: “To” must be on or after “From”."
    return f


def license_query(company_id: int, f: Filters) -> Select:
    """The company's issued licenses matching the filters, newest first."""
    query = select(License).where(License.company_id == company_id, License.status != "draft")
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
        text = f.q.upper()
        like = f"%{f.q.lower()}%"
        from sqlalchemy import func

        query = query.where(
            or_(
                License.number == text,
                License.entry_number == text,
                func.lower(License.importer_name).like(like),
                func.lower(License.exporter_name).like(like),
                func.lower(License.manufacturer_name).like(like),
            )
        )
    return query.order_by(License.created_at.desc(), License.id.desc())
