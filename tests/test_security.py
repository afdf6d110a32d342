"""Security basics a user (or an attacker) would notice: CSRF on every form, cookies, headers,
no inline script, sessions that end when they should, roles, and redirects that stay on the site."""
from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from conftest import PASSWORD, _password_hash, add_user, csrf_token, post_form, sign_in
from werkzeug.routing.converters import AnyConverter, NumberConverter

from aimweb import create_app
from aimweb.security import (
    PASSWORD_RULE,
    is_safe_next,
    keyed_hash,
    password_problem,
    verify_password,
)

CSRF_MESSAGE = ("This form had been open too long or your session ended, so for your security it was not "
                "sent. Please go back, reload the page and submit again.")


@pytest.fixture
def filer(app):
    return add_user(app)


def enter_as(client, user_id: int, signed_in_at: float | None = None) -> None:
    """Signed in without the (slow, tested elsewhere) password check."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:1"
        session["_fresh"] = True
        session["signed_in_at"] = int(signed_in_at or time.time())


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", response.get_data(as_text=True))).split())


def sign_out(client):
    return client.post("/signout", data={"csrf_token": csrf_token(client, "/")})


def is_signed_in(client) -> bool:
    response = client.get("/licenses/")
    return response.status_code == 200 and "Signed in as" in text(response)


# ----- CSRF -------------------------------------------------------------------------------------

def _sample(converter):
    if isinstance(converter, NumberConverter):
        return 1
    if isinstance(converter, AnyConverter):  # <any(csv, xlsx):kind>: one of its values
        return sorted(converter.items)[0]
    return "x"


def _post_urls(app) -> list[str]:
    """Every URL that accepts a POST, with a sample value for each variable part."""
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            values = {arg: _sample(rule._converters.get(arg)) for arg in rule.arguments}
            urls.append(adapter.build(rule.endpoint, values, method="POST"))
    return urls


def test_every_post_without_csrf_token_is_refused_with_a_readable_page(app, client, filer):
    enter_as(client, filer)
    urls = _post_urls(app)
    assert {"/signup", "/signup/verify", "/signup/resend", "/signup/create", "/signin", "/signout",
            "/password/forgot", "/password/verify", "/password/resend", "/password/new",
            "/account/company"} <= set(urls)
    for url in urls:
        response = client.post(url, data={"email": "filer@example.com", "password": PASSWORD})
        if url.startswith("/api/"):
            # The JSON API takes no cookie (and so needs no CSRF token): a session opens nothing there.
            assert response.status_code == 401 and response.content_type == "application/problem+json", url
            continue
        assert response.status_code == 400, url
        page = text(response)
        assert CSRF_MESSAGE in page, url
        assert "Traceback" not in page and "CSRF" not in page, url
    assert is_signed_in(client)  # the refused sign-out did nothing


def test_csrf_token_of_another_session_is_refused(app, client, filer):
    token = csrf_token(app.test_client(), "/signin")
    response = client.post("/signin", data={"csrf_token": token, "email": "filer@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert CSRF_MESSAGE in text(response)


def test_htmx_requests_send_the_token_in_a_header(client, filer):
    enter_as(client, filer)
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/licenses/").get_data(as_text=True))[1]
    assert client.post("/signout", headers={"X-CSRFToken": token, "HX-Request": "true"}).status_code == 302
    assert not is_signed_in(client)


# ----- cookies and headers ----------------------------------------------------------------------

def test_session_cookie_is_httponly_and_samesite_lax(client):
    cookie = client.get("/signin").headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize("app", [{"SESSION_COOKIE_SECURE": True}], indirect=True)
def test_session_cookie_is_secure_and_hsts_sent_when_configured_for_https(client):
    response = client.get("/signin", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("path", ["/", "/signin", "/signup", "/password/forgot", "/no-such-page"])
def test_security_headers_on_every_page(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]
    assert "Strict-Transport-Security" not in response.headers  # not configured for HTTPS


def _inline_code(page: str) -> list[str]:
    return (re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page)
            + re.findall(r"<[^>]+\son[a-z]+\s*=", page)
            + re.findall(r"<[^>]+\sstyle\s*=", page)
            + re.findall(r"<style\b", page))


def test_pages_need_no_inline_script_or_style(app, client, filer):
    anonymous = ["/", "/signin", "/signup", "/password/forgot", "/no-such-page"]
    for path in anonymous:
        assert _inline_code(client.get(path).get_data(as_text=True)) == [], path
    post_form(client, "/signup", {"email": "new@example.com"})
    assert _inline_code(client.get("/signup/verify").get_data(as_text=True)) == []
    enter_as(client, filer)
    for path in ["/licenses/", "/account/company", "/review/"]:
        assert _inline_code(client.get(path).get_data(as_text=True)) == [], path
    assert _inline_code(post_form(client, "/account/company", {"ein": "07"}).get_data(as_text=True)) == []


# ----- sessions ---------------------------------------------------------------------------------

def test_sign_in_starts_a_fresh_session(client, filer):
    post_form(client, "/password/forgot", {"email": "nobody@example.com"})  # leaves state in the session
    before = client.get_cookie("session").value
    assert sign_in(client).headers["Location"] == "/licenses/"
    assert client.get_cookie("session").value != before
    # Nothing from before sign-in carried over.
    assert client.get("/password/verify").headers["Location"] == "/password/forgot"


def test_old_session_cookie_no_longer_works_after_sign_out(app, client, filer):
    sign_in(client)
    stolen = client.get_cookie("session").value
    assert sign_out(client).headers["Location"] == "/"
    assert not is_signed_in(client)
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/licenses/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")


def test_session_ends_after_its_absolute_lifetime(app, client, filer):
    limit = app.config["SESSION_ABSOLUTE_LIFETIME_SECONDS"]
    enter_as(client, filer, signed_in_at=time.time() - limit + 60)
    assert is_signed_in(client)
    enter_as(client, filer, signed_in_at=time.time() - limit - 1)
    assert not is_signed_in(client)


def test_signed_in_session_cookie_expires_after_the_idle_lifetime(client, filer):
    sign_in(client)
    cookie = client.get_cookie("session")
    assert cookie.expires is not None
    idle = (cookie.expires.timestamp() - time.time())
    assert 3500 < idle <= 3600


def test_the_idle_lifetime_is_extended_at_most_once_a_minute(app, client, filer):
    sign_in(client)
    client.get("/licenses/")  # the first page changes the session (its CSRF token): sent
    assert "Set-Cookie" not in client.get("/licenses/").headers  # unchanged, signed a moment ago: not re-sent
    app.config["SESSION_REFRESH_SECONDS"] = 0  # as a minute later
    refreshed = client.get("/licenses/").headers.get("Set-Cookie", "")
    assert refreshed.startswith("session=") and "Expires=" in refreshed
    assert is_signed_in(client)


def test_an_idle_session_ends_even_when_not_refreshed(app, client, filer):
    sign_in(client)
    # An hour later, as far as the signature's age goes (it counts whole seconds: 0 s may be "now").
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=-1)
    response = client.get("/licenses/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")


# ----- roles and where sign-in leads ------------------------------------------------------------

def test_filer_cannot_open_officer_pages(client, filer):
    enter_as(client, filer)
    response = client.get("/review/")
    assert response.status_code == 403
    page = text(response)
    assert "Not allowed" in page and "Your account does not have access to this page." in page


def test_officer_opens_the_review_queue(app, client):
    enter_as(client, add_user(app, "officer@example.com", role="officer", company=False))
    response = client.get("/review/")
    assert response.status_code == 200 and "Review Queue" in text(response)
    assert client.get("/licenses/").headers["Location"] == "/review/"


@pytest.mark.parametrize("path", ["/licenses/", "/account/company", "/review/"])
def test_anonymous_user_is_sent_to_sign_in_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/signin?next={quote(path, safe='')}"
    page = client.get(response.headers["Location"])
    assert "Please sign in to continue." in text(page)
    assert f'name="next" value="{path}"' in page.get_data(as_text=True)


def test_sign_in_follows_next_on_this_site(client, filer):
    response = client.get("/account/company")
    response = post_form(client, response.headers["Location"], {"email": "filer@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/account/company"


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "http://evil.example/licenses/", "/\\evil.example",
    "/\t/evil.example", "javascript:alert(1)", "evil.example",
])
def test_sign_in_does_not_follow_next_off_the_site(client, filer, target):
    response = post_form(client, "/signin?next=" + quote(target, safe=""),
                         {"email": "filer@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/licenses/"


def test_next_is_not_injected_into_the_sign_in_page(client):
    page = client.get("/signin?next=" + quote('"><script>alert(1)</script>')).get_data(as_text=True)
    assert "<script>alert(1)" not in page


# ----- the pieces -------------------------------------------------------------------------------

@pytest.mark.parametrize("password, problem", [
    ("Abcdef1", "The password is too short: use at least 8 characters."),
    ("Qz8vRkwm", None),
    ("Abcdefgh", "The password has 2 of the 4 kinds of characters and needs at least 3. Missing: a number, a symbol."),
    ("qz8vrk!w", None),
    ("QZ8VRK!W", None),
    ("qzxvrkW!", None),
    ("Qz8!" + "vRk2#mWp" * 7 + "Abcd", None),
    ("Qz8!" + "vRk2#mWp" * 7 + "Abcde", "The password is too long: use at most 64 characters."),
    ("12345678!", ("The password has 2 of the 4 kinds of characters and needs at least 3. "
                   "Missing: a lowercase letter, an uppercase letter.")),
    ("Ünïcödé-Wörd", None),
])
def test_password_rule(password, problem):
    assert password_problem(password) == problem


def test_password_rule_is_stated_in_the_words_of_the_page():
    assert PASSWORD_RULE == ("The password must be between 8 and 64 characters and have at least 3 of the "
                             "following: a lowercase letter, an uppercase letter, a number, a symbol.")


def test_passwords_are_hashed_with_argon2id():
    stored = _password_hash()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")
    assert not verify_password(None, "not a real password")  # an unknown address never matches
    assert not verify_password("garbage", PASSWORD)


@pytest.mark.parametrize("target, safe", [
    ("/licenses/", True), ("/account/company?tab=2", True), (None, False), ("", False),
    ("//evil.example", False), ("///evil.example", False), ("https://evil.example", False),
    ("/\\evil.example", False), ("\\\\evil.example", False), ("/\t/evil.example", False),
    ("javascript:alert(1)", False), ("licenses/", False),
])
def test_only_paths_on_this_site_are_safe_next_targets(target, safe):
    assert is_safe_next(target) is safe


def test_code_hashes_are_keyed_by_the_secret_key(database_uri):
    hashes = []
    for key in ("one-secret", "another-secret"):
        with create_app({"TESTING": True, "SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": database_uri}).app_context():
            hashes.append(keyed_hash("code", "signup", "a@example.com", "123456"))
    assert hashes[0] != hashes[1] and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)


def test_app_refuses_to_start_without_a_secret_key_outside_testing(database_uri, monkeypatch):
    monkeypatch.delenv("AIMWEB_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="AIMWEB_SECRET_KEY is not set"):
        create_app({"TESTING": False, "DEBUG": False, "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": database_uri})
    assert create_app({"TESTING": True, "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": database_uri}).secret_key
