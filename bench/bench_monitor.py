"""Benchmark of the public AIM monitor (issue 7, point 6): 1,000,000 licenses against 10,000.

The monitor never reads a license when it serves a page: `flask monitor-refresh`
(aimweb.monitor.aggregates.refresh) rebuilds the pre-aggregated figures (monitor_cell: sums,
number of distinct companies and the largest company's value per figure) and decides which are
withheld, for all views at once (aimweb/monitor/disclosure.py), and a page reads the few hundred
cells of one table with their decisions. So the page time must
not depend on the number of licenses; this bench shows it.

On two data sets built by bench_dashboard.py's generator (2,000 companies, ~2 product lines per
license, 28 countries, created over two years; imports 3 weeks to 2 months later):

  * 1M:  the 1,000,000-license seed of bench_dashboard.py (kept and shared; built if missing)
  * 10k: the same generator at 1/100 scale, 10,000 licenses (bench/out/monitor-10k.sqlite3, or
         the PostgreSQL database <name>_10k next to the one of AIMWEB_BENCH_DATABASE_URI)

it runs refresh(full=True) (timed: every month rebuilt), issues 200 licenses through the
licensing service (imports this month and last) and times refresh() (the periodic one: the months
those changed), and then, anonymously through the test client, median and p95 of

  (1) GET /monitor/aluminum/                                  default view: by product category
  (2) GET /monitor/aluminum/?dimension=origin&measure=usd&category=Foil   filtered: ranking of countries
  (3) GET /monitor/aluminum/surges                            (for information)
  (4) GET /monitor/                                           the landing page: pick the metal (for information)

With --steel-share 0.5 (issue 15, point 9) both data sets are bench_dashboard's seed with half the
licenses steel (the 1M one in its own file or database, the 10k one in monitor-10k-half-steel.sqlite3
or <name>_10k), both products' monitors are rebuilt, 200 licenses of each product are issued before
the periodic refresh, and the pages are timed on both monitors:

  (5) GET /monitor/steel/                                     default view: by Section 232 category
  (6) GET /monitor/steel/?dimension=melt_pour&measure=usd&category=Oil country pipe and tube goods
  (7) GET /monitor/steel/surges                               (for information)

(On the aluminum seed the steel monitor has no figures: its pages read the same cells by the same
index, its product's.)

Target: (1), (2), (5) and (6) p95 < 100 ms, and no slower with 1,000,000 licenses than with 10,000.

The refresh figures are wall seconds; on a shared machine compare CPU seconds (time.process_time
around aggregates.refresh) and print the load average (each line here does). Measured (README,
"Monitor refresh figures"): 10k SQLite full rebuild 6.8-7.6 s CPU against 5.6-6.2 s for the rebuild
before the per-month decisions (interleaved runs at load 6: 1.2x); 1M SQLite full rebuild 182 s CPU
(decisions 79 s, the 36 grouped queries and their fold ~100 s), 1,552 s wall at load 15. The full
rebuild is rare (first refresh, a change of the disclosure settings); the periodic refresh() after
200 issued licenses rebuilds two months: 17.4 s CPU / 109 s wall on SQLite, 11.6 s CPU (the app's;
PostgreSQL's own not counted) / 51 s wall on PostgreSQL (1,472 s wall for its full rebuild).

Run: .venv/bin/python bench/bench_monitor.py [rounds] [--keep-figures] [--10k|--1M] [--steel-share 0.5]
     (rounds: 100)
     (--keep-figures: no full rebuild when there are figures: the refresh after filing and the
      pages on them; --10k / --1M: that data set only, --1M without seeding the 10k one)
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dash \\
         .venv/bin/python bench/bench_monitor.py
"""
from __future__ import annotations

import os
import statistics
import sys
import time
import urllib.parse
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_dashboard as base
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from aimweb.extensions import db
from aimweb.models import MonitorCell
from aimweb.monitor.aggregates import included_through, refresh
from aimweb.products import DEFAULT as ALUMINUM
from aimweb.products.steel import STEEL

SMALL = 10_000
SMALL_FILE = base.ROOT / "bench" / "out" / "monitor-10k.sqlite3"
PAGES = [
    ("main", "(1) /monitor/aluminum/ (by category)", "/monitor/aluminum/", 0.100),
    ("filtered", "(2) origin, US$, Foil", "/monitor/aluminum/?dimension=origin&measure=usd&category=Foil", 0.100),
    ("surges", "(3) /monitor/aluminum/surges", "/monitor/aluminum/surges", None),
    ("landing", "(4) /monitor/ (pick the metal)", "/monitor/", None),
]
STEEL_CATEGORY = "Oil country pipe and tube goods"
STEEL_PAGES = [
    ("steel", "(5) /monitor/steel/ (by category)", "/monitor/steel/", 0.100),
    ("steel_filtered", "(6) steel: melt and pour, US$, OCTG",
     f"/monitor/steel/?dimension=melt_pour&measure=usd&category={urllib.parse.quote(STEEL_CATEGORY)}", 0.100),
    ("steel_surges", "(7) /monitor/steel/surges", "/monitor/steel/surges", None),
]


