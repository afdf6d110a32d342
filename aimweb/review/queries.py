"""The review queue's and the audit trail's database queries (filters already read from the URL)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..checks import CHECKS
from ..enums import EventKind, ReviewState
from ..extensions import db
from ..inputs import UnreadableDate, parse_date
from ..models import Company, Finding, License, LicenseEvent, ProductLine, User

PAGE_SIZE = 25

# The audit trail's "What" filter: value -> label.
EVENT_LABELS = {kind.value: kind.label for kind in EventKind}


def count_limit() -> int:
    """The queue is counted up to REVIEW_QUEUE_COUNT_LIMIT (1,000; the page then says "1,000+")
    and paged as far: the most serious thousand are more than an officer works through before the
    queue changes, and the filters reach the rest. Counting further would walk the whole queue on
    every page, and a deep page would skip as many rows."""
    return max(1, int(current_app.config.get("REVIEW_QUEUE_COUNT_LIMIT", 1000)))


def max_queue_page() -> int:
    return -(-count_limit() // PAGE_SIZE)


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


def _license_filters(raw: dict) -> list:
    """The filters on the license itself (all but the check)."""
    where = []
    if raw["category"]:
        where.append(select(ProductLine.id).where(ProductLine.license_id == License.id,
                                                  ProductLine.category == raw["category"]).exists())
    if raw["country"]:
        where.append(License.origin_country == raw["country"])
    if raw["company"]:
        where.append(License.company_id.in_(
            select(Company.id).where(Company.name.ilike(f"%{raw['company']}%"))))
    if raw["created_from"]:
        where.append(License.created_at >= datetime.combine(parse_date(raw["created_from"]), time.min))
    if raw["created_to"]:
        until = parse_date(raw["created_to"]) + timedelta(days=1)
        where.append(License.created_at < datetime.combine(until, time.min))
    return where


def _queue_ids(raw: dict, state: ReviewState):
    """(query, order): the licenses in one queue state matching the filters, most serious then
    newest first; the license id is the query's first column.

    One state at a time, so an index gives the order and a page stops after its rows instead of
    sorting the whole queue: without a check, ix_license_queue on the license (which also holds
    the country and the company); with a check, ix_finding_queue on the findings, which carry the
    license's place in the queue (DISTINCT: a check may fire on several product lines). The
    category is looked up per license in ix_product_line_license_category (index only).
    """
    where = _license_filters(raw)
    if raw["check"] and not where:
        return (select(Finding.license_id, Finding.queue_score, Finding.license_created_at).distinct()
                .where(Finding.check == raw["check"], Finding.queue_state == state),
                (Finding.queue_score.desc(), Finding.license_created_at.desc(), Finding.license_id.desc()))
    if raw["check"]:
        # With other filters too, the license's index narrows first; the finding is then looked up
        # (ix_finding_check) for the licenses left, not for every finding of the check.
        where.append(select(Finding.id).where(Finding.license_id == License.id,
                                              Finding.check == raw["check"]).exists())
    return (select(License.id).where(License.review_state == state, *where),
            (License.review_score.desc(), License.created_at.desc(), License.id.desc()))


def queue_page(raw: dict, page: int) -> tuple[list, int, bool]:
    """The page's (license, company name) rows, the queue's size counted up to `count_limit()`, and
    whether there are more than that: answers first (the filer is waiting), then the flagged
    licenses, each most serious then newest first."""
    limit = count_limit()
    counts, left = {}, limit + 1
    for state in ReviewState.QUEUED:
        # In the queue's order too: the index is read in that order and the count stops early
        # (PostgreSQL otherwise sorts every finding of a check to make them DISTINCT).
        query, order = _queue_ids(raw, state)
        counts[state] = db.session.scalar(select(func.count()).select_from(
            query.order_by(*order).limit(left).subquery())) if left else 0
        left -= counts[state]
    room = min(PAGE_SIZE, limit - (page - 1) * PAGE_SIZE)  # the last counted page may be short
    offset, ids = (page - 1) * PAGE_SIZE, []
    for state in ReviewState.QUEUED:
        if len(ids) >= room:
            break
        if offset >= counts[state]:
            offset -= counts[state]
            continue
        query, order = _queue_ids(raw, state)
        ids += db.session.scalars(query.order_by(*order).limit(room - len(ids)).offset(offset)).all()
        offset = 0
    found = {lic.id: (lic, name) for lic, name in db.session.execute(
        select(License, Company.name).join(Company, Company.id == License.company_id)
        .where(License.id.in_(ids)))} if ids else {}
    total = sum(counts.values())
    return [found[i] for i in ids if i in found], min(total, limit), total > limit


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
