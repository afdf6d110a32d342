"""PostgreSQL's CPU for each statement of a dashboard page, and how each was planned.

On the 1M-license seed of bench_dashboard.py (PostgreSQL only: AIMWEB_BENCH_DATABASE_URI), for the
filer of the 50,000-license company, one pooled connection runs each statement of the License
Dashboard `--runs` times (after 20 to warm up and prepare it) with the app's own settings, and
prints the server's CPU per run (the backend's utime + stime from /proc: the server runs on this
machine) and the app's, and then pg_prepared_statements' generic and custom plan counts.

  the header            newest ids, company name, has drafts, has saved searches
  first page            the first 25 of the company's licenses with their product totals
  filtered              status Submitted, import dates 60 days either side of the seed's end
  next page (keyset)    the 25 after a license, as the Next link reads them
  drafts                the 5 latest drafts

Run: AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dash \\
         .venv/bin/python bench/bench_postgres_plans.py [--runs 1000]
Compare settings: AIMWEB_DATABASE_PLAN_CACHE_MODE=auto (the server's default) or null.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))


def backend_cpu(pid: int) -> float:
    """Seconds of CPU the PostgreSQL backend `pid` has used (it runs on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    if not os.environ.get("AIMWEB_BENCH_DATABASE_URI", "").startswith("postgresql"):
        sys.exit("PostgreSQL only: set AIMWEB_BENCH_DATABASE_URI (see the docstring).")

    from bench_dashboard import LARGE, make_app, prepare_database
    from sqlalchemy import select, text

    from aimweb.extensions import db
    from aimweb.licenses import search
    from aimweb.models import User

    uri, meta, _ = prepare_database(False)
    app = make_app(uri)
    end = date.fromisoformat(meta["end"][:10])
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == f"filer{LARGE}@bench.example.com"))
        company = user.company_id
        plain = search.parse_filters({}, end)
        filtered = search.parse_filters({"status": "submitted", "import_from": f"{end - timedelta(days=60):%Y-%m-%d}",
                                         "import_to": f"{end + timedelta(days=60):%Y-%m-%d}"}, end)
        values, values_filtered = search.filter_values(company, plain), search.filter_values(company, filtered)
        middle = db.session.scalar(text("SELECT id FROM license WHERE company_id = :c ORDER BY created_at DESC "
                                        "OFFSET 25000 LIMIT 1"), {"c": company})
        statements = {
            "the header": lambda: search.dashboard_header(company, user.id),
            "first page": lambda: search._rows(values, plain, "first", 25, 0, today=end),
            "filtered": lambda: search._rows(values_filtered, filtered, "first", 25, 0, today=end),
            "next page (keyset)": lambda: search._rows(values, plain, "after", 25, key=middle, today=end),
            "drafts": lambda: search.recent_drafts(company),
        }
        connection = db.session.connection()
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        mode = connection.exec_driver_sql("SHOW plan_cache_mode").scalar()
        print(f"PostgreSQL, 1M-license seed, company {company} (50,000 licenses); plan_cache_mode {mode}; "
              f"{args.runs} runs each on one connection; load average {os.getloadavg()[0]:.1f}")
        for label, run in statements.items():
            for _ in range(20):
                run()
            server, app_cpu = backend_cpu(pid), time.process_time()
            for _ in range(args.runs):
                run()
            server, app_cpu = backend_cpu(pid) - server, time.process_time() - app_cpu
            print(f"  {label:<20} server {server / args.runs * 1e6:6.0f} us a run, "
                  f"app {app_cpu / args.runs * 1e6:6.0f} us")
        print("  prepared statements (generic plans / custom plans / parameters):")
        for statement, generic, custom, parameters in connection.exec_driver_sql(
                "SELECT statement, generic_plans, custom_plans, parameter_types::text FROM pg_prepared_statements "
                "ORDER BY generic_plans + custom_plans DESC"):
            print(f"    {generic:5d} / {custom:5d} / {parameters:<28} {' '.join(statement.split())[:90]}")
        db.session.rollback()


if __name__ == "__main__":
    main()
