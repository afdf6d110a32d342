"""Accounts over HTTP, in the guide's words: "Sign Up Now" with an emailed code, sign in and out,
the sign-in lock, rate limits and "Forgot your password?". Real database, real SMTP (aiosmtpd)."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD, _password_hash, add_user, csrf_token, post_form, sign_in
from sqlalchemy import func, select, update

from aimweb.extensions import db
from aimweb.models import OneTimeCode, SignInThrottle, User, utcnow
from aimweb.security import PASSWORD_RULE, keyed_hash

NEW_PASSWORD = "Riverstone-2024"
EXPIRED = "This code has expired or was replaced. Click “Send new code” to get a new one."
WRONG_SIGN_IN = "The email address or password is incorrect."
LOCKED = (
    "Too many failed sign-in attempts. For your security, sign-in to this account is paused for "
    "about 15 minutes. You can wait, or reset your password now with “Forgot your password?”."
)


# ----- helpers ----------------------------------------------------------------------------------

@pytest.fixture
def filer(app):
    # Overrides the conftest fixture, which needs an application context the tests here don't hold.
    return add_user(app)


def text(response) -> str:
    """What the user reads: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", response.get_data(as_text=True))).split())


def field_error(response, field_id: str) -> str | None:
    m = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</span>', response.get_data(as_text=True), re.DOTALL)
    return " ".join(html.unescape(m.group(1)).split()) if m else None


def without_tokens(page: str) -> str:
    """The page without its per-session CSRF tokens."""
    page = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", page)
    return re.sub(r'name="csrf-token" content="[^"]*"', "", page)


def codes(app, purpose="signup", email="new@example.com") -> list[OneTimeCode]:
    with app.app_context():
        rows = db.session.scalars(
            select(OneTimeCode).where(OneTimeCode.purpose == purpose, OneTimeCode.email == email)
            .order_by(OneTimeCode.id)
        ).all()
        db.session.expunge_all()
        return rows


