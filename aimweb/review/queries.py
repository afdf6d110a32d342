"""The review queue's and the audit trail's database queries (filters already read from the URL)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select, tuple_

from .. import products
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


def queue_categories(product_key: str = "") -> list[tuple[products.Product, list[str]]]:
    """The HTS categories the queue's filter offers: the chosen product's, or every product's
    (each product's own, from its catalogue)."""
    chosen = ([products.PRODUCTS[product_key]] if product_key in products.PRODUCTS
              else list(products.PRODUCTS.values()))
    return [(p, sorted({item.category for item in p.catalogue().items.values()})) for p in chosen]


def queue_filters(args) -> tuple[dict, dict]:
    raw = {k: (args.get(k) or "").strip()[:100] for k in ("check", "product", "category", "country",
                                                         "company", "created_from", "created_to")}
    errors = {}
    if raw["product"] and raw["product"] not in products.PRODUCTS:
        errors["product"] = "Choose a product from the list."
    elif raw["product"] and raw["category"] and raw["category"] not in queue_categories(raw["product"])[0][1]:
        product = products.PRODUCTS[raw["product"]]
        errors["category"] = (f"“{raw['category']}” is not a {product.name.lower()} category: choose one "
                              "from the list, or All categories.")
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
    if raw["product"]:
        where.append(License.product == raw["product"])
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
    """(query, key): the licenses in one queue state matching the filters; the license id is the
    query's first column. The key is the columns of the queue's order, each descending (most
    serious, then newest, then the higher id first): (score, created, license id).

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
                (Finding.queue_score, Finding.license_created_at, Finding.license_id))
    if raw["check"]:
        # With other filters too, the license's index narrows first; the finding is then looked up
        # (ix_finding_check) for the licenses left, not for every finding of the check.
        where.append(select(Finding.id).where(Finding.license_id == License.id,
                                              Finding.check == raw["check"]).exists())
    return (select(License.id).where(License.review_state == state, *where),
            (License.review_score, License.created_at, License.id))


def _ordered(raw: dict, state: ReviewState):
    query, key = _queue_ids(raw, state)
    return query.order_by(*(column.desc() for column in key))


def queue_page(raw: dict, page: int) -> tuple[list, int, bool]:
    """The page's (license, company name) rows, the queue's size counted up to `count_limit()`, and
    whether there are more than that: answers first (the filer is waiting), then the flagged
    licenses, each most serious then newest first."""
    limit = count_limit()
    counts, left = {}, limit + 1
    for state in ReviewState.QUEUED:
        # In the queue's order too: the index is read in that order and the count stops early
        # (PostgreSQL otherwise sorts every finding of a check to make them DISTINCT).
        counts[state] = db.session.scalar(select(func.count()).select_from(
            _ordered(raw, state).limit(left).subquery())) if left else 0
        left -= counts[state]
    room = min(PAGE_SIZE, limit - (page - 1) * PAGE_SIZE)  # the last counted page may be short
    offset, ids = (page - 1) * PAGE_SIZE, []
    for state in ReviewState.QUEUED:
        if len(ids) >= room:
            break
        if offset >= counts[state]:
            offset -= counts[state]
            continue
        ids += db.session.scalars(_ordered(raw, state).limit(room - len(ids)).offset(offset)).all()
        offset = 0
    found = {lic.id: (lic, name) for lic, name in db.session.execute(
        select(License, Company.name).join(Company, Company.id == License.company_id)
        .where(License.id.in_(ids)))} if ids else {}
    total = sum(counts.values())
    return [found[i] for i in ids if i in found], min(total, limit), total > limit


def queue_neighbours(raw: dict, lic: License, state: ReviewState | None) -> tuple[str | None, str | None]:
    """The numbers of the licenses before and after `lic` in the queue as filtered by `raw`
    (None at either end), `lic` taken at its place in the queue state `state` (where it is, or
    was before an officer acted on it; None: not in the queue, so "next" is the queue's first).

    Keyset reads: at most one row per query, found from the license's key (score, created, id)
    in the queue's own index (ix_license_queue, or ix_finding_queue for a check), never an offset
    or the queue loaded; at most one query per queue state and direction."""
    states = list(ReviewState.QUEUED)
    if state not in states:
        return None, _first(raw, states, last=False)
    at = (lic.review_score, lic.created_at, lic.id)
    index = states.index(state)
    return (_step(raw, state, at, before=True) or _first(raw, states[:index][::-1], last=True),
            _step(raw, state, at, before=False) or _first(raw, states[index + 1:], last=False))


def _step(raw: dict, state: ReviewState, at: tuple, before: bool) -> str | None:
    """The next (or previous) license after the key `at` within one queue state."""
    query, key = _queue_ids(raw, state)
    if before:  # the queue runs in descending key order: before means a greater key
        query = query.where(tuple_(*key) > tuple_(*at)).order_by(*(c.asc() for c in key))
    else:
        query = query.where(tuple_(*key) < tuple_(*at)).order_by(*(c.desc() for c in key))
    return _number_of(db.session.scalars(query.limit(1)).first())


def _first(raw: dict, states: list[ReviewState], last: bool) -> str | None:
    """The first (or last) license of the first of `states` that has any."""
    for state in states:
        query, key = _queue_ids(raw, state)
        order = [c.asc() if last else c.desc() for c in key]
        number = _number_of(db.session.scalars(query.order_by(*order).limit(1)).first())
        if number:
            return number
    return None


def _number_of(license_id: int | None) -> str | None:
    if license_id is None:
        return None
    return db.session.scalar(select(License.number).where(License.id == license_id))


def replies_of(license_ids: list[int]) -> dict[int, str]:
    """The filer's reply, by license, for those whose latest correction carries one."""
    if not license_ids:
        return {}
    latest = (select(func.max(LicenseEvent.id))
              .where(LicenseEvent.license_id.in_(license_ids), LicenseEvent.kind == EventKind.CORRECTED)
              .group_by(LicenseEvent.license_id))
    return dict(db.session.execute(select(LicenseEvent.license_id, LicenseEvent.reply)
                                   .where(LicenseEvent.id.in_(latest), LicenseEvent.reply.is_not(None))).all())


def latest_answer(events: list[LicenseEvent]) -> LicenseEvent | None:
    """The filer's answer to the latest Action Required: the correction that followed it."""
    answer = None
    for event in events:
        if event.kind == EventKind.ACTION_REQUIRED:
            answer = None
        elif event.kind == EventKind.CORRECTED:
            answer = event
    return answer


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
