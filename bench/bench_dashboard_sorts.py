"""Deep pages stay flat in every order of the dashboard (issue 14, point 7; issue 13, point 5).

On the 1M-license seed of bench_dashboard.py (the company of 50,000 licenses, 2,000 pages of 25),
for every sort column (created, import, number, status) in both orders, through the test client:
the first page, and page 2,000 reached as a person reaches it (page 1,999 by its number, then its
Next link: a keyset link). Prints the CPU median of each (the two requested in turn) and their ratio; target <= 1.2x.

Run: .venv/bin/python bench/bench_dashboard_sorts.py [rounds]      (rounds: 30)
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dash \\
         .venv/bin/python bench/bench_dashboard_sorts.py
"""
from __future__ import annotations

import html
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_dashboard import LARGE, PASSWORD, make_app, prepare_database

SORTS = ("created", "import", "number", "status")


def cpu_medians(client, urls: list[str], rounds: int) -> list[float]:
    """The CPU median of each URL, requested in turn round after round (the machine's speed drifts:
    neighbours share it)."""
    for url in urls:
        for _ in range(3):
            client.get(url)
    samples: list[list[float]] = [[] for _ in urls]
    for _ in range(rounds):
        for url, out in zip(urls, samples, strict=True):
            started = time.process_time()
            response = client.get(url)
            response.get_data()
            out.append(time.process_time() - started)
            assert response.status_code == 200, (url, response.status_code)
    return [statistics.median(out) for out in samples]


def main(rounds: int) -> None:
    uri, _, _ = prepare_database(False)
    app = make_app(uri)
    app.config.update(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    assert client.post("/signin", data={"email": f"filer{LARGE}@bench.example.com",
                                        "password": PASSWORD}).status_code == 302
    print(f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, 1M seed, company {LARGE}; "
          f"load average {os.getloadavg()[0]:.1f}; CPU medians of {rounds}")
    worst = 0.0
    for sort in SORTS:
        for order in ("asc", "desc"):
            base = f"/licenses/?sort={sort}&order={order}"
            page_1999 = client.get(base + "&page=1999").get_data(as_text=True)
            assert "page 1,999 of 2,000" in page_1999, (sort, order)
            found = re.search(r'href="(\?[^"]*)"[^>]*aria-label="Next page"', page_1999)
            deep = "/licenses/" + html.unescape(found.group(1))
            assert "after=" in deep, deep
            first, last = cpu_medians(client, [base, deep], rounds)
            worst = max(worst, last / first)
            print(f"  {sort:<8} {order:<4}  page 1 {first * 1000:6.2f} ms   page 2,000 (Next) "
                  f"{last * 1000:6.2f} ms   {last / first:5.2f}x", flush=True)
    print(f"worst page 2,000 / page 1: {worst:.2f}x  {'ok' if worst <= 1.2 else 'TARGET MISSED'} (<= 1.2x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
