"""A filer applies for a steel license in the browser: Standard License → Steel, the steel
product line (HTS Number → description and category, Country of Melt and Pour, Volume, Customs
Value → Unit Value), two products, Preview, Submit; axe and screenshots at 1280 and 390 px."""
from __future__ import annotations

import re

import pytest

from aimweb import licensing

from .steps import add_steel_line, expect, field, fill_header, product_rows, sign_in, start_application

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()


def test_filer_applies_for_a_steel_license_with_two_products(page, app, helpers, screenshot, audit):
    email = "steel@gulfcoast.example"
    with app.app_context():
        helpers.make_user(email)
    sign_in(page, email, helpers.PASSWORD)
    page.goto("/licenses/apply")
    assert field(page, "Product").locator("option").all_inner_texts() == ["Aluminum", "Steel"]
    audit("apply-choice")
    start_application(page, "Steel")
    expect(page.locator(".usa-intro").first).to_contain_text("Standard License · Steel")
    fill_header(page)

    info = page.locator("#hts-info")
    field(page, "HTS Number").press_sequentially("7208101500")
    expect(info).to_contain_text("Hot-rolled plate, in coils")
    expect(info).to_contain_text("7208.10.15.00")
    field(page, "HTS Number").fill("")
    field(page, "HTS Number").press_sequentially("7601.10.30.00")
    expect(info).to_contain_text("is not covered by SIMA")
    options = field(page, "Country of Melt and Pour").locator("option").all_inner_texts()
    assert "Unknown" not in options and "Not applicable" not in options and "South Korea" in options

    add_steel_line(page, "7208.10.15.00", "South Korea", "24,000", "19200.00")
    expect(product_rows(page)).to_have_count(1)
    add_steel_line(page, "7304.41.30.05", "Japan", "1500", "9750.00")
    expect(product_rows(page)).to_have_count(2)
    products = page.locator("#products")
    for text in ["Country of Melt and Pour", "South Korea", "Japan", "0.80", "6.50", "Total, 2 products"]:
        expect(products).to_contain_text(text)
    expect(products).not_to_contain_text("Smelt")
    screenshot(page, "form-with-steel-products", mobile=True)
    audit("steel-license-form")

    page.locator("label[for=certified]").click()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    main = page.get_by_role("main")
    for text in ["Standard License · Steel", "Country of Melt and Pour", "7208.10.15.00", "7304.41.30.05",
                 "Hot-rolled plate, in coils", "Total, 2 products", "25,500.00", "28,950.00"]:
        expect(main).to_contain_text(text)
    screenshot(page, "steel-preview", mobile=True)
    audit("steel-license-preview")

    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/licenses/submitted/S[A-Z0-9]{4}" + TODAY.strftime("%m%y") + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("License issued")
    screenshot(page, "steel-confirmation", mobile=True)
