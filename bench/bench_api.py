"""Benchmark of the JSON API (issue 18, point 8), through the test client (server time plus the
test client's own small cost).

  (1) POST /api/v1/licenses          one license                     target p95 < 30 ms
  (2) POST /api/v1/licenses/batch    1,000 licenses, end to end      target < 1.5 s
  (3) GET  /api/v1/licenses          the first page (25), and with a status filter
                                                                     target p95 < 50 ms at 1M licenses

Small (the default): a fresh SQLite file, one company, the licenses the run itself issues.
At scale (--at-scale): the 1,000,000-license database of bench/bench_dashboard.py (seeded there
when missing: SQLite bench/out/dashboard-1m.sqlite3, or AIMWEB_BENCH_DATABASE_URI for PostgreSQL);
the list is timed for its largest company (50,000 licenses), whose filer gets an API key.

The licenses an at-scale run files are removed from the seed when it ends (`--clean` removes those
of an earlier run that did not end).

Run: .venv/bin/python bench/bench_api.py [rounds] [--at-scale | --clean]
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from aimweb import apikeys, create_app  # noqa: E402
from aimweb.clock import application_date  # noqa: E402
from aimweb.extensions import db  # noqa: E402
from aimweb.models import Company, User, utcnow  # noqa: E402
from aimweb.security import hash_password  # noqa: E402

TODAY = application_date()


def license_body(n: int = 0) -> dict:
    return {
        "product": "aluminum", "importer_name": f"Bench Importer {n}", "exporter_name": "Northern Rolling Mills Inc.",
        "manufacturer_name": "Alouette Smelting", "origin_country": "CA", "export_country": "CA",
        "port_code": "1303", "export_date": (TODAY + timedelta(days=5)).isoformat(),
        "import_date": (TODAY + timedelta(days=20)).isoformat(), "certified": True,
        "lines": [{"hts_number": "7601.10.30.00", "smelt_largest": "CA", "smelt_second": "NA_",
                   "cast_country": "CA", "quantity_kg": 12500, "customs_value_usd": 38750}],
    }


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]


def report(label: str, samples: list[float], target_ms: float, cpu: list[float]) -> None:
    """Wall-clock p50 and p95 against the target, and the p95 of the process's CPU time: on a busy
    machine (2 cores shared), the request's own work without its waits for a core."""
    value = p95(samples) * 1000
    verdict = "OK" if value < target_ms else "OVER"
    print(f"{label:<48} p50 {statistics.median(samples) * 1000:7.1f} ms  p95 {value:7.1f} ms  "
          f"(target {target_ms:.0f} ms: {verdict})  [CPU p95 {p95(cpu) * 1000:.1f} ms; "
          f"load {os.getloadavg()[0]:.1f}]")


def timed(call) -> tuple[float, float, object]:
    cpu, started = time.process_time(), time.perf_counter()
    result = call()
    return time.perf_counter() - started, time.process_time() - cpu, result


def make_app(uri: str):
    return create_app({"TESTING": True, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                       "SQLALCHEMY_DATABASE_URI": uri, "MAIL_SUPPRESS_SEND": True})


def small_filer() -> User:
    user = User(email="bench-api@example.com", display_name="Bench API", first_name="Bench", last_name="API",
                password_hash=hash_password("Bench-Api-Password-9"), role="filer", email_verified_at=utcnow())
    user.company = Company(name="Bench API Imports", company_type="importer", street="1 Main St",
                           city="Baltimore", state="MD", zip_code="21201", phone="410-555-0100",
                           contact_first_name="Bench", contact_last_name="API", email="bench-api@example.com")
    db.session.add(user)
    db.session.commit()
    return user


