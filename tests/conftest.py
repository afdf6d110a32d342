"""Fixtures: the app on a real database (SQLite, or PostgreSQL via AIMWEB_TEST_DATABASE_URI),
a real SMTP server (aiosmtpd) that keeps what it receives, and sign-in helpers."""
from __future__ import annotations

import email
import os
import re
import socket
import threading
import time
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from factories import PASSWORD, PROGRAM_TODAY, make_user  # noqa: F401  (PASSWORD re-exported for older tests)
from factories import password_hash as _password_hash  # noqa: F401  (re-exported for older tests)
from flask import has_app_context
from helpers import csrf_token, post_form, sign_in  # noqa: F401  (re-exported for older tests)
from sqlalchemy import text

from aimweb import create_app
from aimweb.extensions import db, limiter


class Mailbox:
    """An aiosmtpd handler that stores every delivered message."""

    def __init__(self):
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            msg = email.message_from_bytes(envelope.content)
            msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self.messages.append(msg)
        return "250 OK"

    def clear(self):
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20.0) -> list[Message]:
        """The messages to this address once there are `count` (delivery happens after the answer)."""
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} message(s) to {address} expected, "
                                     f"{len(self.to(address))} arrived")
            time.sleep(0.02)
        return self.to(address)

    def body(self, msg: Message) -> str:
        part = msg.get_payload(decode=True) if not msg.is_multipart() else msg.get_payload(0).get_payload(decode=True)
        return part.decode()

    def last_code(self, address: str, timeout: float = 20.0) -> str:
        """The 6-digit code in the newest message to this address (waits for delivery)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for msg in reversed(self.to(address)):
                m = re.search(r"Your code is: (\d{6})", self.body(msg))
                if m:
                    return m.group(1)
            time.sleep(0.02)
        raise AssertionError(f"no code was mailed to {address}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    return os.environ.get("AIMWEB_TEST_DATABASE_URI") or (
        "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    )


def make_test_config(database_uri: str, smtp_port: int, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail suppresses mail under TESTING by default
        # Mail is delivered before the test client gets the answer: what a test reads is settled.
        # The browser tests' live server uses the real delivery thread.
        "MAIL_KICK": "inline",
        # Jobs run where they are queued; tests/test_jobs.py runs a real worker on a queue file.
        "QUEUE_URL": "immediate",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "PROGRAM_TODAY": PROGRAM_TODAY,
        **extra,
    }


@pytest.fixture(scope="session")
def _schema(database_uri, smtp_server):
    """Build the schema once with the real migrations, so they are tested too."""
    from flask_migrate import downgrade, upgrade

    app = create_app(make_test_config(database_uri, smtp_server[0].port))
    with app.app_context():
        if database_uri.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
    yield
    with app.app_context():
        _empty_tables()
        db.session.remove()
        downgrade(revision="base")


def _empty_tables():
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_uri, smtp_server, _schema, request):
    extra = getattr(request, "param", None) or {}
    app = create_app(make_test_config(database_uri, smtp_server[0].port, **extra))
    smtp_server[1].clear()
    with app.app_context():
        _empty_tables()
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        # Close the pooled connections now: left to the garbage collector, psycopg warns (an error
        # under filterwarnings) in whichever later test the collection happens to run.
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def mailbox(smtp_server):
    return smtp_server[1]


def add_user(app, email="filer@example.com", company=True, role="filer") -> int:
    """A verified account with PASSWORD (and the company "Gulf Coast Metals LLC"): its id."""
    with app.app_context():
        return make_user(email, role=role, company=company, company_name="Gulf Coast Metals LLC").id


@pytest.fixture
def query(app):
    """Run a query in an app context of its own (requests must not share the test's `g`)."""
    def run(fn):
        with app.app_context():
            return fn()
    return run


@pytest.fixture
def filer(app):
    """The demo-like filer with a company; made in the test's app context when it holds one."""
    if has_app_context():
        return make_user()
    with app.app_context():
        user = make_user()
        db.session.refresh(user)
        db.session.expunge(user)  # its columns stay readable after this context ends
        return user


@pytest.fixture
def officer(app, query):
    """A client signed in as the officer officer@example.com (the review queue is their home)."""
    query(lambda: make_user("officer@example.com", role="officer", company=False))
    client = app.test_client()
    assert sign_in(client, "officer@example.com").headers["Location"] == "/review/"
    return client


@pytest.fixture
def signed_in(client, filer):
    response = sign_in(client)
    assert response.status_code == 302
    return client
