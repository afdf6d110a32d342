"""Screening: the officers' automatic checks run on licenses, and the figures they compare with.

Stores each license's findings, review state and score; keeps the per-company monthly volumes
(company_hts_month) and the unit-value statistics per HTS (`flask review-refresh`). It never
changes what a license says: that is aimweb.licensing, which calls in here after every change.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import bindparam, case, delete, func, select, update

from . import checks, products
from .clock import application_date, to_program_date, utcnow
from .enums import EventKind, LicenseKind, LicenseStatus, ReviewState
from .extensions import db
from .models import CompanyHtsMonth, Finding, HtsUnitValueStat, License, LicenseEvent, LicenseUse, ProductLine


def month_of(moment) -> date:
    return date(moment.year, moment.month, 1)


def add_volumes(company_id: int, month: date, kg_per_hts: dict[str, Decimal]) -> None:
    """Add (or with negative kg, take away) a company's licensed kilograms per HTS for a month."""
    if not kg_per_hts:
        return
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    statement = upsert(CompanyHtsMonth)
    statement = statement.on_conflict_do_update(
        index_elements=["company_id", "hts_number", "month"],
        set_={"kg": CompanyHtsMonth.kg + statement.excluded.kg})
    db.session.execute(statement, [{"company_id": company_id, "hts_number": hts, "month": month,
                                    "kg": kg} for hts, kg in sorted(kg_per_hts.items())])


def kg_by_hts(lines) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        hts = line.hts_number if hasattr(line, "hts_number") else line["hts_number"]
        kg = line.quantity_kg if hasattr(line, "quantity_kg") else line["quantity_kg"]
        totals[hts] = totals.get(hts, Decimal(0)) + Decimal(kg)
    return totals


def negated(totals: dict[str, Decimal]) -> dict[str, Decimal]:
    return {hts: -kg for hts, kg in totals.items()}


