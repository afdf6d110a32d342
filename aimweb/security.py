"""Password hashing and policy, the email address rule, verified accounts made by commands, keyed
code hashes, roles, safe redirects and response headers."""
from __future__ import annotations

import hashlib
import hmac
import time
from functools import wraps
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import Flask, abort, current_app, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user, logout_user
from itsdangerous import BadSignature
from sqlalchemy import bindparam, select

from .extensions import db, login_manager
from .models import User, utcnow

_hasher = PasswordHasher()  # argon2id, the library's OWASP-sized defaults
# Verified against when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")

PASSWORD_RULE = (  # shown as the hint before the user types
    "The password must be between 8 and 64 characters and have at least 3 of the following: "  # noqa: S105 - the rule's hint, not a password
    "a lowercase letter, an uppercase letter, a number, a symbol."
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, user_inputs=()) -> str | None:
    """None when the password follows the portal's rule and is not easy to guess, else what is
    wrong with it, briefly."""
    if len(password) < 8:
        return "The password is too short: use at least 8 characters."
    if len(password) > 64:
        return "The password is too long: use at most 64 characters."
    kinds = {
        "a lowercase letter": any(c.islower() for c in password),
        "an uppercase letter": any(c.isupper() for c in password),
        "a number": any(c.isdigit() for c in password),
        "a symbol": any(not c.isalnum() and not c.isspace() for c in password),
    }
    if sum(kinds.values()) < 3:
        missing = ", ".join(k for k, present in kinds.items() if not present)
        return (
            f"The password has {sum(kinds.values())} of the 4 kinds of characters and needs at least 3. "
            f"Missing: {missing}."
        )
    return guessable_problem(password, user_inputs)


# zxcvbn's estimate of the guesses an attacker needs, from its lists of the ~30,000 most common
# leaked passwords, names, English words, keyboard walks, dates, sequences and l33t variants, and
# the user's own e-mail and names. Under 10^8 ("Welcome2024!", "Password1!", "Michael1985!") is
# refused; 8 random characters of 3 kinds (10^8) are just enough, so the stated rule still holds.
MIN_PASSWORD_GUESSES = 10**8


def guessable_problem(password: str, user_inputs=()) -> str | None:
    """Why a password is too easy to guess (common, breached-list, built from the user's own
    details), by zxcvbn's offline estimate; None when it is not."""
    from zxcvbn import zxcvbn

    words = []
    for value in user_inputs:
        value = (value or "").lower()
        words += [value, *value.replace("@", " ").replace(".", " ").replace("-", " ").split()]
    result = zxcvbn(password, user_inputs=[w for w in words if w])
    if result["guesses"] >= MIN_PASSWORD_GUESSES:
        return None
    warning = (result["feedback"].get("warning") or "").rstrip(".")
    if any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"]):
        warning = "It contains your email address or name"
    reason = warning or "It follows a common pattern"
    return f"This password is too easy to guess. {reason}. Add another word or two that are not common."


