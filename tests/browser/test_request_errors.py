"""An htmx request that fails shows a message in the page; an expired form token is renewed so
pressing the button again works with everything typed kept."""
from __future__ import annotations

import re

import pytest

from .steps import expect, field, fill_line, new_application, product_rows

pytestmark = pytest.mark.browser


def test_expired_token_on_add_products_says_so_and_the_retry_keeps_what_was_typed(
        page, console, app, helpers, audit):
    email = "dana@gulfcoast.example"
    new_application(page, app, helpers, email)
    fill_line(page, "7601.10.30.00", "12500", "38750")
    # The token the page holds goes stale (as after an idle hour: the server refuses it).
    page.evaluate("""() => {
        document.querySelector('meta[name="csrf-token"]').setAttribute('content', 'stale');
        document.querySelectorAll('input[name="csrf_token"]').forEach(i => { i.value = 'stale'; });
    }""")
    console.allowed.append(re.compile(r"400|Response Status Error|responseError"))
    page.get_by_role("button", name="Add Products").click()
    alert = page.locator("#aim-request-alert .usa-alert")
    expect(alert).to_contain_text("press the button again")
    expect(alert).to_be_focused()
    expect(product_rows(page)).to_have_count(0)
    expect(field(page, "Importer Name")).to_have_value("Gulf Coast Metals LLC")
    expect(field(page, "Volume (KG)")).to_have_value("12500")
    audit("htmx-request-failed")

    page.get_by_role("button", name="Add Products").click()
    expect(product_rows(page)).to_have_count(1)
    expect(product_rows(page).first).to_contain_text("7601.10.30.00")
    expect(page.locator("#aim-request-alert")).to_be_empty()
    expect(field(page, "Importer Name")).to_have_value("Gulf Coast Metals LLC")


@pytest.mark.parametrize(("status", "message"), [(429, "too many requests"), (413, "larger than this portal accepts")])
def test_too_many_requests_and_too_large_show_a_message(page, console, app, helpers, status, message):
    email = "dana@gulfcoast.example"
    new_application(page, app, helpers, email)
    fill_line(page, "7601.10.30.00", "12500", "38750")
    console.allowed.append(re.compile(rf"{status}|Response Status Error|responseError"))
    page.route("**/drafts/*/lines", lambda route: route.fulfill(status=status, body=""))
    page.get_by_role("button", name="Add Products").click()
    expect(page.locator("#aim-request-alert .usa-alert")).to_contain_text(re.compile(message, re.I))
    expect(field(page, "Volume (KG)")).to_have_value("12500")
