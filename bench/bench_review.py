"""Benchmark of the officers' review (issue 6 point 7, issue 13 point 4) on the 1,000,000-license data set.

Reuses the seed of bench_dashboard.py (2,000 companies, 1,000,000 licenses, ~2 lines each; built
first if missing). The seed files every license 21-60 days before its import; a real year has
some filed after the import (allowed until the entry summary is filed, 10 working days), so once,
every 40th license is made one (applied for 1-14 days after its import), every other one of
those without a customs entry number. On top of it, once: the per-company monthly volumes the
screening service keeps (company_hts_month, rebuilt from the lines), `flask review-refresh`
(unit-value statistics over the last 365 days, and the late filings of the last 90 days), and
the checks run on every 50th license so the queue holds realistic findings. It prints the
queue's share of the licenses and per check, then median and p95 of:

  (1) all checks on one license (screening.review_licenses([id]): gather the figures, run
      checks.run_all, store the findings)   target p95 < 20 ms, so it runs inside the submit
  (2) GET /review/ as an officer: the queue's first page            target p95 < 50 ms
  (3) GET /review/?check=…: the queue filtered by each check, and by the other filters
      (category, country, company, creation dates), and the last page the queue offers
      target p95 < 50 ms each; beside it the floor (the same page with an unreadable date, so
      no queue query runs), timed in the same rounds, and each view's p95 over the floor; and
      the p95 of the CPU time of the benchmark's own process (on a busy machine, the work of a
      request without the waits for a core: all of it on SQLite, the Python side on PostgreSQL)
      and of the time spent in the database driver's execute (the queries, waits included)

Run: .venv/bin/python bench/bench_review.py [rounds] [--explain] [--steel-share 0.5]   (rounds: 100;
     --explain: each view's queue queries with their plans and database time, instead of the
     timings; --steel-share: on bench_dashboard's seed with that share of steel licenses, with the
     steel filters of the queue beside the others)
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dash \\
         .venv/bin/python bench/bench_review.py
"""
from __future__ import annotations

import random
import statistics
import sys
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_dashboard as base
from sqlalchemy import event, func, select, text

from aimweb import screening
from aimweb.checks import CHECKS
from aimweb.enums import ReviewState
from aimweb.extensions import db
from aimweb.models import Company, CompanyHtsMonth, Finding, License, User, utcnow
from aimweb.review.queries import max_queue_page
from aimweb.security import hash_password

OFFICER = "officer@bench.example.com"
SAMPLE_EVERY = 50
LATE_EVERY = 40
TARGET = 0.050


def make_late_filings() -> None:
    """Every LATE_EVERY-th license applied for 1-14 days after its import (once: marked in bench_seed)."""
    if db.session.execute(text("SELECT value FROM bench_seed WHERE key = 'late_filings'")).first():
        return
    started = time.perf_counter()
    if db.engine.dialect.name == "sqlite":
        back = "date(created_at, '-' || (id % 14 + 1) || ' days')"
        export = "date(created_at, '-' || (id % 14 + 4) || ' days')"
    else:
        back, export = "(created_at::date - (id % 14 + 1))", "(created_at::date - (id % 14 + 4))"
    db.session.execute(text(f"UPDATE license SET import_date = {back}, export_date = {export} "
                            f"WHERE id % {LATE_EVERY} = 7 AND number IS NOT NULL"))
    db.session.execute(text(f"UPDATE license SET entry_number = NULL WHERE id % {2 * LATE_EVERY} = 7"))
    db.session.execute(text("INSERT INTO bench_seed (key, value) VALUES ('late_filings', 'yes')"))
    db.session.commit()
    print(f"Every {LATE_EVERY}th license made a late filing in {time.perf_counter() - started:.1f} s")


def done_once(step: str, model) -> bool:
    """Whether a preparation step ran on this seed: its mark in bench_seed. Other benches issue a
    few hundred licenses through the licensing service (monthly volumes, findings), so a table
    with rows is no proof; a seed prepared before the marks counts as done with many rows."""
    if db.session.execute(text("SELECT value FROM bench_seed WHERE key = :k"), {"k": step}).first():
        return True
    return db.session.scalar(select(func.count()).select_from(model)) > 10_000


def mark_done(step: str) -> None:
    db.session.execute(text("INSERT INTO bench_seed (key, value) VALUES (:k, 'yes')"), {"k": step})
    db.session.commit()


