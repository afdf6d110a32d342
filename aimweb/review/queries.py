"""The review queue's and the audit trail's database queries (filters already read from the URL)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from ..checks import CHECKS
from ..enums import EventKind, ReviewState
from ..extensions import db
from ..inputs import UnreadableDate, parse_date
from ..models import Company, Finding, License, LicenseEvent, ProductLine, User

PAGE_SIZE = 25
# The audit trail's "What" filter: value -> label.
EVENT_LABELS = {kind.value: kind.label for kind in EventKind}


def queue_filters(args) -> tuple[dict, dict]:
    raw = {k: (args.get(k) or "").strip()[:100] for k in ("check", "category", "country", "company",
                                                         "created_from", "created_to")}
    errors = {}
    for name in ("created_from", "created_to"):
        if raw[name]:
            try:
                parse_date(raw[name])
            except UnreadableDate as error:
                errors[name] = str(error)
    if raw["check"] and raw["check"] not in CHECKS:
        errors["check"] = "Choose a check from the list."
    return raw, errors


def _queue_ids(raw: dict, state: ReviewState):
    """Ids of licenses in one queue state matching the filters, most serious then newest first.

    One state at a time, so the index (review_state, review_score, created_at) gives the order
    and a page stops after its rows, instead of sorting the whole queue.
    """
    query = select(License.id).where(License.review_state == state)
    if raw["check"]:
        query = query.where(select(Finding.id).where(Finding.license_id == License.id,
                                                     Finding.check == raw["check"]).exists())
    if raw["category"]:
        query = query.where(select(ProductLine.id).where(ProductLine.license_id == License.id,
                                                         ProductLine.category == raw["category"]).exists())
    if raw["country"]:
        query = query.where(License.origin_country == raw["country"])
    if raw["company"]:
        query = query.where(License.company_id.in_(
            select(Company.id).where(Company.name.ilike(f"%{raw['company']}%"))))
    if raw["created_from"]:
        query = query.where(License.created_at >= datetime.combine(parse_date(raw["created_from"]), time.min))
    if raw["created_to"]:
        until = parse_date(raw["created_to"]) + timedelta(days=1)
        query = query.where(License.created_at < datetime.combine(until, time.min))
    return query


def queue_page(raw: dict, page: int) -> tuple[list, int]:
    """The page's (license, company name) rows and the queue's size: answers first (the filer is
    waiting), then the flagged licenses, each most serious then newest first."""
    order = (License.review_score.desc(), License.created_at.desc())
    counts = {state: db.session.scalar(select(func.count()).select_from(_queue_ids(raw, state).subquery()))
              for state in ReviewState.QUEUED}
    offset, ids = (page - 1) * PAGE_SIZE, []
    for state in ReviewState.QUEUED:
        if offset >= counts[state]:
            offset -= counts[state]
            continue
        wanted = PAGE_SIZE - len(ids)
        ids += db.session.scalars(_queue_ids(raw, state).order_by(*order).limit(wanted).offset(offset)).all()
        offset = 0
        if len(ids) >= PAGE_SIZE:
            break
    found = {lic.id: (lic, name) for lic, name in db.session.execute(
        select(License, Company.name).join(Company, Company.id == License.company_id)
        .where(License.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found], sum(counts.values())


def findings_of(license_ids: list[int]) -> dict[int, list[Finding]]:
    found: dict[int, list[Finding]] = {}
    if license_ids:
        for finding in db.session.scalars(select(Finding).where(Finding.license_id.in_(license_ids))
                                          .order_by(Finding.severity.desc(), Finding.id)):
            found.setdefault(finding.license_id, []).append(finding)
    return found


def audit_query(args):
    query = (select(LicenseEvent, License.number, User.email)
             .join(License, License.id == LicenseEvent.license_id)
             .outerjoin(User, User.id == LicenseEvent.actor_id))
    number = (args.get("number") or "").strip().upper()[:12]
    kind = args.get("kind") or ""
    if number:
        query = query.where(License.number == number)
    if kind in EVENT_LABELS:
        query = query.where(LicenseEvent.kind == kind)
    if args.get("officers"):
        query = query.where(LicenseEvent.kind.in_(EventKind.BY_OFFICERS))
    return query.order_by(LicenseEvent.at.desc(), LicenseEvent.id.desc())
