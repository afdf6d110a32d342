"""A filer applies for a single standard license in the browser, as the guide describes it:
the header, product lines that fill in live (htmx, no reload), edit and remove, certify, Preview,
Submit, the license page and its printable PDF. And the same without JavaScript."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from aimweb import licensing

from .steps import (
    IMPORT,
    expect,
    field,
    fill_header,
    fill_line,
    product_rows,
    sign_in,
    start_application,
)

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
NUMBER = re.compile(r"A[A-Z0-9]{4}" + TODAY.strftime("%m%y"))


def test_filer_applies_with_live_product_lines_previews_submits_and_prints(
        page, console, app, helpers, mailbox, screenshot, audit):
    email = "dana@gulfcoast.example"
    with app.app_context():
        helpers.make_user(email)
    sign_in(page, email, helpers.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    start_application(page)
    console.assert_clean("the new application")
    fill_header(page)

    # From here on, nothing may reload the page: a marker on `window` must survive.
    page.evaluate("() => { window.aimNoReload = 'still here'; }")
    hts = field(page, "HTS Number")
    info = page.locator("#hts-info")
    expect(info).to_contain_text("Filled in from the HTS number")
    hts.press_sequentially("7601103000")  # without dots
    expect(info).to_contain_text("Unwrought aluminum")
    expect(info).to_contain_text("7601.10.30.00")
    expect(info).to_contain_text("in coils")
    hts.fill("")
    hts.press_sequentially("7602.00.00.30")
    expect(info).to_contain_text("HTS 7602.00.00.30 is not covered by AIM")

    unit = page.locator("#unit-value")
    expect(unit).to_have_text("—")
    field(page, "Volume (KG)").press_sequentially("12,500")
    field(page, "Customs Value (US$)").press_sequentially("38750.00")
    expect(unit).to_have_text("3.10")
    field(page, "Country of Largest Smelt").select_option(label="Canada")
    field(page, "Country of Second Largest Smelt").select_option(label="Not applicable")
    field(page, "Country of Most Recent Cast").select_option(label="Canada")
    # The smelt lists offer only what the rules allow today.
    smelt_options = field(page, "Country of Largest Smelt").locator("option").all_inner_texts()
    assert "Not applicable" in smelt_options and "Unknown" not in smelt_options  # after 2022-06-28
    assert "Not applicable" not in field(page, "Country of Most Recent Cast").locator("option").all_inner_texts()

    # "Add Products" with the uncovered number: refused at the field, what was typed is kept.
    page.get_by_role("button", name="Add Products").click()
    hts_error = page.locator("#line-hts_number-error")
    expect(hts_error).to_contain_text("not covered")
    expect(field(page, "HTS Number")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "HTS Number")).to_have_value("7602.00.00.30")
    expect(field(page, "Volume (KG)")).to_have_value("12,500")
    expect(page.locator(".aim-empty")).to_contain_text("No products yet")
    audit("license-form-line-error")

    hts = field(page, "HTS Number")
    hts.fill("")
    hts.press_sequentially("7601.10.30.00")
    expect(page.locator("#hts-info")).to_contain_text("Unwrought aluminum")
    page.get_by_role("button", name="Add Products").click()
    expect(product_rows(page)).to_have_count(1)
    row = product_rows(page).first
    expect(row).to_contain_text("7601.10.30.00")
    expect(row).to_contain_text("12,500.00")
    expect(row).to_contain_text("3.10")
    # The editor is empty again, ready for the next product.
    expect(field(page, "HTS Number")).to_have_value("")
    expect(page.locator("#unit-value")).to_have_text("—")

    fill_line(page, "7606123035", "100", "450", largest="Canada", second="United States", cast="Canada")
    expect(page.locator("#unit-value")).to_have_text("4.50")
    page.get_by_role("button", name="Add Products").click()
    expect(product_rows(page)).to_have_count(2)
    expect(page.locator("#products tfoot")).to_contain_text("Total, 2 products")
    expect(page.locator("#products tfoot")).to_contain_text("12,600.00")

    # Edit product 2: its values come back into the editor; save a new volume and value.
    # The focus is in HTS Number the moment the editor appears (checked on the DOM change itself),
    # so a quick typist's volume goes into Volume, not into the HTS number halfway through.
    page.evaluate("""() => new MutationObserver((changes, observer) => {
        const legend = document.querySelector('#line-editor legend');
        if (legend && legend.textContent.includes('Edit product 2')) {
            window.aimFocusAtSwap = document.activeElement.id;
            observer.disconnect();
        }
    }).observe(document.body, {childList: true, subtree: true})""")
    page.get_by_role("button", name="Edit product 2").click()
    expect(page.locator("#line-editor legend")).to_have_text("Edit product 2")
    assert page.evaluate("window.aimFocusAtSwap") == "line-hts_number"
    expect(field(page, "HTS Number")).to_have_value("7606.12.30.35")
    expect(field(page, "Country of Second Largest Smelt")).to_have_value("US")
    field(page, "Volume (KG)").fill("200")
    field(page, "Customs Value (US$)").fill("1000")
    expect(page.locator("#unit-value")).to_have_text("5.00")
    page.get_by_role("button", name="Save Product").click()
    expect(page.locator("#line-editor legend")).to_have_text("Add a product")
    expect(product_rows(page).nth(1)).to_contain_text("200.00")
    expect(product_rows(page).nth(1)).to_contain_text("1,000.00")
    expect(page.locator("#products tfoot")).to_contain_text("12,700.00")

    # A third one, then remove it again.
    fill_line(page, "7601.20.60.00", "50", "150")
    page.get_by_role("button", name="Add Products").click()
    expect(product_rows(page)).to_have_count(3)
    screenshot(page, "form-with-products", mobile=True)
    page.get_by_role("button", name="Remove product 3").click()
    expect(product_rows(page)).to_have_count(2)
    expect(page.locator("#products")).not_to_contain_text("7601.20.60.00")
    assert page.evaluate("() => window.aimNoReload") == "still here", "an htmx step reloaded the page"
    console.assert_clean("the product lines")

    # Preview without certifying: the form comes back with the error at the checkbox.
    page.get_by_role("button", name="Preview", exact=True).click()
    certified = page.get_by_label(re.compile("^I certify"))
    expect(certified).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#certified-error")).to_be_visible()
    expect(page.locator(".aim-error-summary")).to_be_focused()
    expect(product_rows(page)).to_have_count(2)
    expect(field(page, "Importer Name")).to_have_value("Gulf Coast Metals LLC")
    expect(field(page, "Expected Date of Import")).to_have_value(IMPORT.isoformat())
    audit("license-form-errors")

    page.locator("label[for=certified]").click()  # USWDS draws the box on the label
    expect(certified).to_be_checked()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview")
    main = page.get_by_role("main")
    expect(main.locator("input:not([type=hidden]), select, textarea")).to_have_count(0)
    for text in ["ABC-1234567-6", "Consumption", "Gulf Coast Metals LLC", "Northern Rolling Mills Inc.",
                 "Alouette Smelting", "Canada", "1303 — Baltimore, MD", "7601.10.30.00", "7606.12.30.35",
                 "12,500.00", "38,750.00", "3.10", "5.00", "Total, 2 products", "12,700.00", "39,750.00",
                 "valid for 75 days"]:
        expect(main).to_contain_text(text)
    screenshot(page, "preview", mobile=True)
    audit("license-preview")

    page.get_by_role("button", name="Submit").click()
    # The confirmation: the number (without look-alike characters) to quote, validity, the way on.
    expect(page).to_have_url(re.compile(r"/licenses/submitted/A[A-Z0-9]{4}\d{4}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("License issued")
    number = page.locator("#license-number").inner_text()
    assert NUMBER.fullmatch(number), number
    assert not set(number[1:5]) & set("0O1ILSZB"), number
    expect(main).to_contain_text(f"License {number} has been issued")
    facts = page.locator(".aim-confirmation__facts")
    for label, value in [("Valid From", f"{TODAY:%m/%d/%Y}"),
                         ("Valid Through", f"{TODAY + timedelta(days=75):%m/%d/%Y}"), ("Entry Type", "Consumption")]:
        expect(facts.locator(f"dt:text-is('{label}') + dd")).to_have_text(value)
    for name in ["View/Print", "View license " + number]:
        expect(main.get_by_role("link", name=name)).to_be_visible()
    for name in ["Apply for another", "Duplicate this license"]:
        expect(main.get_by_role("button", name=name)).to_be_visible()
    # Copy puts the number on the clipboard, and says so only then.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = main.get_by_role("button", name=f"Copy license number {number}")
    copy.click()
    expect(main.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == number
    screenshot(page, "confirmation", mobile=True)
    audit("license-confirmation")
    console.assert_clean("the confirmation")

    page.get_by_role("link", name=f"View license {number}").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(f"License {number}")
    expect(main).to_contain_text("Submitted")
    expect(main).to_contain_text(f"{TODAY:%m/%d/%Y} through {TODAY + timedelta(days=75):%m/%d/%Y}")
    expect(main).to_contain_text("Gulf Coast Metals LLC")
    expect(page.get_by_role("table", name="What happened to this license")).to_contain_text(
        "Submitted (license issued)")
    screenshot(page, "license", mobile=True)
    audit("license-page")
    assert number in mailbox.body(mailbox.wait_for(email)[-1])

    # View/Print: a PDF with the number and the figures, fetched with the page's own session.
    link = page.get_by_role("link", name="View/Print")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    from pypdf import PdfReader
    pdf = PdfReader(io.BytesIO(response.body()))
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    for words in [number, "Gulf Coast Metals LLC", "7601.10.30.00", "7606.12.30.35", "12,700.00", "39,750.00"]:
        assert words in text, f"{words!r} is not in the PDF: {text[:600]}"
    console.assert_clean("the license page")


def test_without_javascript_products_are_added_by_full_page_round_trips(new_page, console, app, helpers,
                                                                         screenshot):
    email = "noscript@gulfcoast.example"
    with app.app_context():
        helpers.make_user(email)
    page = new_page(java_script_enabled=False)
    sign_in(page, email, helpers.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    start_application(page)
    fill_header(page)
    fill_line(page, "7601103000", "12500", "38750")
    expect(page.locator("#unit-value")).to_have_text("—")  # computed by the server on the round trip

    with page.expect_navigation():
        page.get_by_role("button", name="Add Products").click()
    expect(page).to_have_url(re.compile(r"/licenses/drafts/\d+#products$"))
    expect(product_rows(page)).to_have_count(1)
    expect(product_rows(page).first).to_contain_text("3.10")
    # The header survived the round trip.
    expect(field(page, "Importer Name")).to_have_value("Gulf Coast Metals LLC")
    expect(field(page, "Expected Port of Entry")).to_have_value("1303")
    expect(field(page, "Expected Date of Import")).to_have_value(IMPORT.isoformat())

    # A bad line comes back as a whole page with the message at the field.
    fill_line(page, "7602.00.00.30", "lots", "10")
    page.get_by_role("button", name="Add Products").click()
    expect(page.locator("#line-hts_number-error")).to_contain_text("not covered")
    expect(page.locator("#line-quantity_kg-error")).to_contain_text("must be a number")
    expect(field(page, "Volume (KG)")).to_have_value("lots")
    expect(product_rows(page)).to_have_count(1)

    page.locator("label[for=certified]").click()
    expect(page.get_by_label(re.compile("^I certify"))).to_be_checked()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    expect(page.get_by_role("main")).to_contain_text("7601.10.30.00")
    expect(page.get_by_role("main")).to_contain_text("Total, 1 product")
    screenshot(page, "no-script-preview")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("License issued")
    # Without a script there is no Copy button that could not work.
    expect(page.get_by_role("button", name=re.compile("^Copy"))).to_have_count(0)
    expect(page.locator("#license-number")).to_have_text(NUMBER)