def review_licenses(license_ids: list[int], on: date | None = None) -> None:
    """Run every automatic check on these licenses and store the findings.

    One query per kind of figure for the whole set, plain rows instead of ORM objects, and one
    executemany for the scores that changed: an upload of thousands is checked in one pass.
    """
    if not license_ids:
        return
    on = on or application_date()
    thresholds = checks.Thresholds.from_config(current_app.config)
    lt, pt = License.__table__, ProductLine.__table__
    heads = db.session.execute(
        select(lt.c.id, lt.c.company_id, lt.c.status, lt.c.origin_country, lt.c.import_date,
               lt.c.created_at, lt.c.review_state, lt.c.review_score, lt.c.product, lt.c.issued_at,
               lt.c.entry_number, lt.c.license_type)
        .where(lt.c.id.in_(license_ids))).all()
    # A low-value license's uses (the split-shipment check); standard licenses have none.
    uses_of: dict[int, list] = {}
    low_value = [head.id for head in heads if head.license_type == LicenseKind.LOW_VALUE]
    if low_value:
        for license_id, entry_date, value in db.session.execute(
                select(LicenseUse.license_id, LicenseUse.entry_date, LicenseUse.value_usd)
                .where(LicenseUse.license_id.in_(low_value))):
            uses_of.setdefault(license_id, []).append((entry_date, Decimal(value)))
    catalogues = {key: products.get(key).catalogue().items for key in {head.product for head in heads}}
    # Every product's own columns, each once, after (license_id, position, hts_number, description).
    own_names = [f.name for f in products.own_line_fields()]
    own_at = {key: [4 + own_names.index(name) for name in products.get(key).own_field_names]
              for key in catalogues}
    lines_of: dict[int, list] = {}
    for line in db.session.execute(
            select(pt.c.license_id, pt.c.position, pt.c.hts_number, pt.c.description,
                   *(pt.c[name] for name in own_names), pt.c.quantity_kg,
                   pt.c.unit_value)
            .where(pt.c.license_id.in_(license_ids)).order_by(pt.c.license_id, pt.c.position)):
        lines_of.setdefault(line.license_id, []).append(line)
    hts_numbers = {line.hts_number for lines in lines_of.values() for line in lines}
    stats = {row.hts_number: checks.UnitValueStat(row.sample, Decimal(row.median), Decimal(row.mad))
             for row in db.session.scalars(select(HtsUnitValueStat)
                                           .where(HtsUnitValueStat.hts_number.in_(hts_numbers)))}
    corrections = dict(db.session.execute(
        select(LicenseEvent.license_id, func.count()).where(
            LicenseEvent.license_id.in_(license_ids), LicenseEvent.kind == EventKind.CORRECTED)
        .group_by(LicenseEvent.license_id)).all())
    # A license's volume is counted in the month it was created (see add_volumes), so the surge
    # check compares that month with the months before it, and only those since the company first
    # licensed the HTS number: a newcomer has too little history to surge against.
    history_months = thresholds.surge_history_months
    own_month = {head.id: month_of(head.created_at) for head in heads}
    companies = {head.company_id for head in heads}
    in_scope = (CompanyHtsMonth.company_id.in_(companies), CompanyHtsMonth.hts_number.in_(hts_numbers))
    volumes: dict[tuple[int, str, date], Decimal] = {}
    first_month: dict[tuple[int, str], date] = {}
    if hts_numbers:
        volumes = {(row.company_id, row.hts_number, row.month): Decimal(row.kg)
                   for row in db.session.execute(
                       select(CompanyHtsMonth.company_id, CompanyHtsMonth.hts_number,
                              CompanyHtsMonth.month, CompanyHtsMonth.kg)
                       .where(*in_scope, CompanyHtsMonth.month >= min(
                           month_back(m, history_months) for m in own_month.values())))}
        first_month = {(company_id, hts): first for company_id, hts, first in db.session.execute(
            select(CompanyHtsMonth.company_id, CompanyHtsMonth.hts_number, func.min(CompanyHtsMonth.month))
            .where(*in_scope, CompanyHtsMonth.kg > 0)
            .group_by(CompanyHtsMonth.company_id, CompanyHtsMonth.hts_number))}
    db.session.execute(Finding.__table__.delete().where(Finding.license_id.in_(license_ids)))
    rows, changed = [], []
    for head in heads:
        lines = lines_of.get(head.id, [])
        product, catalogue = products.get(head.product), catalogues[head.product]
        own = own_at[head.product]
        facts = checks.LicenseFacts(
            status=head.status, origin_country=head.origin_country, import_date=head.import_date,
            corrections=corrections.get(head.id, 0), product=product.key,
            filed_on=to_program_date(head.issued_at) if head.issued_at else None,
            entry_number=head.entry_number, uses=uses_of.get(head.id, []),
            lines=[product.LineFacts(
                line.position, line.hts_number,
                getattr(catalogue.get(line.hts_number), "full_description", line.description),
                *[line[i] for i in own], Decimal(line.quantity_kg), line.unit_value)
                for line in lines])
        month = own_month[head.id]
        before = [month_back(month, k) for k in range(1, history_months + 1)]
        context = checks.Context(today=on, unit_values=stats, volumes={
            hts: (volumes.get((head.company_id, hts, month), Decimal(0)),
                  [volumes.get((head.company_id, hts, m), Decimal(0)) for m in before
                   if m >= first_month.get((head.company_id, hts), month)])
            for hts in {line.hts_number for line in lines}})
        cancelled = head.status == LicenseStatus.CANCELLED
        found = [] if cancelled else checks.run_all(facts, context, thresholds)
        state = head.review_state
        if state in (None, ReviewState.CLEARED) and found:
            state = ReviewState.FLAGGED
        elif state == ReviewState.FLAGGED and not found:
            state = None
        elif state == ReviewState.ANSWERED and cancelled:
            state = None  # nothing left to review (and no action offered on it)
        score = sum(f.severity for f in found)
        rows += [dict(license_id=head.id, check=f.check, severity=f.severity, reason=f.reason,
                      line_position=f.line, created_at=utcnow(),
                      queue_state=state if state in ReviewState.QUEUED else None, queue_score=score,
                      license_created_at=head.created_at) for f in found]
        if (state, score) != (head.review_state, head.review_score):
            changed.append({"license": head.id, "state": state, "score": score})
    if changed:
        db.session.execute(lt.update().where(lt.c.id == bindparam("license"))
                           .values(review_state=bindparam("state"), review_score=bindparam("score")),
                           changed)
    if rows:
        db.session.execute(Finding.__table__.insert(), rows)
    db.session.commit()


