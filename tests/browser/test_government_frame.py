"""The government frame in a real browser (issue 14, point 10): the banner opens with "Here's how
you know", "What is this?" opens beside a field, the footer's pages, Apply for Single License goes
straight to the form; axe at both widths on every new state."""
from __future__ import annotations

import pytest

from .steps import expect, sign_in, start_application

pytestmark = pytest.mark.browser


def test_banner_footer_pages_and_what_is_this_pass_axe(page, audit):
    page.goto("/")
    banner = page.get_by_role("button", name="Here’s how you know")
    expect(banner).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_text("Official websites use .gov")).to_be_hidden()
    banner.click()
    expect(page.get_by_text("Official websites use .gov")).to_be_visible()
    audit("gov-banner-open")

    page.get_by_role("link", name="Privacy policy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy policy")
    audit("privacy")
    page.get_by_role("link", name="Accessibility statement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
    audit("accessibility-statement")

    page.goto("/signup")
    help_text = page.get_by_text("The address you sign in with.")
    expect(help_text).to_be_hidden()
    page.locator("summary", has_text="What is this? Email Address").click()
    expect(help_text).to_be_visible()
    audit("signup-what-is-this-open")


def test_apply_for_single_license_opens_the_form_and_company_help(page, app, helpers, audit):
    with app.app_context():
        helpers.make_user("frame@example.com")
    sign_in(page, "frame@example.com", helpers.PASSWORD)
    start_application(page)  # Standard License → Aluminum on the apply page
    expect(page.get_by_text("Standard License · Aluminum")).to_be_visible()

    page.goto("/account/company")
    page.locator("summary", has_text="What is this? EIN").click()
    expect(page.get_by_text("It is NOT a Social Security Number")).to_be_visible()
    audit("company-what-is-this-open")


def test_the_program_s_name_never_runs_under_the_signed_in_user(page, app, helpers):
    """At 1280 px a page of the narrow container has ~700 px beside "Signed in as …": the name wraps
    there (it ran under the user's name once steel made it longer)."""
    with app.app_context():
        helpers.make_user("frame@example.com", first="Dana", last="Whitaker")
    sign_in(page, "frame@example.com", helpers.PASSWORD)
    for path in ("/account/", "/licenses/"):    # narrow and wide containers
        page.goto(path)
        page.evaluate("() => document.fonts.ready")
        name = page.locator(".aim-logo__long").bounding_box()
        user = page.locator(".aim-account").get_by_text("Signed in as").bounding_box()
        assert name["x"] + name["width"] <= user["x"] or name["y"] + name["height"] <= user["y"], (path, name, user)
