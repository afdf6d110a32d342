"""The job queue: uploads, mail delivery and the scheduled refreshes run as jobs of `flask worker`.

Huey (https://huey.readthedocs.io) carries the jobs. Its broker is named by `QUEUE_URL`:

- unset: a SQLite file, `instance/queue.sqlite3` (`make run` needs nothing else);
- `sqlite:////path/queue.sqlite3`: another SQLite file;
- `redis://host:6379/0`: Redis, for production;
- `immediate`: no broker and no worker; a job runs at once where it is enqueued (the tests).

A job is declared here (or next to what it does, e.g. the upload in bulk/jobs.py) as a plain
function with `@task(name)` or `@periodic(name, setting)`; `init_app` registers the declared jobs
on the app's own Huey and each runs in an app context of that app. Periodic jobs take their
schedule, a crontab line in UTC, from a `QUEUE_*` setting; an empty setting turns one off.

Huey takes a job off the queue before running it: a worker killed with `kill -9` loses the job it
was running. Nothing depends on that job alone. The database row is the truth, and a periodic
sweep redoes what a dead worker left: the upload sweep re-queues batches whose job stopped
moving (bulk.jobs.sweep: the claim makes a batch issue once), the mail sweep sends whatever
the outbox still holds (aimweb/outbox.py: claims, retries with back-off). A worker runs both
sweeps when it starts.
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, crontab
from huey.storage import SqliteStorage

from .extensions import db

log = logging.getLogger(__name__)
QUEUE_NAME = "aimweb"


@dataclass(frozen=True)
class Declared:
    func: Callable
    retries: int = 0
    retry_delay: int = 0
    schedule_setting: str | None = None  # periodic: the setting that holds its crontab line


_DECLARED: dict[str, Declared] = {}


def task(name: str, retries: int = 0, retry_delay: int = 0):
    """Declare a job; `enqueue(name, *args)` runs it in a worker (arguments are pickled: keep them ids)."""
    def declare(func):
        _DECLARED[name] = Declared(func, retries, retry_delay)
        return func
    return declare


def periodic(name: str, setting: str):
    """Declare a job the worker runs on the schedule (a crontab line, UTC) of the setting `setting`."""
    def declare(func):
        _DECLARED[name] = Declared(func, schedule_setting=setting)
        return func
    return declare


def schedule(line: str) -> crontab:
    """A crontab line ("15 * * * *": minute hour day month day-of-week) as Huey's schedule."""
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"{line!r} is not a crontab line of 5 fields (minute hour day month day-of-week)")
    return crontab(*fields)


@dataclass
class Queue:
    huey: Huey
    tasks: dict[str, Callable] = field(default_factory=dict)
    schedules: dict[str, str] = field(default_factory=dict)  # periodic job -> its crontab line


class _SqliteStorage(SqliteStorage):
    """Huey's SQLite storage with `synchronous=NORMAL`: Huey offers FULL (an fsync per enqueue:
    4.6 ms a job here, paid by the request that queues it) or OFF (unsafe if the machine crashes).
    NORMAL in WAL mode cannot corrupt the file; a power cut may lose the last jobs queued, which
    the sweeps redo from the database (bench/bench_queue.py measures both)."""

    def _create_connection(self):
        connection = super()._create_connection()
        connection.execute("pragma synchronous=NORMAL")
        return connection


def make_huey(url: str, name: str = QUEUE_NAME, results: bool = False) -> Huey:
    """The Huey of a QUEUE_URL (see the module's docstring)."""
    if url == "immediate":
        return MemoryHuey(name, immediate=True, results=results)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # brpop: a worker waits on Redis and takes a job the moment it is queued.
        return RedisHuey(name, url=url, results=results, blocking=True, read_timeout=1)
    if url.startswith("sqlite:///"):
        # A 30 s busy timeout, not Huey's 5 s: at a load average of 15 on 2 cores a worker's write
        # waited longer, and a job Huey had already taken off the queue was dropped.
        return Huey(name, storage_class=_SqliteStorage, filename=url.removeprefix("sqlite:///"), results=results,
                    timeout=30)
    raise ValueError(f"AIMWEB_QUEUE_URL={url!r}: use sqlite:///PATH, redis://HOST:PORT/DB or immediate")


def _broker(app: Flask) -> Huey:
    return make_huey(app.config.get("QUEUE_URL") or "sqlite:///" + os.path.join(app.instance_path, "queue.sqlite3"))


