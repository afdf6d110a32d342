"""Why Huey: no-op jobs through Huey on SQLite (aimweb's, synchronous=NORMAL, and Huey's stock
FULL), Huey on Redis and RQ (when installed), against two floors measured in the same run: calling
the function, and handing it to a thread of the same process through queue.Queue (what the mail
kick and the upload thread did before the queue).

For each: the cost of enqueueing one job (the web request pays it), the pick-up latency of one job
arriving at an idle worker (enqueue -> the job starts, 20 jobs 0.5 s apart), and the throughput of
N jobs with 2 worker threads (Huey) or one forking worker (RQ's default `rq worker`). The workers
are separate processes, started as in production (Huey: the consumer options of `flask worker`).

    python bench/bench_queue.py [N]            # default N = 2000
    PYTHONPATH=/path/to/rq python bench/bench_queue.py   # with RQ for comparison (pip install rq)

Then, with AIMWEB_BENCH_DATABASE_URI (or `--seed URI|SQLITE_FILE` alone), the cost of the
worker's every-minute sweeps on that database (a copy of the 1M-license seed of
bench/bench_dashboard.py; 20,000 finished uploads and 300,000 sent mails are added to it first).
Redis: 127.0.0.1:6379 database 1 (AIMWEB_BENCH_REDIS_URL), keys named after this run.
"""
from __future__ import annotations

import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

REDIS_URL = os.environ.get("AIMWEB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS = ("huey-sqlite", "huey-sqlite-full", "huey-redis", "rq")


def noop(channel: str = "", enqueued_at: float = 0.0) -> None:
    """The job: says when it ran, on a Redis list (results are off, as in aimweb)."""
    if channel:
        _redis().rpush(channel, time.time())


_connection = None


def _redis():
    global _connection
    if _connection is None:
        from redis import Redis

        _connection = Redis.from_url(REDIS_URL)
    return _connection


def make_huey(kind: str, where: str):
    """aimweb's own Huey (aimweb.jobs.make_huey), and the stock FULL-sync SQLite for comparison."""
    sys.path.insert(0, ROOT)
    from huey import SqliteHuey

    from aimweb.jobs import make_huey as aimweb_huey

    if kind == "huey-sqlite-full":
        huey = SqliteHuey("bench", filename=where, results=False)
    else:
        huey = aimweb_huey(f"sqlite:///{where}" if kind == "huey-sqlite" else REDIS_URL, name=where)
    return huey, huey.task(name="noop")(noop)


def consume(kind: str, where: str) -> None:  # the child process: a worker
    if kind == "rq":
        from rq import Queue, Worker

        Worker([Queue(where, connection=_redis())], connection=_redis()).work(logging_level="WARNING")
        return
    import logging

    logging.basicConfig(level=logging.WARNING)
    huey, _ = make_huey(kind, where)
    # The consumer options of aimweb.jobs.run_worker.
    huey.create_consumer(workers=2, worker_type="thread", periodic=False, initial_delay=0.05, backoff=1.5,
                         max_delay=1.0).run()


class Backend:
    def __init__(self, kind: str, tmp: str):
        self.kind = kind
        self.name = f"bench{uuid.uuid4().hex[:8]}"
        self.channel = f"{self.name}:ran"
        self.where = os.path.join(tmp, f"{kind}.sqlite3") if kind.startswith("huey-sqlite") else self.name
        if kind == "rq":
            from rq import Queue

            rq_queue = Queue(self.where, connection=_redis())
            self.enqueue = lambda: rq_queue.enqueue("bench_queue.noop", self.channel, time.time(), result_ttl=0)
        else:
            self.huey, task = make_huey(kind, self.where)
            self.enqueue = lambda: task(self.channel, time.time())
        here = os.path.dirname(os.path.abspath(__file__))
        self.worker = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--consume", kind, self.where],  # noqa: S603 - this script, by this interpreter
                                       cwd=here, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                           [here, *filter(None, [os.environ.get("PYTHONPATH")])])})

    def next_ran_at(self, timeout: float = 120.0) -> float:
        deadline = time.monotonic() + timeout
        # One second at a time: redis-py 8 gives up on a socket silent for 5 s.
        while (found := _redis().blpop([self.channel], timeout=1)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(self.kind)
        return float(found[1])

    def close(self) -> None:
        self.worker.terminate()
        self.worker.wait(timeout=30)
        for key in _redis().scan_iter(f"*{self.name}*"):
            _redis().delete(key)


def measure(backend: Backend, n: int) -> dict:
    backend.enqueue()
    backend.next_ran_at()  # the worker is up and warm
    latencies = []
    for _ in range(20):
        time.sleep(0.5)
        start = time.time()
        backend.enqueue()
        latencies.append((backend.next_ran_at() - start) * 1000)
    start = time.perf_counter()
    for _ in range(n):
        backend.enqueue()
    enqueued = time.perf_counter() - start
    deadline = time.monotonic() + 900
    while _redis().llen(backend.channel) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(backend.kind)
        time.sleep(0.01)
    done = time.perf_counter() - start
    return {"enqueue_us": enqueued / n * 1e6, "p50": statistics.median(latencies),
            "p95": sorted(latencies)[18], "per_s": n / done}


def floors(n: int) -> dict:
    start = time.perf_counter()
    for _ in range(n):
        noop()
    direct = (time.perf_counter() - start) / n * 1e6
    jobs: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()

    def thread():
        while jobs.get() is not None:
            noop()
            results.put(time.time())

    worker = threading.Thread(target=thread, daemon=True)
    worker.start()
    latencies = []
    for _ in range(20):
        time.sleep(0.05)
        start = time.time()
        jobs.put(start)
        latencies.append((results.get() - start) * 1000)
    start = time.perf_counter()
    for _ in range(n):
        jobs.put(time.time())
    enqueued = time.perf_counter() - start
    for _ in range(n):
        results.get()
    done = time.perf_counter() - start
    jobs.put(None)
    return {"direct_us": direct, "thread": {"enqueue_us": enqueued / n * 1e6, "p50": statistics.median(latencies),
                                            "p95": sorted(latencies)[18], "per_s": n / done}}


BATCHES, FILE_BYTES, MAILS = 20_000, 8192, 300_000  # finished uploads and sent mail added to the seed


def _populate(db, user) -> None:
    """A year of finished uploads (their files in the rows) and sent mail, once per database."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from aimweb.enums import MailStatus, UploadStatus
    from aimweb.models import OutboxMessage, UploadBatch, utcnow

    now = utcnow()
    have = db.session.scalar(select(func.count()).select_from(UploadBatch))
    for start in range(have, BATCHES, 2000):
        db.session.execute(UploadBatch.__table__.insert(), [dict(
            company_id=user.company_id, user_id=user.id, form_token=uuid.uuid4().hex, filename="year.xlsx",
            sha256=uuid.uuid4().hex * 2, size=FILE_BYTES, content=os.urandom(FILE_BYTES), status=UploadStatus.ISSUED,
            rows=100, progress=100, license_count=100, problem_count=0, attempts=1,
            created_at=now - timedelta(minutes=i), heartbeat_at=now - timedelta(minutes=i), finished_at=now,
        ) for i in range(start, min(start + 2000, BATCHES))])
        db.session.commit()
    have = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    for start in range(have, MAILS, 10000):
        db.session.execute(OutboxMessage.__table__.insert(), [dict(
            to_address=f"filer{i}@example.com", subject="AIM: license issued", body_text="x" * 300,
            created_at=now, status=MailStatus.SENT, attempts=1, next_attempt_at=now, sent_at=now,
        ) for i in range(start, min(start + 10000, MAILS))])
        db.session.commit()


def sweeps(uri: str) -> None:
    """The worker's every-minute sweeps on a big database, when nothing is due (the usual minute):
    with the sweep's index on upload_batch (status, heartbeat_at), then without it."""
    sys.path.insert(0, ROOT)
    from sqlalchemy import func, select, text

    from aimweb import create_app, outbox
    from aimweb.bulk import jobs as upload_jobs
    from aimweb.extensions import db
    from aimweb.models import License, OutboxMessage, UploadBatch, User

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri,
                      "QUEUE_URL": "immediate", "MAIL_SERVER": None})
    with app.app_context():
        user = db.session.scalars(select(User).where(User.company_id.is_not(None)).limit(1)).one()
        _populate(db, user)
        counts = [db.session.scalar(select(func.count()).select_from(t)) for t in (License, UploadBatch, OutboxMessage)]
        print(f"\nSweeps on {uri.split('@')[-1]}: {counts[0]:,} licenses, {counts[1]:,} upload batches "
              f"({FILE_BYTES // 1024} KB files), {counts[2]:,} outbox messages")

        def timed(label: str) -> None:
            for name, run in (("upload_sweep", upload_jobs.sweep), ("mail_sweep", outbox.deliver_pending)):
                times = []
                for _ in range(5):
                    start = time.perf_counter()
                    run()
                    times.append(time.perf_counter() - start)
                print(f"  {name:<13}{label:<22} best {min(times) * 1000:8.1f} ms, median "
                      f"{statistics.median(times) * 1000:8.1f} ms")

        timed("with its index")
        db.session.execute(text("DROP INDEX ix_upload_batch_status_heartbeat"))
        db.session.commit()
        try:
            timed("without it")
        finally:
            db.session.execute(text("CREATE INDEX ix_upload_batch_status_heartbeat "
                                    "ON upload_batch (status, heartbeat_at)"))
            db.session.commit()
        db.session.remove()


