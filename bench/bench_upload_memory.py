"""Benchmark of an upload's memory (issue 12, point 8): a worker's peak and resident size after.

Each case runs in its own child process (a fresh worker, so one case's memory never counts for the
next), through the real upload path on a temporary SQLite database: the HTTP POST, the background
job, the result page, then the download of the marked problems workbook, read to its end. The child
reports its peak resident size (ru_maxrss, read from the parent with os.wait4) and its resident
size at the end (VmRSS, after gc), with the time of the upload and of the download.

Cases:
  - floor: a worker that imported the app, migrated its database and signed in, nothing uploaded;
  - valid 5,000 rows: the template filled in as a filer would (issued);
  - hostile, shared strings: 4,900 rows x 16 cells of 950 characters (each different) in
    xl/sharedStrings.xml, just under the reader's limits (MAX_UNCOMPRESSED, MAX_RATIO): about
    0.9 MB that expands to about 75 MB; every cell is a problem (rejected);
  - hostile, inline strings: the same text written inside the sheet part itself;
  - both hostile files posted at once: a worker checks one large file at a time.
Target: every accepted file (accepted: read, then rejected with its problems or issued) peaks under
300 MB.

Run: .venv/bin/python bench/bench_upload_memory.py
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_upload_memory \
         .venv/bin/python bench/bench_upload_memory.py   (PostgreSQL: its public schema is recreated
         for every case, instead of a temporary SQLite file)
"""
from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MB = 300
URI = os.environ.get("AIMWEB_BENCH_DATABASE_URI")  # PostgreSQL: its public schema is recreated
# Databases never recreated: the shared 1M seed and the ones that are not a bench's own.
KEPT = {"bench_dash", "test", "postgres", "template0", "template1"}
ROWS, CELL = 4900, 950
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
FILLER = ("Aluminum plates, sheets and strip, rectangular, of a thickness exceeding 0.2 mm, alloyed, "
          "cast and rolled in the mill of the exporter; see the attached mill certificate ")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) / 1024


# ----- the files ------------------------------------------------------------------------------------

def _cell_text(row: int, col: int) -> str:
    """950 characters, none the same as another cell's: deflate finds the filler a cell earlier."""
    start = (row % 3 * 16 + col) * 7 % len(FILLER)
    text = f"r{row}c{col} " + (FILLER * 10)[start:]
    return text[:CELL]


def hostile(inline: bool) -> bytes:
    """The template's titles in row 1, then ROWS rows of 16 long texts, written part by part."""
    from aimweb.products.aluminum import TEMPLATE_TITLES as TITLES

    out = io.BytesIO()
    rels = ('<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/>')
    if not inline:
        rels += ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
                 '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>')
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
            'application/xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
            '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
            'name="Aluminum Licenses" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>'))
        letters = [chr(65 + i) for i in range(16)]
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
                        '<sheetData><row r="1">'.encode())
            sheet.write("".join(f'<c r="{letters[i]}1" t="inlineStr"><is><t>{t}</t></is></c>'
                                for i, t in enumerate(TITLES)).encode() + b"</row>")
            for r in range(2, ROWS + 2):
                if inline:
                    cells = "".join(f'<c r="{letters[c]}{r}" t="inlineStr"><is><t>{_cell_text(r, c)}'
                                    "</t></is></c>" for c in range(16))
                else:
                    cells = "".join(f'<c r="{letters[c]}{r}" t="s"><v>{(r - 2) * 16 + c}</v></c>'
                                    for c in range(16))
                sheet.write(f'<row r="{r}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        if not inline:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
                strings.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}">'.encode())
                for r in range(2, ROWS + 2):
                    strings.write("".join(f"<si><t>{_cell_text(r, c)}</t></si>" for c in range(16)).encode())
                strings.write(b"</sst>")
    return out.getvalue()