def measure(app, token: str, rounds: int) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/api/v1/licenses", json=license_body(), headers=headers)  # warm: catalogue, ports
    samples, cpu = [], []
    for n in range(rounds):
        wall, used, response = timed(lambda n=n: client.post("/api/v1/licenses", json=license_body(n), headers=headers))
        samples.append(wall)
        cpu.append(used)
        assert response.status_code == 201, response.get_json()
    report("(1) POST /licenses, one license", samples, 30, cpu)
    batch = {"product": "aluminum", "licenses": [license_body(n) for n in range(1000)]}
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        response = client.post("/api/v1/licenses/batch", json=batch, headers=headers)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 201 and len(response.get_json()["numbers"]) == 1000
    print(f"{'(2) POST /licenses/batch, 1,000 licenses':<48} best {min(samples):7.3f} s  worst "
          f"{max(samples):7.3f} s  (target 1.5 s: {'OK' if max(samples) < 1.5 else 'OVER'})")
    for label, url in (("(3) GET /licenses, first page", "/api/v1/licenses"),
                       ("(3) GET /licenses?status=submitted", "/api/v1/licenses?status=submitted"),
                       ("(3) GET /licenses, limit=250", "/api/v1/licenses?limit=250")):
        client.get(url, headers=headers)
        samples, cpu = [], []
        for _ in range(rounds):
            wall, used, response = timed(lambda url=url: client.get(url, headers=headers))
            samples.append(wall)
            cpu.append(used)
            assert response.status_code == 200
        report(label, samples, 50, cpu)


def remove_bench_licenses(company_id: int) -> int:
    """Take the licenses this script filed out of the kept 1M seed again, with their lines, events,
    findings and PDFs, and their kilograms out of the company's monthly volumes: the other benches
    count on the seed's company of 50,000 licenses (2,000 dashboard pages)."""
    from sqlalchemy import delete, func

    from aimweb import screening
    from aimweb.models import Finding, License, LicenseEvent, LicensePdf, LicenseUse, ProductLine

    ids = list(db.session.scalars(select(License.id).where(
        License.company_id == company_id, License.importer_name.like("Bench Importer %"))))
    for at in range(0, len(ids), 1000):
        chunk = ids[at:at + 1000]
        volumes: dict = {}
        for created, hts, kg in db.session.execute(
                select(License.created_at, ProductLine.hts_number, func.sum(ProductLine.quantity_kg))
                .join(ProductLine, ProductLine.license_id == License.id).where(License.id.in_(chunk))
                .group_by(License.created_at, ProductLine.hts_number)):
            month = volumes.setdefault(screening.month_of(created), {})
            month[hts] = month.get(hts, 0) - kg
        for month, kg_per_hts in volumes.items():
            screening.add_volumes(company_id, month, kg_per_hts)
        for table in (Finding, ProductLine, LicenseEvent, LicensePdf, LicenseUse):
            db.session.execute(delete(table).where(table.license_id.in_(chunk)))
        db.session.execute(delete(License).where(License.id.in_(chunk)))
    db.session.commit()
    return len(ids)


def main(rounds: int, at_scale: bool, clean_only: bool = False) -> None:
    if at_scale:
        import bench_dashboard

        uri, _meta, _new = bench_dashboard.prepare_database(False)
        app = make_app(uri)
        with app.app_context():
            if not clean_only:
                user = db.session.get(User, db.session.scalar(
                    select(User.id).where(User.company_id == bench_dashboard.LARGE).limit(1)))
                token = apikeys.create_key(user, "bench")[1]
                print(f"At scale: {uri} (company {bench_dashboard.LARGE})")
                try:
                    measure(app, token, rounds)
                finally:
                    db.session.rollback()
                    print(f"Removed the {remove_bench_licenses(bench_dashboard.LARGE):,} licenses filed by "
                          "this run from the seed.")
            else:
                print(f"Removed {remove_bench_licenses(bench_dashboard.LARGE):,} licenses filed by earlier runs.")
        return
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(f"sqlite:///{folder}/bench-api.sqlite3")
        with app.app_context():
            upgrade()
            token = apikeys.create_key(small_filer(), "bench")[1]
            print("Small: a fresh SQLite database, one company")
            measure(app, token, rounds)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 50, "--at-scale" in sys.argv or "--clean" in sys.argv, "--clean" in sys.argv)
