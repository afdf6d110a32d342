"""A broker's filer makes an API key from the company profile, sees it once, the key answers the
API, the filer revokes it; the keys page (empty, with an error, with the new key, with a revoked
key) and the API reference page pass axe at desktop and phone widths."""
from __future__ import annotations

import re

import pytest
import requests

from .steps import expect, field, sign_in

pytestmark = pytest.mark.browser


def api_status(url: str, key: str) -> int:
    return requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code


def test_a_filer_makes_uses_and_revokes_an_api_key(page, app, helpers, live_server, console, audit, screenshot):
    with app.app_context():
        helpers.make_user("dana@gulfcoast.example")
    sign_in(page, "dana@gulfcoast.example", helpers.PASSWORD)
    page.goto("/account/company")
    page.get_by_role("link", name="API keys").click()
    expect(page).to_have_url(re.compile(r"/account/api-keys$"))
    expect(page.get_by_text("No key yet.")).to_be_visible()
    audit("api-keys-empty")

    page.get_by_role("button", name="Make key").click()
    expect(page.locator(".usa-error-message")).to_contain_text("Name the key")
    audit("api-keys-error")

    field(page, "Name").fill("Broker system")
    page.get_by_role("button", name="Make key").click()
    key = page.locator("#new-api-key").inner_text()
    assert key.startswith("aim_")
    screenshot(page, "api-key-made", mobile=True)
    audit("api-key-made")
    assert api_status(live_server("/api/v1/licenses"), key) == 200

    page.get_by_role("button", name="Revoke Broker system").click()
    expect(page.get_by_text("The key was revoked")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("Revoked")
    audit("api-key-revoked")
    assert api_status(live_server("/api/v1/licenses"), key) == 401
    console.assert_clean("api keys")

    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("license API")
    audit("api-reference")
