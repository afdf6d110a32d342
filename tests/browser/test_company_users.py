"""Issue 17 in the browser: the company's administrator records a branch and invites a colleague;
the invitation's link comes from the real SMTP server; the colleague creates an account from it and
files a license for the branch; the administrator finds it filtered by branch and by user, then
suspends the colleague, whose open session stops working at once; My account. The
pages pass axe at 1280 and 390 px."""
from __future__ import annotations

import re

import pytest
from factories import add_license, add_member

from aimweb.enums import CompanyRole

from .steps import (
    PASSWORD,
    account_details,
    add_branch,
    expect,
    field,
    fill_header,
    fill_line,
    sign_in,
    start_application,
)

pytestmark = pytest.mark.browser

ADMIN = "dana@gulfcoast.example"
COLLEAGUE = "casey@gulfcoast.example"
def audit_on(audit, other_page, name: str):
    """axe on another browser's page (the colleague's), its findings kept with the test's own."""
    own, audit.page = audit.page, other_page
    try:
        audit(name)
    finally:
        audit.page = own


JOIN_LINK = re.compile(r"http://[^/\s]+(/account/join\?invitation=[A-Za-z0-9_\-]+)")


def test_administrator_invites_a_colleague_who_files_and_is_then_suspended(
        page, new_page, app, helpers, mailbox, console, screenshot, audit):
    with app.app_context():
        admin = helpers.make_user(ADMIN, company_name="Gulf Coast Metals LLC", first="Dana", last="Whitaker")
        add_license(admin.id, "AGUL20126")       # the administrator's own, for the company itself
    sign_in(page, ADMIN, helpers.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")

    # Branches → the Houston office.
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Branches").click()
    add_branch(page, "Houston Office")
    expect(page.get_by_role("main")).to_contain_text("Branch “Houston Office” was added")

    # Company Users → invite a filer.
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Company Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Company Users")
    audit("company-users")
    field(page, "Email Address").fill(COLLEAGUE)
    field(page, "Role").select_option(label="Filer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status").filter(has_text="will be emailed")).to_contain_text(
        f"An invitation will be emailed to {COLLEAGUE}")
    expect(page.get_by_role("table", name="Invitations not yet used")).to_contain_text(COLLEAGUE)
    screenshot(page, "people-invited", mobile=True)
    audit("company-users-invited")

    # The colleague opens the link from the mail the real SMTP server received.
    [mail] = mailbox.wait_for(COLLEAGUE, timeout=10)
    path = JOIN_LINK.search(mailbox.body(mail)).group(1)
    colleague = new_page()
    colleague.goto(path)
    expect(colleague.get_by_role("heading", level=1)).to_have_text("Join Gulf Coast Metals LLC")
    audit_on(audit, colleague, "join")
    colleague.get_by_role("button", name="Create account and join").click()
    expect(colleague.get_by_role("alert").first).to_contain_text("Please correct the 5 fields")
    audit_on(audit, colleague, "join-errors")
    account_details(colleague, "Casey N", "Casey", "Nguyen")
    screenshot(colleague, "join", mobile=True)
    colleague.get_by_role("button", name="Create account and join").click()
    expect(colleague.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    expect(colleague.get_by_role("main")).to_contain_text("You are a filer")

    # … and files a license for the Houston office.
    start_application(colleague)
    field(colleague, "Filed for").select_option(label="Houston Office")
    fill_header(colleague)
    fill_line(colleague, "7601.10.30.00", "12500", "38750")
    colleague.get_by_role("button", name="Add Products").click()
    expect(colleague.locator("#products table.aim-lines tbody tr")).to_have_count(1)
    colleague.locator("label[for=certified]").click()
    colleague.get_by_role("button", name="Preview", exact=True).click()
    colleague.get_by_role("button", name="Submit").click()
    expect(colleague.get_by_role("heading", level=1)).to_have_text("License issued")
    number = colleague.url.rsplit("/", 1)[1]

    # The administrator finds it by branch, then by the user who filed it; their own is in neither.
    page.goto("/licenses/")
    results = page.locator("#license-results")
    expect(results).to_contain_text(number)
    expect(results).to_contain_text("AGUL20126")
    field(page, "Branch").select_option(label="Houston Office")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(results).to_contain_text("1 license")
    expect(results).to_contain_text(number)
    expect(results).not_to_contain_text("AGUL20126")
    screenshot(page, "dashboard-by-branch")
    page.goto("/licenses/")
    field(page, "Filed by").select_option(label="Casey Nguyen")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(results).to_contain_text("1 license")
    expect(results).to_contain_text(number)
    expect(results).not_to_contain_text("AGUL20126")
    audit("dashboard-by-user")
    page.goto(f"/licenses/{number}")
    expect(page.get_by_role("main")).to_contain_text("Houston Office")
    expect(page.get_by_role("main")).to_contain_text("Casey Nguyen")

    # … then suspends the colleague.
    page.goto("/account/people")
    row = page.get_by_role("row").filter(has_text=COLLEAGUE)
    expect(row).to_contain_text("Filer")
    expect(row).to_contain_text("Active")
    row.get_by_role("button", name="Suspend").click()
    expect(page.get_by_role("main")).to_contain_text("Casey Nguyen is suspended")
    expect(page.get_by_role("row").filter(has_text=COLLEAGUE)).to_contain_text("Suspended")
    audit("company-users-suspended")

    # The colleague's open session stops working at once.
    colleague.reload()
    expect(colleague).to_have_url(re.compile(r"/signin"))
    sign_in(colleague, COLLEAGUE, PASSWORD)
    expect(colleague.get_by_role("main")).to_contain_text(
        "Your access to Gulf Coast Metals LLC's AIM account is suspended by its administrator.")
    screenshot(colleague, "suspended-sign-in", mobile=True)
    audit_on(audit, colleague, "suspended-sign-in")
    # The license stays the company's.
    page.goto(f"/licenses/{number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)

    # The company's activity: the invitation, the colleague's joining, the suspension and the
    # refused sign-in that followed, by whom and from where.
    page.goto("/account/people")
    page.get_by_role("link", name="Company Activity").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Company Activity")
    activity = page.get_by_role("region", name="Company Activity")
    for seen in ("Invited to the company", "Joined the company", "Suspended", "Sign-in refused"):
        expect(activity).to_contain_text(seen)
    screenshot(page, "company-activity", mobile=True)
    audit("company-activity")

    # Remove asks first, on a page of its own; Keep goes back with nothing changed.
    page.goto("/account/people")
    page.get_by_role("row").filter(has_text=COLLEAGUE).get_by_role("link", name="Remove Casey Nguyen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove Casey Nguyen from Gulf Coast Metals LLC?")
    screenshot(page, "remove-asked", mobile=True)
    audit("remove-asked")
    page.get_by_role("link", name="Keep Casey Nguyen").click()
    expect(page.get_by_role("row").filter(has_text=COLLEAGUE)).to_contain_text("Suspended")
    page.get_by_role("row").filter(has_text=COLLEAGUE).get_by_role("link", name="Remove Casey Nguyen").click()
    page.get_by_role("button", name="Remove Casey Nguyen").click()
    expect(page.get_by_role("main")).to_contain_text("Casey Nguyen was removed from the company")
    expect(page.get_by_role("row").filter(has_text=COLLEAGUE)).to_have_count(0)


def test_my_account_shows_sign_ins_and_signs_out_everywhere(page, new_page, app, helpers, console, audit):
    with app.app_context():
        helpers.make_user(ADMIN, company_name="Gulf Coast Metals LLC")
    stranger = new_page()
    sign_in(stranger, ADMIN, "Wrong-Horse-99")
    other = new_page()
    sign_in(other, ADMIN, helpers.PASSWORD)
    sign_in(page, ADMIN, helpers.PASSWORD)
    page.get_by_role("link", name="My Account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My Account")
    sign_ins = page.locator(".aim-my-sign-ins tbody tr")
    expect(sign_ins).to_have_count(3)
    expect(sign_ins.nth(2)).to_contain_text("Sign-in refused: Wrong email or password")
    audit("my-account")

    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("main")).to_contain_text("You were signed out everywhere")
    other.goto("/licenses/")
    expect(other).to_have_url(re.compile(r"/signin"))


def test_commerce_suspends_an_account_and_a_viewer_reads_only(page, new_page, app, helpers, audit):
    with app.app_context():
        owner = helpers.make_user(ADMIN, company_name="Gulf Coast Metals LLC")
        add_license(owner.id, "AGUL10126")
        add_member(owner, "vic@gulfcoast.example", CompanyRole.VIEWER)
        helpers.make_user("root@commerce.example", role="admin", company=False)
    viewer = new_page()
    sign_in(viewer, "vic@gulfcoast.example", helpers.PASSWORD)
    expect(viewer.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    expect(viewer.get_by_role("main")).to_contain_text("AGUL10126")
    expect(viewer.get_by_role("button", name="Apply for Single License")).to_have_count(0)
    expect(viewer.get_by_role("link", name="Apply for Single License")).to_have_count(0)
    audit_on(audit, viewer, "viewer-dashboard")
    viewer.goto("/licenses/AGUL10126")
    expect(viewer.get_by_role("link", name="View/Print")).to_be_visible()
    expect(viewer.get_by_role("button", name="Modify License")).to_have_count(0)
    audit_on(audit, viewer, "viewer-license")

    sign_in(page, "root@commerce.example", helpers.PASSWORD)
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    field(page, "Email address (or part of it)").fill("vic@")
    page.get_by_role("button", name="Find").click()
    row = page.get_by_role("row").filter(has_text="vic@gulfcoast.example")
    expect(row).to_contain_text("Gulf Coast Metals LLC, viewer")
    audit("commerce-accounts")
    row.get_by_label("Reason").fill("Asked by CBP")
    row.get_by_role("button", name="Suspend").click()
    expect(page.get_by_role("main")).to_contain_text("vic@gulfcoast.example is suspended")
    expect(page.get_by_role("row").filter(has_text="vic@gulfcoast.example")).to_contain_text(
        "Suspended by Commerce: Asked by CBP")
    audit("commerce-accounts-suspended")
    viewer.reload()
    expect(viewer).to_have_url(re.compile(r"/signin"))