def prepare(app) -> None:
    dialect = db.engine.dialect.name
    make_late_filings()
    if not done_once("company_volumes", CompanyHtsMonth):
        started = time.perf_counter()
        db.session.execute(text("DELETE FROM company_hts_month"))  # what other benches' licenses added
        month = ("date(strftime('%Y-%m-01', l.created_at))" if dialect == "sqlite"
                 else "date_trunc('month', l.created_at)::date")
        db.session.execute(text(
            f"INSERT INTO company_hts_month (company_id, hts_number, month, kg) "
            f"SELECT l.company_id, p.hts_number, {month}, sum(p.quantity_kg) FROM product_line p "
            f"JOIN license l ON l.id = p.license_id WHERE l.status != 'cancelled' AND l.number IS NOT NULL "
            f"GROUP BY l.company_id, p.hts_number, {month}"))
        mark_done("company_volumes")
        print(f"Monthly volumes per company and HTS rebuilt in {time.perf_counter() - started:.1f} s")
    if not done_once("review_sampled", Finding):
        started = time.perf_counter()
        done = screening.refresh_review()
        print(f"review-refresh: {done['lines']:,} lines, {done['hts_numbers']} HTS numbers, "
              f"{done['rechecked']:,} re-checked, in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        ids = db.session.scalars(select(License.id).where(
            License.number.is_not(None), License.id % SAMPLE_EVERY == 0)).all()
        for start in range(0, len(ids), 500):
            screening.review_licenses(ids[start:start + 500])
        mark_done("review_sampled")
        print(f"Checks run on {len(ids):,} sampled licenses in {time.perf_counter() - started:.1f} s")
    if dialect == "postgresql":
        # What autovacuum does in production after such a load: statistics for the planner, and
        # the visibility map that lets the queue's indexes answer without reading the rows.
        started = time.perf_counter()
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("license", "finding", "product_line", "company"):
                conn.execute(text(f"VACUUM ANALYZE {table}"))
        print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
    if db.session.scalar(select(User.id).where(User.email == OFFICER)) is None:
        db.session.add(User(email=OFFICER, display_name="Bench Officer", first_name="Bench",
                            last_name="Officer", password_hash=hash_password(base.PASSWORD),
                            role="officer", email_verified_at=utcnow()))
        db.session.commit()


def queue_share() -> None:
    total = db.session.scalar(select(func.count()).select_from(License).where(License.number.is_not(None)))
    queued = db.session.scalar(select(func.count()).select_from(License)
                               .where(License.review_state.in_(ReviewState.QUEUED)))
    print(f"{db.engine.dialect.name}: {queued:,} of {total:,} licenses in the queue ({queued / total:.2%})")
    per_product = db.session.execute(
        select(License.product, func.count()).where(License.number.is_not(None))
        .group_by(License.product).order_by(License.product)).all()
    queued_per_product = dict(db.session.execute(
        select(License.product, func.count()).where(License.review_state.in_(ReviewState.QUEUED))
        .group_by(License.product)).all())
    for product, count in per_product:
        print(f"    {product}: {queued_per_product.get(product, 0):,} of {count:,} in the queue "
              f"({queued_per_product.get(product, 0) / count:.2%})")
    per_check = dict(db.session.execute(
        select(Finding.check, func.count(func.distinct(Finding.license_id)))
        .join(License, License.id == Finding.license_id)
        .where(License.review_state.in_(ReviewState.QUEUED)).group_by(Finding.check)).all())
    for check, title in CHECKS.items():
        print(f"    {title:<44} {per_check.get(check, 0):>8,} queued licenses")


STEEL_CATEGORY = "Oil country pipe and tube goods"


def views(steel_share: float = 0.0) -> list[tuple[str, str]]:
    """(label, URL) of the first page, every check's filter, the other filters, the last page."""
    country = db.session.scalar(select(License.origin_country).where(License.id == 7))
    company = db.session.scalar(select(Company.name).where(Company.id == base.LARGE))
    today = utcnow().date()
    out = [("(2) review queue, first page", "/review/")]
    out += [(f"(3) check: {title}", f"/review/?check={key}") for key, title in CHECKS.items()]
    out += [("(3) HTS category", "/review/?category=Foil"),
            ("(3) country of origin", f"/review/?country={country}"),
            ("(3) company (name contains)", f"/review/?company={company.split()[1]}"),
            ("(3) created in the last 60 days",
             f"/review/?created_from={today - timedelta(days=60):%Y-%m-%d}&created_to={today:%Y-%m-%d}"),
            ("(3) check + country", f"/review/?check=transshipment&country={country}"),
            # On the aluminum seed, steel is the worst case (every queued license read in
            # ix_license_queue to find none), aluminum the busiest.
            ("(3) product: steel", "/review/?product=steel"),
            ("(3) product: aluminum + category", "/review/?product=aluminum&category=Foil"),
            ("(3) product: aluminum + check", "/review/?product=aluminum&check=transshipment"),
            (f"(3) last page offered ({max_queue_page()})", f"/review/?page={max_queue_page()}")]
    if steel_share:
        out += [("(3) product: steel + category",
                 f"/review/?product=steel&category={urllib.parse.quote(STEEL_CATEGORY)}"),
                ("(3) product: steel + check", "/review/?product=steel&check=transshipment"),
                ("(3) product: steel + country", f"/review/?product=steel&country={country}")]
    return out


