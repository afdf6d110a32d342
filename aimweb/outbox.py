"""The mail outbox: each mail is a row committed with the change it reports, delivered later with retries.

Nothing is sent inside a request. `add()` puts the rendered message in the caller's database
session, so the license, code or password change and its mail commit together, or neither does.
Delivery is `deliver(message_id)` / `deliver_pending()`: any process may call them in an app
context, several at once (a message is claimed by one conditional UPDATE, so it is sent by one
deliverer only; each call uses a database session of its own and leaves the caller's alone).
Two things call them:

- the kick: once a request (or a job) has committed messages, their ids become a `deliver_mail`
  job of the worker (`MAIL_KICK = "queue"`, aimweb/jobs.py), so a relay outage or a slow relay
  never shows in the answer. The job is only a shortcut; the row is the truth. (`"thread"` hands
  them to a delivery thread of the same process instead, `"inline"` delivers before the answer.)
- the worker's `mail_sweep`, every minute (or `flask mail-deliver [--loop]`): sends whatever is
  due, including the retries of messages the relay refused, with exponential back-off, and the
  ones a killed worker never sent.
"""
from __future__ import annotations

import queue
import smtplib
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import click
from flask import Flask, current_app, has_app_context, has_request_context, request
from flask_mail import Message, sanitize_address
from sqlalchemy import event, or_, select, true, update
from sqlalchemy.orm import Session, object_session

from . import jobs
from .enums import MailStatus
from .extensions import db
from .models import OutboxMessage, utcnow

# A message claimed by a deliverer that died mid-send (a killed worker) is tried again after this.
CLAIM_SECONDS = 600
_COMMITTED = "aimweb.outbox_committed"  # the ids a request committed, in its WSGI environ
RELAY_DOWN = (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError,
              smtplib.SMTPAuthenticationError)


def _relay_down(error: Exception) -> bool:
    """The relay itself is unreachable (the rest of a run would fail the same way), as opposed to
    a refusal of this one message (every SMTP error is an OSError too)."""
    return isinstance(error, RELAY_DOWN) or (isinstance(error, OSError)
                                             and not isinstance(error, smtplib.SMTPException))


