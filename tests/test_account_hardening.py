"""Accounts under attack, over HTTP: codes posted at once from copies of a session, new codes that
don't give new tries, reset codes spent by the password change, guessable passwords, suspension,
per-address sign-in throttles with an account cap, the officers' sign-in audit, no-store caching,
the __Host- cookie, and the per-worker rate-limit warning. Real database, real SMTP."""
from __future__ import annotations

import csv
import html
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from conftest import PASSWORD, add_user, csrf_token, post_form, sign_in
from sqlalchemy import select, update
from werkzeug.routing.converters import AnyConverter, NumberConverter

from aimweb.extensions import db
from aimweb.models import AccountEvent, License, OneTimeCode, ProductLine, User, utcnow
from aimweb.reference.hts import packaged_catalogue

NEW_PASSWORD = "Riverstone-2024"
LOCKED = re.compile(r"Too many failed sign-in attempts\. For your security, sign-in to this account is "
                    r"paused for about 15 minutes\.")
TRIALS = 8


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", response.get_data(as_text=True))).split())


def field_error(response, field_id: str) -> str | None:
    m = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</span>', response.get_data(as_text=True), re.DOTALL)
    return " ".join(html.unescape(m.group(1)).split()) if m else None


def send_code(client, email, path="/signup"):
    response = post_form(client, path, {"email": email})
    assert response.status_code == 302, text(response)


def enter_code(client, code, path="/signup/verify"):
    return post_form(client, path, {"code": code})