def explain_views(app, client, urls) -> None:
    """--explain: per view, each queue query's plan and how long the database itself takes to run
    it (PostgreSQL: EXPLAIN ANALYZE's execution time; SQLite: the median of 5 runs in this
    process), apart from the machine's load on the request as a whole."""
    with app.app_context():
        engine = db.engine
    recorder = base.Recorder(engine)
    for label, url in urls:
        recorder.statements, recorder.on = [], True
        client.get(url)
        recorder.on = False
        raw = engine.raw_connection()
        try:
            cursor, total, lines = raw.cursor(), 0.0, []
            for statement, parameters in recorder.statements:
                if "FROM license" not in statement and "FROM finding" not in statement:
                    continue
                if engine.dialect.name == "sqlite":
                    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                    plan = [row[3] for row in cursor.fetchall()]
                    runs = []
                    for _ in range(5):
                        started = time.perf_counter()
                        cursor.execute(statement, parameters)
                        cursor.fetchall()
                        runs.append(time.perf_counter() - started)
                    took = statistics.median(runs) * 1000
                else:
                    cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + statement, parameters)
                    rows = [row[0] for row in cursor.fetchall()]
                    plan = [" ".join(r.replace("->", "").split("(cost=")[0].split()) for r in rows
                            if "Scan" in r or "Sort  (" in r or "Unique" in r]
                    took = float(next(r for r in rows if r.startswith("Execution Time")).split()[2])
                total += took
                lines.append(f"      {took:6.2f} ms  {' / '.join(plan)}")
            raw.rollback()
        finally:
            raw.close()
        print(f"  {label}: {total:.1f} ms in the database")
        print("\n".join(lines))


def main(rounds: int, explain: bool = False, steel_share: float = 0.0) -> None:
    uri, _meta, _fresh = base.prepare_database(False, steel_share)
    app = base.make_app(uri)
    with app.app_context():
        prepare(app)
        queue_share()
        findings = db.session.scalar(select(func.count()).select_from(Finding))
        print(f"{findings:,} findings in all")
        ids = db.session.execute(select(License.id, License.product).where(
            License.company_id == base.LARGE, License.number.is_not(None))).all()
        sample = random.Random(11).sample(ids, rounds + 10)
        times, cpu_times, by_product = [], [], {}
        for i, (license_id, product) in enumerate(sample):
            started, cpu_started = time.perf_counter(), time.process_time()
            screening.review_licenses([license_id])
            if i >= 10:
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu_started)
                by_product.setdefault(product, []).append(times[-1])
        print(base.report("(1) all checks on one license", times, 0.020)
              + f"  p95 CPU {base.p95(cpu_times) * 1000:5.1f} ms")
        if len(by_product) > 1 and min(map(len, by_product.values())) > 1:
            for product, samples in sorted(by_product.items()):
                print(base.report(f"    {product} licenses only", samples))
        urls = views(steel_share)
        db.session.remove()
        engine = db.engine
    in_sql = [0.0]

    def before(conn, *_):
        conn.info["started"] = time.perf_counter()

    def after(conn, *_):
        in_sql[0] += time.perf_counter() - conn.info.pop("started", time.perf_counter())
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)

    client = app.test_client()
    response = client.post("/signin", data={"email": OFFICER, "password": base.PASSWORD})
    assert response.status_code == 302, response.status_code
    # The floor: the same page, session and officer check with an unreadable date, so no queue
    # query runs. The views are timed in turns (one request of each per round), so a busy
    # machine weighs on all of them alike; "over floor" is the p95 less the floor's median.
    if explain:
        explain_views(app, client, urls)
        return
    urls = [("floor: the page without its queries", "/review/?created_from=99/99/2026"), *urls]
    samples: dict[str, list[float]] = {label: [] for label, _ in urls}
    cpu: dict[str, list[float]] = {label: [] for label, _ in urls}
    sql: dict[str, list[float]] = {label: [] for label, _ in urls}
    headings = {}
    for i in range(rounds + 5):
        for label, url in urls:
            started, cpu_started, in_sql[0] = time.perf_counter(), time.process_time(), 0.0
            response = client.get(url)
            elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu_started
            assert response.status_code == 200, (url, response.status_code)
            if i >= 5:
                samples[label].append(elapsed)
                cpu[label].append(cpu_used)
                sql[label].append(in_sql[0])
            headings[label] = response.get_data(as_text=True).split(
                'id="queue-heading"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    floor = statistics.median(samples[urls[0][0]])
    for label, _url in urls:
        over = base.p95(samples[label]) - floor
        print(base.report(label, samples[label], None if label.startswith("floor") else TARGET)
              + f"  over floor {over * 1000:6.1f} ms  p95 CPU {base.p95(cpu[label]) * 1000:5.1f} ms"
              f"  p95 SQL {base.p95(sql[label]) * 1000:5.1f} ms  [{headings[label]}]")

if __name__ == "__main__":
    numbers = [a for a in base.positional_arguments(sys.argv[1:]) if a.isdigit()]
    main(int(numbers[0]) if numbers else 100, explain="--explain" in sys.argv,
         steel_share=base.steel_share_argument(sys.argv))
