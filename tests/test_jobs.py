"""The job queue: a real `flask worker` process on a Huey SQLite queue file delivers the mail a
request committed and finishes an upload whose first worker was killed with `kill -9`, issuing
every license once; the scheduled jobs are declared in code with their schedules."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from factories import PROGRAM_TODAY
from helpers import issue, result_page, row, upload, workbook
from sqlalchemy import func, select, update

from aimweb import jobs, licensing
from aimweb.bulk import jobs as upload_jobs
from aimweb.enums import MailStatus, UploadStatus
from aimweb.extensions import db
from aimweb.models import License, OutboxMessage, UploadBatch

ROOT = Path(__file__).resolve().parents[1]


REDIS_URL = "redis://127.0.0.1:6379/1"  # this test suite's Redis database


@pytest.fixture(params=["sqlite"])
def queue_file(app, tmp_path, request):
    """The app's jobs go to a Huey SQLite file (as under `make run`), or to Redis (as in
    production), instead of running at once."""
    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping()
        except redis.RedisError:
            pytest.skip("no Redis on 127.0.0.1:6379")
        app.config["QUEUE_URL"] = REDIS_URL
    else:
        app.config["QUEUE_URL"] = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    jobs.init_app(app)
    jobs.queue_of(app).huey.storage.flush_queue()  # Redis: nothing left by an earlier run
    return app.config["QUEUE_URL"]


@pytest.fixture
def start_worker(app, queue_file, database_uri, smtp_server, tmp_path):
    """Start `flask worker` processes on the app's database and queue file; all killed at the end."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        env = {**os.environ, "AIMWEB_SECRET_KEY": "test-secret-key", "AIMWEB_SQLALCHEMY_DATABASE_URI": database_uri,
               "AIMWEB_QUEUE_URL": queue_file, "AIMWEB_MAIL_SERVER": "127.0.0.1",
               "AIMWEB_MAIL_PORT": str(smtp_server[0].port), "AIMWEB_MAIL_KICK": "queue",
               "AIMWEB_PROGRAM_TODAY": PROGRAM_TODAY,
               "AIMWEB_UPLOAD_STALE_SECONDS": str(app.config["UPLOAD_STALE_SECONDS"])}
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 - the process writes it
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "aimweb", "worker", "--workers", "2"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)
    return found


def batch_state(query, batch_id):
    return query(lambda: db.session.execute(
        select(UploadBatch.status, UploadBatch.progress, UploadBatch.attempts, UploadBatch.license_count)
        .where(UploadBatch.id == batch_id)).one())


def license_numbers(query):
    return query(lambda: db.session.scalars(select(License.number)).all())


def test_the_refreshes_and_sweeps_are_scheduled_in_code(app):
    queue = jobs.queue_of(app)
    assert queue.schedules == {"monitor_refresh": "*/5 * * * *", "review_refresh": "30 7 * * *",
                               "mail_sweep": "* * * * *", "upload_sweep": "* * * * *"}

    def due(hour, minute):  # what the worker's scheduler starts at that minute (UTC)
        return sorted(t.name for t in queue.huey.read_periodic(datetime(2026, 5, 12, hour, minute)))

    assert due(10, 15) == ["mail_sweep", "monitor_refresh", "upload_sweep"]
    assert due(7, 30) == ["mail_sweep", "monitor_refresh", "review_refresh", "upload_sweep"]
    assert due(10, 16) == ["mail_sweep", "upload_sweep"]


@pytest.mark.parametrize("app", [{"QUEUE_MONITOR_REFRESH": "15 * * * *", "QUEUE_REVIEW_REFRESH": ""}],
                         indirect=True)
def test_schedules_are_settings(app):
    queue = jobs.queue_of(app)
    assert queue.schedules["monitor_refresh"] == "15 * * * *" and "review_refresh" not in queue.schedules
    assert "monitor_refresh" not in [t.name for t in queue.huey.read_periodic(datetime(2026, 5, 12, 10, 20))]
    assert "monitor_refresh" in [t.name for t in queue.huey.read_periodic(datetime(2026, 5, 12, 10, 15))]


@pytest.mark.parametrize("queue_file", ["sqlite", "redis"], indirect=True)
@pytest.mark.parametrize("app", [{"MAIL_KICK": "queue"}], indirect=True)
def test_a_worker_delivers_the_mail_a_request_committed(app, signed_in, queue_file, start_worker, mailbox, query):
    number = issue(signed_in)
    # Nothing is sent by the web process: the mail waits in the outbox, its job in the queue.
    assert jobs.queue_depth(app) == 1 and mailbox.to("filer@example.com") == []
    start_worker()
    message = mailbox.wait_for("filer@example.com", timeout=60)[0]
    assert number in message["Subject"]
    wait_until(lambda: jobs.queue_depth(app) == 0, 30, "the queue to empty")
    outcome = wait_until(lambda: (rows := query(lambda: db.session.execute(
        select(OutboxMessage.status, OutboxMessage.attempts)).all())) and rows[0][0] != MailStatus.SENDING and rows,
        30, "the delivery to be recorded")
    assert outcome == [(MailStatus.SENT, 1)]  # sent once, by the worker


