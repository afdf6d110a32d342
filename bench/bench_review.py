"""Benchmark of the officers' review (issue 6, point 7) on the 1,000,000-license data set.

Reuses the seed of bench_dashboard.py (2,000 companies, 1,000,000 licenses, ~2 lines each; built
first if missing). On top of it, once: the per-company monthly volumes the screening service keeps
(company_hts_month, rebuilt from the lines), the unit-value statistics (`flask review-refresh`'s
work over the last 365 days), and the checks run on every 50th license so the queue holds
realistic findings. Then it prints median and p95 of:

  (1) all checks on one license (screening.review_licenses([id]): gather the figures, run
      checks.run_all, store the findings)   target p95 < 20 ms, so it runs inside the submit
  (2) GET /review/ as an officer: the queue's first page            target p95 < 100 ms
  (3) GET /review/?check=transshipment: the same, filtered

Run: .venv/bin/python bench/bench_review.py [rounds]      (rounds: 100)
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dash \\
         .venv/bin/python bench/bench_review.py
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_dashboard as base
from sqlalchemy import func, select, text

from aimweb import screening
from aimweb.extensions import db
from aimweb.models import CompanyHtsMonth, Finding, License, User, utcnow
from aimweb.security import hash_password

OFFICER = "officer@bench.example.com"
SAMPLE_EVERY = 50


def prepare(app) -> None:
    dialect = db.engine.dialect.name
    if not db.session.scalar(select(func.count()).select_from(CompanyHtsMonth)):
        started = time.perf_counter()
        month = ("date(strftime('%Y-%m-01', l.created_at))" if dialect == "sqlite"
                 else "date_trunc('month', l.created_at)::date")
        db.session.execute(text(
            f"INSERT INTO company_hts_month (company_id, hts_number, month, kg) "
            f"SELECT l.company_id, p.hts_number, {month}, sum(p.quantity_kg) FROM product_line p "
            f"JOIN license l ON l.id = p.license_id WHERE l.status != 'cancelled' AND l.number IS NOT NULL "
            f"GROUP BY l.company_id, p.hts_number, {month}"))
        db.session.commit()
        print(f"Monthly volumes per company and HTS rebuilt in {time.perf_counter() - started:.1f} s")
    if not db.session.scalar(select(func.count()).select_from(Finding)):
        started = time.perf_counter()
        done = screening.refresh_review()
        print(f"review-refresh: {done['lines']:,} lines, {done['hts_numbers']} HTS numbers, "
              f"{done['rechecked']:,} re-checked, in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        ids = db.session.scalars(select(License.id).where(
            License.number.is_not(None), License.id % SAMPLE_EVERY == 0)).all()
        for start in range(0, len(ids), 500):
            screening.review_licenses(ids[start:start + 500])
        print(f"Checks run on {len(ids):,} sampled licenses in {time.perf_counter() - started:.1f} s")
    if db.session.scalar(select(User.id).where(User.email == OFFICER)) is None:
        db.session.add(User(email=OFFICER, display_name="Bench Officer", first_name="Bench",
                            last_name="Officer", password_hash=hash_password(base.PASSWORD),
                            role="officer", email_verified_at=utcnow()))
        db.session.commit()


def main(rounds: int) -> None:
    uri, _meta, _fresh = base.prepare_database(False)
    app = base.make_app(uri)
    with app.app_context():
        prepare(app)
        queue = db.session.scalar(select(func.count()).select_from(License)
                                  .where(License.review_state.in_(("flagged", "answered"))))
        findings = db.session.scalar(select(func.count()).select_from(Finding))
        ids = db.session.scalars(select(License.id).where(License.company_id == base.LARGE,
                                                          License.number.is_not(None))).all()
        sample = random.Random(11).sample(ids, rounds + 10)
        print(f"{db.engine.dialect.name}: {queue:,} licenses in the queue, {findings:,} findings")
        times = []
        for i, license_id in enumerate(sample):
            started = time.perf_counter()
            screening.review_licenses([license_id])
            if i >= 10:
                times.append(time.perf_counter() - started)
        print(base.report("(1) all checks on one license", times, 0.020))
        db.session.remove()

    client = app.test_client()
    response = client.post("/signin", data={"email": OFFICER, "password": base.PASSWORD})
    assert response.status_code == 302, response.status_code
    for label, url, target in [("(2) review queue, first page", "/review/", 0.100),
                               ("(3) queue filtered by a check", "/review/?check=transshipment", 0.100)]:
        samples = []
        for i in range(rounds + 5):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            if i >= 5:
                samples.append(elapsed)
        print(base.report(label, samples, target))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
