"""Every page passes axe-core (from npm) with no serious or critical violations, at desktop and
phone widths, and logs nothing to the browser console."""
from __future__ import annotations

import re

import pytest

from .conftest import ARTIFACTS, AXE_JS, AXE_PATH, DESKTOP, MOBILE, browser_unavailable
from .steps import account_details, expect, field, register_company

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
REPORT = ARTIFACTS / "axe-report.txt"


def describe(page_name: str, violation: dict) -> str:
    nodes = violation["nodes"]
    lines = [f"[{violation['impact']}] {page_name}: {violation['id']}: {violation['help']} ({violation['helpUrl']})"]
    for node in nodes[:3]:
        summary = (node.get("failureSummary") or "").replace("\n", " / ")
        lines.append(f"    at {' '.join(node['target'])}: {summary}")
    if len(nodes) > 3:
        lines.append(f"    … and {len(nodes) - 3} more elements")
    return "\n".join(lines)


class Audit:
    """Runs axe on the current page at both widths, screenshots it, and collects the findings."""

    def __init__(self, page, console, live_server, test_name: str):
        self.page, self.console, self.live_server = page, console, live_server
        self.test_name = test_name
        self.blocking: list[str] = []
        self.other: list[str] = []

    def __call__(self, name: str):
        page = self.page
        page.wait_for_load_state("load")
        for label, size in (("desktop", DESKTOP), ("mobile", MOBILE)):
            page.set_viewport_size(size)
            # A real <script src> on this origin (served by the route in conftest.py), so the
            # check runs under the app's own Content-Security-Policy, which forbids inline script.
            if not page.evaluate("() => typeof window.axe !== 'undefined'"):
                page.add_script_tag(url=self.live_server(AXE_PATH))
            result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
            for violation in result["violations"]:
                text = describe(f"{name} ({label})", violation)
                (self.blocking if violation["impact"] in BLOCKING else self.other).append(text)
            page.screenshot(path=str(ARTIFACTS / f"a11y--{name}-{label}.png"), full_page=True)
            # No page is wider than the screen: a wide table scrolls inside its own container.
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > size["width"]:
                self.blocking.append(f"{name} ({label}): the page is {width} px wide on a "
                                     f"{size['width']} px screen (it scrolls sideways)")
        page.set_viewport_size(DESKTOP)
        self.console.assert_clean(name)

    def assert_clean(self):
        with REPORT.open("a") as report:
            report.write(f"== {self.test_name}\n")
            for text in self.blocking + self.other:
                report.write(text + "\n")
        assert not self.blocking, (
            f"{len(self.blocking)} serious or critical accessibility violations:\n"
            + "\n".join(self.blocking)
        )


@pytest.fixture(scope="session")
def axe_report():
    """tests/artifacts/axe-report.txt: every finding of this run, minor ones too."""
    ARTIFACTS.mkdir(exist_ok=True)
    REPORT.unlink(missing_ok=True)
    return REPORT


@pytest.fixture
def audit(page, console, live_server, request, axe_report):
    if not AXE_JS.is_file():
        browser_unavailable(f"axe-core is not installed at {AXE_JS} (run npm ci)")
    audit = Audit(page, console, live_server, request.node.name)
    yield audit
    audit.assert_clean()


def expect_error_page(page, console, path: str, status: int):
    # Chromium logs the failed document itself as a console error: that one is expected.
    console.allowed.append(re.compile(rf"status of {status}"))
    response = page.goto(path)
    assert response.status == status


def test_public_pages_have_no_serious_accessibility_violations(page, console, audit):
    page.goto("/")
    audit("home")

    page.goto("/signin")
    audit("sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    audit("sign-in-errors")

    page.goto("/signup")
    audit("signup-email")
    field(page, "Email Address").fill("not an email")
    page.get_by_role("button", name="Send verification code").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    audit("signup-email-errors")

    page.goto("/password/forgot")
    audit("reset-email")

    expect_error_page(page, console, "/no-such-page", 404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    audit("error-404")


def test_sign_up_and_company_pages_have_no_serious_accessibility_violations(page, console, mailbox, audit):
    email = "a11y.signup@example.com"
    page.goto("/signup")
    field(page, "Email Address").fill(email)
    page.get_by_role("button", name="Send verification code").click()
    expect(page).to_have_url(re.compile(r"/signup/verify$"))
    audit("signup-verify")

    code = mailbox.last_code(email)
    field(page, "Verification code").fill(f"{(int(code) + 1) % 10**6:06d}")
    page.get_by_role("button", name="Verify Code").click()
    expect(page.locator("#code-error")).to_be_visible()
    audit("signup-verify-errors")
    field(page, "Verification code").fill(code)
    page.get_by_role("button", name="Verify Code").click()

    expect(page).to_have_url(re.compile(r"/signup/create$"))
    audit("signup-create")
    field(page, "New Password").fill("short")
    field(page, "Confirm New Password").fill("different")
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    audit("signup-create-errors")
    account_details(page, "A11y Imports", "Ada", "Lovelace")
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url(re.compile(r"/account/company$"))
    audit("company-empty")
    field(page, "EIN").fill("00-1234567")
    field(page, "Company Street Address").fill("P.O. Box 1")
    field(page, "Phone").fill("123")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    audit("company-errors")

    register_company(page, "A11y Imports Inc", company_type="Customs Broker")
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    audit("dashboard")

    page.get_by_role("link", name="Company Profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Company Profile")
    audit("company-profile")

    expect_error_page(page, console, "/review/", 403)
    audit("error-403")


def test_password_reset_pages_have_no_serious_accessibility_violations(page, console, mailbox, app, helpers, audit):
    with app.app_context():
        helpers.make_user("a11y.reset@example.com")
    page.goto("/password/forgot")
    field(page, "Email Address").fill("a11y.reset@example.com")
    page.get_by_role("button", name="Send verification code").click()
    expect(page).to_have_url(re.compile(r"/password/verify$"))
    audit("reset-verify")

    field(page, "Verification code").fill(mailbox.last_code("a11y.reset@example.com"))
    page.get_by_role("button", name="Verify Code").click()
    expect(page).to_have_url(re.compile(r"/password/new$"))
    audit("reset-new-password")
    field(page, "New Password").fill("alllowercase")
    field(page, "Confirm New Password").fill("alllowercase")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    audit("reset-new-password-errors")


def test_axe_check_catches_a_planted_violation(page, live_server):
    """The check itself works: an unlabelled field and an image without alt text are reported."""
    if not AXE_JS.is_file():
        browser_unavailable(f"axe-core is not installed at {AXE_JS} (run npm ci)")
    page.goto("/")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<input type="text"><img src="/static/app/favicon.svg">');
    }""")
    page.add_script_tag(url=live_server(AXE_PATH))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = {v["id"]: v["impact"] for v in result["violations"]}
    assert found.get("label") in BLOCKING and found.get("image-alt") in BLOCKING, found