LICENSES = 1500


@pytest.mark.parametrize("app", [{"UPLOAD_INLINE_MAX_BYTES": 0, "UPLOAD_STALE_SECONDS": 2}], indirect=True)
@pytest.mark.parametrize("stage", [UploadStatus.CHECKING, UploadStatus.ISSUING])
def test_a_worker_killed_mid_upload_loses_nothing_and_issues_each_license_once(
        app, signed_in, query, start_worker, mailbox, stage):
    data = workbook([row(f"E{i}", kg=100 + i) for i in range(LICENSES)])
    response = upload(signed_in, data)
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert batch_state(query, batch_id)[0] == UploadStatus.QUEUED and jobs.queue_depth(app) == 1

    first = start_worker()
    if stage == UploadStatus.CHECKING:  # some rows checked, not all
        wait_until(lambda: batch_state(query, batch_id)[1] > 0, 120, "the check to start")
    else:
        wait_until(lambda: batch_state(query, batch_id)[0] in (UploadStatus.ISSUING, UploadStatus.ISSUED),
                   120, "the issue to start")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    status, _, attempts, _ = batch_state(query, batch_id)
    assert attempts == 1
    issued_by_the_first = status == UploadStatus.ISSUED  # killed just after the commit
    if not issued_by_the_first:  # killed before the licenses committed: none of them did
        assert status == stage and license_numbers(query) == []
        page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
        assert "Checking licenses.xlsx" in page

    # A new worker takes the batch over once it has stopped moving (UPLOAD_STALE_SECONDS)...
    time.sleep(2.5)
    start_worker()
    status, _, attempts, count = wait_until(
        lambda: (s := batch_state(query, batch_id))[0] not in UploadStatus.WORKING and s, 180, "the batch to end")
    assert status == UploadStatus.ISSUED and count == LICENSES
    # ... and every entry has exactly one license, of this batch.
    numbers = license_numbers(query)
    assert len(numbers) == len(set(numbers)) == LICENSES
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License)
                                           .where(License.upload_batch_id == batch_id))) == LICENSES
    assert attempts == (1 if issued_by_the_first else 2)
    assert "All licenses are created successfully." in result_page(signed_in, response)
    assert len(mailbox.wait_for("filer@example.com", timeout=60)) == 1


@pytest.mark.parametrize("app", [{"UPLOAD_INLINE_MAX_BYTES": 0, "UPLOAD_STALE_SECONDS": 60}], indirect=True)
def test_a_job_whose_batch_was_taken_over_issues_nothing(app, signed_in, query, queue_file, monkeypatch):
    """A worker that stalls long enough to be presumed dead, then wakes up while issuing: its
    licenses roll back, and the job that took the batch over issues them once."""
    response = upload(signed_in, workbook([row(f"E{i}") for i in range(5)]))
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    real_issue = licensing.issue_licenses

    def taken_over_meanwhile(*args, **kwargs):
        # Another process: the sweep finds the batch silent for a minute and queues it again.
        with app.app_context():
            db.session.execute(update(UploadBatch).where(UploadBatch.id == batch_id)
                               .values(heartbeat_at=UploadBatch.heartbeat_at - timedelta(minutes=2)))
            db.session.commit()
            assert upload_jobs.sweep() == {"requeued": 1, "ended": 0}
            db.session.remove()
        return real_issue(*args, **kwargs)

    monkeypatch.setattr(licensing, "issue_licenses", taken_over_meanwhile)
    upload_jobs.process(app, batch_id)  # the stalled job: claim 1
    status, _, attempts, _ = batch_state(query, batch_id)
    assert license_numbers(query) == [] and (status, attempts) == (UploadStatus.QUEUED, 1)

    monkeypatch.setattr(licensing, "issue_licenses", real_issue)
    upload_jobs.process(app, batch_id)  # the job the sweep queued: claim 2
    upload_jobs.process(app, batch_id)  # a duplicate of it finds nothing to claim
    assert batch_state(query, batch_id) == (UploadStatus.ISSUED, 5, 2, 5) and len(license_numbers(query)) == 5


@pytest.mark.parametrize("app", [{"UPLOAD_INLINE_MAX_BYTES": 0, "UPLOAD_STALE_SECONDS": 60}], indirect=True)
def test_a_batch_interrupted_too_often_ends_failed_with_a_message(app, signed_in, query, queue_file):
    response = upload(signed_in, workbook([row("E1")]))
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():  # three workers died with it
        db.session.execute(update(UploadBatch).where(UploadBatch.id == batch_id).values(
            status=UploadStatus.CHECKING, attempts=3, heartbeat_at=UploadBatch.heartbeat_at - timedelta(minutes=5)))
        db.session.commit()
        assert upload_jobs.sweep() == {"requeued": 0, "ended": 1}
    assert batch_state(query, batch_id)[0] == UploadStatus.FAILED
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "The upload was interrupted" in page and "interrupted 3 times" in page and "Nothing was issued" in page
    assert license_numbers(query) == []