def _in_app(app: Flask, func: Callable) -> Callable:
    @functools.wraps(func)  # the module and name Huey files the job under, the same in every process
    def run(*args, **kwargs):
        with app.app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()
    return run


def init_app(app: Flask) -> None:
    """The app's queue with every declared job (call it once every module declaring jobs is imported)."""
    queue = Queue(_broker(app))
    for name, declared in _DECLARED.items():
        run = _in_app(app, declared.func)
        if declared.schedule_setting is None:
            queue.tasks[name] = queue.huey.task(name=name, retries=declared.retries,
                                                retry_delay=declared.retry_delay)(run)
            continue
        line = (app.config.get(declared.schedule_setting) or "").strip()
        if line:
            queue.tasks[name] = queue.huey.periodic_task(schedule(line), name=name)(run)
            queue.schedules[name] = line
    app.extensions["aimweb.queue"] = queue

    @app.cli.command("worker")
    @click.option("--workers", type=int, default=None,
                  help="Jobs run at once (threads); default AIMWEB_QUEUE_WORKERS.")
    @click.option("--log-level", default="INFO", show_default=True,
                  type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="INFO logs every job.")
    def worker(workers, log_level):
        """Run the job queue's worker: uploads, mail, and the scheduled refreshes (Ctrl-C to stop)."""
        run_worker(app, workers or app.config["QUEUE_WORKERS"], log_level)


def queue_of(app: Flask | None = None) -> Queue:
    return (app or current_app).extensions["aimweb.queue"]


def enqueue(name: str, *args) -> bool:
    """Queue a job (in `immediate` mode: run it now). False, logged, when the broker is unreachable:
    callers keep their state in the database, so the sweeps pick the work up once it is back."""
    try:
        queue_of().tasks[name](*args)
    except Exception:  # the broker down must not fail the request that committed the work
        current_app.logger.exception("Could not queue %s%r: the sweep will pick it up", name, args)
        return False
    return True


def queue_depth(app: Flask | None = None) -> int:
    """Jobs waiting for a worker (not counting scheduled retries): for the metrics."""
    huey = queue_of(app).huey
    return 0 if huey.immediate else huey.pending_count()


def run_worker(app: Flask, workers: int, log_level: str = "INFO") -> None:
    """The consumer: `workers` threads taking jobs, and the scheduler of the periodic ones."""
    queue = queue_of(app)
    if queue.huey.immediate:
        raise click.ClickException("AIMWEB_QUEUE_URL=immediate runs every job where it is queued: "
                                   "there is nothing for a worker to do.")
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(log_level)
    logging.getLogger("huey").setLevel(log_level)
    # What a killed worker left behind is redone at once, not at the next minute.
    with app.app_context():
        for name in ("upload_sweep", "mail_sweep"):
            if name in queue.tasks:
                enqueue(name)
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                          initial_delay=0.05, backoff=1.5, max_delay=1.0,
                                          check_worker_health=True)
    consumer.run()


# ----- the jobs that are not an upload's (bulk/jobs.py declares those) -------------------------

@task("deliver_mail")
def deliver_mail(message_ids: list[int]) -> None:
    """Send the mail a request or a job committed (the outbox's kick)."""
    from . import outbox

    for message_id in message_ids:
        outbox.deliver(message_id)


@periodic("mail_sweep", "QUEUE_MAIL_SWEEP")
def mail_sweep() -> None:
    """Send what is due: retries after back-off, and mail whose job was lost with a killed worker."""
    from . import outbox

    counts = outbox.deliver_pending()
    if any(counts.values()):
        log.info("Mail sweep: %s", counts)


@periodic("monitor_refresh", "QUEUE_MONITOR_REFRESH")
def monitor_refresh() -> None:
    """Rebuild the public monitor's figures (as `flask monitor-refresh`)."""
    from .monitor.aggregates import refresh

    done = refresh()
    log.info("Monitor rebuilt from %s licenses in %s s", done.licenses, done.seconds)


@periodic("review_refresh", "QUEUE_REVIEW_REFRESH")
def review_refresh() -> None:
    """Unit-value statistics per HTS; re-check licenses whose import date passed (as `flask review-refresh`)."""
    from . import screening

    log.info("Review refresh: %s", screening.refresh_review())
