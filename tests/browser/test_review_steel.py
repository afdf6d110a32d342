"""An officer filters the review queue by Steel in the browser: the category list changes to steel's
Section 232 categories (htmx), Filter leaves the steel license, the URL keeps the filters; the
panel shows the steel license (Country of Melt and Pour, SIMA) with what the transshipment check
looks for; the officer's license page; "What the checks look for". axe at 1280 and 390 px."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import User
from aimweb.products.aluminum import ALUMINUM
from aimweb.products.steel import STEEL

from .steps import expect, field, sign_in

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
FILER = "dana@gulfcoast.example"
OFFICER = "olive@commerce.example"


def draft(product, line, origin="VN"):
    return rules.LicenseDraft(
        product=product.key, entry_number="ABC-1234567-6", importer_name="Gulf Coast Metals LLC",
        exporter_name="Saigon Coil Center", manufacturer_name="unknown", origin_country=origin,
        export_country=origin, port_code="1303", export_date=TODAY + timedelta(days=5),
        import_date=TODAY + timedelta(days=20), lines=[line])


@pytest.fixture
def flagged(app, helpers):
    """Two licenses the transshipment check flags: steel melted and poured in China, aluminum
    smelted and cast there, both with Vietnam as the origin."""
    with app.app_context():
        helpers.make_user(OFFICER, role="officer", company=False)
        filer = db.session.get(User, helpers.make_user(FILER).id)
        steel, = licensing.issue_licenses(filer, [draft(STEEL, STEEL.LineDraft(
            "7208101500", "CN", Decimal(24000), Decimal("19200.00")))])
        aluminum, = licensing.issue_licenses(filer, [draft(ALUMINUM, ALUMINUM.LineDraft(
            "7606123035", "CN", "NA_", "CN", Decimal(12500), Decimal("38750.00")))])
    return dict(steel=steel, aluminum=aluminum)


def queue_rows(page):
    return page.locator("#queue-results tbody tr")


def test_officer_filters_the_queue_by_steel_and_opens_a_steel_license(
        page, console, flagged, helpers, screenshot, audit):
    sign_in(page, OFFICER, helpers.PASSWORD)
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(queue_rows(page)).to_have_count(2)
    expect(page).to_have_title("Review Queue | SIMA and AIM Licensing")

    # What the checks look for: steel's transshipment check in plain words.
    help_box = page.locator(".aim-checks-help")
    help_box.locator("summary").click()
    expect(help_box).to_contain_text("Steel: flags a product melted and poured in a country other than its "
                                     "country of origin, when that origin is one the office watches")
    screenshot(page, "checks-explained", mobile=True)
    audit("review-checks-explained")

    # Product: Steel redraws the category list with steel's categories, without a reload.
    page.evaluate("() => { window.aimNoReload = 'still here'; }")
    category = field(page, "HTS category")
    expect(category.locator("optgroup")).to_have_count(2)
    field(page, "Product").select_option(label="Steel")
    expect(category.locator("optgroup")).to_have_count(0)
    expect(category.locator("option")).to_have_count(55)  # All categories and steel's 54
    expect(category).to_contain_text("Hot-rolled plate, in coils")
    expect(category).not_to_contain_text("Plates, sheets and strip")
    category.select_option(label="Hot-rolled plate, in coils")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(queue_rows(page)).to_have_count(1)
    expect(queue_rows(page).first).to_contain_text(flagged["steel"])
    expect(queue_rows(page).first).to_contain_text("Steel · Created")
    expect(page.locator("#queue-heading")).to_have_text("1 license to review")
    expect(page).to_have_url(re.compile(r"/review/\?.*product=steel.*category=Hot-rolled"))
    assert page.evaluate("() => window.aimNoReload") == "still here", "an htmx step reloaded the page"
    console.assert_clean("the product filter")

    # The steel license in the panel.
    queue_rows(page).first.get_by_role("link", name=flagged["steel"]).click()
    panel = page.locator("#review-panel")
    expect(panel.get_by_role("heading", name=f"License {flagged['steel']}")).to_be_visible()
    expect(panel).to_contain_text("Steel (SIMA, 19 CFR part 360)")
    expect(panel).to_contain_text("Country of Melt and Pour")
    expect(panel).to_contain_text("is not the country of melt and pour (China), and Vietnam is an origin "
                                  "watched for transshipment")
    note = panel.locator(".aim-check-note")
    note.get_by_text("What “Possible transshipment” looks for in steel licenses").click()
    expect(note.get_by_text(re.compile("Ask for the mill test certificate"))).to_be_visible()
    expect(panel).not_to_contain_text("Smelt")
    # Alone in the steel queue: no neighbours.
    expect(panel.get_by_role("navigation", name="Previous and next in the queue")).to_contain_text(
        "First in the queue")
    screenshot(page, "steel-panel", mobile=True)
    audit("review-steel-panel")

    # The officer's license page, reached with the filters.
    panel.get_by_role("heading", name=f"License {flagged['steel']}").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/review/licenses/{flagged['steel']}\?(.*&)?product=steel"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"License {flagged['steel']}")
    screenshot(page, "steel-license-page", mobile=True)
    audit("review-steel-license-page")

    # Back to every product: both licenses again, the category list for both.
    page.goto("/review/?product=")
    expect(queue_rows(page)).to_have_count(2)
    console.assert_clean("the steel license")