def keyed_hash(*parts: str) -> str:
    """HMAC-SHA256 under the secret key: a stolen table of 6-digit codes can't be brute-forced."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


class EmailRefused(ValueError):
    """Why an email address is refused, in words for the person who typed it."""


MAX_EMAIL_LENGTH = 254


def email_address(text: str | None) -> str:
    """The one reading of an email address, wherever one enters: sign-up, sign-in, password reset,
    the company's contact emails and `flask create-officer`. An address one of them took and
    another refused would be an account nobody can sign in to (e.g. an officer created at a
    reserved domain such as .test, which the sign-in form refuses). email-validator's rules,
    without a DNS look-up; stored and compared lower-cased. Raises EmailRefused saying why."""
    text = (text or "").strip()
    if not text:
        raise EmailRefused("Enter an email address.")
    if len(text) > MAX_EMAIL_LENGTH:
        raise EmailRefused(f"An email address has at most {MAX_EMAIL_LENGTH} characters.")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise EmailRefused(f"{error} Enter an email address like name@example.com.") from None
    return checked.normalized.lower()


def upsert_verified_user(email: str, password: str, role: str, first: str,
                         last: str) -> tuple[User, bool]:
    """The account with this e-mail (created verified if new; the caller commits).
    Raises EmailRefused for an address the sign-in form would refuse."""
    email = email_address(email)
    user = db.session.scalar(select(User).where(User.email == email))
    created = user is None
    if created:
        user = User(email=email, display_name=f"{first} {last}", first_name=first,
                    last_name=last, password_hash=hash_password(password), role=role,
                    email_verified_at=utcnow())
        db.session.add(user)
    return user, created


def role_required(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def start_session(user) -> None:
    """Sign in with a fresh session: nothing from before sign-in carries over."""
    from flask_login import login_user

    session.clear()
    login_user(user)
    session.permanent = True
    session["signed_in_at"] = int(time.time())


# Built once: Session.get builds its statement (and cache key) on every call, a third of the
# signed-in request path's cost of loading the user.
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


@login_manager.user_loader
def _load_user(user_id: str):
    uid, _, version = user_id.partition(":")
    if not uid.isdigit() or not version.isdigit():
        return None
    if int(uid) > 2**62:
        return None
    user = db.session.execute(_USER_BY_ID, {"user_id": int(uid)}).scalar_one_or_none()
    # A suspension bumps the version too; checking it here as well costs nothing.
    if user is None or user.session_version != int(version) or user.suspended_at is not None:
        return None
    return user


class SignedAtSession(SecureCookieSession):
    """A session that knows when its cookie was signed (None: new, or not from a cookie)."""

    signed_at: float | None = None


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie session, re-sent to extend the idle lifetime at most every
    SESSION_REFRESH_SECONDS instead of on every answer (Flask's SESSION_REFRESH_EACH_REQUEST).
    Signing and sending the cookie on every page was a seventh of the signed-in request path's
    cost. A changed session is still sent at once; an unchanged one is idle-expired between
    PERMANENT_SESSION_LIFETIME - SESSION_REFRESH_SECONDS and PERMANENT_SESSION_LIFETIME after the
    last request, never later, and the signature's timestamp is checked against the lifetime as
    before."""

    session_class = SignedAtSession

    def open_session(self, app: Flask, request) -> SignedAtSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            data, signed_at = serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()),
                                               return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at.timestamp()
        return session

    def should_set_cookie(self, app: Flask, session) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or time.time() - signed_at >= app.config["SESSION_REFRESH_SECONDS"]


def register_security(app: Flask) -> None:
    app.session_interface = SessionCookies()
    # Over HTTPS the session cookie takes the __Host- prefix: browsers then refuse it unless it is
    # Secure, for "/" and for this host only, so a sibling subdomain can't plant or shadow it.
    if app.config.get("SESSION_COOKIE_SECURE") and not app.config.get("SESSION_COOKIE_DOMAIN"):
        if not app.config.get("SESSION_COOKIE_NAME", "session").startswith("__Host-"):
            app.config["SESSION_COOKIE_NAME"] = "__Host-" + app.config.get("SESSION_COOKIE_NAME", "session")
        app.config["SESSION_COOKIE_PATH"] = "/"
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def _absolute_session_lifetime():
        signed_in_at = session.get("signed_in_at")
        limit = app.config["SESSION_ABSOLUTE_LIFETIME_SECONDS"]
        if signed_in_at and time.time() - signed_in_at > limit:
            logout_user()
            session.clear()

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        # Not no-referrer: Flask-WTF checks the Referer on HTTPS POSTs.
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "HX-Request" not in response.vary:
            response.vary.add("HX-Request")
        # Nothing a signed-in user is shown (page, partial, export, PDF) stays in a browser's or a
        # proxy's cache for the next person at that computer; static files are the same for all.
        if request.endpoint != "static" and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
            response.headers.pop("Pragma", None)
        return response


def token_digest(token: str) -> str:
    """SHA-256 of an API key: keys are 256 random bits, so a plain digest is enough to store and
    look them up by (unlike passwords, nothing to slow down), and it outlives a new SECRET_KEY."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
