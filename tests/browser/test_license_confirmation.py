"""A broker's repeat work in the browser: Duplicate a license (its entry number and dates left
empty), the warning when another live license carries the same customs entry number, the
confirmation after Submit, and Modify's preview of what changes. axe runs on every new state."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import License
from aimweb.products.aluminum import ProductLineDraft

from .steps import TODAY, expect, field, sign_in, type_date

pytestmark = pytest.mark.browser

ENTRY = "ABC-1234567-6"


def header(importer, entry_number=ENTRY):
    line = ProductLineDraft(hts_number="7601.10.30.00", smelt_largest="CA", smelt_second="NA_",
                            cast_country="CA", quantity_kg=Decimal("12500"), customs_value_usd=Decimal("38750"))
    return rules.LicenseDraft(
        entry_number=entry_number, importer_name=importer, exporter_name="Northern Rolling Mills Inc.",
        manufacturer_name="Alouette Smelting", origin_country="CA", export_country="CA", port_code="1303",
        export_date=TODAY + timedelta(days=10), import_date=TODAY + timedelta(days=20), lines=[line])


@pytest.fixture
def licenses(app, helpers):
    """A filer with two live licenses: `original` (entry ABC-1234567-6) and `other`."""
    email = "dana@gulfcoast.example"
    with app.app_context():
        user = helpers.make_user(email)
        original, other = licensing.issue_licenses(user, [header("Gulf Coast Metals LLC"),
                                                          header("Lakeside Extrusions Inc.", "")])
    return {"email": email, "password": helpers.PASSWORD, "original": original, "other": other}


def certify_and_preview(page):
    page.locator("label[for=certified]").click()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page).to_have_url(re.compile(r"/preview$"))


def test_duplicate_warns_about_the_entry_number_and_confirms_with_the_number(page, console, licenses,
                                                                            screenshot, audit):
    sign_in(page, licenses["email"], licenses["password"])
    original = licenses["original"]
    page.goto(f"/licenses/{original}")
    page.get_by_role("button", name="Duplicate License").click()

    # The copy: everything but the entry number and the dates, and a note that says so.
    expect(page).to_have_url(re.compile(r"/licenses/drafts/\d+$"))
    note = page.locator(".aim-duplicate-note")
    expect(note).to_contain_text(f"This is a copy of license {original}")
    expect(note).to_contain_text("were left empty")
    expect(field(page, "Importer Name")).to_have_value("Gulf Coast Metals LLC")
    for label in ["Customs Entry Number (optional)", "Expected Date of Export", "Expected Date of Import"]:
        expect(field(page, label)).to_have_value("")
    audit("duplicate-form")

    # Same entry number as the original (a second license for one entry): Preview warns.
    field(page, "Customs Entry Number (optional)").fill(ENTRY)
    type_date(page, "Expected Date of Export", TODAY + timedelta(days=12))
    type_date(page, "Expected Date of Import", TODAY + timedelta(days=22))
    certify_and_preview(page)
    warning = page.get_by_role("region", name="Customs entry number already used")
    expect(warning).to_contain_text(f"License {original} already carries this customs entry number")
    expect(warning.get_by_role("link", name=original)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"A copy of license {original}.")
    screenshot(page, "preview-same-entry", mobile=True)
    audit("preview-same-entry")

    # Submitted anyway: the confirmation page, not a banner.
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("License issued")
    copy = page.locator("#license-number").inner_text()
    assert copy != original
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"License {copy} has been issued")
    expect(main).to_contain_text(f"Customs entry number {ENTRY} is also on license {original}.")
    expect(main).to_contain_text(f"Duplicated From{original}")
    screenshot(page, "confirmation-duplicate", mobile=True)
    audit("confirmation-duplicate")

    # Its history says where it came from.
    page.get_by_role("link", name=f"View license {copy}").click()
    expect(page.get_by_role("table", name="What happened to this license")).to_contain_text(
        f"Duplicated from {original}.")
    console.assert_clean("the duplicate")


def test_modify_preview_shows_before_and_after_and_the_confirmation_says_corrected(page, console, licenses,
                                                                                  screenshot, audit):
    sign_in(page, licenses["email"], licenses["password"])
    number = licenses["other"]
    page.goto(f"/licenses/{number}")
    page.get_by_role("button", name="Modify License").click()
    field(page, "Importer Name").fill("Bayou Rolling Co.")
    field(page, "Customs Entry Number (optional)").fill(ENTRY)
    certify_and_preview(page)

    main = page.get_by_role("main")
    expect(main).not_to_contain_text("obtain the license number")
    expect(main).to_contain_text(f"click Submit to correct license {number}. It keeps its number")
    changes = page.get_by_role("table", name="What changes: before and after")
    expect(changes.locator("tbody tr")).to_have_count(2)
    expect(changes.get_by_role("row", name=re.compile("^Importer Name"))).to_contain_text(
        "Lakeside Extrusions Inc.Bayou Rolling Co.")
    expect(changes.get_by_role("row", name=re.compile("^Customs Entry Number"))).to_contain_text(
        f"—{ENTRY}")
    # The entry number it now gives is on another live license: said before Submit.
    expect(page.get_by_role("region", name="Customs entry number already used")).to_contain_text(
        licenses["original"])
    screenshot(page, "modify-preview", mobile=True)
    audit("modify-preview")

    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("License corrected")
    expect(main).to_contain_text(f"License {number} has been modified and now shows as Corrected")
    expect(page.locator("#license-number")).to_have_text(number)
    audit("confirmation-corrected")
    console.assert_clean("the modification")


def test_search_finds_a_number_typed_with_look_alikes(page, console, licenses, app):
    """An older number with 0 and I in it, read off paper as O and 1 and typed in lower case."""
    with app.app_context():
        lic = db.session.scalar(select(License).where(License.number == licenses["original"]))
        old = "A0I5B" + licenses["original"][5:]
        lic.number = old
        db.session.commit()
    sign_in(page, licenses["email"], licenses["password"])
    page.goto("/licenses/")
    page.locator("#f-q").fill("ao15b" + old[5:])
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.locator("#license-results tbody tr.aim-row")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(old)
    console.assert_clean("the search")
