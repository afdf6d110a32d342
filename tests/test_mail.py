"""Mail is never lost: written to the outbox with its change, delivered after the answer, retried
with back-off while the relay is down, sent once however many deliverers run."""
from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from conftest import Mailbox, _free_port, csrf_token, post_form
from sqlalchemy import func, select

from aimweb import licensing, outbox
from aimweb.extensions import db
from aimweb.mailer import send_email
from aimweb.models import OutboxMessage, utcnow

TODAY = licensing.application_date()
HEADER = {
    "entry_number": "ABC-1234567-6", "entry_type": "consumption",
    "importer_name": "Gulf Coast Metals LLC", "exporter_name": "Northern Rolling Mills Inc.",
    "manufacturer_name": "Alouette Smelting", "origin_country": "CA", "export_country": "CA",
    "port_code": "1303", "export_date": (TODAY + timedelta(days=5)).isoformat(),
    "import_date": (TODAY + timedelta(days=20)).isoformat(),
}
LINE = {
    "line-hts_number": "7601.10.30.00", "line-smelt_largest": "CA", "line-smelt_second": "NA_",
    "line-cast_country": "CA", "line-quantity_kg": "12,500", "line-customs_value_usd": "38750.00",
}
ONLY_CLI_DELIVERS = [{"MAIL_KICK": "none"}]


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def submit_license(client):
    """Apply for Single License, one product, Preview, Submit: the answer to Submit."""
    token = csrf_token(client, "/licenses/apply")
    draft = client.post("/licenses/apply", data={"csrf_token": token, "license_type": "standard",
                                                "product": "aluminum"}).headers["Location"]
    client.post(f"{draft}/lines", data={"csrf_token": token, **HEADER, **LINE})
    assert client.post(f"{draft}/preview", data={"csrf_token": token, **HEADER,
                                                 "certified": "y"}).status_code == 302
    return client.post(f"{draft}/submit", data={"csrf_token": token})