def main(n: int) -> None:
    from redis import RedisError

    try:  # the jobs report when they ran on a Redis list, whatever carries them
        _redis().ping()
    except RedisError:
        print(f"bench_queue needs Redis at {REDIS_URL} (AIMWEB_BENCH_REDIS_URL): skipped")
        return
    kinds = list(KINDS)
    try:
        import rq  # noqa: F401
    except ImportError:
        kinds.remove("rq")
        print("(RQ not installed: PYTHONPATH=<dir with rq> to compare)")
    floor = floors(n)
    print(f"{n:,} no-op jobs; floors in this run: direct call {floor['direct_us']:.2f} us/job")
    print(f"{'backend':<22}{'enqueue us/job':>15}{'pick-up p50 ms':>16}{'p95 ms':>8}{'jobs/s':>9}{'x thread':>10}")
    rows = {"thread in-process": floor["thread"]}
    with tempfile.TemporaryDirectory(prefix="aimweb-bench-queue-") as tmp:
        for kind in kinds:
            backend = Backend(kind, tmp)
            try:
                rows[kind] = measure(backend, n)
            finally:
                backend.close()
    for kind, r in rows.items():
        print(f"{kind:<22}{r['enqueue_us']:>15.1f}{r['p50']:>16.1f}{r['p95']:>8.1f}{r['per_s']:>9.0f}"
              f"{r['enqueue_us'] / floor['thread']['enqueue_us']:>9.0f}x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--consume"]:
        consume(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["--seed"]:  # a database URI, or a SQLite file
        sweeps(sys.argv[2] if "://" in sys.argv[2] else "sqlite:///" + os.path.abspath(sys.argv[2]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
        if os.environ.get("AIMWEB_BENCH_DATABASE_URI"):
            sweeps(os.environ["AIMWEB_BENCH_DATABASE_URI"])
