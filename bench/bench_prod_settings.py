"""The production settings from measurement (issue 13, point 7): gunicorn workers, the pool, the
statement timeout.

  1. The slowest legitimate requests and jobs on the 1M-license seed, in-process with no timeout:
     each one's time and its longest single SQL statement (statement_timeout cuts one statement,
     not a request). The request timeout must leave the slowest request room; the job one none.
  2. Under load: a floor (a bare Flask app, 50-row Jinja table, gunicorn 2 sync workers) on
     127.0.0.1:5190, and aimweb on 5191 started once per configuration (worker class, workers,
     threads, AIMWEB_DATABASE_POOL_SIZE / _MAX_OVERFLOW, AIMWEB_DATABASE_STATEMENT_TIMEOUT_MS);
     `wrk -t2 -c16` against the floor, then against a page, --repeats times per page. The figure
     is the median ratio page/floor of neighbouring runs (the machine is shared: absolute
     requests/s drift with everyone else's load), with the latency p99 under load.

The seed is bench/bench_dashboard.py's (SQLite by default, PostgreSQL with
AIMWEB_BENCH_DATABASE_URI; a PostgreSQL database of its own, e.g. a copy of bench_dash:
CREATE DATABASE bench_prodset TEMPLATE bench_dash). It adds an officer if there is none.

Run: .venv/bin/python bench/bench_prod_settings.py [--seconds 8] [--repeats 2] [--only slow|load]
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_prodset \\
         .venv/bin/python bench/bench_prod_settings.py
Needs wrk (apt-get install wrk) and gunicorn.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from bench_dashboard_load import fetch, pages, sign_in, start, stop  # noqa: E402

FLOOR_PORT, APP_PORT = 5190, 5191
OFFICER = "officer@bench.example.com"

# (label, gunicorn arguments, environment): the configurations compared under load.
POOL_5_5 = {"AIMWEB_DATABASE_POOL_SIZE": "5", "AIMWEB_DATABASE_MAX_OVERFLOW": "5"}  # as in README
CONFIGURATIONS = [
    ("sync, 2 workers, pool 5+5", ["--workers", "2"], POOL_5_5),
    ("sync, 4 workers, pool 5+5", ["--workers", "4"], POOL_5_5),
    ("gthread, 2 workers x 4 threads, pool 5+5", ["--workers", "2", "--threads", "4"], POOL_5_5),
    ("gthread, 2 workers x 4 threads, pool 2+0", ["--workers", "2", "--threads", "4"],
     {"AIMWEB_DATABASE_POOL_SIZE": "2", "AIMWEB_DATABASE_MAX_OVERFLOW": "0"}),
    ("gthread, 2 workers x 2 threads, pool 5+5", ["--workers", "2", "--threads", "2"], POOL_5_5),
    ("sync, 2 workers, pool 5+5, no statement timeout", ["--workers", "2"],
     {**POOL_5_5, "AIMWEB_DATABASE_STATEMENT_TIMEOUT_MS": "0"}),
    ("gthread, 2 workers x 4 threads, pool 4+2", ["--workers", "2", "--threads", "4"], {}),
    ("sync, 2 workers, pool 4+2 (the defaults: gunicorn.conf.py, config.py)", ["--workers", "2"], {}),
]


def wrk(url: str, seconds: int, cookie: str | None) -> tuple[float, str]:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "10s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - wrk on our own URLs
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out) or "Socket errors" in out:
        print(out)
        sys.exit(f"wrk {url}: failed requests")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), re.search(r"99%\s+(\S+)", out).group(1)


# ----- 1. the slowest requests and jobs -----------------------------------------------------------

def slowest(uri: str, end: date) -> None:
    from bench_dashboard import LARGE, PASSWORD, make_app
    from sqlalchemy import event, select

    from aimweb.extensions import db
    from aimweb.models import User, utcnow
    from aimweb.monitor.aggregates import refresh
    from aimweb.security import hash_password

    app = make_app(uri)
    app.config.update(DATABASE_STATEMENT_TIMEOUT_MS=0)
    longest = [0.0]

    with app.app_context():
        if db.session.scalar(select(User.id).where(User.email == OFFICER)) is None:
            db.session.add(User(email=OFFICER, display_name="Bench Officer", first_name="Bench",
                                last_name="Officer", password_hash=hash_password(PASSWORD),
                                role="officer", email_verified_at=utcnow()))
            db.session.commit()
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        longest[0] = max(longest[0], time.perf_counter() - conn.info.pop("started", time.perf_counter()))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    filer, officer = app.test_client(), app.test_client()
    filer_email = f"filer{LARGE}@bench.example.com"
    assert filer.post("/signin", data={"email": filer_email, "password": PASSWORD}).status_code == 302
    assert officer.post("/signin", data={"email": OFFICER, "password": PASSWORD}).status_code == 302
    year = f"created_from={end - timedelta(days=365):%Y-%m-%d}"
    requests = [
        ("dashboard, first page (filer)", filer, "/licenses/"),
        ("dashboard, free-text search", filer, "/licenses/?q=Bench"),
        ("export .xlsx, every license of the company (50,000)", filer, "/licenses/export.xlsx"),
        ("export .csv, every license of the company (50,000)", filer, "/licenses/export.csv"),
        ("export .xlsx, a year's licenses", filer, f"/licenses/export.xlsx?{year}"),
        ("review queue, first page (officer)", officer, "/review/"),
        ("audit trail, first page (officer)", officer, "/review/audit"),
        ("audit trail .csv, every event (officer)", officer, "/review/audit.csv"),
        ("public monitor", filer, "/monitor/"),
    ]
    print("Slowest requests, in-process, no statement timeout (wall time; longest single SQL statement):")
    for label, client, url in requests:
        longest[0] = 0.0
        started = time.perf_counter()
        response = client.get(url)
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        wall = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        print(f"  {label:<56} {wall * 1000:9.0f} ms; statement {longest[0] * 1000:7.0f} ms; "
              f"{size / 1e6:6.1f} MB", flush=True)
    with app.app_context():
        for label, full in (("job: monitor refresh (the periodic one)", False),
                            ("job: monitor refresh --full (every month)", True)):
            longest[0] = 0.0
            started = time.perf_counter()
            refresh(full=full)
            print(f"  {label:<56} {(time.perf_counter() - started) * 1000:9.0f} ms; "
                  f"statement {longest[0] * 1000:7.0f} ms", flush=True)
        db.session.remove()
        db.engine.dispose()


# ----- 2. under load ------------------------------------------------------------------------------

def under_load(uri: str, end: date, seconds: int, repeats: int, only: list[int] | None) -> None:
    from bench_dashboard import LARGE, PASSWORD

    env = dict(os.environ, AIMWEB_BENCH_URI=uri, PYTHONPATH=f"{BENCH}{os.pathsep}{ROOT}")
    floor = start("bench_dashboard_load:floor_app()", FLOOR_PORT, env)
    floor_url = f"http://127.0.0.1:{FLOOR_PORT}/"
    print(f"Under load: wrk -t2 -c16 -d{seconds}s; floor: gunicorn 2 sync workers; each page right after "
          f"a floor run, {repeats} times; ratio page/floor (median), latency p99 under load (median)")
    summary = []
    try:
        for index, (label, args, extra) in enumerate(CONFIGURATIONS):
            if only and index not in only:
                continue
            app = start("bench_dashboard_load:dashboard_app()", APP_PORT, dict(env, **extra), tuple(args))
            try:
                base = f"http://127.0.0.1:{APP_PORT}"
                cookie = sign_in(base, f"filer{LARGE}@bench.example.com", PASSWORD)
                urls = pages(end, lambda path, base=base, cookie=cookie: fetch(base + path, cookie))
                targets = {k: base + urls[k] for k in ("dashboard, first page", "filtered (status + date of import)")}
                for url in [*targets.values(), floor_url]:
                    for _ in range(20):
                        fetch(url, None if url == floor_url else cookie)
                ratios, p99s = {k: [] for k in targets}, {k: [] for k in targets}
                for _ in range(repeats):
                    for page, url in targets.items():
                        floor_rate, _ = wrk(floor_url, seconds, None)
                        # a current session cookie, as a browser keeps (see bench_dashboard_load.py)
                        cookie = sign_in(base, f"filer{LARGE}@bench.example.com", PASSWORD)
                        rate, p99 = wrk(url, seconds, cookie)
                        ratios[page].append(rate / floor_rate)
                        p99s[page].append(p99)
                        print(f"  {label:<48} {page:<36} floor {floor_rate:6.1f}, page {rate:6.1f} req/s: "
                              f"{rate / floor_rate:.3f}x, p99 {p99}", flush=True)
            finally:
                stop(app)
            summary.append((label, {k: statistics.median(v) for k, v in ratios.items()},
                            {k: sorted(v)[len(v) // 2] for k, v in p99s.items()}))
    finally:
        stop(floor)
    print(f"Summary (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):")
    for label, ratios, p99s in summary:
        print(f"  {label:<48} " + "; ".join(f"{k.split(',')[0].split(' (')[0]} {r:.3f}x (p99 {p99s[k]})"
                                             for k, r in ratios.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--repeats", type=int, default=2, help="floor-then-page wrk pairs per page")
    parser.add_argument("--only", choices=["slow", "load"], help="run one part only")
    parser.add_argument("--configurations", help="comma-separated indexes into CONFIGURATIONS")
    args = parser.parse_args()
    if args.only != "slow" and not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    from bench_dashboard import prepare_database

    uri, meta, _ = prepare_database(False)
    end = date.fromisoformat(meta["end"][:10])
    dialect = "PostgreSQL" if uri.startswith("postgresql") else "SQLite"
    print(f"{dialect}, 1M-license seed; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.only != "load":
        slowest(uri, end)
    if args.only != "slow":
        only = [int(i) for i in args.configurations.split(",")] if args.configurations else None
        under_load(uri, end, args.seconds, args.repeats, only)
    print(f"Load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