def sync_queue(license_id: int) -> None:
    """Copy a license's place in the queue onto its findings after its review state changed
    outside `review_licenses` (Mark Action Required, Clear), in the caller's transaction."""
    lt = License.__table__
    state = (select(case((lt.c.review_state.in_(ReviewState.QUEUED), lt.c.review_state)))
             .where(lt.c.id == license_id).scalar_subquery())
    db.session.execute(update(Finding).where(Finding.license_id == license_id)
                       .values(queue_state=state).execution_options(synchronize_session=False))


def month_back(month: date, k: int) -> date:
    year, index = divmod(month.year * 12 + month.month - 1 - k, 12)
    return date(year, index + 1, 1)


def refresh_review(on: date | None = None, days: int = 365) -> dict:
    """The scheduled part (`flask review-refresh`, daily): recompute the unit-value statistics of
    each HTS from recent licenses, then check the licenses issued in the last
    REVIEW_LATE_FILING_WINDOW_DAYS that were applied for after their import and carry no such
    finding yet (issued before that check existed, or with the threshold changed)."""
    on = on or application_date()
    since = datetime.combine(on, datetime.min.time()) - timedelta(days=days)
    by_hts: dict[str, list[Decimal]] = {}
    query = (select(ProductLine.hts_number, ProductLine.unit_value)
             .join(License, License.id == ProductLine.license_id)
             .where(License.created_at >= since, License.status != LicenseStatus.CANCELLED,
                    License.number.is_not(None), ProductLine.unit_value.is_not(None)))
    for hts, value in db.session.execute(query.execution_options(yield_per=10000)):
        by_hts.setdefault(hts, []).append(Decimal(value))
    now = utcnow()
    db.session.execute(delete(HtsUnitValueStat))
    for hts, values in by_hts.items():
        stat = checks.median_and_mad(values)
        db.session.add(HtsUnitValueStat(hts_number=hts, sample=stat.sample, median=stat.median,
                                        mad=stat.mad, computed_at=now))
    db.session.commit()
    late = late_filings_unflagged(on)
    for start in range(0, len(late), 500):
        review_licenses(late[start:start + 500], on)
    return {"hts_numbers": len(by_hts), "lines": sum(len(v) for v in by_hts.values()),
            "rechecked": len(late)}


def late_filings_unflagged(on: date) -> list[int]:
    """Licenses in force issued within the late-filing window, applied for after their import
    (the check's own rule, on the program's dates) and without a late-filing finding."""
    thresholds = checks.Thresholds.from_config(current_app.config)
    since = datetime.combine(on, datetime.min.time()) - timedelta(days=thresholds.late_filing_window_days + 1)
    flagged = set(db.session.scalars(select(Finding.license_id).where(Finding.check == "late_filing")))
    found = []
    for license_id, issued_at, import_date in db.session.execute(
            select(License.id, License.issued_at, License.import_date)
            .where(License.status.in_(LicenseStatus.ISSUED), License.issued_at >= since,
                   License.import_date.is_not(None))
            .execution_options(yield_per=10000)):
        filed_on = to_program_date(issued_at)
        if (filed_on - import_date).days > thresholds.late_filing_days \
                and (on - filed_on).days <= thresholds.late_filing_window_days and license_id not in flagged:
            found.append(license_id)
    return found
