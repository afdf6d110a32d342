"""A filer applies for a low-value license in the browser (Apply → Low-Value License → Aluminum,
importer and covered HTS numbers, certify, Preview, Submit), records two entries on it (the
second, at $5,000, refused with the reason), and prints it; axe and screenshots at 1280 and 390 px."""
from __future__ import annotations

import io
import re

import pytest

from aimweb import licensing, rules

from .steps import expect, field, sign_in

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()


def entry(serial: int) -> str:
    return f"ABC-{serial:07d}-{rules.entry_number_check_digit(f'ABC{serial:07d}')}"


def record_entry(page, number: str, day, value: str):
    field(page, "Customs Entry Number").fill(number)
    box = field(page, "Date of Entry")
    box.fill(day.isoformat())
    field(page, "Value of the covered metal (US$)").fill(value)
    page.get_by_role("button", name="Record Entry").click()


def test_filer_applies_for_a_low_value_license_and_records_two_uses(page, app, helpers, screenshot,
                                                                    audit, console):
    email = "small@gulfcoast.example"
    with app.app_context():
        helpers.make_user(email)
    sign_in(page, email, helpers.PASSWORD)
    page.goto("/licenses/apply")
    field(page, "License Type").select_option(label="Low-Value License")
    field(page, "Product").select_option(label="Aluminum")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply for Low-Value License")
    expect(page.locator(".usa-intro")).to_contain_text("less than $5,000")

    # Preview with nothing filled in: every problem in one summary.
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("main")).to_contain_text("Importer Name is required.")
    audit("low-value-form-errors")

    field(page, "Importer Name").fill("Gulf Coast Metals LLC")
    field(page, "Covered HTS Numbers").fill("7601.10.30.00, 7604.10.10.00")
    page.locator("label[for=certified]").click()
    screenshot(page, "low-value-form", mobile=True)
    page.get_by_role("button", name="Preview").click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    main = page.get_by_role("main")
    for text in ["Low-Value License · Aluminum", "7601.10.30.00", "7604.10.10.00", "Gulf Coast Metals LLC"]:
        expect(main).to_contain_text(text)
    audit("low-value-preview")

    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/licenses/AL[A-Z0-9]{4}" + TODAY.strftime("%m%y") + "$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("main")).to_contain_text("365 days left")

    record_entry(page, entry(1), TODAY, "1,250.00")
    expect(page.get_by_role("main")).to_contain_text(f"Entry {entry(1)} recorded.")
    record_entry(page, entry(2), TODAY, "5000")
    error = page.locator("#value_usd-error")
    expect(error).to_contain_text("cannot use a low-value license")
    expect(error).to_contain_text("less than $5,000")
    uses = page.get_by_role("table", name="Entries this license was used on")
    expect(uses).to_contain_text(entry(1))
    expect(uses).not_to_contain_text(entry(2))
    expect(uses).to_contain_text("Total, 1 entry")
    screenshot(page, "low-value-license", mobile=True)
    audit("low-value-license-page")

    response = page.request.get(page.get_by_role("link", name="View/Print").get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"].startswith("application/pdf")
    from pypdf import PdfReader
    text = " ".join(PdfReader(io.BytesIO(response.body())).pages[0].extract_text().split())
    for words in [number, "Aluminum Low-Value Import License", "7604.10.10.00", "less than $5,000"]:
        assert words in text, f"{words!r} is not in the PDF: {text[:600]}"

    page.goto("/licenses/")
    row = page.locator(f"#row-{page.locator('tr.aim-row').first.get_attribute('id').split('-')[1]}")
    expect(row).to_contain_text("Low-Value License")
    audit("dashboard-with-low-value")
    console.assert_clean("the low-value license")
