"""An officer works the review queue in the browser: opens a flagged license in the panel and marks
it Action Required (htmx, no reload); the filer, in a browser of their own, sees it and corrects it
with Modify License and a reply to the officer; the officer finds it Answered ("Filer replied"),
reads the reply and the before → after, steps Next and Previous through the queue in the panel, and
closes the review (Close Review). axe runs on the queue with the panel open, the filer's preview
with the reply box, the panel with the answer, and the officer's license page."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import User
from aimweb.products.aluminum import ProductLineDraft

from .steps import expect, field, sign_in

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
FILER = "dana@gulfcoast.example"
OFFICER = "olive@commerce.example"
MESSAGE = "Smelted and cast in China but the origin is Vietnam: please correct or confirm the origin."
NOTE = "Origin corrected to China (internal: matches the mill certificate)."
REPLY = "The mill certificate says China; the origin is corrected.\nThe exporter ships from Vietnam."


def draft(origin="CA", largest="CA", cast="CA", hts="7601103000", kg="12500", usd="38750"):
    return rules.LicenseDraft(
        entry_number="ABC-1234567-6", importer_name="Gulf Coast Metals LLC",
        exporter_name="Northern Rolling Mills Inc.", manufacturer_name="Alouette Smelting",
        origin_country=origin, export_country=origin, port_code="1303",
        export_date=TODAY + timedelta(days=5), import_date=TODAY + timedelta(days=20),
        lines=[ProductLineDraft(hts, largest, "NA_", cast, Decimal(kg), Decimal(usd))])


@pytest.fixture
def flagged(app, helpers):
    """A filer's licenses, issued by the licensing service: two the checks flag, one they don't."""
    with app.app_context():
        helpers.make_user(OFFICER, role="officer", company=False)
        filer = helpers.make_user(FILER)
        filer = db.session.get(User, filer.id)
        transshipped, = licensing.issue_licenses(filer, [draft(origin="VN", largest="CN", cast="CN",
                                                               hts="7606123035")])
        no_smelt, = licensing.issue_licenses(filer, [draft(largest="NA_")])
        plain, = licensing.issue_licenses(filer, [draft()])
    return dict(transshipped=transshipped, no_smelt=no_smelt, plain=plain)


def queue_rows(page):
    return page.locator("#queue-results tbody tr")


def row(page, number):
    return queue_rows(page).filter(has=page.get_by_role("link", name=number, exact=True))


def test_officer_flags_filer_corrects_and_replies_officer_reads_steps_and_closes(
        page, new_page, console, flagged, helpers, mailbox, screenshot, audit):
    number = flagged["transshipped"]

    # ----- The officer's queue: the flagged licenses, most serious first, with their reasons.
    sign_in(page, OFFICER, helpers.PASSWORD)
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Review Queue")
    expect(page.locator("#queue-heading")).to_have_text("2 licenses to review")
    expect(queue_rows(page)).to_have_count(2)
    expect(queue_rows(page).first).to_contain_text(flagged["no_smelt"])  # severity 3 first
    expect(row(page, number)).to_contain_text("Possible transshipment")
    expect(row(page, number)).to_contain_text("the country of origin, Vietnam, is neither")
    screenshot(page, "queue", mobile=True)
    console.assert_clean("the queue")

    # ----- Open it in the panel (htmx, no reload), then Mark Action Required.
    page.evaluate("() => { window.aimNoReload = 'still here'; }")
    row(page, number).get_by_role("link", name=number).click()
    panel = page.locator("#review-panel")
    expect(panel.get_by_role("heading", name=f"License {number}")).to_be_visible()
    expect(panel).to_contain_text("Possible transshipment")
    expect(panel).to_contain_text("Gulf Coast Metals LLC")
    expect(panel.get_by_role("table", name="History of the license")).to_contain_text("Submitted")
    expect(page).to_have_url(re.compile(r"/review/$"))
    screenshot(page, "queue-panel")
    audit("review-queue-panel")

    page.get_by_role("button", name="Mark Action Required").click()  # empty: refused at the field
    expect(panel.locator(".usa-error-message")).to_contain_text("Write the message to the filer")
    expect(field(page, "Message to the filer")).to_have_attribute("aria-invalid", "true")
    expect(row(page, number)).to_have_count(1)

    field(page, "Message to the filer").fill(MESSAGE)
    page.get_by_role("button", name="Mark Action Required").click()
    expect(panel.locator(".usa-alert[role=status]")).to_contain_text(
        f"License {number} is marked Action Required; the filer will be emailed.")
    expect(panel).to_contain_text("Waiting for the filer")
    expect(panel.locator(".aim-license-head")).to_contain_text("Action Required")
    # The panel is whole (its tables survived the out-of-band swap) and the row left the queue.
    expect(panel.get_by_role("table", name="History of the license")).to_contain_text(
        "Marked Action Required")
    expect(row(page, number)).to_have_count(0)
    expect(queue_rows(page)).to_have_count(1)
    expect(page.locator("#queue-heading")).to_have_text("1 license to review")
    assert page.evaluate("() => window.aimNoReload") == "still here", "an htmx step reloaded the page"
    screenshot(page, "queue-after-flag")
    console.assert_clean("Mark Action Required")
    assert MESSAGE in mailbox.body(mailbox.wait_for(FILER)[-1])

    # ----- The filer, in a browser of their own: the count, the message, Modify License.
    filer = new_page()
    sign_in(filer, FILER, helpers.PASSWORD)
    expect(filer.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    expect(filer.get_by_role("main")).to_contain_text("1 license needs your action.")
    filer.goto(f"/licenses/{number}")
    alert = filer.locator(".aim-action-required")
    expect(alert).to_contain_text("Action Required")
    expect(alert).to_contain_text(MESSAGE)
    screenshot(filer, "filer-action-required")
    filer.get_by_role("button", name="Modify License").click()
    expect(filer).to_have_url(re.compile(r"/licenses/drafts/\d+$"))
    field(filer, "Country of Origin").select_option(label="China")
    filer.locator("label[for=certified]").click()
    filer.get_by_role("button", name="Preview", exact=True).click()
    expect(filer).to_have_url(re.compile(r"/preview$"))
    expect(filer.get_by_role("table", name="What changes: before and after")).to_contain_text("China")
    # The reply to the officer, under what Commerce wrote.
    reply = field(filer, "Reply to the officer (optional)")
    expect(filer.locator(".aim-reply")).to_contain_text(MESSAGE)
    reply.fill(REPLY)
    screenshot(filer, "filer-preview-reply", mobile=True)
    audit.page = filer
    audit("filer-preview-reply")
    audit.page = page
    filer.get_by_role("button", name="Submit").click()
    expect(filer.get_by_role("heading", level=1)).to_have_text("License corrected")
    filer.get_by_role("link", name=f"View license {number}").click()
    expect(filer.get_by_role("heading", level=1)).to_have_text(f"License {number}")
    expect(filer.locator(".aim-license-head")).to_contain_text("Corrected")
    expect(filer.locator(".aim-action-required")).to_have_count(0)
    expect(filer.get_by_role("table", name="What happened to this license")).to_contain_text(
        "Reply to the officer: The mill certificate says China")
    console.assert_clean("the filer's correction")

    # ----- The officer: Answered, "Filer replied", first in the queue; the reply and the changes.
    page.goto("/review/")
    expect(queue_rows(page).first).to_contain_text(number)
    expect(row(page, number)).to_contain_text("Answered")
    expect(row(page, number)).to_contain_text("Filer replied")
    screenshot(page, "queue-replied", mobile=True)
    page.evaluate("() => { window.aimNoReload = 'still here'; }")
    row(page, number).get_by_role("link", name=number).click()
    expect(panel.get_by_role("heading", name=f"License {number}")).to_be_visible()
    answer = panel.locator(".aim-answer")
    expect(answer.get_by_role("heading", name="The filer’s answer")).to_be_visible()
    expect(answer).to_contain_text(MESSAGE)
    expect(answer.locator("blockquote")).to_have_text(REPLY)
    changed = answer.get_by_role("table", name="What the filer changed: before and after")
    expect(changed.get_by_role("row", name=re.compile("Country of Origin"))).to_contain_text("Vietnam")
    expect(changed.get_by_role("row", name=re.compile("Country of Origin"))).to_contain_text("China")
    expect(panel).to_contain_text("Country of Origin: Vietnam → China")  # the history too
    expect(panel.get_by_role("button", name="Ask Again")).to_be_visible()
    expect(panel.get_by_role("button", name="Clear")).to_have_count(0)
    screenshot(page, "panel-answer", mobile=True)
    audit("review-panel-answer")

    # ----- Next and Previous through the queue, in the panel (htmx).
    steps = panel.get_by_role("navigation", name="Previous and next in the queue")
    expect(steps).to_contain_text("First in the queue")
    steps.get_by_role("link", name=re.compile("Next")).click()
    expect(panel.get_by_role("heading", name=f"License {flagged['no_smelt']}")).to_be_visible()
    expect(steps).to_contain_text("Last in the queue")
    expect(page.locator("#panel-next")).to_have_count(0)
    screenshot(page, "panel-next")
    steps.get_by_role("link", name=re.compile("Previous")).click()
    expect(panel.get_by_role("heading", name=f"License {number}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/review/$"))

    # ----- Close Review with an officer-only note.
    field(page, "Note for the file (officers only)").fill(NOTE)
    panel.get_by_role("button", name="Close Review").click()
    expect(panel.locator(".usa-alert[role=status]")).to_contain_text(
        f"Review of license {number} closed: no action needed.")
    expect(panel.get_by_role("table", name="History of the license")).to_contain_text(NOTE)
    expect(panel.get_by_role("table", name="History of the license")).to_contain_text(REPLY.split("\n")[0])
    expect(row(page, number)).to_have_count(0)
    expect(page.locator("#queue-heading")).to_have_text("1 license to review")
    # Out of the queue now, the panel still steps on from where the license was.
    expect(steps.get_by_role("link", name=re.compile("Next"))).to_contain_text(flagged["no_smelt"])
    # A second action in the same panel, its row already gone: the queue is simply redrawn.
    field(page, "Note for the file (officers only)").fill("Reviewed once more.")
    panel.get_by_role("button", name="Close Review").click()
    expect(panel.get_by_role("table", name="History of the license")).to_contain_text("Reviewed once more.")
    expect(queue_rows(page)).to_have_count(1)
    assert page.evaluate("() => window.aimNoReload") == "still here", "an htmx step reloaded the page"
    console.assert_clean("Close Review")

    # ----- The license page on its own: a visible heading with Copy, and the same steps.
    page.goto(f"/review/licenses/{number}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"License {number}")
    expect(page.get_by_role("button", name=f"Copy license number {number}")).to_be_visible()
    page.get_by_role("link", name=re.compile("Next")).click()
    expect(page).to_have_url(re.compile(rf"/review/licenses/{flagged['no_smelt']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"License {flagged['no_smelt']}")
    screenshot(page, "license-page", mobile=True)
    audit("review-license-page")

    # The filer never sees the note.
    filer.reload()
    expect(filer.get_by_role("main")).not_to_contain_text("internal: matches")
    expect(filer.locator(".aim-license-head")).to_contain_text("Corrected")
