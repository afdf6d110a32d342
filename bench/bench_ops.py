"""Benchmark: what the operations layer costs (issue 13 point 3), on the 1M-license seed.

Times, through the test client:
  1. GET /healthz on aimweb (request id, JSON log line, latency histogram, security headers) against
     a floor measured in the same run: a bare Flask app answering the same JSON. The difference is
     the per-request cost every page now pays; the log line alone is isolated by LOG_FORMAT=none.
  2. GET /readyz: a new database connection and SELECT 1 (and a Redis PING when Redis answers).
  3. GET /metrics: the scrape, including the queue-depth counts on the seeded tables.
Logs go to /dev/null: the formatting is measured, not a terminal.

Measured on 2026-12-01 (2 cores shared with other work, load average about 9), 1,000,005 licenses,
empty outbox and uploads, Redis up:
  SQLite      /healthz floor 122 µs, aimweb 415 µs (3.4x; the JSON log line ~30 µs of it),
              /readyz median 8.6 ms (p95 15), /metrics median 8.8 ms (p95 19)
  PostgreSQL  /healthz floor 124 µs, aimweb 512 µs (4.1x; the log line ~80 µs),
              /readyz median 28 ms (p95 44: a new PostgreSQL connection per probe), /metrics 16 ms
The ~270-390 µs over the floor is every hook a page pays (bounds, rate limiter, security headers,
request id, latency histogram), not the health check's own work.

Run: .venv/bin/python bench/bench_ops.py [rounds]        (default 2000 for 1, 200 for 2 and 3)
     SQLite: bench/out/dashboard-1m.sqlite3 (a copy of the seed bench/bench_dashboard.py builds)
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_servers \
         .venv/bin/python bench/bench_ops.py
"""
from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from flask import Flask, jsonify
from flask_migrate import upgrade
from sqlalchemy import func, select

from aimweb import create_app
from aimweb.extensions import db
from aimweb.models import License, OutboxMessage, UploadBatch

SEED = Path(__file__).resolve().parent / "out" / "dashboard-1m.sqlite3"
REDIS = "redis://127.0.0.1:6379/2"
TOKEN = "bench-token"


def timed(client, path: str, rounds: int, headers=None) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        response.get_data()
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return samples


def us(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1e6:8.0f} µs"


def ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"median {statistics.median(samples) * 1e3:6.2f} ms, p95 {ordered[int(len(ordered) * 0.95)] * 1e3:6.2f} ms"


def floor_app() -> Flask:
    app = Flask("floor")

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app


def quiet_logs() -> None:
    """The app's handler writes to /dev/null; the console handler the migrations' logging set up goes."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "aimweb", False):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the whole run
        else:
            root.removeHandler(handler)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    uri = os.environ.get("AIMWEB_BENCH_DATABASE_URI") or f"sqlite:///{SEED}"
    if uri.startswith("sqlite") and not SEED.exists():
        sys.exit(f"{SEED} is missing: run bench/bench_dashboard.py (or copy its seed) first.")
    try:
        redis_up = redis.Redis.from_url(REDIS, socket_timeout=0.5).ping()
    except redis.RedisError:
        redis_up = False
    config = {"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri, "METRICS_TOKEN": TOKEN,
              "RATELIMIT_STORAGE_URI": REDIS if redis_up else "memory://", "MAIL_SUPPRESS_SEND": True}
    app = create_app({**config, "LOG_FORMAT": "json"})
    with app.app_context():
        upgrade()
        quiet_logs()
        sizes = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                 for model in (License, OutboxMessage, UploadBatch)}
    print(f"== {uri.split(':')[0]}: {sizes}, Redis {'yes' if redis_up else 'no'}")
    request_log = logging.getLogger("aimweb.request")
    floor_client, client = floor_app().test_client(), app.test_client()
    for each in (floor_client, client):
        timed(each, "/healthz", 200)  # warm up
    # Interleaved rounds, so load from other work on the machine hits every variant alike.
    results = {"floor (bare Flask)": [], "aimweb, JSON log": [], "aimweb, no log line": []}
    for _ in range(10):
        results["floor (bare Flask)"] += timed(floor_client, "/healthz", rounds // 10)
        results["aimweb, JSON log"] += timed(client, "/healthz", rounds // 10)
        request_log.disabled = True
        results["aimweb, no log line"] += timed(client, "/healthz", rounds // 10)
        request_log.disabled = False
    floor = statistics.median(results["floor (bare Flask)"])
    print(f"1. GET /healthz, {rounds} rounds each")
    for name, samples in results.items():
        extra = statistics.median(samples) - floor
        print(f"   {name:22} {us(samples)}  ({statistics.median(samples) / floor:4.1f}x the floor, "
              f"+{extra * 1e6:5.0f} µs)")

    print(f"2. GET /readyz, {rounds // 10} rounds:  {ms(timed(client, '/readyz', rounds // 10))}")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    print(f"3. GET /metrics, {rounds // 10} rounds: "
          f"{ms(timed(client, '/metrics', rounds // 10, headers=headers))}")


if __name__ == "__main__":
    main()
