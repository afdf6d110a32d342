"""Benchmark: the relay is not in request time (issue 13 point 1, issue 12 point 5), on its own app
and temporary SQLite DB.

Times POST /password/forgot and POST /signup for a registered and an unknown address, through the
test client with the production delivery (MAIL_KICK=thread), against (1) a slow SMTP relay (an
aiosmtpd server that takes 300 ms per message) and (2) no relay at all (a closed port). Before the
outbox, (1) made the registered address about 300 ms slower than the unknown one (an enumeration
signal) and (2) answered sign-up with a 500. Expected now: the four rows within a few
milliseconds of each other in both cases, and in (1) every mail delivered after the answers.

Measured on 2026-12-01 (a 2-core machine shared with other work): 20 rounds on SQLite, load
light: (1) medians 6.9-8.4 ms for all four rows. 50 rounds, load average about 9: SQLite (1)
27-32 ms, (2) 37-53 ms; PostgreSQL (1) 33-39 ms, (2) 39-46 ms; 150 of 150 mails delivered in (1)
after the answers, 150 waiting for mail-deliver after (2). With the relay down the delivery thread
still makes two small writes per refused attempt, which on SQLite contend with the requests' own.

Run: .venv/bin/python bench/bench_mail.py [rounds]         (default 50)
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_mail \
         .venv/bin/python bench/bench_mail.py
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from aimweb import create_app
from aimweb.extensions import db
from aimweb.models import OutboxMessage, User, utcnow
from aimweb.security import hash_password

REGISTERED, UNKNOWN = "bench@example.com", "nobody@example.com"
RELAY_SECONDS = 0.3
URI = os.environ.get("AIMWEB_BENCH_DATABASE_URI")  # PostgreSQL: its public schema is recreated


class SlowRelay:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(RELAY_SECONDS)
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(client, path: str, email: str) -> float:
    start = time.perf_counter()
    response = client.post(path, data={"email": email})
    elapsed = time.perf_counter() - start
    assert response.status_code == 302, (path, response.status_code)
    return elapsed


def line(label: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[max(0, int(len(values) * 0.95) - 1)]
    return f"  {label:<44} median {statistics.median(values) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def main(rounds: int) -> None:
    relay = SlowRelay()
    smtp = Controller(relay, hostname="127.0.0.1", port=free_port())
    smtp.start()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": URI or f"sqlite:///{tmp}/bench.sqlite3",
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_SUPPRESS_SEND": False,
            "MAIL_KICK": "thread", "RATELIMIT_ENABLED": False,
            "CODE_RESEND_INTERVAL_SECONDS": 0, "CODE_MAX_PER_HOUR": 10**6,
        })
        app.logger.setLevel(logging.ERROR)  # not one warning per refused attempt in (2)
        with app.app_context():
            if URI:
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            upgrade()
            db.session.add(User(email=REGISTERED, display_name="Bench", first_name="Bench",
                                last_name="Filer", password_hash=hash_password("Correct-Horse-9"),
                                role="filer", email_verified_at=utcnow()))
            db.session.commit()
        client = app.test_client()
        for _ in range(5):  # warm up
            timed(client, "/password/forgot", UNKNOWN)
        for label, port in (("(1) slow relay", smtp.port), ("(2) relay down", free_port())):
            app.config["MAIL_PORT"] = port
            times: dict[str, list[float]] = {}
            for _ in range(rounds):
                for path in ("/password/forgot", "/signup"):
                    for who, email in (("registered", REGISTERED), ("unknown", UNKNOWN)):
                        times.setdefault(f"{path} {who}", []).append(timed(client, path, email))
            print(label)
            for key, values in times.items():
                print(line(key, values))
            if port == smtp.port:
                # 3 mails a round (reset code, notice, sign-up code), all sent after the answers.
                answered = time.monotonic()
                while relay.count < rounds * 3 and time.monotonic() < answered + rounds * 3:
                    time.sleep(0.1)
                print(f"  delivered by the delivery thread: {relay.count} of {rounds * 3}, the last "
                      f"{time.monotonic() - answered:.1f} s after the last answer")
        with app.app_context():
            pending = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.status == "pending"))
        print(f"  waiting in the outbox for mail-deliver after (2): {pending} of {rounds * 3}")
    smtp.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