def rows(app):
    with app.app_context():
        return [(m.to_address, m.status, m.attempts, m.last_error)
                for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def queue_mail(app, count=1, to="filer@example.com"):
    with app.app_context():
        for n in range(count):
            send_email(to, f"AIM test message {n}", "already_registered")
        db.session.commit()


@pytest.fixture
def relay():
    """A real SMTP server of this test's own, on a fixed port, that the test can stop and restart."""
    mailbox, port = Mailbox(), _free_port()
    state = {"controller": None}

    def start():
        state["controller"] = Controller(mailbox, hostname="127.0.0.1", port=port)
        state["controller"].start()

    def stop():
        state["controller"].stop()
        state["controller"] = None

    start()
    yield mailbox, port, start, stop
    if state["controller"]:
        stop()


def test_relay_down_submit_and_sign_up_still_work_and_both_mails_arrive_once_it_is_back(
        app, signed_in, relay):
    mailbox, port, start, stop = relay
    app.config["MAIL_PORT"] = port
    stop()

    response = submit_license(signed_in)
    assert response.status_code == 303
    number = response.headers["Location"].rsplit("/", 1)[1]
    page = text(signed_in.get(response.headers["Location"]))
    assert f"License {number} has been issued. A confirmation will be emailed to you at filer@example.com." in page

    visitor = app.test_client()
    response = post_form(visitor, "/signup", {"email": "new@example.com"})
    assert response.status_code == 302 and response.headers["Location"] == "/signup/verify"
    assert "A verification code will be emailed to you at new@example.com" in text(visitor.get("/signup/verify"))

    # Nothing was delivered and nothing lost: both wait in the outbox, the failed try counted.
    assert mailbox.messages == []
    waiting = rows(app)
    assert [(to, status, attempts) for to, status, attempts, _ in waiting] == [
        ("filer@example.com", "pending", 1), ("new@example.com", "pending", 1)]
    assert all("Connection refused" in error or "Errno" in error for *_, error in waiting)

    start()
    result = app.test_cli_runner().invoke(args=["mail-deliver", "--now"])
    assert result.exit_code == 0 and "sent 2, to retry 0, failed 0" in result.output
    [issued] = mailbox.wait_for("filer@example.com")
    assert number in issued["Subject"] and number in mailbox.body(issued)
    code = mailbox.last_code("new@example.com")

    # Exactly once: a second run finds nothing to send.
    result = app.test_cli_runner().invoke(args=["mail-deliver", "--now"])
    assert "sent 0" in result.output
    assert len(mailbox.to("filer@example.com")) == 1 and len(mailbox.to("new@example.com")) == 1
    assert [status for _, status, _, _ in rows(app)] == ["sent", "sent"]

    # The code that arrived late still works.
    response = post_form(visitor, "/signup/verify", {"code": code})
    assert response.headers["Location"] == "/signup/create"


@pytest.mark.parametrize("app", ONLY_CLI_DELIVERS, indirect=True)
def test_a_failed_attempt_waits_longer_each_time_then_fails_for_good_and_is_logged(app, caplog):
    app.config.update(MAIL_PORT=_free_port(), MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_SECONDS=30,
                      MAIL_RETRY_MAX_SECONDS=45)
    queue_mail(app)
    with app.app_context():
        def waits() -> float:
            message = db.session.scalar(select(OutboxMessage))
            db.session.commit()
            return (message.next_attempt_at - utcnow()).total_seconds()

        assert outbox.deliver_pending() == {"sent": 0, "pending": 1, "failed": 0, "skipped": 0}
        assert 25 < waits() <= 30
        # Not due yet: a run leaves it alone and counts no attempt.
        assert outbox.deliver_pending() == {"sent": 0, "pending": 0, "failed": 0, "skipped": 0}
        assert outbox.deliver_pending(ignore_backoff=True)["pending"] == 1
        assert 40 < waits() <= 45  # 60 s, capped at MAIL_RETRY_MAX_SECONDS
        with caplog.at_level(logging.ERROR):
            assert outbox.deliver_pending(ignore_backoff=True)["failed"] == 1
        assert "failed for good after 3 attempt(s)" in caplog.text
        assert outbox.deliver_pending(ignore_backoff=True)["failed"] == 0
    [(_, status, attempts, error)] = rows(app)
    assert (status, attempts) == ("failed", 3) and error


class RefusesGone(Mailbox):
    """A relay that knows no gone@example.com."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.parametrize("app", ONLY_CLI_DELIVERS, indirect=True)
def test_an_address_the_relay_refuses_fails_alone_while_an_outage_stops_the_run(app, caplog):
    queue_mail(app, to="gone@example.com")
    queue_mail(app, count=2)
    app.config["MAIL_PORT"] = _free_port()
    with app.app_context():  # nothing listens: the first refusal ends the run, the others wait
        assert outbox.deliver_pending()["pending"] == 1
    assert [attempts for _, _, attempts, _ in rows(app)] == [1, 0, 0]

    mailbox = RefusesGone()
    relay = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    relay.start()
    try:
        app.config["MAIL_PORT"] = relay.port
        with app.app_context(), caplog.at_level(logging.ERROR):
            assert outbox.deliver_pending(ignore_backoff=True) == {
                "sent": 2, "pending": 0, "failed": 1, "skipped": 0}
        assert len(mailbox.wait_for("filer@example.com", 2)) == 2
    finally:
        relay.stop()
    gone = rows(app)[0]
    assert gone[:3] == ("gone@example.com", "failed", 2) and "No such user" in gone[3]
    assert "to gone@example.com ('AIM test message 0') failed for good" in caplog.text


@pytest.mark.parametrize("app", ONLY_CLI_DELIVERS, indirect=True)
def test_two_deliverers_at_once_never_send_a_message_twice(app, mailbox):
    queue_mail(app, count=40)
    start = threading.Barrier(4)
    errors = []

    def deliverer():
        try:
            with app.app_context():
                start.wait()
                outbox.deliver_pending()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=deliverer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    subjects = sorted(m["Subject"] for m in mailbox.wait_for("filer@example.com", 40))
    assert subjects == sorted(f"AIM test message {n}" for n in range(40))
    assert {(status, attempts) for _, status, attempts, _ in rows(app)} == {("sent", 1)}


@pytest.mark.parametrize("app", ONLY_CLI_DELIVERS, indirect=True)
def test_a_message_whose_deliverer_died_is_sent_once_its_claim_runs_out(app, mailbox):
    queue_mail(app, count=2)
    with app.app_context():
        stuck, busy = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        stuck.status, stuck.attempts, stuck.next_attempt_at = "sending", 1, utcnow() - timedelta(seconds=1)
        busy.status, busy.attempts, busy.next_attempt_at = "sending", 1, utcnow() + timedelta(minutes=5)
        db.session.commit()
        assert outbox.deliver_pending(ignore_backoff=True)["sent"] == 1
    assert [m["Subject"] for m in mailbox.wait_for("filer@example.com")] == ["AIM test message 0"]
    assert [(status, attempts) for _, status, attempts, _ in rows(app)] == [("sent", 2), ("sending", 1)]


@pytest.mark.parametrize("app", ONLY_CLI_DELIVERS, indirect=True)
def test_the_mail_of_a_change_that_is_rolled_back_is_never_sent(app, mailbox):
    with app.app_context():
        send_email("filer@example.com", "AIM: never", "already_registered")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert outbox.deliver_pending(ignore_backoff=True)["sent"] == 0
    assert mailbox.to("filer@example.com") == []


@pytest.mark.parametrize("app", [{"MAIL_KICK": "thread"}], indirect=True)
def test_the_delivery_thread_sends_the_code_after_the_answer(app, client, mailbox):
    response = post_form(client, "/signup", {"email": "new@example.com"})
    assert response.headers["Location"] == "/signup/verify"
    code = mailbox.last_code("new@example.com")  # waits: sent by the thread, not the request
    assert post_form(client, "/signup/verify", {"code": code}).headers["Location"] == "/signup/create"
    assert [(to, status, attempts) for to, status, attempts, _ in rows(app)] == [
        ("new@example.com", "sent", 1)]


@pytest.mark.parametrize("app", [{"MAIL_SERVER": None, "MAIL_KICK": "none"}], indirect=True)
def test_without_a_mail_server_mail_deliver_prints_the_mail(app, client, mailbox):
    post_form(client, "/signup", {"email": "new@example.com"})
    assert [status for _, status, _, _ in rows(app)] == ["pending"]
    result = app.test_cli_runner().invoke(args=["mail-deliver"])
    assert "----- mail to new@example.com: SIMA and AIM Licensing: your verification code -----" in result.output
    assert re.search(r"Your code is: \d{6}", result.output)
    assert "sent 1, to retry 0, failed 0" in result.output
    assert [status for _, status, _, _ in rows(app)] == ["sent"] and mailbox.messages == []
