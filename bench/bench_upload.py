"""Benchmark of Apply for Multiple Licenses (issue 5, point 9), on its own app and temporary SQLite DB.

Builds uploads of 500 and 5,000 rows (about 2 rows per license) by filling the template the
portal serves, and prints, in one run:
  - the end-to-end upload time through the app: the HTTP POST, then the result page and its
    progress poll (as htmx does, but every 0.1 s instead of 1 s) while the background job checks
    and issues, until the page reads "All licenses are created successfully.". Target: under 2 s
    at 5,000 rows;
  - the bare read time of the same file by openpyxl (read-only mode) and by python-calamine;
  - the template download (the first one builds it; later ones are served from memory). Target:
    under 1 s.
Each upload differs (the importer's name), so none is taken for a repeat of an earlier file.

Run: .venv/bin/python bench/bench_upload.py [rounds] [--product steel] [--sizes 5000] [--steel-share 0.5]
     (default 3 uploads of each size, aluminum, 500 and 5,000 rows)
     --steel-share 0.5 (issue 15, point 9): on bench_dashboard's 1,000,000-license seed with that
     share of steel licenses (built if missing; never wiped) instead of an empty database: the
     licenses issued here go to a company of their own there (bench@example.com), so the 1M
     seed's measured company is unchanged, and each run adds (rounds + 1) x rows / 2 licenses.
     AIMWEB_BENCH_PROFILE=1 ... also writes a pyinstrument profile of one 5,000-row upload
     (checked and issued inline) to bench/out/upload-profile.html.
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/<own db> runs it on
     PostgreSQL instead (the public schema of that database is dropped and recreated).
"""
from __future__ import annotations

import io
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import func, select, text

from aimweb import create_app, licensing, screening
from aimweb.bulk import template as bulk_template
from aimweb.extensions import db
from aimweb.models import Company, License, ProductLine, User, utcnow
from aimweb.security import hash_password

PASSWORD = "Bench-Password-9"
EMAIL = "bench@example.com"
SIZES = (500, 5000)
TODAY = licensing.application_date()
IMPORT = datetime.combine(TODAY + timedelta(days=20), datetime.min.time())
EXPORT = IMPORT - timedelta(days=10)
# Per product, the line cells after the header as a filer types them (HTS, its own fields):
# names, ISO codes, with and without dots. Volume and value follow.
LINES = {
    # HTS, largest smelt, second smelt, cast
    "aluminum": [
        ("7601.10.30.00", "Canada", "Not applicable", "CAN"),
        ("7606123035", "AE", "India", "China"),
        ("7616.99.51.60", "Not applicable", "Not applicable", "MX"),
        ("7604.10.10.00", "Norway", "Iceland", "DE"),
    ],
    # HTS, country of melt and pour
    "steel": [
        ("7208.10.15.00", "South Korea"),
        ("7304413005", "JP"),
        ("7210.49.00.91", "CAN"),
        ("7219.32.00.05", "Germany"),
    ],
}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def seed() -> None:
    user = User(email=EMAIL, display_name="Bench Filer", first_name="Bench", last_name="Filer",
                password_hash=hash_password(PASSWORD), role="filer", email_verified_at=utcnow())
    user.company = Company(
        ein="12-3456789", name="Bench Aluminum Imports LLC", company_type="importer",
        street="4800 Riverstone Blvd", city="Missouri City", state="TX", zip_code="77459",
        phone="281-555-0134", contact_first_name="Bench", contact_last_name="Filer", email=EMAIL,
    )
    db.session.add(user)
    db.session.commit()