def valid_5000() -> bytes:
    from datetime import datetime, timedelta

    import openpyxl

    from aimweb import licensing
    from aimweb.products.aluminum import TEMPLATE_TITLES as TITLES

    imported = datetime.combine(licensing.application_date() + timedelta(days=20), datetime.min.time())
    wb = openpyxl.Workbook(write_only=True)
    sheet = wb.create_sheet()
    sheet.append(TITLES)
    for i in range(5000):
        sheet.append([f"E{i // 2 + 1}", "", "Gulf Coast Metals LLC", "Northern Rolling Mills",
                      "Alouette", "Canada", "CA", "1303 - Baltimore, MD", imported - timedelta(days=10),
                      imported.strftime("%m/%d/%Y"), "7601.10.30.00", "Canada", "Not applicable",
                      "CAN", 1000 + i, 3100.5 + i])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def describe(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        expanded = sum(i.file_size for i in z.infolist())
        ratio = max(i.file_size / max(i.compress_size, 1) for i in z.infolist())
    return f"{len(data) / 2**20:.2f} MB expanding to {expanded / 2**20:.1f} MB, largest ratio {ratio:.0f}"


# ----- the child: one worker ------------------------------------------------------------------------

def child(path: str | None) -> None:
    from flask_migrate import upgrade

    from aimweb import create_app
    from aimweb.extensions import db
    from aimweb.models import Company, User, utcnow
    from aimweb.security import hash_password

    workdir = tempfile.mkdtemp(prefix="aimweb-bench-memory-")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "MAIL_SERVER": None,
                      # The upload job runs in this process (as in a worker), where memory is read.
                      "QUEUE_URL": "immediate",
                      "SQLALCHEMY_DATABASE_URI": URI or f"sqlite:///{workdir}/bench.sqlite3"})
    with app.app_context():
        if URI:
            from sqlalchemy import text

            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        with contextlib.redirect_stderr(io.StringIO()):
            upgrade()
        user = User(email="bench@example.com", display_name="Bench Filer", first_name="Bench",
                    last_name="Filer", password_hash=hash_password("Bench-Password-9"), role="filer",
                    email_verified_at=utcnow())
        user.company = Company(ein="12-3456789", name="Bench Aluminum Imports LLC", company_type="importer",
                               street="4800 Riverstone Blvd", city="Missouri City", state="TX",
                               zip_code="77459", phone="281-555-0134", contact_first_name="Bench",
                               contact_last_name="Filer", email="bench@example.com")
        db.session.add(user)
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    assert client.post("/signin", data={"email": "bench@example.com",
                                        "password": "Bench-Password-9"}).status_code == 302
    report = {"floor": rss_mb()}
    if path:
        paths = path.split(",")  # several: posted one after the other, then checked side by side
        locations = []
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the printed mail
            for one in paths:
                page = client.get("/licenses/multiple/").get_data(as_text=True)
                token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
                response = client.post("/licenses/multiple/", content_type="multipart/form-data", data={
                    "form_token": token, "certified": "y",
                    "file": (io.BytesIO(Path(one).read_bytes()), Path(one).name)})
                assert response.status_code == 303, response.status_code
                locations.append(response.headers["Location"])
            pages = []
            for location in locations:
                html = client.get(location).get_data(as_text=True)
                while "Checking " in html:
                    time.sleep(0.1)
                    html = client.get(location).get_data(as_text=True)
                pages.append(html)
            for thread in threading.enumerate():
                if thread.name.startswith("upload-"):
                    thread.join()
        report["upload_s"] = time.perf_counter() - start
        html = pages[-1]
        report["outcome"] = ("issued" if "All licenses are created successfully." in html else
                             re.sub(r"\s+", " ", re.search(r"<h2 class=\"usa-alert__heading\">(.*?)</h2>",
                                                          html, re.S).group(1)) if "usa-alert__heading" in html
                             else "?")
        link = re.search(r'href="([^"]+problems\.xlsx)"', html)
        if link:
            start = time.perf_counter()
            response = client.get(link.group(1))
            size = sum(len(chunk) for chunk in response.response)
            response.close()
            report["download_s"] = time.perf_counter() - start
            report["download_kb"] = size // 1024
        del html, pages
    gc.collect()
    report["after"] = rss_mb()
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report))


def run_child(path: str | None) -> dict:
    process = subprocess.Popen([sys.executable, __file__, "--child", path or ""], cwd=ROOT,  # noqa: S603 - this script, by this interpreter
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"child failed ({status}):\n{err.decode()[-3000:]}")
    report = json.loads(out.decode().strip().splitlines()[-1])
    report["peak"] = usage.ru_maxrss / 1024  # KB on Linux
    return report


def main() -> None:
    if URI:
        from sqlalchemy.engine import make_url

        if not URI.startswith("postgresql") or make_url(URI).database in KEPT:
            sys.exit(f"Refusing {URI!r}: use a PostgreSQL database of its own (e.g. bench_upload_memory).")
    print(f"{'PostgreSQL' if URI else 'SQLite'}; load average {os.getloadavg()[0]:.1f}")
    workdir = Path(tempfile.mkdtemp(prefix="aimweb-bench-memory-files-"))
    cases = [("floor (app imported, signed in)", None)]
    for name, build in [("valid, 5,000 rows", valid_5000),
                        ("hostile, shared strings", lambda: hostile(inline=False)),
                        ("hostile, inline strings", lambda: hostile(inline=True))]:
        data = build()
        path = workdir / f"{name.split(',')[0]}-{len(cases)}.xlsx"
        path.write_bytes(data)
        cases.append((f"{name} ({describe(data)})", str(path)))
    cases.append(("both hostile files posted at once (checked one after the other in a worker)",
                  f"{cases[2][1]},{cases[3][1]}"))
    worst = 0.0
    for label, path in cases:
        report = run_child(path)
        worst = max(worst, report["peak"]) if path else worst
        line = f"{label}\n    peak {report['peak']:6.0f} MB, after {report['after']:6.0f} MB"
        if path:
            line += f", upload {report['upload_s']:5.1f} s ({report['outcome']})"
        if "download_s" in report:
            line += f", problems.xlsx {report['download_s']:5.1f} s ({report['download_kb']:,} KB)"
        print(line, flush=True)
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"Worst peak of an upload: {worst:.0f} MB: "
          + ("target met" if worst < TARGET_MB else "TARGET MISSED") + f" (< {TARGET_MB} MB)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2] or None)
    else:
        main()
