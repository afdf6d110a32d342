"""Branches in the browser (issue 17, point 3): the company's administrator adds a branch on the
Branches page and files a license for it from the form's "Filed for"; both pages fit a 390 px
phone, pass axe, and are screenshotted (tests/artifacts/branches--*.png) for a person to look at."""
from __future__ import annotations

import pytest

from .conftest import MOBILE
from .steps import add_branch, expect, field, fill_header, fill_line, sign_in, start_application

pytestmark = pytest.mark.browser

ADMIN = "dana@gulfcoast.example"


def fits_the_phone(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide on a {width[1]} px screen"


def test_the_administrator_adds_a_branch_and_files_for_it(page, app, helpers, console, screenshot, audit):
    with app.app_context():
        helpers.make_user(ADMIN, company_name="Gulf Coast Metals LLC", first="Dana", last="Whitaker")
    sign_in(page, ADMIN, helpers.PASSWORD)
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Branches").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Branches")
    add_branch(page, "North Plant", "TX-01")
    expect(page.get_by_role("main")).to_contain_text("Branch “North Plant (TX-01)” was added")
    expect(page.get_by_role("row").filter(has_text="North Plant (TX-01)")).to_contain_text("1200 Smith St")
    audit("branches")
    page.set_viewport_size(MOBILE)
    fits_the_phone(page)
    screenshot(page, "branches-page")

    start_application(page)
    filed_for = field(page, "Filed for")
    expect(filed_for).to_be_visible()
    filed_for.select_option(label="North Plant (TX-01)")
    fill_header(page)
    fill_line(page, "7601.10.30.00", "12500", "38750")
    page.get_by_role("button", name="Add Products").click()
    expect(page.locator("#products table.aim-lines tbody tr")).to_have_count(1)
    fits_the_phone(page)
    screenshot(page, "form-filed-for")
    page.locator("label[for=certified]").click()  # USWDS draws the box on the label
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text("Filed for the branch North Plant (TX-01).")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("License issued")
    number = page.locator("#license-number").inner_text()
    page.get_by_role("link", name=f"View license {number}").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("Filed by")
    expect(main.locator("dt:text-is('Filed by') + dd")).to_have_text("Dana Whitaker")
    expect(main.locator("dt:text-is('Branch') + dd")).to_have_text("North Plant (TX-01)")
    fits_the_phone(page)
    screenshot(page, "license-branch")
    console.assert_clean("the branch's license")