def filled(template: bytes, rows: int, tag: str, product: str = "aluminum") -> bytes:
    """The template with `rows` product rows from row 2 on, as a filer types them: two per Entry ID."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(template))
    sheet = wb.worksheets[0]
    lines = LINES[product]
    for i in range(rows):
        values = [
            f"E{i // 2 + 1}", "", f"Gulf Coast Metals LLC {tag}", "Northern Rolling Mills",
            "Alouette", "Canada", "CA", "1303 - Baltimore, MD", EXPORT,
            IMPORT.strftime("%m/%d/%Y"), *lines[i % len(lines)], 1000 + i, 3100.5 + i,
        ]
        for col, value in enumerate(values, start=1):
            sheet.cell(row=i + 2, column=col, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_openpyxl(data: bytes) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return count


def read_calamine(data: bytes) -> int:
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python())


PHASES: dict[str, float] = {}
CPU: list[float] = []


def timed_phases() -> None:
    """Count the job thread's CPU time per step (thread_time: the polling request is not counted)."""
    from aimweb.bulk import jobs

    def wrap(module, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                PHASES[label] = PHASES.get(label, 0.0) + time.thread_time() - start
        setattr(module, name, timed)

    wrap(jobs, "read_first_sheet", "read the workbook")
    wrap(jobs, "group_rows", "group rows")
    wrap(jobs, "to_draft", "rows to drafts")
    wrap(licensing, "check_licenses", "rules (twice: job, then issue)")
    wrap(screening, "review_licenses", "officer review checks")
    wrap(licensing, "issue_licenses", "issue_licenses in all")
    wrap(jobs, "_check_and_issue", "the whole job")


def best(fn, data: bytes, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - start)
    return min(times)


def main(rounds: int = 3, product: str = "aluminum", sizes: tuple[int, ...] = SIZES,
         steel_share: float | None = None) -> None:
    load_at_start = os.getloadavg()  # the machine is shared: the figures are read against it
    workdir = tempfile.mkdtemp(prefix="aimweb-bench-upload-")
    uri = os.environ.get("AIMWEB_BENCH_DATABASE_URI") or f"sqlite:///{workdir}/bench.sqlite3"
    if steel_share is not None:
        import bench_dashboard

        uri, _meta, _fresh = bench_dashboard.prepare_database(False, steel_share)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": uri, "MAIL_SERVER": None,  # the mail is printed: not timed here
        "QUEUE_URL": "immediate",  # the upload job runs in this process, where its phases are timed
    })
    with app.app_context():
        if steel_share is not None:  # the kept 1M seed: its own company, made once
            before = db.session.scalar(select(func.count()).select_from(License))
            if db.session.scalar(select(User.id).where(User.email == EMAIL)) is None:
                seed()
        else:
            before = 0
            if uri.startswith("postgresql"):
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            upgrade()
            seed()
        db.session.remove()
    client = app.test_client()
    assert client.post("/signin", data={"email": EMAIL, "password": PASSWORD}).status_code == 302

    # The template: the first download builds it, the next ones come from memory.
    bulk_template._cache.clear()
    start = time.perf_counter()
    response = client.get(f"/licenses/multiple/template.xlsx?product={product}")
    template_cold = time.perf_counter() - start
    assert response.status_code == 200
    template = response.data
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        client.get(f"/licenses/multiple/template.xlsx?product={product}")
        warm.append(time.perf_counter() - start)

    def upload(data: bytes, name: str) -> tuple[float, str]:
        page = client.get("/licenses/multiple/").get_data(as_text=True)
        token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
        start, cpu_start = time.perf_counter(), time.process_time()
        response = client.post("/licenses/multiple/", content_type="multipart/form-data", data={
            "form_token": token, "certified": "y", "product": product, "file": (io.BytesIO(data), name)})
        assert response.status_code == 303, response.status_code
        location = response.headers["Location"]
        html = client.get(location).get_data(as_text=True)
        while "Checking " in html:  # the page polls /progress (htmx, every 1 s; 0.1 s here)
            time.sleep(0.1)
            if client.get(f"{location}/progress").headers.get("HX-Refresh") == "true":
                html = client.get(location).get_data(as_text=True)
        elapsed = time.perf_counter() - start
        CPU.append(time.process_time() - cpu_start)  # the process's: request, job thread and polls
        for thread in threading.enumerate():  # the job mails the result after it commits
            if thread.name.startswith("upload-"):
                thread.join()
        return elapsed, html

    import contextlib
    import threading

    timed_phases()
    results, phases = {}, {}
    for size in sizes:
        files = [filled(template, size, f"{size}-{r}", product) for r in range(rounds + 1)]
        times = []
        CPU.clear()
        for r, data in enumerate(files):
            PHASES.clear()
            with contextlib.redirect_stdout(io.StringIO()):  # the printed confirmation mail
                elapsed, html = upload(data, f"licenses-{size}-{r}.xlsx")
            assert "All licenses are created successfully." in html, re.sub(r"\s+", " ", html)[:3000]
            if r:  # the first upload of each size warms up
                times.append(elapsed)
                for label, seconds in PHASES.items():
                    phases.setdefault(size, {}).setdefault(label, []).append(seconds)
        results[size] = (len(files[1]), times, best(read_openpyxl, files[1]), best(read_calamine, files[1]),
                         CPU[1:])

    if os.environ.get("AIMWEB_BENCH_PROFILE"):
        from pyinstrument import Profiler

        app.config["UPLOAD_INLINE_MAX_BYTES"] = 10**9
        data = filled(template, 5000, "profile", product)
        profiler = Profiler(interval=0.0005)
        with profiler, contextlib.redirect_stdout(io.StringIO()):
            upload(data, "profile.xlsx")
        out = Path(__file__).resolve().parent / "out" / "upload-profile.html"
        out.parent.mkdir(exist_ok=True)
        out.write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])

    with app.app_context():
        licenses = db.session.scalar(select(func.count()).select_from(License)) - before
        lines = db.session.scalar(select(func.count()).select_from(ProductLine)
                                  .join(License).where(License.company.has(Company.ein == "12-3456789")))
        dialect = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)

    print("Load average (1, 5, 15 min) at the start: {:.2f} {:.2f} {:.2f}; at the end: {:.2f} {:.2f} {:.2f} "
          "on {} cores".format(*load_at_start, *os.getloadavg(), os.cpu_count()))
    print(f"Apply for Multiple Licenses, {product}, on {dialect}"
          f"{f' (the 1M seed, {steel_share:.0%} steel, had {before:,} licenses)' if before else ''}: "
          f"{licenses:,} licenses issued in this run ({lines:,} product lines in the bench company's "
          f"licenses; {rounds} timed uploads of each size, after one warm-up)")
    print(f"Template download: first {ms(template_cold)} (built), then median "
          f"{ms(statistics.median(warm))} (from memory); {len(template) // 1024} KB")
    for size, (nbytes, times, openpyxl_s, calamine_s, cpu) in results.items():
        print(f"{size:>5,} rows ({size // 2:,} licenses, {nbytes // 1024} KB): end-to-end median "
              f"{ms(statistics.median(times))}, max {ms(max(times))} (the process's CPU: median "
              f"{ms(statistics.median(cpu)).strip()}) | bare read: openpyxl "
              f"read-only {ms(openpyxl_s)}, python-calamine {ms(calamine_s)}")
        print("       CPU of the job by step (median): " + ", ".join(
            f"{label} {ms(statistics.median(values)).strip()}" for label, values in phases[size].items()))
    largest = max(results)
    end_to_end = statistics.median(results[largest][1])
    print(f"{largest:,} rows end-to-end {ms(end_to_end).strip()}: "
          + ("target met (< 2 s)" if end_to_end < 2 else "TARGET MISSED (< 2 s)")
          + f"; template {ms(template_cold).strip()}: "
          + ("target met (< 1 s)" if template_cold < 1 else "TARGET MISSED (< 1 s)"))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("rounds", nargs="?", type=int, default=3)
    parser.add_argument("--product", default="aluminum", choices=sorted(LINES))
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--steel-share", type=float, default=None,
                        help="on bench_dashboard's 1M seed with that share of steel licenses")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.product, tuple(arguments.sizes), arguments.steel_share)
