"""A filer works on the License Dashboard in the browser, as the guide describes it: Search & Filter
(filters in the URL, Back and Forward), the plus sign's summary in place (htmx), "Save This Search"
and opening it again, Export (.xlsx and .csv of the filtered set), and the License Actions:
Duplicate, Modify (Corrected, with the change in the history) and Cancel (confirmed, in place)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import License, User
from aimweb.products.aluminum import ProductLineDraft

from .steps import expect, field, sign_in

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
NUMBER = r"A[A-Z0-9]{4}\d{4}"


def line(hts="7601.10.30.00", kg="12500", usd="38750", second="NA_"):
    return ProductLineDraft(hts_number=hts, smelt_largest="CA", smelt_second=second,
                                  cast_country="CA", quantity_kg=Decimal(kg),
                                  customs_value_usd=Decimal(usd))


def header(importer, import_in, lines, on=TODAY, entry_number=""):
    return rules.LicenseDraft(
        entry_number=entry_number, importer_name=importer, exporter_name="Northern Rolling Mills Inc.",
        manufacturer_name="Alouette Smelting", origin_country="CA", export_country="CA",
        port_code="1303", export_date=on + timedelta(days=import_in - 10),
        import_date=on + timedelta(days=import_in), lines=lines)


@pytest.fixture
def licenses(app, helpers):
    """The filer and five licenses, issued through the licensing service as an upload would:
    wanted (the one the search finds), too_early (imported before it), other (another importer),
    cancelled and expired."""
    email = "dana@gulfcoast.example"
    with app.app_context():
        user = helpers.make_user(email)
        expired, = licensing.issue_licenses(
            user, [header("Harbor Alloys Corp.", 20, [line()], on=TODAY - timedelta(days=90))],
            on=TODAY - timedelta(days=90))
        cancelled, other, too_early, wanted = licensing.issue_licenses(user, [
            header("Gulf Coast Metals LLC", 25, [line()]),
            header("Lakeside Extrusions Inc.", 30, [line("7604.29.10.10", "800", "3200")]),
            header("Gulf Coast Rolling Co.", 10, [line("7606.12.30.35", "100", "450", second="US")]),
            header("Gulf Coast Metals LLC", 20, [line(), line("7606.12.30.35", "200", "1000", second="US")],
                   entry_number="ABC-1234567-6"),
        ])
        lic = db.session.scalar(select(License).where(License.number == cancelled))
        licensing.cancel_license(lic, db.session.get(User, user.id))
    return {"email": email, "password": helpers.PASSWORD, "wanted": wanted, "too_early": too_early,
            "other": other, "cancelled": cancelled, "expired": expired}


def type_date(box, day):
    """A date input as a person types it in an en-US browser: mm, dd, yyyy."""
    box.click()
    box.press_sequentially(day.strftime("%m%d%Y"))
    expect(box).to_have_value(day.isoformat())


def rows(page):
    return page.locator("#license-results tbody tr.aim-row")


def row(page, number):
    return page.locator("#license-results tbody tr.aim-row").filter(
        has=page.get_by_role("link", name=number, exact=True))


def numbers(page) -> list[str]:
    return [t.strip() for t in rows(page).locator("th .aim-number").all_inner_texts()]


def mark_no_reload(page):
    page.evaluate("() => { window.aimNoReload = 'still here'; }")


def assert_no_reload(page, what):
    assert page.evaluate("() => window.aimNoReload") == "still here", f"{what} reloaded the page"


def certify_preview_submit(page):
    page.locator("label[for=certified]").click()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    page.get_by_role("button", name="Submit").click()
    # The confirmation: the number to quote, then the way on.
    expect(page).to_have_url(re.compile(rf"/licenses/submitted/{NUMBER}$"))
    return page.locator("#license-number").inner_text()


def test_filer_searches_saves_exports_duplicates_modifies_and_cancels(page, console, licenses,
                                                                      screenshot, audit):
    lic = licenses
    sign_in(page, lic["email"], lic["password"])
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    expect(rows(page)).to_have_count(5)
    expect(page.get_by_role("status").filter(has_text="5 licenses")).to_be_visible()
    expect(row(page, lic["cancelled"])).to_contain_text("Cancelled")
    expect(row(page, lic["expired"])).to_contain_text("Expired")
    expect(row(page, lic["wanted"])).to_contain_text("Submitted")
    expect(row(page, lic["wanted"])).to_contain_text("12,700.00")  # total kg of its two products
    console.assert_clean("the dashboard")

    # ----- Search & Filter: status + a date + free text; htmx, the URL carries the filters.
    mark_no_reload(page)
    field(page, "License, entry number or name").fill("gulf coast")
    field(page, "Status").select_option(label="Submitted")
    type_date(page.get_by_role("group", name="Date of Import").get_by_label("From"), TODAY + timedelta(days=15))
    page.get_by_role("button", name="Search", exact=True).click()
    expect(rows(page)).to_have_count(1)
    assert numbers(page) == [lic["wanted"]]
    expect(page.locator("#license-results")).to_contain_text("1 license matches this search")
    url = page.url
    in_url = dict(parse_qs(urlsplit(url).query).items())
    assert in_url == {"q": ["gulf coast"], "status": ["submitted"],
                      "import_from": [f"{TODAY + timedelta(days=15):%Y-%m-%d}"]}, url
    assert_no_reload(page, "the search")
    # Export and Save This Search follow the search that was made in place.
    expect(page.get_by_role("link", name="Export .csv")).to_have_attribute("href", re.compile(r"status=submitted"))
    expect(page.locator(".aim-save-search input[name=q]")).to_have_value("gulf coast")

    # Back shows the whole list again, Forward the search (the URL is the search).
    page.go_back()
    expect(page).to_have_url(re.compile(r"/licenses/$"))
    expect(rows(page)).to_have_count(5)
    page.go_forward()
    expect(page).to_have_url(url)
    expect(rows(page)).to_have_count(1)
    expect(field(page, "License, entry number or name")).to_have_value("gulf coast")
    expect(field(page, "Status")).to_have_value("submitted")

    # A "to" before "from" gets a clear message, not an error page.
    mark_no_reload(page)
    type_date(page.locator("#f-import_to"), TODAY + timedelta(days=5))
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#license-results")).to_contain_text("Correct the search")
    page.locator("#f-import_to").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(rows(page)).to_have_count(1)

    # ----- The plus sign opens the summary in place.
    mark_no_reload(page)
    page.get_by_role("link", name=f"Show summary of license {lic['wanted']}").click()
    summary = page.locator("tr.aim-summary")
    expect(summary).to_be_visible()
    for text in ["ABC-1234567-6", "Northern Rolling Mills Inc.", "Alouette Smelting", "1303 — Baltimore, MD",
                 "7601.10.30.00", "7606.12.30.35", "12,500.00 kg", "US$ 1,000.00"]:
        expect(summary).to_contain_text(text)
    expect(page.locator(f"#toggle-{summary.get_attribute('id').split('-')[1]}")).to_have_attribute(
        "aria-expanded", "true")
    assert_no_reload(page, "the plus sign")
    screenshot(page, "dashboard-summary", mobile=True)
    audit("dashboard-summary")

    # ----- Export the filtered set, straight after the htmx search.
    with page.expect_download() as info:
        page.get_by_role("link", name="Export .xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(download.path().read_bytes()), read_only=True).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    head, body = table[0], table[1:]
    assert head[:4] == ["License Number", "Product", "Status", "Created"]
    assert [r[0] for r in body] == [lic["wanted"], lic["wanted"]], "the export is not the filtered set"
    by_name = [dict(zip(head, r)) for r in body]
    assert [r["HTS Number"] for r in by_name] == ["7601.10.30.00", "7606.12.30.35"]
    assert isinstance(by_name[0]["Expected Date of Import"], (date, datetime))
    assert by_name[0]["Volume (KG)"] == 12500 and by_name[1]["Customs Value (US$)"] == 1000

    with page.expect_download() as info:
        page.get_by_role("link", name="Export .csv").click()
    assert info.value.suggested_filename.endswith(".csv")
    with open(info.value.path(), encoding="utf-8-sig", newline="") as f:
        exported = list(csv.DictReader(f))
    assert [r["License Number"] for r in exported] == [lic["wanted"], lic["wanted"]]
    assert exported[0]["Importer Name"] == "Gulf Coast Metals LLC"
    console.assert_clean("the exports")

    # ----- Save This Search, then open it again from the list.
    field(page, "Name this search").fill("Gulf Coast, submitted, later imports")
    page.get_by_role("button", name="Save This Search").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_contain_text(
        "Gulf Coast, submitted, later imports")
    assert numbers(page) == [lic["wanted"]]
    page.get_by_role("link", name="Clear").click()
    expect(rows(page)).to_have_count(5)
    saved = page.locator("#saved-searches")
    saved.get_by_role("link", name="Gulf Coast, submitted, later imports").click()
    expect(page).to_have_url(re.compile(r"status=submitted"))
    expect(rows(page)).to_have_count(1)
    assert numbers(page) == [lic["wanted"]]
    expect(page.locator("#f-import_from")).to_have_value((TODAY + timedelta(days=15)).isoformat())
    console.assert_clean("the saved search")

    # ----- Duplicate License: the form prefilled; a new number on Submit; the original untouched.
    page.get_by_role("button", name=f"Duplicate License {lic['wanted']}").click()
    expect(page).to_have_url(re.compile(r"/licenses/drafts/\d+$"))
    expect(page.locator(".aim-duplicate-note")).to_contain_text(f"This is a copy of license {lic['wanted']}")
    expect(field(page, "Importer Name")).to_have_value("Gulf Coast Metals LLC")
    # A license covers one entry: the copy's entry number and dates are this shipment's to give.
    expect(field(page, "Customs Entry Number (optional)")).to_have_value("")
    expect(field(page, "Expected Date of Import")).to_have_value("")
    expect(page.locator("#products table.aim-lines tbody tr")).to_have_count(2)
    field(page, "Customs Entry Number (optional)").fill("SP7-0000001-4")
    field(page, "Expected Date of Export").fill((TODAY + timedelta(days=12)).isoformat())
    field(page, "Expected Date of Import").fill((TODAY + timedelta(days=22)).isoformat())
    duplicate = certify_preview_submit(page)
    assert duplicate != lic["wanted"]
    expect(page.get_by_role("main")).to_contain_text(f"License {duplicate} has been issued")
    expect(page.get_by_role("main")).to_contain_text(f"Duplicated From{lic['wanted']}")
    console.assert_clean("the duplicate")

    # ----- Modify License: same number, Corrected, the change in the history.
    page.goto("/licenses/")
    expect(rows(page)).to_have_count(6)
    page.get_by_role("button", name=f"Modify License {lic['too_early']}").click()
    expect(page).to_have_url(re.compile(r"/licenses/drafts/\d+$"))
    expect(field(page, "Importer Name")).to_have_value("Gulf Coast Rolling Co.")
    field(page, "Importer Name").fill("Bayou Rolling Co.")
    page.locator("label[for=certified]").click()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    expect(page.get_by_role("main")).to_contain_text("Bayou Rolling Co.")
    expect(page.get_by_role("table", name="What changes: before and after")).to_contain_text(
        "Gulf Coast Rolling Co.")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("License corrected")
    expect(page.get_by_role("main")).to_contain_text("now shows as Corrected")
    page.get_by_role("link", name=f"View license {lic['too_early']}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"License {lic['too_early']}")
    expect(page.locator(".aim-license-head")).to_contain_text("Corrected")
    history = page.get_by_role("table", name="What happened to this license")
    expect(history).to_contain_text("Importer Name: Gulf Coast Rolling Co. → Bayou Rolling Co.")
    console.assert_clean("the modification")

    page.goto("/licenses/")
    expect(row(page, lic["too_early"])).to_contain_text("Corrected")
    expect(row(page, lic["too_early"])).to_contain_text("Bayou Rolling Co.")

    # ----- Cancel License: asked first (Keep License backs out), then Cancelled in place.
    mark_no_reload(page)
    other = row(page, lic["other"])
    other.get_by_role("link", name=f"Cancel License {lic['other']}").click()
    confirm = page.locator("tr.aim-summary").filter(has_text="cannot be undone")
    expect(confirm).to_be_visible()
    page.get_by_role("button", name="Keep License").click()
    expect(confirm).to_have_count(0)
    expect(other).to_contain_text("Submitted")

    other.get_by_role("link", name=f"Cancel License {lic['other']}").click()
    expect(confirm).to_contain_text(f"Cancel license {lic['other']}?")
    expect(confirm).to_contain_text("This action cannot be undone")
    screenshot(page, "cancel-confirm", mobile=True)
    audit("dashboard-cancel-confirm")
    confirm.get_by_role("button", name="Cancel License", exact=True).click()
    expect(other).to_contain_text("Cancelled")
    expect(confirm).to_have_count(0)
    expect(other.get_by_role("button", name=f"Modify License {lic['other']}")).to_have_count(0)
    expect(other.get_by_role("link", name=f"Cancel License {lic['other']}")).to_have_count(0)
    expect(other.get_by_role("button", name=f"Duplicate License {lic['other']}")).to_be_visible()
    assert_no_reload(page, "the cancellation")
    screenshot(page, "after-cancel")

    # The license page agrees: Cancelled, no Modify, and why.
    other.get_by_role("link", name=lic["other"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"License {lic['other']}")
    expect(page.get_by_role("main")).to_contain_text("This license is cancelled")
    expect(page.get_by_role("button", name="Modify License")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel License")).to_have_count(0)
    expect(page.get_by_role("table", name="What happened to this license")).to_contain_text("Cancelled")
    console.assert_clean("the cancelled license")
