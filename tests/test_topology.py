"""Several servers: two gunicorn app servers on different ports and a worker, sharing PostgreSQL and
Redis, serve one user whose requests alternate between them (one cookie jar, as behind a load
balancer without sticky sessions). Sign-up with the mailed code, sign-in, a form draft, an upload
and its progress, a saved search and the mails all work, and the sign-in rate limit is counted
across the servers. Real processes, a real SMTP server (aiosmtpd), real HTTP (requests).

PostgreSQL only (several servers cannot share a SQLite file across machines): skipped on SQLite,
and required (a failure, not a skip) when AIMWEB_REQUIRE_BROWSER=1, as in .ci/run's PostgreSQL pass.
"""
from __future__ import annotations

import html
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from itertools import cycle
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
import requests
from helpers import (
    COMPANY,
    HEADER,
    HTMX,
    LINE,
    add_line,
    csrf_token,
    post,
    post_form,
    result_page,
    row,
    sign_in,
    start,
    upload,
    workbook,
)

ROOT = Path(__file__).resolve().parent.parent
PORTS = (5120, 5121)  # this test's range: 5120-5129
QUEUE = "redis://127.0.0.1:6379/10"  # this test's own: emptied before each run
REDIS = "redis://127.0.0.1:6379/2"
METRICS_TOKEN = "topology-scrape-token"
SIGN_IN_LIMIT = 8  # per hour, per client address: all servers together
PASSWORD = "Riverstone-Alloy-2026!"
EMAIL = "dana.whitaker@example.com"


@pytest.fixture
def worker_command():
    """The job queue's worker beside the servers: it checks the uploads and delivers the mail."""
    return [sys.executable, "-m", "flask", "--app", "aimweb", "worker", "--log-level", "WARNING"]


