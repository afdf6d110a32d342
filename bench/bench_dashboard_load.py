"""The License Dashboard against a floor, under load and in-process (issue 13, point 5).

The floor is a bare Flask app serving a 50-row Jinja table (no database, no session) with the
same gunicorn settings, measured in the same run: the dashboard's figures are ratios to it, so
they say what the app adds and not how busy the machine was.

  1. Seed: the 1M-license seed of bench/bench_dashboard.py (reused when complete; the migrations
     of this tree upgrade it). SQLite by default, PostgreSQL with AIMWEB_BENCH_DATABASE_URI.
  2. Under load: gunicorn (2 sync workers) serves the floor on 127.0.0.1:5140 and the app on
     5141; the filer of the 50,000-license company signs in, then `wrk -t2 -c16` runs against
     the floor, the dashboard's first page, a filtered view (status + date of import), page
     2,000 reached by its Next link (a keyset link) and page 2,000 by its number (the Last link),
     each right after a run against the floor, --repeats times. Prints requests/s and the median
     of the ratios page/floor of those neighbouring runs (the machine's load drifts).
  3. In-process (Flask's test client, no HTTP): the median of each page and of the floor.

Targets: dashboard >= 0.25x the floor's requests/s on SQLite and PostgreSQL; in-process median
<= 4 ms; page 2,000 within 1.2x of page 1 on both databases.

Needs wrk (Debian: apt-get install wrk) and gunicorn.

Run: .venv/bin/python bench/bench_dashboard_load.py [--seconds 10] [--repeats 3] [--rounds 200]
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashfloor \\
         .venv/bin/python bench/bench_dashboard_load.py
"""
from __future__ import annotations

import argparse
import html
import http.cookiejar
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

