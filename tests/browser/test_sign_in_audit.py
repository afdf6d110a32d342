"""An officer opens the Sign-in Audit from the navigation, finds a stranger's failed sign-in and
their own sign-in, filters by address, and the page passes axe."""
from __future__ import annotations

import re

import pytest

from .steps import expect, field, sign_in

pytestmark = pytest.mark.browser

OFFICER = "olive@commerce.example"


def test_officer_reads_and_filters_the_sign_in_audit(page, new_page, app, helpers, console, audit):
    with app.app_context():
        helpers.make_user(OFFICER, role="officer", company=False)
        helpers.make_user("dana@gulfcoast.example")
    stranger = new_page()
    sign_in(stranger, "dana@gulfcoast.example", "Wrong-Horse-99")
    expect(stranger.get_by_text("The email address or password is incorrect.")).to_be_visible()

    sign_in(page, OFFICER, helpers.PASSWORD)
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Sign-in Audit").click()
    expect(page).to_have_url(re.compile(r"/admin/sign-ins$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in Audit")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(OFFICER)
    expect(rows.nth(0)).to_contain_text("Signed in")
    expect(rows.nth(1)).to_contain_text("dana@gulfcoast.example")
    expect(rows.nth(1)).to_contain_text("Wrong email or password")
    console.assert_clean("sign-in audit")
    audit("sign-in-audit")

    field(page, "Email address").fill("dana@gulfcoast.example")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sign-in refused")
