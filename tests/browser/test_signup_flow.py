"""A person signs up in the browser, in the guide's steps and words, and registers the company."""
from __future__ import annotations

import re

import pytest

from .conftest import MOBILE
from .steps import account_details, expect, field, register_company, sign_in, sign_up

pytestmark = pytest.mark.browser


def test_person_signs_up_registers_company_and_lands_on_dashboard(page, console, mailbox, screenshot):
    email = "dana.whitaker@riverstone-metals.example"
    sign_up(page, console, mailbox, email, screenshot)

    # The "Account Creation Page": contact name and email are filled in from the account.
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your company")
    expect(field(page, "Email")).to_have_value(email)
    expect(field(page, "First Name")).to_have_value("Dana")
    expect(field(page, "Last Name")).to_have_value("Whitaker")
    screenshot(page, "company-empty", mobile=True)
    console.assert_clean("company registration")
    register_company(page, "Riverstone Metals LLC", ein="12-3456789")

    expect(page).to_have_url(re.compile(r"/licenses/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    expect(page.get_by_role("main")).to_contain_text("Riverstone Metals LLC")
    header = page.get_by_role("banner")
    expect(header.get_by_text("Signed in as Riverstone Metals")).to_be_visible()
    expect(header.get_by_role("link", name="License Dashboard")).to_have_attribute("aria-current", "page")
    screenshot(page, "dashboard", mobile=True)
    console.assert_clean("dashboard")

    header.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("main")).to_contain_text("You have signed out.")
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    expect(header).not_to_contain_text("Riverstone Metals")
    screenshot(page, "signed-out")
    console.assert_clean("home after sign-out")
    # Signed out for real: the dashboard sends the visitor to sign in.
    page.goto("/licenses/")
    expect(page).to_have_url(re.compile(r"/signin\?next="))


def test_sign_up_works_on_a_phone_without_javascript(new_page, console, mailbox, screenshot):
    page = new_page(java_script_enabled=False, viewport=MOBILE)
    email = "no.script@riverstone-metals.example"
    page.goto("/signup")
    field(page, "Email Address").fill(email)
    page.get_by_role("button", name="Send verification code").click()
    expect(page).to_have_url(re.compile(r"/signup/verify$"))
    first_code = mailbox.last_code(email)
    # "Send new code" sits beside "Verify Code" in the same form; it works without a script too.
    page.get_by_role("button", name="Send new code").click()
    expect(page).to_have_url(re.compile(r"/signup/verify$"))
    expect(page.locator(".aim-flash")).to_contain_text(re.compile("new code|wait", re.IGNORECASE))
    field(page, "Verification code").fill(mailbox.last_code(email) or first_code)
    page.get_by_role("button", name="Verify Code").click()
    expect(page).to_have_url(re.compile(r"/signup/create$"))
    account_details(page, "No Script Metals", "Noel", "Script", "Plain-Forms-1")
    page.get_by_role("button", name="Create").click()
    register_company(page, "No Script Metals Inc", ein="12-7654321")

    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    # Without a script the menu can't open, so the navigation and sign-out are shown in place.
    header = page.get_by_role("banner")
    expect(header.get_by_role("button", name="Menu", exact=True)).to_be_hidden()
    expect(header.get_by_text("Signed in as No Script Metals")).to_be_visible()
    expect(header.get_by_role("link", name="Company Profile")).to_be_visible()
    screenshot(page, "no-script-dashboard")
    header.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("main")).to_contain_text("You have signed out.")


def test_phone_menu_opens_and_signs_out(page, app, helpers, screenshot):
    with app.app_context():
        helpers.make_user("menu@example.com")
    sign_in(page, "menu@example.com", helpers.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    page.set_viewport_size(MOBILE)
    page.emulate_media(reduced_motion="reduce")  # the menu appears at once, not sliding in
    header = page.get_by_role("banner")
    sign_out = header.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    header.get_by_role("button", name="Menu").click()
    expect(sign_out).to_be_visible()
    expect(header.get_by_text("Signed in as Test Filer")).to_be_visible()
    screenshot(page, "phone-menu-open")
    sign_out.click()
    expect(page.get_by_role("main")).to_contain_text("You have signed out.")


def test_company_form_shows_every_error_at_once_and_keeps_values(page, console, app, helpers, screenshot):
    with app.app_context():
        helpers.make_user("newcomer@example.com", company=False)
    sign_in(page, "newcomer@example.com", helpers.PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/company$"))

    field(page, "EIN").fill("00-1234567")
    field(page, "Company Street Address").fill("P.O. Box 1234")
    field(page, "City").fill("Missouri City")
    field(page, "State").select_option("TX")
    field(page, "Zip").fill("10001")
    field(page, "Phone").fill("555-0134")
    field(page, "Alternate Email").fill("not-an-email")
    page.get_by_role("button", name="Save").click()

    # No browser validation stands in the way: the server answers with every problem at once.
    expect(page).to_have_url(re.compile(r"/account/company$"))
    summary = page.locator(".aim-error-summary")
    expect(summary).to_contain_text("Please correct the 7 fields marked below")
    expect(summary).to_be_focused()
    errors = {
        "EIN": "EIN", "Company Name": "company name", "Company Type": "company type",
        "Company Street Address": "P.O. box", "Zip": "TX", "Phone": "###-###-####",
        "Alternate Email": "email address",
    }
    for label, words in errors.items():
        box = field(page, label)
        expect(box).to_have_attribute("aria-invalid", "true")
        message = page.locator("#" + box.get_attribute("id") + "-error")
        expect(message).to_be_visible()
        expect(message).to_contain_text(re.compile(re.escape(words), re.IGNORECASE))
        expect(summary.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "href", "#" + box.get_attribute("id"))
    screenshot(page, "company-errors", mobile=True)
    # Typed values are kept, the wrong ones too, so the person can correct them.
    expect(field(page, "City")).to_have_value("Missouri City")
    expect(field(page, "City")).not_to_have_attribute("aria-invalid", "true")
    expect(field(page, "State")).to_have_value("TX")
    expect(field(page, "Company Street Address")).to_have_value("P.O. Box 1234")
    expect(field(page, "Zip")).to_have_value("10001")
    expect(field(page, "Alternate Email")).to_have_value("not-an-email")
    expect(field(page, "EIN")).to_have_value("00-1234567")
    expect(field(page, "Phone")).to_have_value("555-0134")
    console.assert_clean("company registration with errors")

    # A link in the summary takes the person to the field.
    summary.get_by_role("link", name="Phone").click()
    expect(field(page, "Phone")).to_be_focused()


def test_htmx_requests_carry_the_csrf_token(page, app, helpers):
    """htmx is loaded and app.js adds X-CSRFToken: a POST made by htmx passes Flask-WTF's check."""
    with app.app_context():
        helpers.make_user("htmx@example.com")
    sign_in(page, "htmx@example.com", helpers.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    page.wait_for_function("() => window.htmx !== undefined")  # a deferred script: after the heading
    with page.expect_request("**/signout") as posted:
        page.evaluate("() => htmx.ajax('POST', '/signout', {target: 'body', swap: 'none'})")
    request = posted.value
    assert request.headers.get("x-csrftoken") == page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert request.headers.get("hx-request") == "true"
    assert request.response().status in (200, 302)  # 400 would mean the CSRF check refused it
    page.goto("/licenses/")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