def other(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def copy_of_session(app, client):
    """A second browser holding a copy of this client's session cookie."""
    twin = app.test_client()
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    twin.set_cookie(cookie.key, cookie.value)
    return twin


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def events(app, **where) -> list[AccountEvent]:
    with app.app_context():
        query = select(AccountEvent).order_by(AccountEvent.id)
        for key, value in where.items():
            query = query.where(getattr(AccountEvent, key) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def verified_reset(client, mailbox, email="filer@example.com"):
    send_code(client, email, "/password/forgot")
    response = enter_code(client, mailbox.last_code(email), "/password/verify")
    assert response.headers["Location"] == "/password/new"


# ----- 3. codes and resets under concurrency -----------------------------------------------------

@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_the_same_code_posted_at_once_from_two_copies_of_a_session_is_accepted_once(app, mailbox):
    for trial in range(TRIALS):
        email = f"race{trial}@example.com"
        first = app.test_client()
        send_code(first, email)
        code = mailbox.last_code(email)
        token = csrf_token(first, "/signup/verify")
        second = copy_of_session(app, first)
        data = {"csrf_token": token, "code": code}
        responses = at_once(partial(first.post, "/signup/verify", data=data),
                            partial(second.post, "/signup/verify", data=data))
        accepted = [r for r in responses if r.headers.get("Location") == "/signup/create"]
        assert len(accepted) == 1, f"trial {trial}: {[r.status_code for r in responses]}"
        refused = [r for r in responses if r.status_code == 200]
        assert field_error(refused[0], "code") == (
            "This code has expired or was replaced. Click “Send new code” to get a new one.")


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_two_copies_of_a_verified_sign_up_create_one_account(app, mailbox):
    for trial in range(TRIALS // 2):
        email = f"twins{trial}@example.com"
        first = app.test_client()
        send_code(first, email)
        assert enter_code(first, mailbox.last_code(email)).headers["Location"] == "/signup/create"
        token = csrf_token(first, "/signup/create")
        second = copy_of_session(app, first)
        data = {"csrf_token": token, "display_name": "Riverstone Metals", "first_name": "Dana",
                "last_name": "Whitaker", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        responses = at_once(partial(first.post, "/signup/create", data=data),
                            partial(second.post, "/signup/create", data=data))
        assert sorted(r.headers["Location"] for r in responses) == ["/account/company", "/signin"]
        with app.app_context():
            assert db.session.scalars(select(User).where(User.email == email)).all()


@pytest.mark.parametrize("app", [{"CODE_RESEND_INTERVAL_SECONDS": 0, "RATELIMIT_ENABLED": False}], indirect=True)
def test_asking_for_a_new_code_does_not_give_new_tries(app, client, mailbox):
    send_code(client, "new@example.com")
    code = mailbox.last_code("new@example.com")
    for _ in range(4):
        enter_code(client, other(code))
    assert field_error(enter_code(client, other(code)), "code") == (
        "Too many wrong tries: this code no longer works. Click “Send new code”.")

    send_code(client, "new@example.com")
    code = mailbox.last_code("new@example.com")
    # The address has used 5 of its 10 wrong tries this hour, whatever the code.
    assert field_error(enter_code(client, other(code)), "code") == "That code is not right. 4 tries left."
    for _ in range(3):
        enter_code(client, other(code))
    assert field_error(enter_code(client, other(code)), "code") == (
        "Too many wrong tries: this code no longer works. Click “Send new code”.")

    send_code(client, "new@example.com")
    code = mailbox.last_code("new@example.com")
    assert field_error(enter_code(client, code), "code") == (  # even the right one
        "Too many wrong codes were typed for this address. Please try again in an hour.")
    assert client.get("/signup/create").headers["Location"] == "/signup"

    with app.app_context():  # an hour later the address may try again
        db.session.execute(update(OneTimeCode).values(created_at=OneTimeCode.created_at - timedelta(hours=1)))
        db.session.commit()
    send_code(client, "new@example.com")
    assert enter_code(client, mailbox.last_code("new@example.com")).headers["Location"] == "/signup/create"


def test_changing_the_password_spends_the_reset_code_of_a_copied_session(app, client, mailbox):
    add_user(app)
    verified_reset(client, mailbox)
    copy = copy_of_session(app, client)
    token = csrf_token(copy, "/password/new")  # the copy could set a password, for now

    response = post_form(client, "/password/new", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/licenses/"

    assert copy.get("/password/new").headers["Location"] == "/password/forgot"
    response = copy.post("/password/new", data={"csrf_token": token, "password": "Another-River-77",
                                                 "confirm": "Another-River-77"})
    assert response.headers["Location"] == "/password/forgot"
    assert sign_in(app.test_client(), password=NEW_PASSWORD).headers["Location"] == "/licenses/"
    assert sign_in(app.test_client(), password="Another-River-77").status_code == 200


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_two_copies_of_a_reset_posting_at_once_set_one_password(app, mailbox):
    add_user(app)
    for trial in range(TRIALS // 2):
        first = app.test_client()
        with app.app_context():  # each trial asks for a new code: no waiting between them
            db.session.execute(update(OneTimeCode).values(created_at=OneTimeCode.created_at - timedelta(hours=1)))
            db.session.commit()
        verified_reset(first, mailbox)
        token = csrf_token(first, "/password/new")
        second = copy_of_session(app, first)
        passwords = [f"Riverstone-{trial}-Alpha", f"Riverstone-{trial}-Bravo"]
        responses = at_once(*[
            partial(c.post, "/password/new", data={"csrf_token": token, "password": p, "confirm": p})
            for c, p in zip((first, second), passwords)])
        locations = sorted(r.headers["Location"] for r in responses)
        assert locations == ["/licenses/", "/password/forgot"], f"trial {trial}"
        winner = passwords[[r.headers["Location"] for r in responses].index("/licenses/")]
        assert sign_in(app.test_client(), password=winner).headers["Location"] == "/licenses/"


# ----- 4. passwords, suspension, throttles -------------------------------------------------------

GUESSABLE = "This password is too easy to guess."


@pytest.mark.parametrize("password, reason", [
    ("Password1!", "This is similar to a commonly used password."),
    ("Welcome2024!", "This is similar to a commonly used password."),
    ("Qwerty!2345", ""),
    ("Abcdefg1!", ""),
])
def test_sign_up_refuses_a_common_password_with_the_reason(app, client, mailbox, password, reason):
    send_code(client, "new@example.com")
    enter_code(client, mailbox.last_code("new@example.com"))
    response = post_form(client, "/signup/create", {
        "display_name": "Riverstone Metals", "first_name": "Dana", "last_name": "Whitaker",
        "password": password, "confirm": password})
    error = field_error(response, "password")
    assert error.startswith(GUESSABLE) and reason in error
    assert error.endswith("Add another word or two that are not common.")
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new@example.com")) is None


def test_reset_refuses_a_password_made_of_the_users_own_details(app, client, mailbox):
    add_user(app, "margarethe.vanderbilt@example.com")
    verified_reset(client, mailbox, "margarethe.vanderbilt@example.com")
    response = post_form(client, "/password/new", {"password": "Vanderbilt2026!", "confirm": "Vanderbilt2026!"})
    assert field_error(response, "password") == (
        "This password is too easy to guess. It contains your email address or name. "
        "Add another word or two that are not common.")
    response = post_form(client, "/password/new", {"password": "Password1!", "confirm": "Password1!"})
    assert field_error(response, "password").startswith(GUESSABLE)
    assert sign_in(app.test_client(), "margarethe.vanderbilt@example.com").headers["Location"] == "/licenses/"


def test_suspend_user_ends_a_live_session_and_stops_sign_in(app, client):
    add_user(app)
    assert sign_in(client).headers["Location"] == "/licenses/"
    assert client.get("/licenses/").status_code == 200

    result = app.test_cli_runner().invoke(args=["suspend-user", "filer@example.com", "--reason", "left the company"])
    assert result.exit_code == 0 and "Suspended filer@example.com" in result.output

    assert client.get("/licenses/").headers["Location"].startswith("/signin")
    response = sign_in(client)
    assert response.status_code == 200
    assert field_error(response, "password") == (
        "This account is suspended. Contact the AIM help desk at aim-helpdesk@trade.example.gov "
        "if you think this is a mistake.")
    # A wrong password reads as for anyone: the suspension is told only to who knows the password.
    assert field_error(sign_in(client, password="Wrong-Horse-99"), "password") == (
        "The email address or password is incorrect.")
    [suspended] = events(app, kind="suspended")
    assert suspended.email == "filer@example.com" and suspended.note == "left the company"

    result = app.test_cli_runner().invoke(args=["suspend-user", "filer@example.com", "--lift"])
    assert result.exit_code == 0 and "Lifted" in result.output
    assert sign_in(app.test_client()).headers["Location"] == "/licenses/"


def test_suspend_user_of_an_unknown_address_says_so(app):
    result = app.test_cli_runner().invoke(args=["suspend-user", "nobody@example.com"])
    assert result.exit_code != 0 and "No account has the email address nobody@example.com." in result.output


def test_suspended_user_cannot_reset_the_password_into_a_session(app, client, mailbox):
    add_user(app)
    app.test_cli_runner().invoke(args=["suspend-user", "filer@example.com"])
    verified_reset(client, mailbox)
    response = client.get("/password/new", follow_redirects=True)
    assert "This account is suspended." in text(response)
    assert client.get("/licenses/").headers["Location"].startswith("/signin")


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(app):
    add_user(app)
    attacker = from_address(app, "203.0.113.9")
    for _ in range(5):
        sign_in(attacker, password="Wrong-Horse-99")
    response = sign_in(attacker)  # even the right password, from there
    assert response.status_code == 429 and LOCKED.match(field_error(response, "password"))

    owner = from_address(app, "198.51.100.7")
    assert sign_in(owner).headers["Location"] == "/licenses/"
    assert [e.outcome for e in events(app, kind="locked")] == ["from_one_address"]


@pytest.mark.parametrize("app", [{"SIGN_IN_ACCOUNT_MAX_FAILURES": 8}], indirect=True)
def test_wrong_passwords_from_many_addresses_lock_the_account_for_everyone(app):
    add_user(app)
    for n in range(4):
        attacker = from_address(app, f"203.0.113.{n}")
        for _ in range(2):
            assert sign_in(attacker, password="Wrong-Horse-99").status_code in (200, 429)
    owner = from_address(app, "198.51.100.7")
    response = sign_in(owner)
    assert response.status_code == 429 and LOCKED.match(field_error(response, "password"))
    assert [e.outcome for e in events(app, kind="locked")] == ["from_everywhere"]


# ----- 5. the sign-in audit ----------------------------------------------------------------------

def test_sign_ins_failures_locks_and_password_changes_are_recorded(app, client, mailbox):
    add_user(app)
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    sign_in(client, password="Wrong-Horse-99", headers={"User-Agent": "Firefox/140"})
    sign_in(client, email="nobody@example.com", password="Wrong-Horse-99")
    sign_in(client)
    client.post("/signout", data={"csrf_token": csrf_token(client, "/")})
    verified_reset(client, mailbox)
    post_form(client, "/password/new", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    rows = [(e.kind, e.outcome, e.email, e.user_id is not None, e.client_address) for e in events(app)]
    assert rows == [
        ("sign_in_failed", "wrong_password", "filer@example.com", True, "198.51.100.7"),
        ("sign_in_failed", "wrong_password", "nobody@example.com", False, "198.51.100.7"),
        ("sign_in", "ok", "filer@example.com", True, "198.51.100.7"),
        ("signed_out", "ok", "filer@example.com", True, "198.51.100.7"),
        ("reset_requested", "requested", "filer@example.com", True, "198.51.100.7"),
        ("password_reset", "ok", "filer@example.com", True, "198.51.100.7"),
    ]
    assert events(app)[0].user_agent == "Firefox/140"
    assert all(abs(e.at - utcnow()) < timedelta(minutes=1) for e in events(app))


def test_a_reset_for_an_unregistered_address_mails_nothing_and_is_recorded_alike(app, mailbox):
    add_user(app)
    send_code(app.test_client(), "filer@example.com", "/password/forgot")
    send_code(app.test_client(), "nobody@example.com", "/password/forgot")
    assert [m["X-Envelope-To"] for m in mailbox.messages] == ["filer@example.com"]
    [known, unknown] = events(app, kind="reset_requested")
    assert (known.outcome, unknown.outcome) == ("requested", "requested")
    with app.app_context():  # the same work was done for both: a code issued and counted
        assert len(db.session.scalars(select(OneTimeCode).where(OneTimeCode.purpose == "reset")).all()) == 2


def test_officers_read_filter_and_export_the_sign_in_audit(app, client):
    add_user(app)
    add_user(app, "officer@example.com", company=False, role="officer")
    stranger = app.test_client()
    sign_in(stranger, password="Wrong-Horse-99", headers={"User-Agent": "=HYPERLINK(\"http://x\")"})
    assert sign_in(client, "officer@example.com").status_code == 302

    page = client.get("/admin/sign-ins")
    assert page.status_code == 200
    assert 'href="/admin/sign-ins"' in page.get_data(as_text=True)  # in the officer navigation
    page = text(page)
    assert "Sign-in Audit" in page and "filer@example.com" in page and "Wrong email or password" in page

    filtered = text(client.get("/admin/sign-ins?kind=sign_in&email=OFFICER@example.com"))
    assert "officer@example.com" in filtered and "filer@example.com" not in filtered
    assert "Nothing recorded for these filters." in text(client.get("/admin/sign-ins?kind=suspended"))

    response = client.get("/admin/sign-ins.csv?email=filer@example.com")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["When (UTC)", "Email", "What", "Outcome", "Client address"]
    assert rows[1][1:4] == ["filer@example.com", "Sign-in refused", "Wrong email or password"]
    assert rows[1][5] == "'=HYPERLINK(\"http://x\")"  # shown as text, never run by a spreadsheet


@pytest.mark.parametrize("query", ["page=0", "page=99999999999999999999", "page=10001", "page=-3"])
def test_sign_in_audit_page_numbers_out_of_range_are_not_found(app, client, query):
    add_user(app, "officer@example.com", company=False, role="officer")
    sign_in(client, "officer@example.com")
    assert client.get(f"/admin/sign-ins?{query}").status_code == 404


def test_sign_in_audit_odd_filters_are_harmless(app, client):
    add_user(app, "officer@example.com", company=False, role="officer")
    sign_in(client, "officer@example.com")
    for query in ["email=%00", "kind=%00", "email=" + "a" * 5000, "kind=drop table", "page=abc"]:
        assert client.get(f"/admin/sign-ins?{query}").status_code == 200
        assert client.get(f"/admin/sign-ins.csv?{query}").status_code == 200


def test_filers_and_visitors_cannot_read_the_sign_in_audit(app, client):
    add_user(app)
    assert client.get("/admin/sign-ins").headers["Location"].startswith("/signin")
    sign_in(client)
    assert client.get("/admin/sign-ins").status_code == 403
    assert client.get("/admin/sign-ins.csv").status_code == 403


# ----- 6. caches and cookies ---------------------------------------------------------------------

def add_license(app, user_id: int) -> str:
    with app.app_context():
        user = db.session.get(User, user_id)
        item = packaged_catalogue()["7601103000"]
        lic = License(
            number="ALTEA1220", status="submitted", company=user.company, created_by=user,
            entry_number="ABC-1234567-6", entry_type="consumption", importer_name="Gulf Coast Metals LLC",
            exporter_name="Northern Rolling Mills Inc.", manufacturer_name="Alouette Smelting",
            origin_country="CA", export_country="CA", port_code="5301", export_date=date(2025, 3, 3),
            import_date=date(2025, 3, 10), certified_at=datetime(2025, 2, 20, 14, 5),
            issued_at=datetime(2025, 2, 20, 14, 5), valid_from=date(2025, 2, 20), valid_through=date(2025, 5, 6))
        lic.lines.append(ProductLine(
            position=0, hts_number="7601103000", description=item.description, category=item.category,
            smelt_largest="CA", smelt_second="NA_", cast_country="CA", quantity_kg=Decimal("12500.00"),
            customs_value_usd=Decimal("38750.00"), unit_value=Decimal("3.10")))
        db.session.add(lic)
        db.session.commit()
        return lic.number


def get_urls(app, number: str) -> list[str]:
    """Every URL that answers GET, with a real license number and sample values elsewhere."""
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        values = {}
        for arg in rule.arguments:
            converter = rule._converters.get(arg)
            if isinstance(converter, NumberConverter):
                values[arg] = 1
            elif isinstance(converter, AnyConverter):
                values[arg] = min(converter.items)
            else:
                values[arg] = number
        urls.append(adapter.build(rule.endpoint, values))
    return urls


@pytest.mark.parametrize("role", ["filer", "officer"])
def test_every_page_a_signed_in_user_gets_is_no_store(app, client, role):
    user_id = add_user(app, role=role, company=role == "filer")
    filer_id = user_id if role == "filer" else add_user(app, "owner@example.com")
    number = add_license(app, filer_id)
    sign_in(client)
    urls = get_urls(app, number)
    assert len(urls) > 30 and f"/licenses/{number}/pdf" in urls
    for url in urls:
        response = client.get(url, headers={"HX-Request": "true"} if "summary" in url else {})
        assert response.headers.get("Cache-Control") == "no-store", (url, response.status_code)
    pdf = client.get(f"/licenses/{number}/pdf")
    if role == "filer":
        assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert client.get("/static/vendor/htmx.min.js").headers.get("Cache-Control") != "no-store"


def test_pages_for_visitors_are_not_marked_no_store(client):
    assert "no-store" not in client.get("/monitor/").headers.get("Cache-Control", "")


@pytest.mark.parametrize("app", [{"SESSION_COOKIE_SECURE": True}], indirect=True)
def test_over_https_the_session_cookie_has_the_host_prefix_and_sign_in_works(app):
    add_user(app)
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = "https://localhost/signin"  # Flask-WTF's HTTPS check
    page = client.get("/signin", base_url="https://localhost")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/signin", base_url="https://localhost",
                           data={"csrf_token": token, "email": "filer@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/licenses/"
    assert client.get("/licenses/", base_url="https://localhost").status_code == 200
    assert client.get_cookie("session") is None


def test_csp_base_uri_is_none(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "base-uri 'none'" in csp


# ----- 10. rate limits across workers ------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(tmp_path, workers: int, **settings):
    """gunicorn started from the repository root, once its workers have booted: (port, start log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMWEB_", "WEB_CONCURRENCY"))}
    env.update(AIMWEB_SECRET_KEY="x", AIMWEB_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/g.sqlite3")
    env.update({f"AIMWEB_{k}": v for k, v in settings.items()})
    port = _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
        cwd=Path(__file__).resolve().parents[1], env=env, stderr=subprocess.PIPE, text=True)
    log, booted = [], 0
    deadline = time.monotonic() + 60
    try:
        while booted < workers and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            log.append(line)
            booted += "Booting worker" in line
        assert booted == workers, "".join(log)
        time.sleep(0.5)  # the workers import the app after "Booting worker"
        yield port, "".join(log)
    finally:
        process.terminate()
        try:  # a graceful stop can outlast 30 s on a loaded machine: what is tested is the start
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


def gunicorn_start_log(tmp_path, workers: int, storage: str | None) -> str:
    with gunicorn(tmp_path, workers, **({"RATELIMIT_STORAGE_URI": storage} if storage else {})) as (_, log):
        return log


def test_two_workers_with_memory_rate_limits_warn_loudly_at_start(tmp_path):
    log = gunicorn_start_log(tmp_path, 2, None)
    assert "RATE LIMITS ARE PER WORKER: 2 workers serve" in log
    assert "Set AIMWEB_RATELIMIT_STORAGE_URI=redis://HOST:6379/0" in log


def test_redis_rate_limits_or_one_worker_start_quietly(tmp_path):
    assert "RATE LIMITS ARE PER WORKER" not in gunicorn_start_log(tmp_path, 2, "redis://127.0.0.1:6379/0")
    assert "RATE LIMITS ARE PER WORKER" not in gunicorn_start_log(tmp_path, 1, None)


def test_with_redis_two_workers_count_sign_ins_together(tmp_path):
    try:
        redis.Redis(socket_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    with gunicorn(tmp_path, 2, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                  RATELIMIT_KEY_PREFIX=f"aimweb-test-{uuid.uuid4().hex}",
                  RATELIMIT_SIGN_IN="6 per minute") as (port, log):
        assert "RATE LIMITS ARE PER WORKER" not in log
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = browser.open(f"http://127.0.0.1:{port}/signin", timeout=30).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urlencode({"csrf_token": token, "email": "filer@example.com", "password": ""}).encode()
        statuses = []
        for _ in range(20):  # each on a new connection, served by either worker
            try:
                statuses.append(browser.open(f"http://127.0.0.1:{port}/signin", data=form, timeout=30).status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
    assert statuses.count(200) == 6 and statuses.count(429) == 14, statuses
