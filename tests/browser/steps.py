"""What a person does in the browser, step by step, in the guide's words."""
from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest

from aimweb.clock import application_date

if os.environ.get("AIMWEB_REQUIRE_BROWSER") == "1":
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    ).expect

# Not built from the test users' e-mail or names ("riverstone-metals"): such a password is refused.
PASSWORD = "Tideline-Quarry-84"


def field(page, label: str):
    """The form field with exactly this label (a required field's label ends in " *")."""
    return page.get_by_label(re.compile("^" + re.escape(label) + r"( \*)?$"))


def fill_in(page, values: dict) -> None:
    """Each field by its label, in order: typed, or for a select the option of that value or label."""
    for label, value in values.items():
        control = field(page, label)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def account_details(page, display_name: str, first: str, last: str, password: str = PASSWORD) -> None:
    """The account's name and password (Sign Up Now's last step, or an invitation's page)."""
    fill_in(page, {"Display Name": display_name, "First Name": first, "Last Name": last,
                   "New Password": password, "Confirm New Password": password})


def add_branch(page, name: str, suffix: str | None = None) -> None:
    """Branches → Add branch, in Houston."""
    fill_in(page, {"Branch Name": name, **({"Suffix": suffix} if suffix else {}),
                   "Branch Address": "1200 Smith St", "Branch City": "Houston", "Branch State": "TX",
                   "Branch Zip": "77002"})
    page.get_by_role("button", name="Add branch").click()


def sign_up(page, console, mailbox, email, screenshot=None, display_name="Riverstone Metals"):
    """Home → Sign Up Now → email → code from the real mail → Verify Code → Create."""
    def shot(step, mobile=False):
        if screenshot:
            screenshot(page, step, mobile=mobile)

    page.goto("/")
    expect(page).to_have_title(re.compile("AIM Licensing"))
    shot("home", mobile=True)
    console.assert_clean("home")

    page.get_by_role("main").get_by_role("link", name="Sign Up Now").click()
    expect(page).to_have_url(re.compile(r"/signup$"))
    shot("signup-email", mobile=True)
    console.assert_clean("sign up")
    field(page, "Email Address").fill(email)
    page.get_by_role("button", name="Send verification code").click()

    expect(page).to_have_url(re.compile(r"/signup/verify$"))
    expect(page.get_by_role("main")).to_contain_text(email)
    shot("signup-verify", mobile=True)
    console.assert_clean("verify")
    field(page, "Verification code").fill(mailbox.last_code(email))
    page.get_by_role("button", name="Verify Code").click()

    expect(page).to_have_url(re.compile(r"/signup/create$"))
    expect(page.get_by_role("main")).to_contain_text(email)
    shot("signup-create", mobile=True)
    console.assert_clean("create account")
    account_details(page, display_name, "Dana", "Whitaker")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/account/company$"))


def register_company(page, name="Riverstone Metals LLC", ein="12-3456789", company_type="Importer"):
    """The "Account Creation Page": the required fields, then Save."""
    fill_in(page, {"EIN": ein, "Company Name": name, "Company Type": company_type,
                   "Company Street Address": "4800 Riverstone Blvd", "City": "Missouri City", "State": "TX",
                   "Zip": "77459", "Phone": "281-555-0134"})
    page.get_by_role("button", name="Save").click()


def sign_in(page, email, password):
    page.goto("/signin")
    field(page, "Email Address").fill(email)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


# ----- Apply for Single License (shared by the single-license and request-error tests) ----------

TODAY = application_date()
EXPORT = TODAY + timedelta(days=5)
IMPORT = TODAY + timedelta(days=20)


