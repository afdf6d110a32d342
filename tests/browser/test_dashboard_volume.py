"""A filer with many licenses works the dashboard (issue 14, point 7): sorts by a column and back,
shows 100 a page, uses a quick filter, ticks two licenses and prints them as one PDF; on a phone
(390 px) the licenses come first and Search & Filter opens from a button. axe at each new state."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from factories import add_license
from pypdf import PdfReader

from aimweb import licensing
from aimweb.models import utcnow

from .conftest import DESKTOP, MOBILE
from .steps import expect, sign_in

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()


@pytest.fixture
def many(app, helpers):
    """30 licenses of one filer: numbers in another order than creation, one expiring this week."""
    email = "mo@volume.example"
    with app.app_context():
        user = helpers.make_user(email)
        now = utcnow()
        for i in range(30):
            add_license(user.id, f"A{(i * 7) % 30:02d}VB1226", created=now - timedelta(days=1, minutes=i),
                        entry_number="ABC12345676" if i == 0 else None,
                        valid_through=TODAY + timedelta(days=3 + i * 10 if i < 2 else 60))
    return {"email": email, "password": helpers.PASSWORD}


def numbers(page) -> list[str]:
    return [t.strip() for t in page.locator("#license-results tbody tr.aim-row th .aim-number").all_inner_texts()]


def first_number(page):
    return page.locator("#license-results tbody tr.aim-row th .aim-number").first


def query_of(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def actions_in_view(page, width: int) -> None:
    """The list does not scroll sideways, and the first and last rows' View License and Cancel
    License icons lie within the screen's `width`."""
    region = page.get_by_role("region", name=re.compile("^Your company's licenses"))
    sizes = region.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] <= sizes[1], f"the licenses scroll sideways at {width} px: {sizes}"
    for name in ("View License", "Cancel License"):
        for icon in (page.get_by_role("link", name=re.compile(f"^{name} ")).first,
                     page.get_by_role("link", name=re.compile(f"^{name} ")).last):
            box = icon.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)


def test_filer_sorts_pages_filters_selects_and_prints(page, console, many, screenshot, audit):
    sign_in(page, many["email"], many["password"])
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(25)
    # Newest first, as before; the new columns are there, each number with Copy.
    expect(page.get_by_role("columnheader", name="Valid Through")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Customs Entry #")).to_be_visible()
    expect(page.get_by_role("button", name="Copy license number A00VB1226")).to_be_visible()
    # Thirteen columns fit a 1280 px screen: each row's License Actions are in view without
    # scrolling the table sideways.
    actions_in_view(page, DESKTOP["width"])

    # ----- Sort by License Number, then the other way.
    page.get_by_role("link", name=re.compile("^License Number")).click()
    expect(page).to_have_url(re.compile(r"sort=number"))
    expect(first_number(page)).to_have_text("A00VB1226")
    assert query_of(page) == {"sort": "number", "order": "asc"}
    assert numbers(page) == [f"A{i:02d}VB1226" for i in range(25)]
    heading = page.get_by_role("columnheader", name=re.compile("^License Number"))
    expect(heading).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("link", name=re.compile("^License Number")).click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    expect(first_number(page)).to_have_text("A29VB1226")
    assert numbers(page)[:3] == ["A29VB1226", "A28VB1226", "A27VB1226"]
    # Next keeps the order.
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("status").filter(has_text="page 2 of 2")).to_be_visible()
    assert numbers(page) == [f"A{i:02d}VB1226" for i in range(4, -1, -1)]
    audit("dashboard-sorted")

    # ----- 100 a page: all 30 on one page, still by number, descending.
    page.get_by_role("link", name="100 licenses per page").click()
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(30)
    assert query_of(page) == {"sort": "number", "order": "desc", "size": "100"}
    expect(page.get_by_role("navigation", name="Pages of licenses")).to_have_count(0)

    # ----- Quick filter: expiring within 7 days (valid through today + 3).
    page.get_by_role("link", name="Expiring within 7 days").click()
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(1)
    expect(page.get_by_role("link", name="Expiring within 7 days")).to_have_attribute("aria-current", "page")
    assert query_of(page)["quick"] == "expiring" and query_of(page)["size"] == "100"
    audit("dashboard-quick-filter")
    page.get_by_role("link", name="All licenses").click()
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(25)
    expect(page.get_by_role("link", name="All licenses")).to_have_css("color", "rgb(255, 255, 255)")

    # ----- Tick two licenses and print them as one PDF, one license a page.
    page.get_by_role("checkbox", name="Select license A00VB1226").check()
    page.get_by_role("checkbox", name="Select license A07VB1226").check()
    screenshot(page, "dashboard-selected", mobile=True)
    audit("dashboard-selected")
    # The form the click posts (the ticked boxes, the token) is answered by the server; the test
    # keeps the answer on its way to the browser's PDF viewer, whose content a test cannot read.
    answers = []

    def keep(route):
        answer = route.fetch(timeout=60_000)
        answers.append((answer.status, answer.headers.get("content-type"), answer.body(),
                        route.request.post_data or ""))
        route.fulfill(response=answer)

    page.route("**/licenses/selected/pdf", keep)
    page.get_by_role("button", name="Print selected (PDF)").click(no_wait_after=True)
    for _ in range(600):
        if answers:
            break
        page.wait_for_timeout(100)
    status, kind, body, posted = answers[0]
    assert status == 200 and kind == "application/pdf"
    assert posted.count("license=") == 2
    pdf = PdfReader(io.BytesIO(body))
    assert len(pdf.pages) == 2
    texts = [p.extract_text() for p in pdf.pages]
    assert "A00VB1226" in texts[0] and "A07VB1226" in texts[1]
    console.assert_clean("the dashboard for volume")


def test_on_a_phone_the_licenses_come_first_and_the_filters_open_from_a_button(page, console, many,
                                                                                   screenshot, audit):
    page.set_viewport_size(MOBILE)
    sign_in(page, many["email"], many["password"])
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(25)
    toggle = page.get_by_role("button", name=re.compile("^Search & Filter"))
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#license-search")).to_be_hidden()
    # The list starts on the first screen; nothing is wider than the phone.
    top = page.locator("#licenses-heading").bounding_box()["y"]
    assert top < MOBILE["height"], f"the licenses start at {top} px"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= MOBILE["width"]
    # Each license a card: its column names beside its values, its actions on the screen.
    actions_in_view(page, MOBILE["width"])
    screenshot(page, "dashboard-phone")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#license-search")).to_be_visible()
    expect(page.locator("#f-q")).to_be_focused()
    page.locator("#f-q").fill("a00vb1226")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#license-results tbody tr.aim-row")).to_have_count(1)
    # The filters close again so the license found is in view; the button opens them.
    expect(page.locator("#license-search")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_text("Search & Filter (1 active)")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= MOBILE["width"]
    screenshot(page, "dashboard-phone-found")
    audit("dashboard-phone-found")  # at 1280 px too, where the filters are simply there
    page.set_viewport_size(MOBILE)
    toggle.click()
    expect(page.locator("#f-q")).to_have_value("a00vb1226")
    screenshot(page, "dashboard-phone-filters")
    console.assert_clean("the dashboard on a phone")