def add(to: str, subject: str, body_text: str, body_html: str | None = None) -> OutboxMessage:
    """Put a message in the current session: the caller's commit makes it durable with its change."""
    message = OutboxMessage(to_address=to, subject=subject, body_text=body_text,
                            body_html=body_html, status=MailStatus.PENDING, attempts=0,
                            next_attempt_at=utcnow())
    db.session.add(message)
    return message


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after the given number of failed attempts, capped."""
    cfg = current_app.config
    seconds = cfg["MAIL_RETRY_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, cfg["MAIL_RETRY_MAX_SECONDS"]))


@dataclass
class Attempt:
    status: str | None  # sent / pending / failed, or None: not claimed (sent, taken or not due)
    relay_down: bool = False


def deliver(message_id: int, ignore_backoff: bool = False) -> str | None:
    """Send one message if it is due and no other deliverer has it; its status afterwards."""
    with Session(db.engine, expire_on_commit=False) as session:
        return _attempt(session, message_id, ignore_backoff).status


def deliver_pending(ignore_backoff: bool = False, limit: int = 500) -> dict[str, int]:
    """Send every message that is due (with `ignore_backoff`, every one not sent or failed).

    Stops early when the relay is unreachable: the other messages keep their turn and attempts.
    """
    with Session(db.engine, expire_on_commit=False) as session:
        ids = session.scalars(
            select(OutboxMessage.id).where(_claimable(utcnow(), ignore_backoff))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)).all()
        session.commit()  # end the read: each claim below starts a fresh write (see licensing)
        counts = {MailStatus.SENT: 0, MailStatus.PENDING: 0, MailStatus.FAILED: 0, "skipped": 0}
        for message_id in ids:
            attempt = _attempt(session, message_id, ignore_backoff)
            counts[attempt.status or "skipped"] += 1
            if attempt.relay_down:
                break
        return counts


def _address_refused(error: Exception) -> bool:
    # A 5xx answer to RCPT TO is permanent (RFC 5321): retrying cannot help.
    return isinstance(error, smtplib.SMTPRecipientsRefused) and all(
        500 <= code < 600 for code, _ in error.recipients.values())


def _claimable(now: datetime, ignore_backoff: bool):
    due = OutboxMessage.next_attempt_at <= now
    return or_((OutboxMessage.status == MailStatus.PENDING) & (true() if ignore_backoff else due),
               (OutboxMessage.status == MailStatus.SENDING) & due)


def _attempt(session: Session, message_id: int, ignore_backoff: bool) -> Attempt:
    cfg = current_app.config
    now = utcnow()
    # The claim: one conditional UPDATE. Of two deliverers, the second finds the row already
    # "sending" with a claim in the future (PostgreSQL re-checks the WHERE after the first one's
    # commit; SQLite runs one writer at a time), matches nothing, and leaves it alone.
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _claimable(now, ignore_backoff))
        .values(status=MailStatus.SENDING, attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False))
    session.commit()
    if claimed.rowcount != 1:
        return Attempt(None)
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    session.commit()  # no read transaction held open over SMTP (SQLite could not write after it)
    try:
        _send(message)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the row and retried
        attempts = message.attempts
        final = attempts >= cfg["MAIL_MAX_ATTEMPTS"] or _address_refused(error)
        values = {"status": MailStatus.FAILED if final else MailStatus.PENDING, "last_error": repr(error)[:2000],
                  "next_attempt_at": utcnow() + (timedelta(0) if final else retry_delay(attempts))}
        _finish(session, message_id, attempts, values)
        if final:
            current_app.logger.error("Mail %s to %s (%r) failed for good after %s attempt(s): %r",
                                     message_id, message.to_address, message.subject, attempts, error)
        else:
            current_app.logger.warning("Mail %s to %s: attempt %s failed (%r); next try after %s",
                                       message_id, message.to_address, attempts, error,
                                       values["next_attempt_at"])
        return Attempt(values["status"], relay_down=_relay_down(error))
    _finish(session, message_id, message.attempts,
            {"status": MailStatus.SENT, "sent_at": utcnow(), "last_error": None})
    return Attempt(MailStatus.SENT)


def _finish(session: Session, message_id: int, attempts: int, values: dict) -> None:
    # Only while the claim is ours: a deliverer that outlived its claim does not overwrite the
    # outcome of the one that took the message over.
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.status == MailStatus.SENDING,
                           OutboxMessage.attempts == attempts)
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()


def _send(message: OutboxMessage) -> None:
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        print(f"\n----- mail to {message.to_address}: {message.subject} -----\n"  # noqa: T201 - no MAIL_SERVER (development): the mail is shown on the console
              f"{message.body_text}\n-----", file=sys.stdout, flush=True)
        return
    mail = Message(subject=message.subject, recipients=[message.to_address],
                   body=message.body_text, html=message.body_html)
    # The same Message-ID and Date on every attempt: a receiver can tell a retry from a new mail.
    domain = sanitize_address(mail.sender).rpartition("@")[2] or "aimweb"
    mail.msgId = f"<outbox-{message.id}-{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    mail.date = message.created_at.replace(tzinfo=UTC).timestamp()
    smtp_class = smtplib.SMTP_SSL if cfg.get("MAIL_USE_SSL") else smtplib.SMTP
    with smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT_SECONDS"]) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME") and cfg.get("MAIL_PASSWORD"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.sendmail(sanitize_address(mail.sender), [sanitize_address(message.to_address)],
                      mail.as_bytes())


# ----- the kick: committed ids go to delivery once the request is done ---------------------------

@event.listens_for(OutboxMessage, "after_insert")
def _inserted(mapper, connection, target):
    session = object_session(target)
    if session is not None:
        session.info.setdefault("outbox_new", []).append(target.id)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop("outbox_new", None)


@event.listens_for(Session, "after_commit")
def _committed(session):
    ids = session.info.pop("outbox_new", None)
    if not ids or not has_app_context():
        return  # outside the app (a script's own session): mail-deliver sends them
    if has_request_context():
        # Kicked when the request is done. Kept on the request, not on `g`: work done inside the
        # request in an app context of its own (an upload checked inline) commits mail too.
        request.environ.setdefault(_COMMITTED, []).extend(ids)
    else:  # a background job or the CLI: no response to wait for
        _kick(current_app._get_current_object(), ids, in_request=False)


def _kick(app: Flask, ids: list[int], in_request: bool = True) -> None:
    mode = app.config["MAIL_KICK"]
    if mode == "queue":  # in an app context of `app` (teardown, or the job's own)
        jobs.enqueue("deliver_mail", list(ids))
    elif mode == "inline" and in_request:
        # Tests: delivered before the test client gets the answer, so what a test reads is
        # settled. Its own app context: a session apart from the request's.
        with app.app_context():
            for message_id in ids:
                deliver(message_id)
    elif mode in ("thread", "inline"):
        _hand_to_thread(app, ids)
    # "none": only the worker's mail sweep (or `flask mail-deliver`) delivers.


_threads_lock = threading.Lock()
THREAD_IDLE_SECONDS = 30  # then the delivery thread ends (and no longer holds the app)


def _hand_to_thread(app: Flask, ids: list[int]) -> None:
    # Under the lock, like the thread's decision to end: a batch is never left without a thread.
    with _threads_lock:
        state = app.extensions.get("outbox_kick")
        if state is None or not state[1].is_alive():
            batches: queue.Queue = queue.Queue()
            thread = threading.Thread(target=_deliver_kicked, args=(app, batches),
                                      name="aimweb-mail-kick", daemon=True)
            thread.start()
            state = app.extensions["outbox_kick"] = (batches, thread)
        state[0].put(ids)


def _deliver_kicked(app: Flask, batches: queue.Queue) -> None:
    while True:
        try:
            batch = batches.get(timeout=THREAD_IDLE_SECONDS)
        except queue.Empty:
            with _threads_lock:
                if batches.empty():
                    app.extensions.pop("outbox_kick", None)
                    return
            continue
        try:
            with app.app_context():
                for message_id in batch:
                    deliver(message_id)
        except Exception:
            app.logger.exception("Mail delivery of %s failed", batch)


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _kick_after_request(error=None):
        ids = request.environ.pop(_COMMITTED, None)
        if ids:
            _kick(app, ids)

    @app.cli.command("mail-deliver")
    @click.option("--loop", is_flag=True, help="Keep delivering every --interval seconds.")
    @click.option("--interval", default=30, show_default=True, help="Seconds between two runs.")
    @click.option("--now", "ignore_backoff", is_flag=True,
                  help="Send every pending message now, ignoring back-off (the relay is back).")
    def mail_deliver(loop, interval, ignore_backoff):
        """Deliver the mail that is due from the outbox, with retries and back-off."""
        while True:
            counts = deliver_pending(ignore_backoff=ignore_backoff)
            if not loop or any(counts.values()):
                click.echo(f"{datetime.now():%Y-%m-%d %H:%M:%S} sent {counts[MailStatus.SENT]}, "
                           f"to retry {counts[MailStatus.PENDING]}, failed {counts[MailStatus.FAILED]}.")
            if not loop:
                return
            time.sleep(interval)
