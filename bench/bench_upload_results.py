"""Benchmark of "Download results" (issue 14, point 8): the filer's own workbook with a License
Number column, for the largest file the upload accepts (5,000 rows of the template).

Two ways, each in its own fresh process (so one's memory never counts for the other), with the
child's peak resident size above the floor of a process that imported the same modules:
  - aimweb.bulk.results.with_license_numbers: every part copied as it is, one cell added per row
    of the first sheet (what the portal does);
  - openpyxl: load the workbook, write the column, save (the "library" way). It also drops what
    openpyxl does not keep of a workbook (e.g. some list validations, shapes).

Run (from the repository root): PYTHONPATH=. .venv/bin/python bench/bench_upload_results.py
"""
from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta

ROWS = 5000


def _workbook() -> bytes:
    import openpyxl

    from aimweb.products.aluminum import TEMPLATE_TITLES

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(TEMPLATE_TITLES)
    day = datetime(2026, 6, 1)
    for i in range(ROWS):
        sheet.append([f"E-{i // 2}", "", "Gulf Coast Metals LLC", "Northern Rolling Mills Inc.", "Alouette",
                      "Canada", "CA", "1303 - Baltimore, MD", day - timedelta(days=10), day,
                      "7601.10.30.00", "Canada", "Not applicable", "CAN", 12500 + i, 38750.5])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _child(way: str, path: str) -> None:
    import openpyxl

    from aimweb.bulk.results import with_license_numbers

    with open(path, "rb") as f:
        data = f.read()
    numbers = {row: f"A{row:04d}0626" for row in range(2, ROWS + 2)}
    start = time.perf_counter()
    size = 0
    if way == "portal":
        size = len(with_license_numbers(data, numbers))
    elif way == "openpyxl":
        wb = openpyxl.load_workbook(io.BytesIO(data))
        sheet = wb.worksheets[0]
        column = sheet.max_column + 1
        sheet.cell(1, column, "License Number")
        for row, number in numbers.items():
            sheet.cell(row, column, number)
        out = io.BytesIO()
        wb.save(out)
        size = len(out.getvalue())
    seconds = time.perf_counter() - start  # the floor: the same imports, nothing done
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{way}\t{seconds:.2f}\t{peak:.0f}\t{size}", flush=True)


def main() -> None:
    if len(sys.argv) == 3:  # a child: one way, in a fresh process
        return _child(sys.argv[1], sys.argv[2])
    data = _workbook()
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as f:
        f.write(data)
        path = f.name
    print(f"workbook: {ROWS:,} rows, {len(data) / 1024:.0f} KB")
    results = {}
    for way in ("floor", "portal", "openpyxl"):
        line = subprocess.run([sys.executable, __file__, way, path], check=True, capture_output=True,  # noqa: S603
                              text=True).stdout.strip().splitlines()[-1]
        name, seconds, peak, size = line.split("\t")
        results[name] = (float(seconds), float(peak), int(size))
    os.unlink(path)
    floor = results["floor"][1]
    print(f"floor     peak {floor:5.0f} MB (imports only)")
    for way in ("portal", "openpyxl"):
        seconds, peak, size = results[way]
        print(f"{way:9} {seconds:6.2f} s  peak {peak:5.0f} MB ({peak - floor:+.0f} MB over the floor)  "
              f"{size / 1024:.0f} KB out")
    print(f"time ratio openpyxl/portal: {results['openpyxl'][0] / max(results['portal'][0], 1e-6):.1f}")


if __name__ == "__main__":
    sys.exit(main())