FLOOR_PORT, APP_PORT = 5140, 5141
FLOOR_ROWS = 50
FLOOR_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Floor</title></head><body><main>
<h1>Licenses</h1>
<table><thead><tr><th>Number</th><th>Status</th><th>Created</th><th>Importer</th><th>Port</th>
<th>Products</th><th>Total KG</th><th>Total US$</th></tr></thead><tbody>
{% for r in rows %}<tr><th scope="row"><a href="/licenses/{{ r.number }}">{{ r.number }}</a></th><td>{{ r.status }}</td>
<td>{{ r.created }}</td><td>{{ r.importer }}</td><td>{{ r.port }}</td><td>{{ r.products }}</td>
<td>{{ r.kg }}</td><td>{{ r.usd }}</td></tr>
{% endfor %}</tbody></table></main></body></html>"""


# ----- the two apps gunicorn serves ---------------------------------------------------------------

def floor_app():
    """The floor: a bare Flask app rendering a 50-row Jinja table from memory."""
    from flask import Flask, render_template
    from jinja2 import DictLoader

    app = Flask("floor")
    app.jinja_loader = DictLoader({"floor.html": FLOOR_TEMPLATE})  # compiled once, as the app's are
    rows = [{"number": f"A{i:04d}1126", "status": "Submitted", "created": "11/26/2026",
             "importer": "Bench Large Aluminum Imports LLC", "port": "0106", "products": 2,
             "kg": f"{i * 1234.5:,.2f}", "usd": f"{i * 4321.75:,.2f}"} for i in range(FLOOR_ROWS)]

    @app.get("/")
    def table():
        return render_template("floor.html", rows=rows)

    return app


def dashboard_app():
    """aimweb on the bench database, configured as in production but for the rate limits (off:
    one client sends thousands of requests) and the mail (none is sent)."""
    from bench_dashboard import make_app

    app = make_app(os.environ["AIMWEB_BENCH_URI"])
    app.config.update(TESTING=False, WTF_CSRF_ENABLED=True)
    return app


# ----- gunicorn and wrk ---------------------------------------------------------------------------

def start(target: str, port: int, env: dict, args: tuple[str, ...] = ("--workers", "2")) -> subprocess.Popen:
    """gunicorn with `args` (2 sync workers; bench_prod_settings.py passes others) serving `target`."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603 - the venv's gunicorn, on this script's apps
        [str(gunicorn), *args, "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         target], cwd=BENCH, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except urllib.error.HTTPError:  # an answer (e.g. a redirect to sign in): it is up
            return process
        except OSError:
            if process.poll() is not None:
                sys.exit(f"gunicorn {target} exited with {process.returncode}")
            time.sleep(0.3)
    sys.exit(f"gunicorn {target} did not answer on port {port}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def sign_in(base: str, email: str, password: str) -> str:
    """Signs in like a browser (with the form's CSRF token); returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/signin").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    opener.open(f"{base}/signin", urllib.parse.urlencode(
        {"csrf_token": token, "email": email, "password": password}).encode())
    # The first page after signing in adds the page's CSRF secret to the session and re-sends the
    # cookie; a browser keeps that one. The cookie of the sign-in itself would have every request
    # of a wrk run add it again, and sign and send a new cookie (4 % of a worker's samples).
    page = opener.open(f"{base}/licenses/").read().decode()
    assert "License Dashboard" in page, "not signed in"
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    with urllib.request.urlopen(urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            f"{base}/licenses/", headers={"Cookie": cookie})) as response:
        assert "Set-Cookie" not in response.headers, "the session cookie is re-sent on every page"
    return cookie


def fetch(url: str, cookie: str | None = None) -> str:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310 - http://127.0.0.1 only
    with urllib.request.urlopen(request) as response:  # noqa: S310
        assert response.status == 200, (url, response.status)
        return response.read().decode()


def wrk(url: str, seconds: int, cookie: str | None) -> tuple[float, str]:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "10s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - wrk on our own URLs
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    median = re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1)  # the latency distribution's line
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or "Socket errors" in out:
        print(out)
        sys.exit(f"wrk {url}: failed requests")
    return rate, median


# ----- the measures -------------------------------------------------------------------------------

def next_link(page_html: str, label: str) -> str:
    return html.unescape(re.search(rf'href="(\?[^"]*)"[^>]*aria-label="{label}"', page_html).group(1))


def pages(end: date, get) -> dict[str, str]:
    """The pages measured: (label, path), the last page (2,000 on the seed as built; a few more
    when another bench issued licenses into the kept seed) found as a person finds it."""
    filtered = (f"/licenses/?status=submitted&import_from={end - timedelta(days=60):%Y-%m-%d}"
                f"&import_to={end + timedelta(days=60):%Y-%m-%d}")
    first = get("/licenses/")
    count = int(re.search(r"page 1 of ([\d,]+)", first).group(1).replace(",", ""))
    assert count >= 2000, "the measured company should have 2,000 pages or more"
    last = "/licenses/" + next_link(first, f"Page {count}")
    before_last = get(f"/licenses/?page={count - 1}")
    assert f"page {count - 1:,} of {count:,}" in before_last, count
    keyset = "/licenses/" + next_link(before_last, "Next page")
    assert "after=" in keyset and "after=" not in last, (keyset, last)
    return {"dashboard, first page": "/licenses/", "filtered (status + date of import)": filtered,
            "page 2,000 by Next (keyset)": keyset, "page 2,000 by number (Last)": last}


def in_process(uri: str, urls: dict[str, str], rounds: int) -> dict[str, tuple[float, float, int]]:
    from bench_dashboard import LARGE, PASSWORD, make_app

    floor = floor_app().test_client()
    app = make_app(uri)
    client = app.test_client()
    assert client.post("/signin", data={"email": f"filer{LARGE}@bench.example.com",
                                        "password": PASSWORD}).status_code == 302
    medians = {}
    for label, (c, url) in {"floor (50-row table)": (floor, "/"),
                            **{k: (client, v) for k, v in urls.items()}}.items():
        for _ in range(10):
            c.get(url).get_data()
        samples, cpu = [], []
        for _ in range(rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = c.get(url)
            size = len(response.get_data())
            samples.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            assert response.status_code == 200, (url, response.status_code)
        medians[label] = statistics.median(samples), statistics.median(cpu), size
    with app.app_context():
        from aimweb.extensions import db

        db.engine.dispose()
    return medians


def verdict(met: bool) -> str:
    return "ok" if met else "TARGET MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=200, help="in-process requests per page")
    parser.add_argument("--repeats", type=int, default=3, help="floor-then-page wrk pairs per page")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    from bench_dashboard import LARGE, PASSWORD, prepare_database

    uri, meta, _ = prepare_database(False)
    end = date.fromisoformat(meta["end"][:10])
    dialect = "PostgreSQL" if uri.startswith("postgresql") else "SQLite"
    print(f"{dialect}, 1M-license seed; company {LARGE} (50,000 licenses); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    env = dict(os.environ, AIMWEB_BENCH_URI=uri, PYTHONPATH=f"{BENCH}{os.pathsep}{ROOT}")
    servers = [start("bench_dashboard_load:floor_app()", FLOOR_PORT, env),
               start("bench_dashboard_load:dashboard_app()", APP_PORT, env)]
    try:
        base = f"http://127.0.0.1:{APP_PORT}"
        cookie = sign_in(base, f"filer{LARGE}@bench.example.com", PASSWORD)
        urls = pages(end, lambda path: fetch(base + path, cookie))
        floor_url = f"http://127.0.0.1:{FLOOR_PORT}/"
        targets = [(label, base + path) for label, path in urls.items()]
        for url, c in [(floor_url, None)] + [(url, cookie) for _, url in targets]:
            for _ in range(20):  # warm both workers: templates, connections, page cache
                fetch(url, c)
        print(f"Under load: wrk -t2 -c16 -d{args.seconds}s, gunicorn --workers 2; each page right after "
              f"a floor run, {args.repeats} times (the machine's load drifts: ratios of neighbours)")
        floors, rates, ratios = [], {label: [] for label in urls}, {label: [] for label in urls}
        for _ in range(args.repeats):
            for label, url in targets:
                floor_rate, _ = wrk(floor_url, args.seconds, None)
                # A browser keeps the session cookie the app re-sends (at most once a minute,
                # security.SessionCookies); wrk sends one cookie for ever, which after a minute
                # had every request re-sign it. A fresh sign-in before each run keeps it current.
                cookie = sign_in(base, f"filer{LARGE}@bench.example.com", PASSWORD)
                rate, median = wrk(url, args.seconds, cookie)
                floors.append(floor_rate)
                rates[label].append(rate)
                ratios[label].append(rate / floor_rate)
                print(f"  floor {floor_rate:7.1f} req/s, {label:<36} {rate:7.1f} req/s "
                      f"(latency median {median}): {rate / floor_rate:.2f}x", flush=True)
    finally:
        for server in servers:
            stop(server)
    print(f"  floor: median {statistics.median(floors):.1f} req/s (from {min(floors):.1f} to {max(floors):.1f})")
    for label in urls:
        ratio = statistics.median(ratios[label])
        print(f"  {label:<40} median {statistics.median(rates[label]):7.1f} req/s, {ratio:5.2f}x the floor "
              f"(median of {', '.join(f'{r:.2f}' for r in ratios[label])})  "
              f"{'ok' if ratio >= 0.25 else 'TARGET MISSED'} (>= 0.25x)")
    deep = statistics.median(ratios["dashboard, first page"]) / statistics.median(ratios["page 2,000 by Next (keyset)"])
    print(f"  page 2,000 (keyset) takes {deep:.2f}x page 1's time per request  "
          f"{'ok' if deep <= 1.2 else 'TARGET MISSED'} (<= 1.2x)")

    medians = in_process(uri, urls, args.rounds)
    print(f"In-process (Flask test client), median of {args.rounds} (wall; CPU of this process):")
    floor_wall, floor_cpu, _ = medians["floor (50-row table)"]
    for label, (wall, cpu, size) in medians.items():
        print(f"  {label:<40} {wall * 1000:6.2f} ms ({wall / floor_wall:4.1f}x the floor); CPU "
              f"{cpu * 1000:6.2f} ms ({cpu / floor_cpu:4.1f}x); {size / 1000:5.1f} KB"
              + ("" if label.startswith("floor") else
                 f"  wall {verdict(wall <= 0.004)}, CPU {verdict(cpu <= 0.004)} (<= 4 ms)"))
    for i, what in enumerate(("wall", "CPU")):
        deep = medians["page 2,000 by Next (keyset)"][i] / medians["dashboard, first page"][i]
        print(f"  page 2,000 (keyset) / page 1, {what}: {deep:.2f}  {verdict(deep <= 1.2)} (<= 1.2)")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print("  (the load average exceeds the CPUs: wall times include waiting for a CPU; CPU times do not)")
    print(f"Load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
