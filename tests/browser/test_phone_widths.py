"""No page is wider than a phone (issue 14, point 3): at 390 x 844 every page of the portal, with
real data in it (a filer with issued licenses, one with a history and one with many products, a
finished upload with its results and one with problems, an officer's queue and panel, the monitor
with figures), fits the screen. A wide table stacks its cells or scrolls inside its own labelled
container (a region a keyboard can reach), and nothing but the page itself scrolls up and down:
the officer's panel is part of the page on a phone, not a box with a scroll bar of its own.

Every page is also screenshotted at 390 and 1280 px (tests/artifacts/phone--*.png) for a person
to look at."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from aimweb import licensing, products, rules
from aimweb.demo import DEMO_FILER, DEMO_OFFICER, seed_demo
from aimweb.enums import LicenseStatus, UploadStatus
from aimweb.extensions import db
from aimweb.models import License, UploadBatch, User, utcnow
from aimweb.monitor.aggregates import MEASURES, monitor, periods_available
from aimweb.products.aluminum import ProductLineDraft

from .conftest import ARTIFACTS, DESKTOP, MOBILE
from .steps import expect, sign_in, sign_up

pytestmark = pytest.mark.browser

TODAY = licensing.application_date()
TABLETS = [{"width": 844, "height": 390}, {"width": 600, "height": 900}]

# What a page must not have at 390 px: a document wider than the screen (the element sticking out
# named), a sideways scroll box a keyboard cannot reach or a screen reader cannot name, or a box
# scrolling up and down inside the page.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const view = window.innerWidth;
  const doc = document.documentElement;
  const scrolls = (el, axis) => {
    const style = getComputedStyle(el)['overflow' + axis];
    return style === 'auto' || style === 'scroll';
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].map(c => '.' + c).join('');
  const insideScroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (scrolls(p, 'X')) return true;
    }
    return false;
  };
  if (doc.scrollWidth > view) {
    const wide = [...document.body.querySelectorAll('*')].filter(el => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.right > view + 1 && !insideScroller(el);
    });
    // The outermost ones: their children stick out because they do.
    const outer = wide.filter(el => !wide.includes(el.parentElement)).slice(0, 5).map(name);
    problems.push(`the page is ${doc.scrollWidth} px wide on a ${view} px screen: ${outer.join(', ')}`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (['TEXTAREA', 'SELECT', 'INPUT'].includes(el.tagName) || el.closest('[hidden]')) continue;
    if (scrolls(el, 'X') && el.scrollWidth > el.clientWidth + 1) {
      const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!(labelled && ['region', 'group'].includes(el.getAttribute('role')) && el.tabIndex === 0)) {
        problems.push(`${name(el)} scrolls sideways but is not a labelled region with tabindex="0"`);
      }
    }
    if (scrolls(el, 'Y') && el.scrollHeight > el.clientHeight + 1) {
      problems.push(`${name(el)} scrolls up and down inside the page`);
    }
  }
  return problems;
}"""


def line(hts="7601103000", largest="CA", second="NA_", cast="CA", kg="12500", usd="38750"):
    return ProductLineDraft(hts, largest, second, cast, Decimal(kg), Decimal(usd))


def shipment(lines, importer="Gulf Coast Metals LLC", entry_number=None, origin="CA"):
    return rules.LicenseDraft(
        entry_type="consumption", entry_number=entry_number, importer_name=importer,
        exporter_name="Northern Rolling Mills Incorporated of Greater Saguenay",
        manufacturer_name="Alouette Smelting Limited Partnership", origin_country=origin,
        export_country=origin, port_code="1303", export_date=TODAY + timedelta(days=5),
        import_date=TODAY + timedelta(days=20), lines=lines)