def start_application(page, product: str = "Aluminum"):
    """Dashboard → "Apply for Single License" → Standard License and the product → the form."""
    page.goto("/licenses/")
    page.get_by_role("link", name="Apply for Single License").or_(
        page.get_by_role("button", name="Apply for Single License")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply for Single License")
    if page.url.endswith("/licenses/apply"):
        field(page, "License Type").select_option(label="Standard License")
        field(page, "Product").select_option(label=product)
        page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/licenses/drafts/\d+$"))
    expect(page.get_by_role("heading", name="Products")).to_be_visible()


def type_date(page, label: str, day):
    """A date input as a person types it in an en-US browser: mm, dd, yyyy."""
    box = field(page, label)
    if page.evaluate("() => document.documentElement.classList.contains('aim-js')"):
        box.click()
        box.press_sequentially(day.strftime("%m%d%Y"))
    else:  # the same keystrokes; fill() is the only way Playwright offers without a script
        box.fill(day.isoformat())
    expect(box).to_have_value(day.isoformat())


def fill_header(page):
    field(page, "Customs Entry Number (optional)").fill("ABC-1234567-6")
    field(page, "Entry Type").select_option(label="Consumption")
    field(page, "Importer Name").fill("Gulf Coast Metals LLC")
    field(page, "Exporter Name").fill("Northern Rolling Mills Inc.")
    field(page, "Manufacturer Name").fill("Alouette Smelting")
    field(page, "Country of Origin").select_option(label="Canada")
    field(page, "Country from which the product(s) were exported").select_option(label="Canada")
    port = field(page, "Expected Port of Entry")
    port.press_sequentially("Baltimore")
    # The port list offers Baltimore by its city; choosing it puts the code in the field.
    expect(page.locator(f"#{port.get_attribute('list')} option[value='1303']")).to_have_text(
        re.compile("Baltimore, MD"))
    port.fill("1303")
    type_date(page, "Expected Date of Export", EXPORT)
    type_date(page, "Expected Date of Import", IMPORT)


def fill_line(page, hts: str, kg: str, usd: str, largest="Canada", second="Not applicable",
              cast="Canada"):
    field(page, "HTS Number").fill(hts)
    field(page, "Country of Largest Smelt").select_option(label=largest)
    field(page, "Country of Second Largest Smelt").select_option(label=second)
    field(page, "Country of Most Recent Cast").select_option(label=cast)
    field(page, "Volume (KG)").fill(kg)
    field(page, "Customs Value (US$)").fill(usd)


def product_rows(page):
    return page.locator("#products table.aim-lines tbody tr")


def new_application(page, app, helpers, email: str, header: bool = True):
    """A verified filer `email` (made now), signed in, on a new application, its header filled."""
    with app.app_context():
        helpers.make_user(email)
    sign_in(page, email, helpers.PASSWORD)
    start_application(page)
    if header:
        fill_header(page)


# ----- Apply for Multiple Licenses (shared by the aluminum and steel upload tests) --------------

def open_multiple_licenses(page, app, helpers, email: str):
    """A new filer signs in and clicks "Apply for Multiple Licenses" on the dashboard."""
    with app.app_context():
        helpers.make_user(email)
    sign_in(page, email, helpers.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    page.get_by_role("link", name="Apply for Multiple Licenses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply for Multiple Licenses")


def upload_workbook(page, path, product: str | None = None):
    """("Product of the file" →) "Choose File" → the certification → "Upload File"."""
    if product:
        field(page, "Product of the file").select_option(label=product)
    field(page, "Choose File").set_input_files(str(path))
    page.locator("label[for=certified]").click()
    expect(page.get_by_label(re.compile("^I certify"))).to_be_checked()
    page.get_by_role("button", name="Upload File").click()


def monitor_rows(page) -> dict[str, list[str]]:
    """A monitor table's rows: label -> cell texts (months, then the total)."""
    out = {}
    for row in page.locator("table.aim-monitor-table tr").all():
        head = row.locator("th")
        if head.count() and row.locator("td").count():
            out[head.first.inner_text().strip()] = [t.strip() for t in row.locator("td").all_inner_texts()]
    return out


# ----- Steel (shared by the steel license, steel upload and steel story tests) -------------------

def add_steel_line(page, hts: str, melted: str, kg: str, usd: str):
    """A steel product line: HTS Number, Country of Melt and Pour, Volume, Customs Value → Add Products."""
    field(page, "HTS Number").fill(hts)
    field(page, "Country of Melt and Pour").select_option(label=melted)
    field(page, "Volume (KG)").fill(kg)
    field(page, "Customs Value (US$)").fill(usd)
    page.get_by_role("button", name="Add Products").click()


def steel_row(entry_id, hts, melted, kg, usd, importer="Gulf Coast Metals LLC"):
    """One row of the steel template, by its column titles, as a filer types it (the export date a
    date cell, the import date typed as text)."""
    return {
        "Entry ID": entry_id, "Customs Entry #": "", "Importer Name": importer,
        "Exporter Name": "Pohang Trading Co.", "Manufacturer": "Pohang Steel Works",
        "Country of Origin": "South Korea", "Country of Export": "KR", "Port of Entry": "1303 - Baltimore, MD",
        "Expected Date of Export": TODAY + timedelta(days=8),
        "Expected Date of Import": (TODAY + timedelta(days=18)).strftime("%m/%d/%Y"),
        "HTS Number": hts, "Country of Melt and Pour": melted, "Volume (KG)": kg, "Customs Value (US$)": usd,
    }


def fill_template(template: bytes, rows: list[dict], path):
    """The downloaded template with `rows` (by column title) from row 2, saved at `path`: the
    workbook and its sheet, for a correction later."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(template))
    sheet = wb.worksheets[0]
    titles = [c.value for c in sheet[1]]
    for r, values in enumerate(rows, start=2):
        for c, title in enumerate(titles, start=1):
            sheet.cell(row=r, column=c, value=values[title])
    wb.save(path)
    return wb, sheet
