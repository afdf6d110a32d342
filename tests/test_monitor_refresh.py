"""The monitor keeps up (issue 13, point 6): a refresh rebuilds only the months that license changes
marked, and gives exactly what a full rebuild gives."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import make_user

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import License, MonitorCell, MonitorChange
from aimweb.monitor.aggregates import refresh
from aimweb.products.aluminum import ProductLineDraft

TODAY = date(2026, 12, 10)
LINES = [("7601103000", "CA"), ("7606123035", "CN"), ("7607191000", "CN"), ("7604291010", "MX"),
         ("7616995160", "CN"), ("7616995170", "CA")]


@pytest.fixture(autouse=True)
def december(app):
    app.config["PROGRAM_TODAY"] = TODAY.isoformat()


def month_day(back: int, day: int = 10) -> date:
    index = TODAY.year * 12 + TODAY.month - 1 - back
    return date(index // 12, index % 12 + 1, day)


def draft(rng: random.Random, imported: date) -> rules.LicenseDraft:
    hts, origin = rng.choice(LINES)
    kg = Decimal(rng.choice([1_000, 5_000, 20_000, 80_000]))
    return rules.LicenseDraft(
        entry_type="consumption", importer_name="Importer", exporter_name="Exporter", manufacturer_name="Mill",
        origin_country=origin, export_country=origin, port_code="1303", export_date=imported - timedelta(days=7),
        import_date=imported, lines=[ProductLineDraft(hts, rng.choice(["CA", "CN"]), "NA_", origin, kg,
                                                      kg * Decimal("2.5") + rng.randint(0, 999))])


def issue(rng: random.Random, user, backs) -> None:
    for back in backs:
        imported = month_day(back)
        licensing.issue_licenses(user, [draft(rng, imported)], on=imported - timedelta(days=8))


def figures() -> set[tuple]:
    return {(c.dimension, c.category, c.origin, c.period, c.key, c.kg, c.usd, c.companies, c.top_usd, c.withheld)
            for c in db.session.scalars(db.select(MonitorCell))}


def month_total(back: int) -> Decimal:
    return db.session.scalar(db.select(MonitorCell.kg).where(
        MonitorCell.dimension == "total", MonitorCell.category == "*", MonitorCell.origin == "*",
        MonitorCell.period == f"{month_day(back):%Y-%m}"))


def modify(lic: License, user, imported: date) -> None:
    """Moves a license to another month of imports through Modify License."""
    modification = licensing.start_modification(lic, user)
    data = {**modification.form_data, "import_date": imported.isoformat(),
            "export_date": (imported - timedelta(days=7)).isoformat(), "certified": "y"}
    licensing.save_draft_header(modification, data)
    licensing.submit_draft(modification.id, user, on=imported - timedelta(days=8))


def test_a_refresh_of_the_changed_months_equals_a_full_rebuild(app):
    rng = random.Random(20261210)
    with app.app_context():
        users = [make_user(f"importer{i}@importer.example") for i in range(6)]
        for user in users:
            issue(rng, user, [rng.choice([0, 1, 2, 5, 12, 13, 25]) for _ in range(5)])
        refresh(TODAY)
        for _round in range(3):
            for user in rng.sample(users, 3):        # new licenses, some in a month not shown yet
                issue(rng, user, [rng.choice([-1, 0, 1, 3, 12])])
            issued = db.session.scalars(db.select(License).where(
                License.number.is_not(None), License.status != licensing.LicenseStatus.CANCELLED)
                .order_by(License.id)).all()
            owner = {u.company_id: u for u in users}
            for lic in rng.sample(issued, 2):
                licensing.cancel_license(lic, owner[lic.company_id])
            lic = rng.choice([x for x in issued if x.status != licensing.LicenseStatus.CANCELLED])
            modify(lic, owner[lic.company_id], month_day(rng.choice([0, 1, 4])))
            marked = set(db.session.scalars(db.select(MonitorChange.month)))
            assert marked, "the changes marked their months"
            refresh(TODAY)
            incremental = figures()
            # Only the month not shown yet (next month's imports) is still waiting.
            assert set(db.session.scalars(db.select(MonitorChange.month))) <= {f"{month_day(-1):%Y-%m}"}
            refresh(TODAY, full=True)
            assert incremental == figures()


def test_a_license_appears_in_the_monitor_at_the_next_refresh(app, client):
    with app.app_context():
        users = [make_user(f"importer{i}@importer.example") for i in range(4)]
        rng = random.Random(7)
        for user in users[:3]:
            issue(rng, user, [1])
        refresh(TODAY)
        before = month_total(1)
        imported = month_day(1, 20)
        licensing.issue_licenses(users[3], [draft(rng, imported)], on=imported - timedelta(days=8))
        log = refresh(TODAY)
        after = month_total(1)
        assert after > before and log.licenses == 4
    page = client.get("/monitor/aluminum/").get_data(as_text=True)
    assert "Includes licenses issued through" in page and "4 licenses" in page