# Many products, with the catalogue's long descriptions and every kind of country.
MANY_LINES = [
    line("7601103000"), line("7601209095", "AE", "IN", "AE", "18500", "51800"),
    line("7604291010", "CN", "NA_", "MX", "2200", "9900"), line("7606123035", "NO", "IS", "DE", "9500", "43700"),
    line("7607191000", "CN", "NA_", "CN", "12000", "40800"), line("7605110000", "NO", "NA_", "NO", "15000", "48000"),
    line("7608100030", "KR", "NA_", "KR", "3100", "23250"), line("7606126000", "NO", "DE", "DE", "9500", "43700"),
    line("7601103000", "IN", "NA_", "IN", "30000", "87000"), line("7604210090", "NA_", "NA_", "MX", "3100", "15500"),
    line("7607113000", "NO", "IS", "SE", "8800", "39600"), line("7601209095", "BH", "NA_", "BH", "40000", "120000"),
]


@pytest.fixture
def world(app):
    """The demo data (`flask seed-demo`: a filer's licenses, one modified, one cancelled, one
    marked Action Required, the officer, other importers' licenses and the monitor's figures), and
    what else a phone must show: a license with 12 products, a draft with products, a modification
    with changes to preview, an issued upload with its results, one checked and one rejected."""
    with app.app_context():
        seed_demo(echo=lambda _: None)
        filer = db.session.scalar(select(User).where(User.email == DEMO_FILER[0]))
        many, = licensing.issue_licenses(filer, [shipment(MANY_LINES, entry_number="ABC-1234567-6")])
        modified = db.session.scalar(
            select(License.number).where(License.company_id == filer.company_id,
                                         License.status == LicenseStatus.CORRECTED))
        cancelled = db.session.scalar(
            select(License.number).where(License.company_id == filer.company_id,
                                         License.status == LicenseStatus.CANCELLED))
        flagged = db.session.scalar(
            select(License.number).where(License.company_id == filer.company_id,
                                         License.status == LicenseStatus.ACTION_REQUIRED))

        draft = licensing.start_draft(filer)
        licensing.save_draft_header(draft, {
            "entry_type": "consumption", "importer_name": "Gulf Coast Metals LLC",
            "exporter_name": "Northern Rolling Mills Inc.", "manufacturer_name": "Alouette Smelting",
            "origin_country": "CA", "export_country": "CA", "port_code": "1303",
            "export_date": (TODAY + timedelta(days=5)).isoformat(),
            "import_date": (TODAY + timedelta(days=20)).isoformat(), "certified": "y"})
        for values in (("7601103000", "CA", "NA_", "CA", "24000", "74400"),
                       ("7606123035", "NO", "IS", "DE", "9500", "43700"),
                       ("7607191000", "CN", "NA_", "CN", "12000", "40800")):
            assert not licensing.save_draft_line(draft, dict(zip(
                ("hts_number", "smelt_largest", "smelt_second", "cast_country", "quantity_kg",
                 "customs_value_usd"), values)))
        many_license = db.session.scalar(select(License).where(License.number == many))
        modification = licensing.start_modification(many_license, filer)
        data = licensing.header_form_data(many_license)
        licensing.save_draft_header(modification, {
            **data, "importer_name": "Gulf Coast Metals and Alloys Trading Company LLC",
            "exporter_name": "Hydro Aluminium Rolled Products GmbH Grevenbroich", "certified": "y"})

        numbers = licensing.issue_licenses(filer, [
            shipment([line()] * (n % 3 + 1), importer=f"Importer of Entry {n} Holdings International LLC")
            for n in range(1, 9)])
        result = [{"entry_id": f"SHIPMENT-2026-05-{n:04d}", "rows": list(range(2 + 3 * n, 5 + 3 * n)),
                   "importer": f"Importer of Entry {n} Holdings International LLC",
                   "kg": "123456789.00", "usd": "987654321.00", "number": number}
                   for n, number in enumerate(numbers, start=1)]
        problems = [{"row": row, "column": column, "title": title, "message": message}
                    for row in range(2, 8) for column, title, message in (
                        ("K", "HTS Number", "7601.99.9999 is not a covered aluminum product: check the "
                                            "HTS number against the list of covered products."),
                        ("M", "Country of Second Largest Smelt",
                         "Enter the country of second largest smelt, or Not applicable when the "
                         "product holds primary aluminum from only one country."))]
        batches = {}
        for status, extra in (
                (UploadStatus.ISSUED, dict(result=result, license_count=len(numbers))),
                (UploadStatus.CHECKED, dict(result=[{k: v for k, v in r.items() if k != "number"}
                                                    for r in result], license_count=len(numbers))),
                (UploadStatus.REJECTED, dict(problems=problems, problem_count=len(problems) + 40,
                                             message=None))):
            batch = UploadBatch(company_id=filer.company_id, user_id=filer.id,
                                form_token=f"phone-{status}",
                                filename="Gulf Coast Metals licenses for May 2026 (final version).xlsx",
                                sha256=str(status).ljust(64, "0"), size=0, content=b"", status=status,
                                finished_at=utcnow(), **extra)
            db.session.add(batch)
            db.session.commit()
            batches[status] = batch.id
        return dict(many=many, modified=modified, cancelled=cancelled, flagged=flagged,
                    draft_id=draft.id, modification_id=modification.id, batches=batches,
                    issued=numbers[0])


