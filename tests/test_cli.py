"""Administration on the command line: `flask --app aimweb create-officer` and `seed-demo`."""
from __future__ import annotations

import html

import pytest
from conftest import sign_in
from sqlalchemy import func, select

from aimweb.demo import DEMO_FILER, DEMO_OFFICER
from aimweb.extensions import db
from aimweb.models import Company, License, User
from aimweb.security import verify_password


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def user(app, email):
    with app.app_context():
        found = db.session.scalar(select(User).where(User.email == email))
        if found is not None:
            db.session.expunge(found)
        return found


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_create_officer_makes_a_verified_officer_who_reaches_the_review_queue(app, client):
    result = run(app, "create-officer", "Olive.Officer@Example.com", "--password", "Officer-Pass-9")
    assert result.exit_code == 0, result.output
    assert "Created officer olive.officer@example.com." in result.output
    officer = user(app, "olive.officer@example.com")
    assert officer.role == "officer" and officer.email_verified_at is not None
    assert officer.password_hash.startswith("$argon2id$")

    response = sign_in(client, email="olive.officer@example.com", password="Officer-Pass-9")
    assert response.headers["Location"] == "/review/"  # no company registration for officers
    page = client.get("/review/").get_data(as_text=True)
    assert "Review Queue" in page and "Commerce Officer" in page


def test_create_officer_with_admin_flag_makes_an_admin(app):
    result = run(app, "create-officer", "admin@example.com", "--password", "Admin-Pass-9", "--admin")
    assert result.exit_code == 0, result.output
    assert "Created admin admin@example.com." in result.output
    assert user(app, "admin@example.com").role == "admin"


def test_create_officer_refuses_a_weak_password(app):
    result = run(app, "create-officer", "olive@example.com", "--password", "officer")
    assert result.exit_code == 2
    assert "The password is too short: use at least 8 characters." in result.output
    result = run(app, "create-officer", "olive@example.com", "--password", "officerpassword")
    assert result.exit_code == 2
    assert "needs at least 3" in result.output
    assert count(app, User) == 0


def test_create_officer_on_an_existing_account_promotes_it_and_ends_its_sessions(app):
    run(app, "create-officer", "olive@example.com", "--password", "Officer-Pass-9")
    before = user(app, "olive@example.com")
    result = run(app, "create-officer", "olive@example.com", "--password", "Officer-Pass-10", "--admin")
    assert result.exit_code == 0 and "Updated admin olive@example.com." in result.output
    after = user(app, "olive@example.com")
    assert after.role == "admin" and after.session_version == before.session_version + 1
    assert verify_password(after.password_hash, "Officer-Pass-10")
    assert count(app, User) == 1


def test_seed_demo_is_idempotent(app, client):
    counts = []
    for _ in range(2):
        result = run(app, "seed-demo")
        assert result.exit_code == 0, result.output
        assert f"Demo filer:   {DEMO_FILER[0]} / {DEMO_FILER[1]}" in result.output
        assert f"Demo officer: {DEMO_OFFICER[0]} / {DEMO_OFFICER[1]}" in result.output
        counts.append((count(app, User), count(app, Company), count(app, License)))
    # The demo filer's company, the officer, and eight other importers whose licenses feed the
    # demo monitor: all made once, nothing doubled by the second run.
    assert counts[0] == counts[1]
    assert counts[0][:2] == (10, 9) and counts[0][2] > 100
    # The demo filer has steel licenses as well as aluminum ones, and so do the demo importers.
    with app.app_context():
        by_product = dict(db.session.execute(select(License.product, func.count()).group_by(License.product)).all())
    assert by_product["steel"] > 50 and by_product["aluminum"] > 100
    assert user(app, DEMO_FILER[0]).role == "filer"
    assert user(app, DEMO_OFFICER[0]).role == "officer"

    # The demo filer signs in straight to the dashboard of the demo company.
    assert sign_in(client, email=DEMO_FILER[0], password=DEMO_FILER[1]).headers["Location"] == "/licenses/"
    assert "KWO Aluminum Importers" in client.get("/licenses/").get_data(as_text=True)


# ----- issue 14: the same address rule as the sign-in form ---------------------------------------

RESERVED = ("The part after the @-sign is a special-use or reserved name that cannot be used with "
            "email. Enter an email address like name@example.com.")


@pytest.mark.parametrize("email, reason", [
    ("olive@commerce.test", RESERVED),
    ("olive@aim.local", RESERVED),
    ("olive@localhost", "The part after the @-sign is not valid. It should have a period."),
    ("olive.officer", "An email address must have an @-sign."),
])
def test_create_officer_refuses_an_address_the_sign_in_form_refuses_and_says_why(app, client, email, reason):
    result = run(app, "create-officer", email, "--password", "Officer-Pass-9")
    assert result.exit_code == 2
    assert reason in " ".join(result.output.split())
    assert count(app, User) == 0
    # The sign-in form gives the same reason for the same address.
    response = sign_in(client, email=email, password="Officer-Pass-9")
    assert reason in " ".join(html.unescape(response.get_data(as_text=True)).split())


@pytest.mark.parametrize("typed, stored", [
    ("  Olive.Officer@Trade.GOV ", "olive.officer@trade.gov"),
    ("olive@münchen.example", "olive@münchen.example"),
])
def test_an_officer_created_on_the_command_line_signs_in_with_the_address_as_typed(app, client, typed, stored):
    result = run(app, "create-officer", typed, "--password", "Officer-Pass-9")
    assert result.exit_code == 0, result.output
    assert user(app, stored) is not None
    response = sign_in(client, email=typed, password="Officer-Pass-9")
    assert response.headers["Location"] == "/review/"
