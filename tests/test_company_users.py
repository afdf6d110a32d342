"""Several users per company (issue 17): the administrator invites a colleague by email, the
colleague joins, roles decide what each may do, the administrator changes roles, suspends and
removes users (their sessions end at once, their licenses stay), Commerce suspends any account,
and each user keeps their own account (name, password, sign-ins, sign out everywhere)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from factories import PASSWORD, add_license, add_member, make_user
from helpers import csrf_token, migrated_to, page_text, post_form, sign_in, signed_in_as, text_of
from sqlalchemy import select, update

from aimweb.enums import AccountEventKind, CompanyRole, LicenseStatus
from aimweb.extensions import db
from aimweb.models import AccountEvent, Invitation, License, User, utcnow

NEW_PASSWORD = "Harbor-Lantern-73"
JOIN_LINK = re.compile(r"http://localhost(/account/join\?invitation=[A-Za-z0-9_\-]+)")


@pytest.fixture
def admin(app, query):
    """A client signed in as filer@example.com, the administrator of Gulf Coast Metals LLC."""
    query(lambda: make_user(company_name="Gulf Coast Metals LLC"))
    return signed_in_as(app, "filer@example.com")


def member(query, email, role=CompanyRole.FILER):
    def add():
        owner = db.session.scalar(select(User).where(User.email == "filer@example.com"))
        return add_member(owner, email, role, first="Casey", last="Nguyen").id
    return query(add)


def user_id(query, email):
    return query(lambda: db.session.scalar(select(User.id).where(User.email == email)))


def invite(client, email, role=CompanyRole.FILER, **kwargs):
    return client.post("/account/people/invite", data={
        "csrf_token": csrf_token(client, "/account/people"), "email": email, "company_role": role.value},
        **kwargs)


def link_for(mailbox, email, count=1) -> str:
    mail = mailbox.wait_for(email, count)[-1]
    return JOIN_LINK.search(mailbox.body(mail)).group(1)


def people_post(client, path, data=None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/account/people"), **(data or {})})


def join_form(path):
    return {"display_name": "Casey N", "first_name": "Casey", "last_name": "Nguyen",
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
            "invitation": path.split("invitation=", 1)[1]}


# ----- invite a colleague -----------------------------------------------------------------------

def test_an_invited_colleague_signs_up_from_the_mailed_link_and_joins_as_filer(app, admin, mailbox, query):
    response = invite(admin, "casey@example.com", follow_redirects=True)
    text = page_text(response)
    assert "An invitation will be emailed to casey@example.com" in text
    assert "casey@example.com" in text.split("Invitations not yet used", 1)[1]  # listed as open

    [mail] = mailbox.wait_for("casey@example.com")
    assert mail["Subject"] == "AIM: Test Filer invites you to Gulf Coast Metals LLC's account"
    assert "as a filer" in mailbox.body(mail)
    path = link_for(mailbox, "casey@example.com")

    colleague = app.test_client()
    page = page_text(colleague.get(path))
    assert "Join Gulf Coast Metals LLC" in page and "Create your account" in page
    response = post_form(colleague, path, join_form(path))
    assert response.status_code == 303 and response.headers["Location"] == "/licenses/"
    dashboard = page_text(colleague.get("/licenses/"))
    assert "Welcome to Gulf Coast Metals LLC's AIM account. You are a filer." in dashboard
    assert "Apply for Single License" in dashboard

    joined = query(lambda: db.session.scalar(select(User).where(User.email == "casey@example.com")))
    assert joined.company_role == CompanyRole.FILER and joined.email_verified_at is not None
    # The link worked once.
    again = app.test_client()
    assert "This invitation link no longer works" in page_text(again.get(path))
    assert "casey@example.com" in page_text(admin.get("/account/people"))


def test_a_colleague_with_an_account_but_no_company_signs_in_from_the_link_and_joins(app, admin, mailbox, query):
    query(lambda: make_user("drew@example.com", company=False))
    invite(admin, "drew@example.com", CompanyRole.VIEWER)
    path = link_for(mailbox, "drew@example.com")
    colleague = app.test_client()
    page = page_text(colleague.get(path))
    assert "Sign in to accept the invitation" in page
    response = post_form(colleague, "/signin", {"email": "drew@example.com", "password": PASSWORD, "next": path})
    assert response.headers["Location"] == path  # back to the invitation, not company registration
    assert "Join Gulf Coast Metals LLC" in page_text(colleague.get(path))
    response = post_form(colleague, path, {"invitation": path.split("=", 1)[1]})
    assert response.headers["Location"] == "/licenses/"
    assert query(lambda: db.session.scalar(
        select(User.company_role).where(User.email == "drew@example.com"))) == CompanyRole.VIEWER


def test_an_account_of_another_company_cannot_join_with_an_invitation(app, admin, mailbox, query):
    query(lambda: make_user("erin@example.com", company_name="Erin Trading"))
    invite(admin, "erin@example.com")
    path = link_for(mailbox, "erin@example.com")
    colleague = signed_in_as(app, "erin@example.com")
    assert "already belongs to a company" in page_text(colleague.get(path))
    response = post_form(colleague, path, {"invitation": path.split("=", 1)[1]})
    assert "already belongs to a company" in page_text(response)
    assert query(lambda: db.session.scalar(select(Invitation.accepted_at))) is None


def test_an_expired_a_replaced_and_a_withdrawn_invitation_no_longer_work(app, admin, mailbox, query):
    invite(admin, "casey@example.com")
    first = link_for(mailbox, "casey@example.com")
    invite(admin, "casey@example.com")
    second = link_for(mailbox, "casey@example.com", 2)
    visitor = app.test_client()
    assert "no longer works" in page_text(visitor.get(first))            # replaced by the second
    assert "Create your account" in page_text(visitor.get(second))

    query(lambda: (db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1))),
                   db.session.commit()))
    assert "no longer works" in page_text(visitor.get(second))            # expired
    response = post_form(visitor, second, join_form(second))
    assert "no longer works" in page_text(response)
    assert user_id(query, "casey@example.com") is None

    invite(admin, "drew@example.com")
    third = link_for(mailbox, "drew@example.com")
    invitation_id = query(lambda: db.session.scalar(
        select(Invitation.id).where(Invitation.email == "drew@example.com")))
    response = people_post(admin, f"/account/invitations/{invitation_id}/withdraw")
    assert response.status_code == 303
    assert "no longer works" in page_text(visitor.get(third))


@pytest.mark.parametrize("app", [{"INVITATIONS_PER_HOUR": 2}], indirect=True)
def test_a_company_s_invitations_are_rate_limited(app, admin, mailbox):
    assert invite(admin, "a@example.com").status_code == 303
    assert invite(admin, "b@example.com").status_code == 303
    response = invite(admin, "c@example.com")
    assert response.status_code == 400
    assert "sent many invitations in the last hour" in page_text(response)
    assert mailbox.to("c@example.com") == []


def test_inviting_a_user_already_in_the_company_says_so(app, admin, query, mailbox):
    member(query, "casey@example.com")
    response = invite(admin, "casey@example.com")
    assert response.status_code == 400
    assert "casey@example.com is already a user of Gulf Coast Metals LLC." in page_text(response)


def test_the_invitation_token_is_stored_only_as_a_hash(app, admin, mailbox, query):
    invite(admin, "casey@example.com")
    token = link_for(mailbox, "casey@example.com").split("=", 1)[1]
    stored = query(lambda: db.session.scalar(select(Invitation.token_hash)))
    assert token not in stored and len(stored) == 64


# ----- roles ----------------------------------------------------------------------------------

def test_a_viewer_reads_prints_and_exports_but_changes_nothing(app, admin, query):
    member(query, "vic@example.com", CompanyRole.VIEWER)
    owner = user_id(query, "filer@example.com")
    query(lambda: add_license(owner, "AGUL10126"))
    draft = query(lambda: add_license(owner, None, status="draft"))
    viewer = signed_in_as(app, "vic@example.com")
    dashboard = page_text(viewer.get("/licenses/"))
    assert "AGUL10126" in dashboard
    assert "Apply for Single License" not in dashboard and "Modify License" not in dashboard
    license_page = page_text(viewer.get("/licenses/AGUL10126"))
    assert "View/Print" in license_page and "Cancel License" not in license_page
    assert viewer.get("/licenses/export.csv").status_code == 200
    assert viewer.get("/licenses/AGUL10126/pdf").status_code == 200

    token = csrf_token(viewer, "/licenses/")
    for method, path in [("get", "/licenses/apply"), ("post", "/licenses/apply"),
                         ("post", "/licenses/AGUL10126/modify"), ("post", "/licenses/AGUL10126/duplicate"),
                         ("get", "/licenses/AGUL10126/cancel"), ("post", "/licenses/AGUL10126/cancel"),
                         ("get", "/licenses/multiple/"), ("get", f"/licenses/drafts/{draft}"),
                         ("get", "/account/people")]:
        response = viewer.get(path) if method == "get" else viewer.post(path, data={"csrf_token": token})
        assert response.status_code == 403, (method, path)
    assert query(lambda: db.session.scalar(select(License.status).where(License.number == "AGUL10126"))) \
        == LicenseStatus.SUBMITTED


def test_only_the_administrator_changes_the_company_profile(app, admin, query):
    member(query, "casey@example.com")
    colleague = signed_in_as(app, "casey@example.com")
    page = page_text(colleague.get("/account/company"))
    assert "Your company's administrator keeps this profile" in page
    response = post_form(colleague, "/account/company", {"name": "Renamed LLC"})
    assert "Only your company's administrator can change the company profile." in page_text(response)
    assert "Renamed LLC" not in page_text(admin.get("/account/company"))


def test_the_administrator_changes_a_role_and_the_colleague_s_pages_follow(app, admin, query):
    colleague_id = member(query, "casey@example.com")
    colleague = signed_in_as(app, "casey@example.com")
    assert colleague.get("/licenses/apply").status_code == 200
    assert colleague.get("/account/people").status_code == 403     # a filer manages nobody
    response = people_post(admin, f"/account/people/{colleague_id}/role",
                           {"company_role": CompanyRole.VIEWER.value})
    assert "Casey Nguyen is now viewer." in page_text(admin.get(response.headers["Location"]))
    # The new role holds from the colleague's next request, in the session they have open.
    assert colleague.get("/licenses/apply").status_code == 403
    assert colleague.get("/licenses/").status_code == 200
    event = query(lambda: db.session.scalar(select(AccountEvent).where(
        AccountEvent.kind == AccountEventKind.ROLE_CHANGED)))
    assert event.note == "Filer to Viewer" and event.actor_id == user_id(query, "filer@example.com")


def test_the_people_page_lists_role_last_sign_in_and_status(app, admin, query):
    member(query, "casey@example.com", CompanyRole.VIEWER)
    text = page_text(admin.get("/account/people"))
    assert "Test Filer (you)" in text and "Company administrator" in text
    assert "Casey Nguyen" in text and "Viewer" in text and "Never" in text and "Active" in text


# ----- suspend and remove ---------------------------------------------------------------------

def test_a_suspended_colleague_s_open_session_ends_and_they_cannot_sign_in(app, admin, query):
    colleague_id = member(query, "casey@example.com")
    colleague = signed_in_as(app, "casey@example.com")
    query(lambda: add_license(colleague_id, "ACAS10126"))
    response = people_post(admin, f"/account/people/{colleague_id}/suspend")
    assert "Casey Nguyen is suspended" in page_text(admin.get(response.headers["Location"]))
    assert colleague.get("/licenses/").headers["Location"].startswith("/signin")
    refused = sign_in(colleague, "casey@example.com")
    assert refused.status_code == 200
    assert ("Your access to Gulf Coast Metals LLC's AIM account is suspended by its administrator."
            in page_text(refused))
    assert "ACAS10126" in page_text(admin.get("/licenses/"))        # the license stays the company's
    assert "Suspended" in page_text(admin.get("/account/people"))

    people_post(admin, f"/account/people/{colleague_id}/reinstate")
    assert sign_in(app.test_client(), "casey@example.com").status_code == 302


def test_a_removed_colleague_s_session_ends_and_their_licenses_stay(app, admin, query):
    colleague_id = member(query, "casey@example.com")
    colleague = signed_in_as(app, "casey@example.com")
    query(lambda: add_license(colleague_id, "ACAS10126"))
    response = people_post(admin, f"/account/people/{colleague_id}/remove")
    assert "The licenses they filed stay with the company." in page_text(admin.get(response.headers["Location"]))
    assert colleague.get("/licenses/").headers["Location"].startswith("/signin")
    assert "ACAS10126" in page_text(admin.get("/licenses/"))
    # Signing in again, they have no company: the registration page, not the old company's licenses.
    assert sign_in(colleague, "casey@example.com").headers["Location"] == "/account/company"
    assert colleague.get("/licenses/ACAS10126").status_code == 404
    assert "Casey Nguyen" not in page_text(admin.get("/account/people"))


def test_remove_asks_first_and_removes_nobody_until_confirmed(app, admin, query):
    colleague_id = member(query, "casey@example.com")
    # The page offers Remove as the way to a question, not as a button that removes at once.
    listing = admin.get("/account/people").get_data(as_text=True)
    assert f'href="/account/people/{colleague_id}/remove"' in listing
    assert f'action="/account/people/{colleague_id}/remove"' not in listing
    asked = admin.get(f"/account/people/{colleague_id}/remove")
    assert asked.status_code == 200
    text = page_text(asked)
    assert "Remove Casey Nguyen from Gulf Coast Metals LLC?" in text
    assert "Casey Nguyen will be signed out everywhere" in text and "suspend them" in text
    assert query(lambda: db.session.get(User, colleague_id).company_id) is not None  # nothing yet
    assert "Casey Nguyen" in page_text(admin.get("/account/people"))
    # Someone of another company, or no one: not found, asked or not.
    stranger = query(lambda: make_user("stranger@example.com", company_name="Other Metals LLC").id)
    for someone in (stranger, 10**9):
        assert admin.get(f"/account/people/{someone}/remove").status_code == 404
    # Leaving is asked too, in the first person.
    query(lambda: db.session.execute(update(User).where(User.id == colleague_id)
                                     .values(company_role=CompanyRole.ADMINISTRATOR)))
    me = user_id(query, "filer@example.com")
    text = page_text(admin.get(f"/account/people/{me}/remove"))
    assert "Leave Gulf Coast Metals LLC?" in text and "You will be signed out everywhere" in text


def test_the_last_administrator_cannot_remove_suspend_or_demote_themself(app, admin, query):
    me = user_id(query, "filer@example.com")
    assert "Leave the company" not in page_text(admin.get("/account/people"))   # not offered
    for action, data in (("remove", {}), ("role", {"company_role": CompanyRole.FILER.value})):
        response = people_post(admin, f"/account/people/{me}/{action}", data)
        text = page_text(admin.get(response.headers["Location"]))
        assert "Test Filer is the company's only administrator" in text
    colleague_id = member(query, "casey@example.com", CompanyRole.ADMINISTRATOR)
    colleague = signed_in_as(app, "casey@example.com")
    # With a second administrator, one may leave; the other is then the last.
    assert "Leave the company" in page_text(admin.get("/account/people"))
    response = people_post(admin, f"/account/people/{me}/remove")
    assert response.headers["Location"] == "/signin"
    assert query(lambda: db.session.get(User, me).company_id) is None
    response = people_post(colleague, f"/account/people/{colleague_id}/suspend")
    assert "only administrator" in page_text(colleague.get(response.headers["Location"]))


def test_an_administrator_cannot_lift_a_suspension_made_by_commerce(app, admin, query):
    colleague_id = member(query, "casey@example.com")
    query(lambda: make_user("root@commerce.example", role="admin", company=False))
    commerce = signed_in_as(app, "root@commerce.example")
    response = commerce.post(f"/admin/accounts/{colleague_id}/suspend", data={
        "csrf_token": csrf_token(commerce, "/admin/accounts"), "reason": "Fraud inquiry"})
    assert response.status_code == 303
    response = people_post(admin, f"/account/people/{colleague_id}/reinstate")
    assert "suspended by Commerce" in page_text(admin.get(response.headers["Location"]))
    assert query(lambda: db.session.get(User, colleague_id).suspended_at) is not None


# ----- Commerce's accounts page -------------------------------------------------------------------

def test_a_platform_admin_finds_and_suspends_any_account(app, query):
    query(lambda: make_user("dana@gulfcoast.example"))
    query(lambda: make_user("root@commerce.example", role="admin", company=False))
    dana = signed_in_as(app, "dana@gulfcoast.example")
    commerce = signed_in_as(app, "root@commerce.example")
    found = page_text(commerce.get("/admin/accounts?email=gulfcoast"))
    assert "dana@gulfcoast.example" in found and "Active" in found
    dana_id = user_id(query, "dana@gulfcoast.example")
    response = commerce.post(f"/admin/accounts/{dana_id}/suspend", data={
        "csrf_token": csrf_token(commerce, "/admin/accounts"), "reason": "Asked by CBP"})
    assert "its sessions have ended" in page_text(commerce.get(response.headers["Location"]))
    assert dana.get("/licenses/").headers["Location"].startswith("/signin")
    assert "This account is suspended." in page_text(sign_in(app.test_client(), "dana@gulfcoast.example"))
    # An officer who is not an administrator may not.
    query(lambda: make_user("olive@commerce.example", role="officer", company=False))
    officer = signed_in_as(app, "olive@commerce.example")
    assert officer.get("/admin/accounts").status_code == 403


# ----- the company's activity ---------------------------------------------------------------------

def test_the_administrator_reads_and_exports_the_company_s_activity_and_no_other_s(app, admin, query, mailbox):
    colleague_id = member(query, "casey@example.com")
    sign_in(app.test_client(), "casey@example.com", password="Wrong-Horse-99",
            environ_base={"REMOTE_ADDR": "198.51.100.7"})
    invite(admin, "dana@example.com")
    people_post(admin, f"/account/people/{colleague_id}/role", {"company_role": CompanyRole.VIEWER.value})
    people_post(admin, f"/account/people/{colleague_id}/remove")
    # Another company's user signs in: not this company's business.
    query(lambda: make_user("other@example.com", company_name="Other Metals Inc"))
    sign_in(app.test_client(), "other@example.com", environ_base={"REMOTE_ADDR": "192.0.2.99"})

    page = text_of(page_text(admin.get("/account/activity")))
    assert "Company Activity" in page
    for seen in ("Invited to the company", "dana@example.com", "Company role changed",
                 "Filer to Viewer", "Removed from the company", "Sign-in refused", "198.51.100.7"):
        assert seen in page, seen
    assert "other@example.com" not in page and "192.0.2.99" not in page
    # The removed colleague's past stays in the company's record; the filter by kind works.
    only = text_of(page_text(admin.get("/account/activity?kind=removed_from_company")))
    assert "casey@example.com" in only and "dana@example.com" not in only
    exported = admin.get("/account/activity.csv").get_data(as_text=True)
    assert "Removed from the company" in exported and "other@example.com" not in exported
    # A filer of the company, and Commerce's audit page, answer as their roles say.
    member(query, "erin@example.com")
    assert signed_in_as(app, "erin@example.com").get("/account/activity").status_code == 403
    query(lambda: make_user("olive@commerce.example", role="officer", company=False))
    commerce = text_of(page_text(signed_in_as(app, "olive@commerce.example").get("/admin/sign-ins")))
    assert "other@example.com" in commerce and "casey@example.com" in commerce


# ----- My account ------------------------------------------------------------------------------

def test_my_account_changes_the_name(app, admin, query):
    response = admin.post("/account/name", data={
        "csrf_token": csrf_token(admin, "/account/"), "display_name": "Casey at Gulf",
        "first_name": "Casey", "last_name": "Reyes"})
    assert response.status_code == 303
    page = text_of(page_text(admin.get("/account/")))
    assert "Your name was saved." in page and "Signed in as Casey at Gulf" in page
    empty = admin.post("/account/name", data={"csrf_token": csrf_token(admin, "/account/"),
                                              "display_name": "", "first_name": "", "last_name": ""})
    assert empty.status_code == 400 and "Enter your first name." in page_text(empty)


def test_my_account_leads_a_filer_to_their_api_keys_and_not_a_viewer(app, admin, query):
    assert 'href="/account/api-keys"' in admin.get("/account/").get_data(as_text=True)
    member(query, "vic@example.com", CompanyRole.VIEWER)
    viewer = signed_in_as(app, "vic@example.com")
    assert "/account/api-keys" not in viewer.get("/account/").get_data(as_text=True)
    assert viewer.get("/account/api-keys").status_code == 403   # the link would lead nowhere


def test_my_account_changes_the_password_and_ends_the_other_sessions(app, admin, query, mailbox):
    other_browser = signed_in_as(app, "filer@example.com")
    wrong = admin.post("/account/password", data={
        "csrf_token": csrf_token(admin, "/account/"), "current_password": "Not-The-One-1",
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and "The current password is not right." in page_text(wrong)
    right = admin.post("/account/password", data={
        "csrf_token": csrf_token(admin, "/account/"), "current_password": PASSWORD,
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert right.status_code == 303
    assert admin.get("/account/").status_code == 200                       # this session goes on
    assert other_browser.get("/licenses/").headers["Location"].startswith("/signin")
    assert sign_in(app.test_client(), password=NEW_PASSWORD).status_code == 302
    assert mailbox.wait_for("filer@example.com")[-1]["Subject"] == "AIM: your password was changed"


def test_my_account_lists_recent_sign_ins_and_failed_attempts(app, query):
    query(lambda: make_user())
    stranger = app.test_client()
    sign_in(stranger, password="Wrong-Horse-99", environ_base={"REMOTE_ADDR": "198.51.100.7"},
            headers={"User-Agent": "Mallory/1.0"})
    me = app.test_client()
    sign_in(me, environ_base={"REMOTE_ADDR": "203.0.113.5"}, headers={"User-Agent": "Firefox/140.0"})
    page = page_text(me.get("/account/"))
    sign_ins = page.split("Recent sign-ins", 1)[1]
    assert "Signed in" in sign_ins and "203.0.113.5" in sign_ins and "Firefox/140.0" in sign_ins
    assert "Sign-in refused: Wrong email or password" in sign_ins
    assert "198.51.100.7" in sign_ins and "Mallory/1.0" in sign_ins


def test_sign_out_everywhere_ends_every_session(app, query):
    query(lambda: make_user())
    here, there = signed_in_as(app, "filer@example.com"), signed_in_as(app, "filer@example.com")
    response = here.post("/sign-out-everywhere", data={"csrf_token": csrf_token(here, "/account/")})
    assert response.headers["Location"] == "/signin"
    for client in (here, there):
        assert client.get("/licenses/").headers["Location"].startswith("/signin")
    assert query(lambda: db.session.scalar(select(AccountEvent.id).where(
        AccountEvent.kind == AccountEventKind.SIGNED_OUT_ALL))) is not None


# ----- the migration ----------------------------------------------------------------------------

def test_the_migration_makes_each_company_s_registering_user_its_administrator(tmp_path):
    """Up from the revision before company roles, on a SQLite file of its own: the one user a
    company had becomes its administrator; an officer without a company gets no company role."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    with migrated_to(tmp_path, "f3d51b7a2c60"):
        db.session.execute(text(
            "INSERT INTO company (id, name, company_type, street, city, state, zip_code, phone, "
            "contact_first_name, contact_last_name, email, created_at, updated_at) VALUES (1, 'Gulf', "
            "'importer', '1 Main St', 'Houston', 'TX', '77001', '281-555-0134', 'A', 'B', 'a@example.com', "
            "'2026-05-01', '2026-05-01')"))
        insert = text("INSERT INTO user (email, display_name, first_name, last_name, password_hash, role, "
                      "company_id, session_version, created_at) VALUES (:email, 'x', 'x', 'x', 'x', :role, "
                      ":company, 1, '2026-05-01')")
        db.session.execute(insert, {"email": "filer@example.com", "role": "filer", "company": 1})
        db.session.execute(insert, {"email": "officer@example.com", "role": "officer", "company": None})
        db.session.commit()
        db.session.remove()
        upgrade()
        roles = dict(db.session.execute(text("SELECT email, company_role FROM user")).all())
        assert roles == {"filer@example.com": CompanyRole.ADMINISTRATOR, "officer@example.com": None}