class WidthCheck:
    """Visits pages at 390 px, collecting every layout problem, and screenshots them at both widths;
    with axe=True axe-core checks the page too (at both widths, tests/browser/conftest.py)."""

    def __init__(self, page, console, audit):
        self.console, self.audit = console, audit
        self.problems: list[str] = []
        self.page = page

    @property
    def page(self):
        return self._page

    @page.setter
    def page(self, page):
        self._page = self.audit.page = page

    def __call__(self, name: str, path: str | None = None, axe: bool = False):
        page = self.page
        if path is not None:
            page.goto(path)
        if axe:
            self.audit(f"phone-{name}")
        page.wait_for_load_state("load")
        page.set_viewport_size(MOBILE)
        for problem in page.evaluate(LAYOUT_PROBLEMS):
            self.problems.append(f"{name} ({page.url}): {problem}")
        page.screenshot(path=str(ARTIFACTS / f"phone--{name}-mobile.png"), full_page=True)
        # A phone held sideways, a small tablet: the same. (On a desktop the officer's panel
        # beside the queue keeps itself in view and scrolls on its own, by design.)
        for size in TABLETS:
            page.set_viewport_size(size)
            for problem in page.evaluate(LAYOUT_PROBLEMS):
                self.problems.append(f"{name} ({page.url}): {problem}")
        page.screenshot(path=str(ARTIFACTS / f"phone--{name}-tablet.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > DESKTOP["width"]:
            self.problems.append(f"{name} ({page.url}): {width} px wide on a {DESKTOP['width']} px screen")
        page.screenshot(path=str(ARTIFACTS / f"phone--{name}-desktop.png"), full_page=True)
        page.set_viewport_size(MOBILE)
        self.console.assert_clean(name)

    def assert_clean(self):
        assert not self.problems, "pages wider than a 390 px phone, or scrolling inside:\n" + "\n".join(self.problems)


@pytest.fixture
def check(page, console, audit):
    ARTIFACTS.mkdir(exist_ok=True)
    return WidthCheck(page, console, audit)


def test_no_page_is_wider_than_a_phone(check, world, new_page, console, mailbox):
    page = check.page

    # ----- Public pages.
    check("sign-in", "/signin")
    check("privacy", "/privacy")
    check("accessibility", "/accessibility")
    check("password-forgot", "/password/forgot")
    check("monitor", "/monitor/", axe=True)
    for metal in products.PRODUCTS:
        base = f"/monitor/{metal}/"
        check(f"monitor-{metal}", base, axe=True)
        for dimension in monitor(metal).dimensions:
            for measure in MEASURES:
                check(f"monitor-{metal}-{dimension}-{measure}", f"{base}?dimension={dimension}&measure={measure}")
        for period in periods_available(TODAY) if metal == "aluminum" else ():   # the same page for both
            check(f"monitor-{metal}-period-{period}", f"{base}?dimension=origin&period={period}")
        check(f"monitor-{metal}-surges", f"{base}surges")
        for measure in MEASURES:
            check(f"monitor-{metal}-surges-{measure}", f"{base}surges?measure={measure}")

    # ----- Sign-up: home, the three steps, the new company (each step checked as it is shown).
    sign_up(page, console, mailbox, "new.filer@riverstone.example",
            screenshot=lambda _page, step, mobile=False: check(step))
    check("company-new")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    check("company-errors")

    # ----- The demo filer's pages.
    filer = new_page(viewport=MOBILE)
    check.page = filer
    sign_in(filer, *DEMO_FILER)
    expect(filer.get_by_role("heading", level=1)).to_have_text("License Dashboard")
    check("dashboard", axe=True)
    filer.locator(".aim-toggle").first.click()
    expect(filer.locator(".aim-summary").first).to_be_visible()
    check("dashboard-summary-open")
    check("dashboard-action-required", f"/licenses/?status={LicenseStatus.ACTION_REQUIRED.value}")
    check("company-profile", "/account/company")
    # The company's account pages (the demo filer administers it: a branch, saved parties).
    check("my-account", "/account/", axe=True)
    check("company-users", "/account/people", axe=True)
    check("company-activity", "/account/activity", axe=True)
    check("branches", "/account/branches", axe=True)
    check("address-book", "/account/address-book", axe=True)
    check("api-keys", "/account/api-keys")
    check("apply", "/licenses/apply")
    check("draft-with-products", f"/licenses/drafts/{world['draft_id']}", axe=True)
    check("preview", f"/licenses/drafts/{world['draft_id']}/preview", axe=True)
    check("modification", f"/licenses/drafts/{world['modification_id']}")
    check("modification-preview", f"/licenses/drafts/{world['modification_id']}/preview", axe=True)
    check("submitted", f"/licenses/submitted/{world['many']}")
    check("license-many-products", f"/licenses/{world['many']}", axe=True)
    check("license-with-history", f"/licenses/{world['modified']}", axe=True)
    check("license-action-required", f"/licenses/{world['flagged']}")
    check("license-cancelled", f"/licenses/{world['cancelled']}")
    check("cancel", f"/licenses/{world['issued']}/cancel")
    check("upload", "/licenses/multiple/")
    check("upload-issued", f"/licenses/multiple/{world['batches'][UploadStatus.ISSUED]}", axe=True)
    check("upload-checked", f"/licenses/multiple/{world['batches'][UploadStatus.CHECKED]}", axe=True)
    check("upload-rejected", f"/licenses/multiple/{world['batches'][UploadStatus.REJECTED]}", axe=True)

    # ----- The officer's pages.
    officer = new_page(viewport=MOBILE)
    check.page = officer
    sign_in(officer, *DEMO_OFFICER)
    expect(officer.get_by_role("heading", level=1)).to_have_text("Review Queue")
    check("review-queue", axe=True)
    # On a phone the panel would open many screens below the queue: the license opens as a page.
    first = officer.locator("#queue-results tbody tr a.aim-number").first
    number = first.inner_text()
    first.click()
    expect(officer).to_have_url(re.compile(rf"/review/licenses/{number}$"))
    expect(officer.get_by_role("link", name="‹ Review Queue")).to_be_visible()
    officer.go_back()
    expect(officer.locator(".aim-review-panel")).to_be_hidden()  # no empty panel under the queue
    # Beside the queue on a desktop, then the window narrowed: the panel is part of the page.
    officer.set_viewport_size(DESKTOP)
    officer.locator("#queue-results tbody tr a.aim-number").first.click()
    expect(officer.locator("#review-panel .aim-panel")).to_be_visible()
    expect(officer).to_have_url(re.compile(r"/review/$"))
    check("review-queue-panel-open", axe=True)
    check("review-license", f"/review/licenses/{world['modified']}", axe=True)
    check("review-license-many-products", f"/review/licenses/{world['many']}")
    check("audit", "/review/audit", axe=True)
    check("sign-in-audit", "/admin/sign-ins")

    check.assert_clean()
