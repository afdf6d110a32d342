"""Views of the account steps, in the order and words of the portal guide."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from .. import accounts
from ..accounts import Client
from ..enums import AccountEventKind, SignInOutcome
from ..extensions import db, limiter
from ..mailer import send_email
from ..models import User, utcnow
from ..security import hash_password, is_safe_next, start_session
from ..web.access import public, signed_in
from . import bp
from .codes import check_code, issue_code, spend_code, throttle_message, verified_recently
from .forms import CodeForm, CreateAccountForm, EmailForm, NewPasswordForm, SignInForm


def _subject(words: str) -> str:
    """An account mail's subject: the portal's short name (both programs), then what it is about."""
    return f"{current_app.config['PROGRAM_SHORT_NAME']}: {words}"


def _sign_in_limit():
    return current_app.config["RATELIMIT_SIGN_IN"]


def _code_limit():
    return current_app.config["RATELIMIT_CODES"]


_user_by_email = accounts.user_by_email


def _client() -> Client:
    return Client(request.remote_addr, request.headers.get("User-Agent"))


def _landing():
    if current_user.is_authenticated and current_user.is_officer:
        return url_for("review.queue")
    return url_for("licenses.dashboard")


# Each flow keeps the address it is about in the session under its own key.
FLOWS = {
    "signup": {"email_key": "signup_email", "code_key": "signup_code_id"},
    "reset": {"email_key": "reset_email", "code_key": "reset_code_id"},
}


def _send_code(purpose: str, email: str) -> str | None:
    """Send a code for this flow, or the reason it can't be sent yet. Reveals nothing either way:
    every path does the same work (a code issued and counted, an audit row for a reset) and
    differs only in which mail, if any, is handed to send_email."""
    waiting = throttle_message(purpose, email)
    if waiting:
        return waiting
    user = _user_by_email(email)
    code = issue_code(purpose, email)  # also for unknown addresses: it counts against the throttle
    if purpose == "reset":
        accounts.record_event(AccountEventKind.RESET_REQUESTED, email, SignInOutcome.REQUESTED, user=user,
                              client=_client())
        db.session.commit()
    if purpose == "signup" and user:
        # Someone may be probing: the owner hears of it, the page says the same as ever.
        send_email(email, _subject("you already have an account"), "already_registered")
    elif purpose == "signup" or user:
        send_email(email, _subject("your verification code"), f"{purpose}_code", code=code, email=email,
                   minutes=current_app.config["CODE_TTL_SECONDS"] // 60)
    # A reset for an unregistered address mails nothing at all.
    db.session.commit()  # the code and its mail together (the mail is sent after the request)
    return None


def _email_step(purpose: str, template: str):
    form = EmailForm()
    if form.validate_on_submit():
        email = form.email.data
        problem = _send_code(purpose, email)
        if problem:
            form.email.errors.append(problem)
        else:
            session[FLOWS[purpose]["email_key"]] = email
            session.pop(FLOWS[purpose]["code_key"], None)
            return redirect(url_for(f"auth.{purpose}_verify"))
    return render_template(template, form=form)


def _verify_step(purpose: str, next_endpoint: str):
    email = session.get(FLOWS[purpose]["email_key"])
    if not email:
        return redirect(url_for(f"auth.{purpose}"))
    form = CodeForm()
    if form.validate_on_submit():
        result = check_code(purpose, email, form.code.data)
        if result.ok:
            session[FLOWS[purpose]["code_key"]] = result.code_id
            return redirect(url_for(next_endpoint))
        form.code.errors.append(result.message)
    return render_template("auth/verify.html", form=form, email=email, purpose=purpose)


def _resend(purpose: str):
    email = session.get(FLOWS[purpose]["email_key"])
    if not email:
        return redirect(url_for(f"auth.{purpose}"))
    problem = _send_code(purpose, email)
    flash(problem or "A new code will be emailed to you. The old one no longer works.",
          "warning" if problem else "success")
    return redirect(url_for(f"auth.{purpose}_verify"))


def _verified_email(purpose: str) -> str | None:
    keys = FLOWS[purpose]
    email = session.get(keys["email_key"])
    if email and verified_recently(session.get(keys["code_key"]), purpose, email):
        return email
    return None


# ----- Sign Up Now -----------------------------------------------------------------------------

@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(_code_limit, methods=["POST"])
def signup():
    return _email_step("signup", "auth/signup_email.html")


@bp.route("/signup/verify", methods=["GET", "POST"])
@public
@limiter.limit(_code_limit, methods=["POST"])
def signup_verify():
    return _verify_step("signup", "auth.signup_create")


@bp.post("/signup/resend")
@public
@limiter.limit(_code_limit)
def signup_resend():
    return _resend("signup")


@bp.route("/signup/create", methods=["GET", "POST"])
@public
def signup_create():
    email = _verified_email("signup")
    if not email:
        flash("Please verify your email address first.", "info")
        return redirect(url_for("auth.signup"))
    form = CreateAccountForm()
    form.user_inputs = [email]
    if form.validate_on_submit():
        if _user_by_email(email) or not spend_code(session.get(FLOWS["signup"]["code_key"]), "signup", email):
            flash("An account with this email address already exists. Please sign in.", "info")
            return redirect(url_for("auth.sign_in"))
        user = User(
            email=email,
            display_name=form.display_name.data.strip(),
            first_name=form.first_name.data.strip(),
            last_name=form.last_name.data.strip(),
            password_hash=hash_password(form.password.data),
            role="filer",
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
        accounts.record_event(AccountEventKind.SIGNED_UP, email, user=user, client=_client())
        db.session.commit()
        start_session(user)
        flash("Your account was created. Now tell us about your company.", "success")
        return redirect(url_for("account.company"))
    return render_template("auth/signup_create.html", form=form, email=email)


# ----- Sign in / out ---------------------------------------------------------------------------

@bp.route("/signin", methods=["GET", "POST"])
@public
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(_landing())
    form = SignInForm()
    next_url = request.values.get("next")
    if form.validate_on_submit():
        result = accounts.sign_in(form.email.data, form.password.data, _client())
        if result.user:
            start_session(result.user)
            if not result.user.company_id and not result.user.is_officer:
                # Signing in to accept an invitation (its link) goes back there; else register.
                joining = is_safe_next(next_url) and next_url.startswith(url_for("account.join"))
                return redirect(next_url if joining else url_for("account.company"))
            return redirect(next_url if is_safe_next(next_url) else _landing())
        form.password.errors.append(result.message)
        if result.locked:
            return render_template("auth/sign_in.html", form=form, next=next_url), 429
    return render_template("auth/sign_in.html", form=form, next=next_url)


@bp.post("/signout")
@public
def sign_out():
    if current_user.is_authenticated:
        accounts.sign_out(current_user, _client())
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("main.home"))


# Not under /signout/: tests/test_architecture.py walks the routes in path order with one session,
# and this one ends it; placed before /signin, only public routes follow it.
@bp.post("/sign-out-everywhere")
@signed_in
def sign_out_everywhere():
    """My account's "Sign out everywhere": every session of this account ends, this one too."""
    accounts.sign_out_everywhere(current_user, _client())
    logout_user()
    session.clear()
    flash("You were signed out everywhere: in every browser, this one too.", "info")
    return redirect(url_for("auth.sign_in"), 303)


