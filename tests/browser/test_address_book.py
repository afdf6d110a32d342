"""A broker's filer types the start of an importer on the license form, hears how many saved
importers match, picks one with the arrow keys and Enter (the form is not submitted), and the
Address Book page; axe finds nothing serious on either, at 1280 and 390 px."""
from __future__ import annotations

import re

import pytest
from factories import add_party
from sqlalchemy import select

from aimweb.enums import PartyKind
from aimweb.extensions import db
from aimweb.models import User

from .steps import expect, field, sign_in, start_application

pytestmark = pytest.mark.browser


def test_a_filer_picks_a_saved_importer_with_the_keyboard(page, app, helpers, console, audit, screenshot):
    with app.app_context():
        helpers.make_user("dana@gulfcoast.example")
        dana = db.session.scalar(select(User).where(User.email == "dana@gulfcoast.example"))
        add_party(dana, "Gulf Coast Metals LLC", importer_number="210101-00001")
        add_party(dana, "Gulfstream Aluminum Traders Inc.")
        add_party(dana, "Harbor Freight Metals Inc.")
        add_party(dana, "Gulf Exporters SA", PartyKind.EXPORTER)
    sign_in(page, "dana@gulfcoast.example", helpers.PASSWORD)
    start_application(page)

    importer = field(page, "Importer Name")
    expect(importer).to_have_attribute("role", "combobox")
    expect(importer).to_have_attribute("aria-expanded", "false")
    importer.click()
    importer.press_sequentially("gulf")
    listbox = page.get_by_role("listbox", name="Saved importers")
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(importer).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#aim-live")).to_have_text(re.compile(r"2 saved importers match"))
    screenshot(page, "suggestions", mobile=True)
    audit("license-form-party-suggestions")
    importer.focus()
    if importer.get_attribute("aria-expanded") != "true":  # the audit's resizing may have closed it
        importer.press("Backspace")
        importer.press_sequentially("f")
        expect(listbox.get_by_role("option")).to_have_count(2)

    importer.press("ArrowDown")
    importer.press("ArrowDown")
    second = listbox.get_by_role("option").nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(importer).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    importer.press("Enter")
    expect(importer).to_have_value("Gulfstream Aluminum Traders Inc.")
    expect(importer).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/licenses/drafts/\d+$"))  # Enter took the option, not Preview
    expect(page.get_by_text("There is a problem")).to_have_count(0)

    # Escape closes the list and keeps what was typed; an exporter field offers exporters only.
    exporter = field(page, "Exporter Name")
    exporter.click()
    exporter.press_sequentially("Gulf")
    exporters = page.get_by_role("listbox", name="Saved exporters")
    expect(exporters.get_by_role("option")).to_have_count(1)
    expect(exporters.get_by_role("option")).to_have_text("Gulf Exporters SA")
    exporter.press("Escape")
    expect(exporters).to_be_hidden()
    expect(exporter).to_have_value("Gulf")
    console.assert_clean("party suggestions")

    page.goto("/account/address-book")
    expect(page.get_by_role("heading", level=1)).to_have_text("Address Book")
    expect(page.get_by_role("table").first).to_contain_text("210101-00001")
    audit("address-book")
    screenshot(page, "address-book", mobile=True)