def shift_codes(app, seconds: int, purpose="signup", email="new@example.com"):
    """Move every code of this address `seconds` into the past, as if time had passed."""
    with app.app_context():
        for row in db.session.scalars(
            select(OneTimeCode).where(OneTimeCode.purpose == purpose, OneTimeCode.email == email)
        ):
            row.created_at -= timedelta(seconds=seconds)
            row.expires_at -= timedelta(seconds=seconds)
        db.session.commit()


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def other(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def send_code(client, email="new@example.com", path="/signup"):
    response = post_form(client, path, {"email": email})
    assert response.status_code == 302, text(response)
    return response


def enter_code(client, code: str, path="/signup/verify"):
    return post_form(client, path, {"code": code})


def verified_sign_up(client, mailbox, email="new@example.com"):
    send_code(client, email)
    response = enter_code(client, mailbox.last_code(email))
    assert response.headers["Location"] == "/signup/create"


def send_new_code(client):
    # "Send new code" is a second submit button of the Verify Code form (same CSRF token).
    return client.post("/signup/resend", data={"csrf_token": csrf_token(client, "/signup/verify"), "code": ""})


def create_account(client, password=NEW_PASSWORD, confirm=None, **names):
    data = {"display_name": "Riverstone Metals", "first_name": "Dana", "last_name": "Whitaker",
            "password": password, "confirm": password if confirm is None else confirm, **names}
    return post_form(client, "/signup/create", data)


def lock_address(app, email: str, minutes=15):
    with app.app_context():
        db.session.add(SignInThrottle(email_key=keyed_hash("signin", email), failures=0,
                                      locked_until=utcnow() + timedelta(minutes=minutes)))
        db.session.commit()


# ----- Sign Up Now ------------------------------------------------------------------------------

def test_sign_up_mails_a_code_then_creates_the_account_and_asks_for_the_company(app, client, mailbox):
    home = text(client.get("/"))
    assert "Sign Up Now" in home
    page = text(client.get("/signup"))
    assert "Create your account" in page and "Send verification code" in page

    response = post_form(client, "/signup", {"email": "  New@Example.com "})
    assert response.headers["Location"] == "/signup/verify"
    [mail] = mailbox.wait_for("new@example.com")
    assert mail["Subject"] == "SIMA and AIM Licensing: your verification code"
    assert "The code works for 10 minutes and only once." in mailbox.body(mail)
    code = mailbox.last_code("new@example.com")

    page = text(client.get("/signup/verify"))
    assert "A verification code will be emailed to you at new@example.com" in page
    assert "Verify Code" in page and "Send new code" in page

    response = enter_code(client, code)
    assert response.headers["Location"] == "/signup/create"
    page = text(client.get("/signup/create"))
    assert "new@example.com (verified)" in page
    for label in ("Display Name", "First Name", "Last Name", "New Password", "Confirm New Password", "Create"):
        assert label in page

    response = create_account(client)
    assert response.headers["Location"] == "/account/company"
    page = text(client.get("/account/company"))
    assert "Your account was created. Now tell us about your company." in page
    assert "Register your company" in page and "Signed in as Riverstone Metals" in page

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@example.com"))
        assert (user.display_name, user.first_name, user.last_name, user.role) == (
            "Riverstone Metals", "Dana", "Whitaker", "filer")
        assert user.email_verified_at is not None and user.company is None
        assert user.password_hash.startswith("$argon2id$") and NEW_PASSWORD not in user.password_hash


def test_create_account_page_states_the_password_rule_before_the_user_types(client, mailbox):
    verified_sign_up(client, mailbox)
    page = text(client.get("/signup/create"))
    assert PASSWORD_RULE in page
    assert "usa-error-message" not in page


@pytest.mark.parametrize(
    "password, message",
    [
        pytest.param("Short-1", "The password is too short: use at least 8 characters.", id="too-short"),
        pytest.param("Aa1!" * 16 + "x", "The password is too long: use at most 64 characters.", id="too-long"),
        pytest.param("riverstone2024", ("The password has 2 of the 4 kinds of characters and needs at least 3. "
                                        "Missing: an uppercase letter, a symbol."), id="two-kinds"),
        pytest.param("RIVERSTONEMETALS", ("The password has 1 of the 4 kinds of characters and needs at least 3. "
                                          "Missing: a lowercase letter, a number, a symbol."), id="one-kind"),
        pytest.param("", "Enter a new password.", id="empty"),
    ],
)
def test_create_account_says_what_is_wrong_with_the_password(app, client, mailbox, password, message):
    verified_sign_up(client, mailbox)
    response = create_account(client, password)
    assert response.status_code == 200
    assert field_error(response, "password") == message
    assert PASSWORD_RULE in text(response)  # the rule stays next to the field
    typed = response.get_data(as_text=True)
    assert 'value="Riverstone Metals"' in typed and 'value="Whitaker"' in typed  # typed names kept
    assert count_users(app) == 0


def test_create_account_says_when_the_two_passwords_differ(app, client, mailbox):
    verified_sign_up(client, mailbox)
    response = create_account(client, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert field_error(response, "confirm") == "The two passwords do not match."
    assert field_error(response, "password") is None
    assert count_users(app) == 0


def test_create_account_shows_every_missing_name_at_once(app, client, mailbox):
    verified_sign_up(client, mailbox)
    response = create_account(client, display_name=" ", first_name="", last_name="")
    assert field_error(response, "display_name") == "Enter a display name."
    assert field_error(response, "first_name") == "Enter your first name."
    assert field_error(response, "last_name") == "Enter your last name."
    assert "Please correct the 3 fields marked below" in text(response)
    assert count_users(app) == 0


@pytest.mark.parametrize(
    "email, message",
    [("", "Enter your email address."),
     ("not-an-email", "An email address must have an @-sign. Enter an email address like name@example.com."),
     # Said why: an address at a reserved domain can never receive the code, nor sign in.
     ("new@importer.test", "The part after the @-sign is a special-use or reserved name that cannot be "
                           "used with email. Enter an email address like name@example.com.")],
)
def test_sign_up_asks_for_a_real_email_address(client, mailbox, email, message):
    response = post_form(client, "/signup", {"email": email})
    assert response.status_code == 200
    assert field_error(response, "email") == message
    assert mailbox.messages == []


def test_create_account_page_needs_a_verified_email(client, mailbox):
    response = client.get("/signup/create")
    assert response.headers["Location"] == "/signup"
    assert "Please verify your email address first." in text(client.get("/signup"))
    send_code(client)  # a code was sent but not entered: still not verified
    assert client.get("/signup/create").headers["Location"] == "/signup"


# ----- the emailed codes ------------------------------------------------------------------------

def test_code_is_stored_only_as_a_keyed_hash(app, client, mailbox):
    send_code(client)
    code = mailbox.last_code("new@example.com")
    assert re.fullmatch(r"\d{6}", code)
    [row] = codes(app)
    stored = " ".join(str(getattr(row, c.key)) for c in OneTimeCode.__table__.columns)
    assert code not in stored
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)


def test_code_works_only_once(client, mailbox):
    send_code(client)
    code = mailbox.last_code("new@example.com")
    assert enter_code(client, code).headers["Location"] == "/signup/create"
    response = enter_code(client, code)
    assert response.status_code == 200
    assert field_error(response, "code") == EXPIRED


@pytest.mark.parametrize("age, works", [(-5, True), (0, False)], ids=["5s-before-expiry", "at-expiry"])
def test_code_expires_after_code_ttl_seconds(app, client, mailbox, age, works):
    ttl = app.config["CODE_TTL_SECONDS"]
    send_code(client)
    [row] = codes(app)
    assert row.expires_at - row.created_at == timedelta(seconds=ttl)
    shift_codes(app, ttl + age)
    response = enter_code(client, mailbox.last_code("new@example.com"))
    if works:
        assert response.headers["Location"] == "/signup/create"
    else:
        assert field_error(response, "code") == EXPIRED


def test_code_dies_after_five_wrong_tries(app, client, mailbox):
    send_code(client)
    code = mailbox.last_code("new@example.com")
    for left in (4, 3, 2):
        assert field_error(enter_code(client, other(code)), "code") == f"That code is not right. {left} tries left."
    assert field_error(enter_code(client, other(code)), "code") == "That code is not right. 1 try left."
    assert field_error(enter_code(client, other(code)), "code") == (
        "Too many wrong tries: this code no longer works. Click “Send new code”.")
    assert field_error(enter_code(client, code), "code") == EXPIRED  # even the right one, now
    assert client.get("/signup/create").headers["Location"] == "/signup"


@pytest.mark.parametrize(
    "typed, message",
    [("", "Enter the 6-digit code from the email."), ("12345", "The code is 6 digits, like 123456."),
     ("12a456", "The code is 6 digits, like 123456.")],
    ids=["empty", "five-digits", "letter"],
)
def test_malformed_code_is_explained_and_costs_no_try(app, client, mailbox, typed, message):
    send_code(client)
    assert field_error(enter_code(client, typed), "code") == message
    assert codes(app)[0].attempts == 0


def test_code_pasted_with_spaces_around_it_works(client, mailbox):
    send_code(client)
    response = enter_code(client, f"  {mailbox.last_code('new@example.com')} ")
    assert response.headers["Location"] == "/signup/create"


def test_send_new_code_replaces_the_old_one(app, client, mailbox):
    send_code(client)
    old = mailbox.last_code("new@example.com")
    shift_codes(app, app.config["CODE_RESEND_INTERVAL_SECONDS"])
    response = send_new_code(client)
    assert response.headers["Location"] == "/signup/verify"
    assert "A new code will be emailed to you. The old one no longer works." in text(client.get("/signup/verify"))
    new = mailbox.last_code("new@example.com")
    assert len(mailbox.wait_for("new@example.com", 2)) == 2
    if new != old:  # one chance in a million that the two are equal
        # Checked against the new code, the old one is just a wrong code.
        assert field_error(enter_code(client, old), "code") == "That code is not right. 4 tries left."
    assert enter_code(client, new).headers["Location"] == "/signup/create"


def test_send_new_code_must_wait_for_the_resend_interval(app, client, mailbox):
    send_code(client)
    send_new_code(client)
    page = text(client.get("/signup/verify"))
    assert re.search(r"A code was sent moments ago\. Please wait (60|59) seconds before asking for a new one\.", page)
    assert len(mailbox.to("new@example.com")) == 1
    assert len(codes(app)) == 1


@pytest.mark.parametrize("app", [{"CODE_RESEND_INTERVAL_SECONDS": 0}], indirect=True)
def test_send_new_code_is_capped_per_hour(app, client, mailbox):
    cap = app.config["CODE_MAX_PER_HOUR"]
    send_code(client)
    for _ in range(cap - 1):
        send_new_code(client)
    assert len(mailbox.to("new@example.com")) == cap
    send_new_code(client)
    page = text(client.get("/signup/verify"))
    assert "Too many codes were requested for this address. Please try again in an hour." in page
    assert len(mailbox.to("new@example.com")) == cap
    shift_codes(app, 3600)  # an hour later it works again
    send_new_code(client)
    assert len(mailbox.to("new@example.com")) == cap + 1


def test_sign_up_with_a_registered_email_reads_the_same_and_mails_the_owner(app, client, mailbox):
    add_user(app, "owner@example.com")
    stranger = app.test_client()
    send_code(stranger, "owner@example.com")
    send_code(client, "new@example.com")

    def verify_page(c, email):
        return without_tokens(c.get("/signup/verify").get_data(as_text=True)).replace(email, "EMAIL")

    assert verify_page(stranger, "owner@example.com") == verify_page(client, "new@example.com")
    [notice] = mailbox.wait_for("owner@example.com")
    assert notice["Subject"] == "SIMA and AIM Licensing: you already have an account"
    body = mailbox.body(notice)
    assert "already has an account" in body and "Forgot your password?" in body
    assert "Your code is" not in body
    # Guessing goes the same way for both.
    assert field_error(enter_code(stranger, "123456"), "code") == "That code is not right. 4 tries left."
    assert count_users(app) == 1


# ----- sign in / sign out -----------------------------------------------------------------------

def test_sign_in_and_sign_out(client, filer):
    page = text(client.get("/signin"))
    assert "Sign in with your existing account" in page and "Forgot your password?" in page
    response = sign_in(client, email="Filer@Example.com")
    assert response.headers["Location"] == "/licenses/"
    page = text(client.get("/licenses/"))
    assert "License Dashboard" in page and "Signed in as Test Filer" in page and "Sign out" in page

    response = client.post("/signout", data={"csrf_token": csrf_token(client, "/licenses/")})
    assert response.headers["Location"] == "/"
    page = text(client.get("/"))
    assert "You have signed out." in page and "Signed in as" not in page
    assert client.get("/licenses/").headers["Location"].startswith("/signin")


@pytest.mark.parametrize("email, password", [("filer@example.com", "Wrong-Horse-9"), ("nobody@example.com", PASSWORD)],
                         ids=["wrong-password", "unknown-email"])
def test_wrong_password_and_unknown_email_get_the_same_message(client, filer, email, password):
    response = sign_in(client, email=email, password=password)
    assert response.status_code == 200
    assert field_error(response, "password") == WRONG_SIGN_IN
    assert f'value="{email}"' in response.get_data(as_text=True)  # the email stays typed
    assert "Signed in as" not in text(response)


def test_sign_in_warns_then_locks_after_max_failures(app, client, filer):
    assert app.config["SIGN_IN_MAX_FAILURES"] == 5
    messages = [field_error(sign_in(client, password="Wrong-Horse-9"), "password") for _ in range(5)]
    assert messages == [
        WRONG_SIGN_IN,
        WRONG_SIGN_IN,
        WRONG_SIGN_IN + " 2 more wrong tries and sign-in will be paused for a while. "
                        "Forgot it? Use “Forgot your password?”.",
        WRONG_SIGN_IN + " 1 more wrong try and sign-in will be paused for a while. "
                        "Forgot it? Use “Forgot your password?”.",
        LOCKED,
    ]
    response = sign_in(client)  # even the right password waits
    assert response.status_code == 429
    assert field_error(response, "password") == LOCKED
    assert client.get("/licenses/").status_code == 302


def test_lock_ends_by_itself(app, client, filer):
    lock_address(app, "filer@example.com")
    assert field_error(sign_in(client), "password") == LOCKED
    with app.app_context():
        db.session.execute(update(SignInThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert sign_in(client).headers["Location"] == "/licenses/"


@pytest.mark.parametrize("app", [{"SIGN_IN_MAX_FAILURES": 3}], indirect=True)
def test_unregistered_address_is_locked_the_same_way_and_nobody_else_is(app, client, filer):
    messages = [field_error(sign_in(client, email="nobody@example.com"), "password") for _ in range(3)]
    assert messages[-1] == LOCKED
    assert sign_in(client, email="nobody@example.com").status_code == 429
    assert sign_in(client).headers["Location"] == "/licenses/"  # another address is not affected


@pytest.mark.parametrize("app", [{"RATELIMIT_SIGN_IN": "3 per minute"}], indirect=True)
def test_sign_in_is_rate_limited_with_a_readable_page(client):
    for _ in range(3):
        assert sign_in(client, password="").status_code == 200
    response = sign_in(client, password="")
    assert response.status_code == 429
    page = text(response)
    assert "Too many requests" in page
    assert "You have made too many requests in a short time. Please wait a minute and try again." in page
    assert "Traceback" not in page
    assert client.get("/signin").status_code == 200  # reading the page is not limited


@pytest.mark.parametrize("app", [{"RATELIMIT_CODES": "2 per minute"}], indirect=True)
@pytest.mark.parametrize("path", ["/signup", "/password/forgot"])
def test_code_requests_are_rate_limited(client, mailbox, path):
    for _ in range(2):
        assert post_form(client, path, {"email": "not-an-email"}).status_code == 200
    response = post_form(client, path, {"email": "not-an-email"})
    assert response.status_code == 429
    assert "Too many requests" in text(response)


@pytest.mark.parametrize("app", [{"RATELIMIT_CODES": "2 per minute"}], indirect=True)
def test_code_guessing_is_rate_limited(client, mailbox):
    send_code(client)
    assert enter_code(client, "000000").status_code == 200
    assert enter_code(client, "000001").status_code == 200
    assert enter_code(client, "000002").status_code == 429


# ----- Forgot your password? --------------------------------------------------------------------

def test_forgot_password_resets_signs_in_on_the_dashboard_and_ends_other_sessions(app, client, mailbox, filer):
    elsewhere = app.test_client()
    assert sign_in(elsewhere).status_code == 302
    assert elsewhere.get("/licenses/").status_code == 200

    assert 'href="/password/forgot"' in client.get("/signin").get_data(as_text=True)
    page = text(client.get("/password/forgot"))
    assert "Reset your password" in page and "Send verification code" in page
    response = send_code(client, "filer@example.com", "/password/forgot")
    assert response.headers["Location"] == "/password/verify"
    [mail] = mailbox.wait_for("filer@example.com")
    assert ("Someone asked to reset the password of the account filer@example.com on Steel and Aluminum "
            "Import Licensing (SIMA and AIM).") in mailbox.body(mail)
    response = enter_code(client, mailbox.last_code("filer@example.com"), "/password/verify")
    assert response.headers["Location"] == "/password/new"
    page = text(client.get("/password/new"))
    assert "Choose a new password" in page and PASSWORD_RULE in page

    response = post_form(client, "/password/new", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/licenses/"
    page = text(client.get("/licenses/"))
    assert "Your password was changed and you are signed in." in page
    assert "License Dashboard" in page and "Signed in as Test Filer" in page
    assert mailbox.wait_for("filer@example.com", 2)[-1]["Subject"] == (
        "SIMA and AIM Licensing: your password was changed")

    # The session opened before the reset is over.
    assert elsewhere.get("/licenses/").headers["Location"].startswith("/signin")
    assert sign_in(elsewhere, password=NEW_PASSWORD).headers["Location"] == "/licenses/"


def test_forgot_password_for_an_unknown_email_reads_the_same_and_sends_nothing(app, client, mailbox, filer):
    known = app.test_client()
    send_code(known, "filer@example.com", "/password/forgot")
    mailbox.clear()
    response = send_code(client, "nobody@example.com", "/password/forgot")
    assert response.headers["Location"] == "/password/verify"

    def verify_page(c, email):
        return without_tokens(c.get("/password/verify").get_data(as_text=True)).replace(email, "EMAIL")

    assert verify_page(client, "nobody@example.com") == verify_page(known, "filer@example.com")
    assert mailbox.messages == []
    assert field_error(enter_code(client, "123456", "/password/verify"), "code") == (
        "That code is not right. 4 tries left.")


def test_new_password_page_needs_a_verified_code(client, filer):
    assert client.get("/password/new").headers["Location"] == "/password/forgot"
    assert "Please verify your email address first." in text(client.get("/password/forgot"))


def test_reset_refuses_a_weak_password_and_keeps_the_old_one(app, client, mailbox, filer):
    send_code(client, "filer@example.com", "/password/forgot")
    enter_code(client, mailbox.last_code("filer@example.com"), "/password/verify")
    response = post_form(client, "/password/new", {"password": "short", "confirm": "short"})
    assert field_error(response, "password") == "The password is too short: use at least 8 characters."
    with app.app_context():
        assert db.session.get(User, filer).password_hash == _password_hash()


def test_reset_lifts_a_sign_in_lock(app, client, mailbox, filer):
    lock_address(app, "filer@example.com")
    send_code(client, "filer@example.com", "/password/forgot")
    enter_code(client, mailbox.last_code("filer@example.com"), "/password/verify")
    post_form(client, "/password/new", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert sign_in(app.test_client(), password=NEW_PASSWORD).headers["Location"] == "/licenses/"
