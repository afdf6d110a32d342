"""Benchmark of the account hardening (issue 12, points 4 and 5).

(1) The cost of the guessable-password check (zxcvbn) per password, for typical and worst-case
    (64 characters, the longest allowed) passwords.
(2) The answer time of "Forgot your password?" for a registered and an unregistered address,
    with the mail suppressed (so the rest of the work is compared: both issue and count a code and
    write an audit row) and with a real SMTP server (aiosmtpd) receiving the mail inside the
    request, which is the remaining difference until mail leaves the request (the outbox).

Run: .venv/bin/python bench/bench_accounts.py [rounds]    (rounds: 40; SQLite in a temporary file)
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_accounts \
         .venv/bin/python bench/bench_accounts.py    (PostgreSQL: that database's public schema is recreated)
"""
from __future__ import annotations

import os
import re
import socket
import statistics
import sys
import tempfile
import time
import timeit
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from aimweb import create_app
from aimweb.extensions import db
from aimweb.models import OneTimeCode, User, utcnow
from aimweb.security import guessable_problem, hash_password

URI = os.environ.get("AIMWEB_BENCH_DATABASE_URI")  # PostgreSQL: its public schema is recreated
# Databases never recreated: the shared 1M seed and the ones that are not a bench's own.
KEPT = {"bench_dash", "test", "postgres", "template0", "template1"}


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def password_check() -> None:
    print("(1) guessable-password check (zxcvbn), ms per password")
    for password in ["Password1!", "Riverstone-2024", "Gx7#kq2!Wm9vLp3$Rt5&", "Ab1!" * 16, "a" * 64]:
        n = 50
        check = partial(guessable_problem, password, ["dana.whitaker@example.com"])
        ms = timeit.timeit(check, number=n) / n * 1000
        print(f"    {password[:24]!r:28} {ms:6.2f} ms")


def reset_timing(rounds: int) -> None:
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    path = os.path.join(tempfile.mkdtemp(), "bench.sqlite3")
    if URI and (not URI.startswith("postgresql") or make_url(URI).database in KEPT):
        sys.exit(f"Refusing {URI!r}: use a PostgreSQL database of its own (e.g. bench_accounts).")
    fresh = bool(URI)
    try:
        for label, suppress in (("mail suppressed", True), ("mail sent to SMTP inside the request", False)):
            app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": URI or f"sqlite:///{path}",
                              "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_SUPPRESS_SEND": suppress,
                              "RATELIMIT_ENABLED": False, "CODE_RESEND_INTERVAL_SECONDS": 0,
                              "WTF_CSRF_ENABLED": False})
            with app.app_context():
                if fresh:
                    db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                    db.session.commit()
                    fresh = False
                upgrade()
                if not db.session.query(User).filter_by(email="known@example.com").first():
                    db.session.add(User(email="known@example.com", display_name="K", first_name="K",
                                        last_name="K", password_hash=hash_password("Riverstone-2024"),
                                        email_verified_at=utcnow()))
                    db.session.commit()
            client = app.test_client()
            times = {"known@example.com": [], "nobody@example.com": []}
            for i in range(rounds):
                for email in (times if i % 2 else reversed(list(times))):
                    with app.app_context():  # no per-hour cap in the way
                        db.session.query(OneTimeCode).delete()
                        db.session.commit()
                    start = time.perf_counter()
                    response = client.post("/password/forgot", data={"email": email})
                    times[email].append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 302, response.status_code
            print(f"(2) /password/forgot answer, {label}, {'PostgreSQL' if URI else 'SQLite'} "
                  f"(median / p95 of {rounds}, ms)")
            for email, values in times.items():
                values.sort()
                print(f"    {email:22} {statistics.median(values):6.2f} / {values[int(len(values) * 0.95) - 1]:6.2f}")
    finally:
        controller.stop()


if __name__ == "__main__":
    rounds = int(next((a for a in sys.argv[1:] if re.fullmatch(r"\d+", a)), 40))
    password_check()
    reset_timing(rounds)