def _required() -> bool:
    return os.environ.get("AIMWEB_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str):
    if _required():
        pytest.fail(f"{reason} (AIMWEB_REQUIRE_BROWSER=1: the several-servers test must run)")
    pytest.skip(reason)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class Servers:
    """The running processes, their logs, and where each listens."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        self.urls = [f"http://127.0.0.1:{port}" for port in PORTS]

    def spawn(self, name: str, argv: list[str], env: dict) -> None:
        log = self.tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes.append((name, process, log))

    def log_lines(self, name: str) -> list[dict]:
        """The JSON lines a server wrote (gunicorn's own and the app's)."""
        [path] = [log for n, _p, log in self.processes if n == name]
        return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]

    def tails(self) -> str:
        return "\n".join(f"--- {name}:\n{log.read_text()[-3000:]}" for name, _p, log in self.processes)

    def stop(self) -> None:
        for _name, process, _log in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process, _log in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def servers(app, database_uri, smtp_server, tmp_path, worker_command):
    if not database_uri.startswith("postgresql"):
        pytest.skip("several servers need a shared database: set AIMWEB_TEST_DATABASE_URI to PostgreSQL")
    try:
        redis.Redis.from_url(REDIS, socket_timeout=1, socket_connect_timeout=1).ping()
    except redis.RedisError:
        _unavailable("no Redis on 127.0.0.1:6379 for the shared rate limits")
    busy = [port for port in PORTS if not _port_free(port)]
    if busy:
        _unavailable(f"ports {busy} are taken")
    redis.Redis.from_url(QUEUE).flushdb()  # no job left by an earlier run reaches this database
    env = {
        **os.environ,
        "AIMWEB_SECRET_KEY": "topology-secret-key-the-same-on-every-server",
        "AIMWEB_SQLALCHEMY_DATABASE_URI": database_uri,
        "AIMWEB_MAIL_SERVER": "127.0.0.1",
        "AIMWEB_MAIL_PORT": str(smtp_server[0].port),
        "AIMWEB_QUEUE_URL": QUEUE,  # one broker for both servers and the worker
        "AIMWEB_RATELIMIT_STORAGE_URI": REDIS,
        # This run's own counters, whatever an earlier run left in Redis.
        "AIMWEB_RATELIMIT_KEY_PREFIX": f"topology-{uuid.uuid4().hex}",
        "AIMWEB_RATELIMIT_SIGN_IN": f"{SIGN_IN_LIMIT} per hour",
        # A moving window of an hour: however slow the machine, the test's first sign-in still counts
        # when the last one is made (a fixed window could restart at the top of the hour).
        "AIMWEB_RATELIMIT_STRATEGY": "moving-window",
        "AIMWEB_UPLOAD_INLINE_MAX_BYTES": "0",  # every upload is checked in the background
        "AIMWEB_METRICS_TOKEN": METRICS_TOKEN,
        "AIMWEB_LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py makes one per server
    running = Servers(tmp_path)
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--timeout", "60"]
    # A with two workers (its metrics add both up), B with one.
    running.spawn("A", [*gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{PORTS[0]}"], env)
    running.spawn("B", [*gunicorn, "--workers", "1", "--bind", f"127.0.0.1:{PORTS[1]}"], env)
    running.spawn("worker", worker_command, env)
    try:
        deadline = time.monotonic() + 60
        for url in running.urls:
            while True:
                try:
                    if requests.get(f"{url}/readyz", timeout=10).status_code == 200:
                        break
                except requests.RequestException:  # not listening yet, or still loading the app
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{url} never became ready:\n{running.tails()}")
                time.sleep(0.2)
        yield running
    finally:
        running.stop()


class Answer:
    """A requests response read the way the shared test helpers read a Flask test response."""

    def __init__(self, response: requests.Response, server: str):
        self.response, self.server = response, server
        self.status_code, self.headers = response.status_code, response.headers
        # helpers.upload closes the test client's spooled body; here there is none to close.
        self.request = SimpleNamespace(environ={"wsgi.input": io.BytesIO()})

    def get_data(self, as_text=False):
        return self.response.text if as_text else self.response.content

    @property
    def json(self):
        return self.response.json()


class Browser:
    """One user's browser: one cookie jar, each request sent to the next server in turn (or to the
    one named). Speaks enough of Flask's test client for tests/helpers.py's form helpers."""

    def __init__(self, urls: list[str], only: int | None = None, session: requests.Session | None = None,
                 log: list | None = None):
        self.urls, self.session = urls, session or requests.Session()
        self._next = cycle(range(len(urls))) if only is None else cycle([only])
        self._only = only
        # (server, method, path, status) of every request of this browser, through any server.
        self.log: list[tuple[str, str, str, int]] = [] if log is None else log

    def on(self, index: int) -> Browser:
        """The same browser, this time through one server only."""
        return Browser(self.urls, only=index, session=self.session, log=self.log)

    @property
    def answered_by(self) -> list[str]:
        return [server for server, *_rest in self.log]

    def _send(self, method: str, path: str, **kwargs) -> Answer:
        index = next(self._next)
        response = self.session.request(method, self.urls[index] + path, allow_redirects=False, timeout=30,
                                        **kwargs)
        self.log.append(("AB"[index], method, path.split("?")[0], response.status_code))
        return Answer(response, "AB"[index])

    def get(self, path: str, headers=None) -> Answer:
        return self._send("GET", path, headers=headers)

    def post(self, path: str, data=None, headers=None, content_type=None) -> Answer:
        fields = {k: v for k, v in (data or {}).items() if not isinstance(v, tuple)}
        files = {k: (v[1], v[0].read()) for k, v in (data or {}).items() if isinstance(v, tuple)}
        return self._send("POST", path, data=fields, files=files or None, headers=headers)


def text(answer: Answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def test_one_user_alternating_between_two_servers_and_a_worker(servers, mailbox):
    browser = Browser(servers.urls)
    a, b = browser.on(0), browser.on(1)
    assert a.get("/healthz").json == {"status": "ok"} and b.get("/readyz").json == {"status": "ok"}

    # Sign Up Now: the code is asked for on one server, mailed by the worker, typed on the other.
    response = post_form(browser, "/signup", {"email": EMAIL})
    assert response.status_code == 302 and response.headers["Location"] == "/signup/verify"
    code = mailbox.last_code(EMAIL, timeout=20)
    assert post_form(browser, "/signup/verify", {"code": code}).headers["Location"] == "/signup/create"
    response = post_form(browser, "/signup/create", {
        "display_name": "Riverstone Metals", "first_name": "Dana", "last_name": "Whitaker",
        "password": PASSWORD, "confirm": PASSWORD})
    assert response.headers["Location"] == "/account/company"
    assert post_form(browser, "/account/company", COMPANY).status_code == 302
    assert "Riverstone Metals LLC" in text(b.get("/account/company"))

    # Sign out on one server; sign in through the other; the session works on both.
    assert post(a, "/signout", {}).status_code == 302
    assert b.get("/licenses/").headers["Location"].startswith("/signin")
    response = sign_in(browser, EMAIL, PASSWORD)
    assert response.status_code == 302
    sign_ins = 1
    assert a.get("/licenses/").status_code == 200 and b.get("/licenses/").status_code == 200

    # A form draft saved through A is read through B, then previewed and submitted across both.
    draft = start(a)
    assert "aim-line--error" not in add_line(a, draft).get_data(as_text=True)
    page = text(b.get(draft))
    assert HEADER["entry_number"] in page and LINE["line-hts_number"][:10] in page
    assert post(b, f"{draft}/preview", {**HEADER, "certified": "y"}).status_code == 302
    response = post(a, f"{draft}/submit", {})
    assert response.status_code == 303
    number = response.headers["Location"].rsplit("/", 1)[1]
    assert number in text(b.get(f"/licenses/{number}"))

    # An upload to A is checked in A's background; B shows its progress and outcome.
    response = upload(a, workbook([row(1), row(2), row(3)]))
    assert response.status_code == 303
    progress = b.get(response.headers["Location"] + "/progress", headers=HTMX)  # what the page polls
    assert progress.status_code == 200
    # Still working: the progress bar as A's background job last stored it; done: reload the page.
    assert ('id="upload-progress"' in progress.get_data(as_text=True)
            or progress.headers.get("HX-Refresh") == "true")
    outcome = result_page(b, response, timeout=60)
    assert "All licenses are created successfully." in outcome

    # A search saved through A is listed through B.
    response = post(a, "/licenses/searches", {"name": "Canadian primary", "q": "7601"})
    assert response.status_code == 302
    assert "Canadian primary" in text(b.get("/licenses/"))

    # The mails of it all were sent by the worker: the code, then the license confirmations.
    assert len(mailbox.wait_for(EMAIL, count=2, timeout=20)) >= 2
    assert set(browser.answered_by) == {"A", "B"}

    # The sign-in limit counts every server's sign-ins together (Redis): another browser from the
    # same address, alternating, is stopped when the total reaches the limit, by both servers.
    stranger = Browser(servers.urls)
    token = csrf_token(stranger, "/signin")
    answers = [
        # A new address each time: the per-account pause (also a 429) never starts.
        stranger.post("/signin", data={"csrf_token": token, "email": f"guess{i}@example.com",
                                       "password": "Wrong-password-1"})
        for i in range(SIGN_IN_LIMIT - sign_ins + 2)]
    allowed = SIGN_IN_LIMIT - sign_ins
    statuses = [answer.status_code for answer in answers]
    assert 429 not in statuses[:allowed] and statuses[allowed:] == [429, 429], statuses
    assert all("Retry-After" in answer.headers for answer in answers[allowed:])  # the limiter's answer
    assert {stranger.answered_by[i] for i in range(1 + allowed, len(stranger.answered_by))} == {"A", "B"}

    # Metrics: the histogram has the endpoints used, A's two workers added up (the count is every
    # dashboard A served, whichever worker served it); the queue is empty.
    for _ in range(4):
        assert a.get("/licenses/").status_code == 200
    scraped = a.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    metrics = scraped.get_data(as_text=True)
    served_by_a = browser.log.count(("A", "GET", "/licenses/", 200))
    assert (f'aimweb_http_request_duration_seconds_count{{endpoint="licenses.dashboard",method="GET",'
            f'status="200"}} {served_by_a}.0') in metrics
    assert 'aimweb_queue_depth{queue="mail"} 0.0' in metrics
    assert b.get("/metrics").status_code == 404  # the user's own session gives nothing here

    # Logs: the line of a request, found by the id its answer carried.
    answer = b.get("/licenses/", headers={"X-Request-ID": "lb-topology-1"})
    assert answer.headers["X-Request-ID"] == "lb-topology-1"
    deadline = time.monotonic() + 20
    while not [e for e in servers.log_lines("B") if e.get("request_id") == "lb-topology-1"]:
        assert time.monotonic() < deadline, servers.tails()
        time.sleep(0.1)
    [line] = [e for e in servers.log_lines("B") if e.get("request_id") == "lb-topology-1"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/licenses/", 200)
    assert isinstance(line["user_id"], int) and line["duration_ms"] > 0