def pages(steel_share: float) -> list[tuple]:
    return PAGES + STEEL_PAGES if steel_share else PAGES


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


# ----- the 10,000-license data set -------------------------------------------------------------------

def small_sizes() -> list[int]:
    """bench_dashboard's company sizes at 1/100: 500, 4 x 200, 45 x 50, the rest ~3."""
    sizes = [500] + [200] * 4 + [50] * 45
    rest = base.COMPANIES - len(sizes)
    each, extra = divmod(SMALL - sum(sizes), rest)
    sizes += [each + (1 if i < extra else 0) for i in range(rest)]
    assert len(sizes) == base.COMPANIES and sum(sizes) == SMALL
    return sizes


def small_file(steel_share: float) -> Path:
    return SMALL_FILE.with_name(base.seed_file(steel_share).name.replace("dashboard-1m", "monitor-10k"))


def small_uri(big_uri: str, steel_share: float = 0.0) -> str:
    if big_uri.startswith("sqlite"):
        return f"sqlite:///{small_file(steel_share)}"
    url = make_url(big_uri)
    name = f"{url.database}_10k"
    engine = create_engine(big_uri, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def prepare_small(big_uri: str, steel_share: float = 0.0) -> str:
    uri = small_uri(big_uri, steel_share)
    app = base.make_app(uri)
    with app.app_context():
        with db.engine.connect() as conn:
            meta = base.seeded(conn)
        if meta is not None and meta.get("steel_share", "0") != base.share_text(steel_share):
            sys.exit(f"Refusing {uri!r}: it holds the 10k seed of another steel share.")
        if meta is not None and meta.get("licenses") == str(SMALL):
            from flask_migrate import upgrade

            upgrade()
            return uri
        db.engine.dispose()
        if uri.startswith("sqlite"):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{small_file(steel_share)}{suffix}").unlink(missing_ok=True)
        else:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        print(f"Seeding {SMALL:,} licenses with bench_dashboard's generator on {db.engine.dialect.name} …",
              flush=True)
        saved = base.LICENSES, base.company_sizes
        base.LICENSES, base.company_sizes = SMALL, small_sizes
        try:
            meta = base.seed(app, steel_share)
        finally:
            base.LICENSES, base.company_sizes = saved
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_seed (key, value) VALUES ('licenses', :v)"), {"v": str(SMALL)})
        print(f"  seeded in {meta['seconds']} s")
    return uri


# ----- the measures ------------------------------------------------------------------------------------

FILED = 200


def refresh_after_filing(steel_share: float = 0.0) -> tuple[float, float, list[str]]:
    """The periodic refresh after a burst of filing: FILED licenses issued through the licensing
    service (one upload; with a steel share, one upload of each product) with imports this month
    and last month, then refresh() (those months only)."""
    from aimweb import licensing, rules
    from aimweb.models import MonitorChange, User
    from aimweb.products.aluminum import ProductLineDraft

    today = licensing.application_date()
    user = db.session.scalar(select(User).where(User.company_id.is_not(None)).order_by(User.id).limit(1))
    line = {ALUMINUM: lambda i: ProductLineDraft("7601103000", "CA", "NA_", "CA", Decimal(20_000 + i),
                                                 Decimal(55_000 + i)),
            STEEL.key: lambda i: STEEL.LineDraft("7208101500", "KR", Decimal(20_000 + i), Decimal(18_000 + i))}
    for product in (ALUMINUM, STEEL.key) if steel_share else (ALUMINUM,):
        drafts = []
        for i in range(FILED):
            imported = today.replace(day=1) - timedelta(days=20 * (i % 2))
            drafts.append(rules.LicenseDraft(
                entry_type="consumption", importer_name="Bench Importer", exporter_name="Exporter",
                manufacturer_name="Mill", origin_country="CA", export_country="CA", port_code="1303",
                export_date=imported - timedelta(days=7), import_date=imported, lines=[line[product](i)],
                product=product))
        licensing.issue_licenses(user, drafts, on=today.replace(day=1) - timedelta(days=28))
    marked = sorted(set(db.session.scalars(select(MonitorChange.month))))
    started, cpu = time.perf_counter(), time.process_time()
    refresh()
    return time.perf_counter() - started, time.process_time() - cpu, marked


def measure(uri: str, name: str, rounds: int, keep: bool = False, steel_share: float = 0.0) -> dict:
    app = base.make_app(uri)
    result = {}
    with app.app_context():
        dialect = db.engine.dialect.name
        issued = db.session.scalar(text("SELECT count(*) FROM license WHERE number IS NOT NULL"))
        print(f"--- {name}: {dialect}, {issued:,} issued licenses; {load()}", flush=True)
        log = included_through(ALUMINUM) if keep else None
        cpu = None
        if log is None:
            started, cpu = time.perf_counter(), time.process_time()
            refresh(full=True)
            result["refresh"], cpu = time.perf_counter() - started, time.process_time() - cpu
        else:
            result["refresh"] = float(log.seconds)
        result["incremental"], incremental_cpu, marked = refresh_after_filing(steel_share)
        print(f"refresh() after {FILED} new licenses{' of each product' if steel_share else ''} "
              f"(months {', '.join(marked)}): "
              f"{result['incremental']:.1f} s wall, {incremental_cpu:.1f} s CPU; {load()}", flush=True)
        logs = {p: included_through(p) for p in ((ALUMINUM, STEEL.key) if steel_share else (ALUMINUM,))}
        cells = db.session.scalar(select(func.count()).select_from(MonitorCell))
        print(f"refresh(full=True): {result['refresh']:.1f} s wall"
              f"{' (the last refresh, kept: full or not)' if cpu is None else f', {cpu:.1f} s CPU'}, {cells:,} "
              f"figures for " + " and ".join(f"{log.licenses:,} {p}" for p, log in logs.items())
              + f" counted licenses (cancelled excluded), through "
              f"{logs[ALUMINUM].included_through:%Y-%m-%d %H:%M}; {load()}", flush=True)
        db.session.remove()

    client = app.test_client()
    for key, label, url, target in pages(steel_share):
        samples, cpu = [], []
        for i in range(rounds + 5):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            body = response.get_data()
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (url, response.status_code)
            if i >= 5:  # warm-up: templates, connection, page cache
                samples.append(elapsed)
                cpu.append(time.process_time() - cpu_started)
        assert b"licenses issued through" in body, body[:2000]
        if key not in ("surges", "landing", "steel_surges"):
            assert b'role="img"' in body and b"aim-monitor-table" in body, "no chart or table"
        result[key] = samples
        # The process's CPU (on a busy machine, the request without its waits for a core; on
        # PostgreSQL without the server's share).
        print(base.report(label, samples, target) + f"  [CPU median {statistics.median(cpu) * 1000:.1f} ms,"
              f" p95 {base.p95(cpu) * 1000:.1f} ms]", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    print(f"    ({load()})")
    return result


def main(rounds: int, keep: bool, only: str | None = None, steel_share: float = 0.0) -> None:
    print(f"Start: {load()}")
    big_uri, meta, fresh = base.prepare_database(False, steel_share)
    print(f"1M seed: {'built' if fresh else 'reused'}, of {meta['end'][:10]}"
          f"{f', {steel_share:.0%} steel' if steel_share else ''}")
    if only == "1M":   # without preparing (seeding) the 10k data set
        measure(big_uri, "1,000,000 licenses", rounds, keep, steel_share)
        return
    small = prepare_small(big_uri, steel_share)
    if only == "10k":
        measure(small, "10,000 licenses", rounds, keep, steel_share)
        return
    results = {"1M": measure(big_uri, "1,000,000 licenses", rounds, keep, steel_share),
               "10k": measure(small, "10,000 licenses", rounds, keep, steel_share)}

    print(f"\nSide by side ({rounds} requests each; {load()}):")
    print(f"{'':<34}{'10k median':>12}{'10k p95':>10}{'1M median':>12}{'1M p95':>10}{'p95 1M/10k':>12}")
    for key, label, _, target in pages(steel_share):
        small_p95, big_p95 = base.p95(results["10k"][key]), base.p95(results["1M"][key])
        verdict = ""
        if target is not None:
            verdict = "  ok" if big_p95 < target and small_p95 < target else "  TARGET MISSED"
        print(f"{label:<34}{statistics.median(results['10k'][key]) * 1000:>9.1f} ms{small_p95 * 1000:>7.1f} ms"
              f"{statistics.median(results['1M'][key]) * 1000:>9.1f} ms{big_p95 * 1000:>7.1f} ms"
              f"{big_p95 / small_p95:>11.2f}x{verdict}")
    for key, label in (("refresh", "refresh(full=True)"), ("incremental", f"refresh() after {FILED} issued")):
        print(f"{label:<34}{results['10k'][key]:>19.1f} s"
              f"{results['1M'][key]:>19.1f} s{results['1M'][key] / results['10k'][key]:>11.1f}x")


if __name__ == "__main__":
    args = base.positional_arguments(sys.argv[1:])
    only = next((a[2:] for a in sys.argv if a in ("--10k", "--1M")), None)
    main(int(args[0]) if args else 100, "--keep-figures" in sys.argv, only, base.steel_share_argument(sys.argv))
