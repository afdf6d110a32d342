"""Browser fixtures: the real app served on 127.0.0.1 by werkzeug in a thread, and headless
Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync API.

The live server shares the test database and SMTP server with tests/conftest.py. Every page
(`page`, `new_page`) depends on the `app` fixture, so the tables are emptied and the rate limits reset before each
browser test, exactly as for the HTTP tests.

Without Playwright or Chromium the tests are skipped, unless AIMWEB_REQUIRE_BROWSER=1 (CI), in
which case they fail."""
from __future__ import annotations

import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from aimweb import create_app, licensing, rules
from aimweb.extensions import db
from aimweb.monitor.aggregates import refresh
from aimweb.products import STEEL

CHROMIUM = os.environ.get("AIMWEB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Served to the page from this same-origin path, so axe runs under the app's real CSP.
AXE_PATH = "/__tests__/axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


def browser_unavailable(reason: str):
    """Skip, or fail when the environment says browser tests are required (CI)."""
    if os.environ.get("AIMWEB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required (AIMWEB_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(reason)


def root_conftest(config):
    """tests/conftest.py as loaded by pytest (its helpers are plain functions, not fixtures)."""
    wanted = Path(__file__).resolve().parents[1] / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) and Path(plugin.__file__).resolve() == wanted:
            return plugin
    raise AssertionError(f"{wanted} was not loaded")


@pytest.fixture(scope="session")
def helpers(pytestconfig):
    return root_conftest(pytestconfig)


@dataclass
class LiveServer:
    url: str
    app: object

    def __call__(self, path: str = "/") -> str:
        return self.url + path


class _QuietHandler(WSGIRequestHandler):
    """Logs only failed requests: a page load fetches a dozen static files."""

    def log_request(self, code="-", size="-"):
        if str(code).startswith("5"):
            super().log_request(code, size)


@pytest.fixture(scope="session")
def live_server(helpers, database_uri, smtp_server, _schema):
    # Mail goes through the production path: a delivery thread after the answer.
    app = create_app(helpers.make_test_config(database_uri, smtp_server[0].port, MAIL_KICK="thread"))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="aimweb-live-server", daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # so the schema can be dropped after the session (PostgreSQL)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import Error, expect, sync_playwright
    except ImportError:
        browser_unavailable("the playwright package is not installed")
    # Assertions wait as long as actions (the context's 10 s): a swap on a loaded CI machine can take
    # longer than expect()'s own 5 s, and what is asserted is the outcome, not the speed.
    expect.set_options(timeout=10_000)
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        browser_unavailable(f"Chromium was not found at {CHROMIUM} (apt-get install chromium)")
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Error as exc:
        manager.stop()
        browser_unavailable(f"Chromium at {CHROMIUM} did not start: {exc.message.splitlines()[0]}")
    yield chromium
    chromium.close()
    manager.stop()


@dataclass
class ConsoleWatch:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    problems: list[str] = field(default_factory=list)
    # Chromium logs a failed main document (e.g. a deliberate 404) as a console error.
    allowed: list[re.Pattern] = field(default_factory=list)

    def on_console(self, message):
        if message.type in ("error", "assert") or "Content Security Policy" in message.text:
            self.record(f"console.{message.type} at {message.location.get('url')}: {message.text}")

    def on_pageerror(self, error):
        self.record(f"uncaught exception: {error}")

    def record(self, text: str):
        if not any(p.search(text) for p in self.allowed):
            self.problems.append(text)

    def assert_clean(self, where: str = ""):
        problems, self.problems = self.problems, []
        assert not problems, f"browser console problems{' on ' + where if where else ''}:\n" + "\n".join(problems)


@pytest.fixture
def console():
    return ConsoleWatch()


@pytest.fixture
def new_page(browser, live_server, app, console):
    """new_page(**context_options): a page in a fresh browser profile (no cookies), watched for
    console problems. Depends on `app`, which empties the tables before the test."""
    # The live server's app lives for the session while each test empties the tables: on SQLite
    # the ids start again, so the dashboard's kept counts (keyed by the newest license and event
    # ids, which in production only grow) would be another test's.
    live_server.app.extensions.pop("dashboard_counts", None)
    contexts = []

    def make(**options):
        context = browser.new_context(
            **{"viewport": DESKTOP, "base_url": live_server.url, "locale": "en-US", **options}
        )
        contexts.append(context)
        context.set_default_timeout(10_000)
        context.route("**" + AXE_PATH, lambda route: route.fulfill(
            path=str(AXE_JS), content_type="text/javascript; charset=utf-8"))
        page = context.new_page()
        page.on("console", console.on_console)
        page.on("pageerror", console.on_pageerror)
        return page

    yield make
    for context in contexts:
        context.close()
    console.assert_clean("the last page of the test")


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") saves tests/artifacts/<module>--<step>-desktop.png, and with
    mobile=True also <module>--<step>-mobile.png (390 px wide)."""
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")

    def take(page, step: str, mobile: bool = False) -> Path:
        size = page.viewport_size
        path = ARTIFACTS / f"{prefix}--{step}-{'mobile' if size['width'] < 640 else 'desktop'}.png"
        page.screenshot(path=str(path), full_page=True)
        if mobile and size["width"] >= 640:
            page.set_viewport_size(MOBILE)
            page.screenshot(path=str(ARTIFACTS / f"{prefix}--{step}-mobile.png"), full_page=True)
            page.set_viewport_size(size)
        return path

    return take


@pytest.fixture
def audit(page, console, live_server, request):
    """axe-core at desktop and phone widths (findings appended to tests/artifacts/axe-report.txt).

    test_accessibility.py has its own, which also writes the report's header."""
    from .test_accessibility import Audit

    if not AXE_JS.is_file():
        browser_unavailable(f"axe-core is not installed at {AXE_JS} (run npm ci)")
    audit = Audit(page, console, live_server, request.node.name)
    yield audit
    audit.assert_clean()


# ----- The steel monitor's data (tests/browser/test_steel_monitor.py and the steel filer's story) ------

STEEL_TODAY = licensing.application_date()
STEEL_MONTHS = 7
COLD_SHEET, PLATE, REBAR, WIRE = "7209150000", "7208510030", "7213100000", "7217101000"


def steel_month_start(back: int) -> date:
    index = STEEL_TODAY.year * 12 + STEEL_TODAY.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def steel_market_lines(i: int, m: int) -> list[tuple[str, str, str, int, Decimal]]:
    """(HTS, origin, melt and pour, kg, US$/kg) steel importer i (0-4) brings in month m.

    Cold-rolled sheet from Korea melted in Korea: all five (published), tripled in the last
    complete month (a surge). Rebar from Mexico melted in Mexico: four. Plate from Japan melted in
    Brazil: two (withheld). Wire from Canada melted in the United States: three."""
    surge = 3 if m == STEEL_MONTHS - 2 else 1
    lines = [(COLD_SHEET, "KR", "KR", (300_000 + 30_000 * i + 10_000 * m) * surge, Decimal("0.95"))]
    if i < 4:
        lines.append((REBAR, "MX", "MX", 120_000 + 10_000 * i, Decimal("0.70")))
    if i < 2:
        lines.append((PLATE, "JP", "BR", 80_000, Decimal("1.10")))
    if i >= 2:
        lines.append((WIRE, "CA", "US", 40_000 + 5_000 * i, Decimal("1.30")))
    return lines


@pytest.fixture
def steel_market(app, helpers):
    """Five steel importers' licenses over seven complete months and the monitor refreshed: the
    steel monitor with published, withheld and surging figures. Returns words no page may show."""
    with app.app_context():
        for i in range(5):
            user = helpers.make_user(f"steel-data{i}@importer.example")
            for m in range(STEEL_MONTHS):
                imported = steel_month_start(STEEL_MONTHS - 1 - m) + timedelta(days=9)
                drafts = [rules.LicenseDraft(
                    product=STEEL.key, entry_type="consumption", importer_name=f"Confidential Mill Buyer {i}",
                    exporter_name="Private Steel Trader", manufacturer_name="Undisclosed Steelworks",
                    origin_country=origin, export_country=origin, port_code="5301",
                    export_date=imported - timedelta(days=7), import_date=imported,
                    lines=[STEEL.LineDraft(hts, melted, Decimal(kg), (Decimal(kg) * price).quantize(Decimal("0.01")))])
                    for hts, origin, melted, kg, price in steel_market_lines(i, m)]
                licensing.issue_licenses(user, drafts, on=imported - timedelta(days=8))
        refresh(STEEL_TODAY)
    return ["Confidential Mill Buyer", "Private Steel Trader", "Undisclosed Steelworks"]