# ----- Forgot your password? -------------------------------------------------------------------

@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(_code_limit, methods=["POST"])
def reset():
    return _email_step("reset", "auth/reset_email.html")


@bp.route("/password/verify", methods=["GET", "POST"])
@public
@limiter.limit(_code_limit, methods=["POST"])
def reset_verify():
    return _verify_step("reset", "auth.reset_password")


@bp.post("/password/resend")
@public
@limiter.limit(_code_limit)
def reset_resend():
    return _resend("reset")


@bp.route("/password/new", methods=["GET", "POST"])
@public
def reset_password():
    email = _verified_email("reset")
    user = _user_by_email(email) if email else None
    if not user:
        flash("Please verify your email address first.", "info")
        return redirect(url_for("auth.reset"))
    if user.is_suspended:
        flash(accounts.suspended_message(user), "error")
        return redirect(url_for("auth.sign_in"))
    form = NewPasswordForm()
    form.user_inputs = [email, user.first_name, user.last_name, user.display_name]
    if form.validate_on_submit():
        # Spent here, so a copy of this session can't set a password with the same code later.
        if not spend_code(session.get(FLOWS["reset"]["code_key"]), "reset", email):
            flash("Please verify your email address first.", "info")
            return redirect(url_for("auth.reset"))
        # Every other session of this user ends here, and any sign-in lock lifts.
        accounts.set_password(user, form.password.data, AccountEventKind.PASSWORD_RESET, client=_client())
        user.last_sign_in_at = utcnow()
        send_email(email, _subject("your password was changed"), "password_changed", user=user)
        db.session.commit()
        start_session(user)
        flash("Your password was changed and you are signed in.", "success")
        if not user.company_id and not user.is_officer:
            return redirect(url_for("account.company"))
        return redirect(_landing())
    return render_template("auth/reset_password.html", form=form, email=email)
