"""The public monitor: disclosure control, figures from licenses, no filer ever revealed."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from conftest import make_user

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import Company, User
from aimweb.monitor.aggregates import refresh
from aimweb.monitor.disclosure import Figure, fails_primary
from aimweb.products.aluminum import ProductLineDraft


def fig(usd, companies=5, top=None):
    usd = Decimal(usd)
    return Figure(usd, usd, companies, Decimal(top) if top is not None else usd / companies)


def test_a_cell_with_two_filers_is_withheld_and_three_is_published():
    assert fails_primary(fig(100, companies=2), 3, Decimal("0.8"))
    assert not fails_primary(fig(100, companies=3), 3, Decimal("0.8"))


def test_a_cell_one_company_dominates_is_withheld():
    assert fails_primary(fig(100, companies=5, top=81), 3, Decimal("0.8"))
    assert not fails_primary(fig(100, companies=5, top=80), 3, Decimal("0.8"))


def _issue(user, origin, hts, kg, usd, import_date, on):
    line = ProductLineDraft(hts, origin, "NA_", origin, Decimal(kg), Decimal(usd))
    draft = rules.LicenseDraft(entry_type="consumption", importer_name="Secret Importer Co",
                               exporter_name="Hidden Exporter Ltd", manufacturer_name="Covert Smelter",
                               origin_country=origin, export_country=origin, port_code="1303",
                               export_date=import_date - timedelta(days=5), import_date=import_date,
                               lines=[line])
    return licensing.issue_licenses(user, [draft], on=on)[0]


@pytest.fixture
def market(app):
    """Five companies import unwrought aluminum from Canada; only two import foil from China;
    three import a little of bars from Mexico."""
    with app.app_context():
        today = licensing.application_date()
        month = today.replace(day=1) - timedelta(days=40)
        users = [make_user(f"co{i}@example.com") for i in range(5)]
        numbers = []
        for i, user in enumerate(users):
            numbers.append(_issue(user, "CA", "7601103000", 10000 + 1000 * i, 31000 + 3000 * i, month,
                                  month - timedelta(days=10)))
        for user in users[:2]:
            numbers.append(_issue(user, "CN", "7607191000", 5000, 22000, month, month - timedelta(days=10)))
        for user in users[2:]:  # a small third category: the complementary suppression takes it
            numbers.append(_issue(user, "MX", "7604291010", 2000, 9000, month, month - timedelta(days=10)))
        cancelled = _issue(users[4], "CA", "7601103000", 999999, 3099999, month, month - timedelta(days=10))
        lic = db.session.scalar(db.select(licensing.License).where(licensing.License.number == cancelled))
        licensing.cancel_license(lic, users[4])
        refresh(today)
        names = ([c.name for c in db.session.scalars(db.select(Company))]
                 + [u.email for u in db.session.scalars(db.select(User))])
        yield {"numbers": numbers + [cancelled], "names": names, "month": month}


def test_monitor_publishes_the_five_company_cell_and_withholds_the_two_company_cell(client, market):
    html = client.get("/monitor/aluminum/?dimension=category&measure=tons").get_data(as_text=True)
    month = market["month"].strftime("%b %Y")  # "Sep 2026": "09/26" reads as a day in the US
    assert "Unwrought aluminum" in html and "Foil" in html
    # Unwrought: 10+11+12+13+14 t = 60.0 t (the cancelled license does not count).
    assert ">60.0<" in html and "1,060.0" not in html and "1,059" not in html
    foil_row = re.search(r"<th scope=\"row\">Foil</th>(.*?)</tr>", html, re.S).group(1)
    assert "(D)" in foil_row and "10.0" not in foil_row
    # Foil could be worked out from the month's total minus the others: bars (smallest) is withheld too.
    bars_row = re.search(r"<th scope=\"row\">Bars, rods and profiles</th>(.*?)</tr>", html, re.S).group(1)
    assert "(D)" in bars_row and "6.0" not in bars_row
    assert month in html


def test_no_page_or_download_reveals_a_filer(client, market):
    pages = [client.get("/monitor/aluminum/" + u).get_data(as_text=True) for u in (
        "", "?dimension=origin", "?dimension=hts6&measure=usd", "?dimension=cast&measure=unit", "?dimension=smelt",
        "surges")]
    pages.append(client.get("/monitor/aluminum/table.csv?dimension=origin").get_data(as_text=True))
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/monitor/aluminum/table.xlsx?dimension=category").data))
    pages.append(" ".join(str(c.value) for row in wb.active.iter_rows() for c in row if c.value is not None))
    forbidden = market["names"] + market["numbers"] + ["Secret Importer", "Hidden Exporter", "Covert Smelter", "12-"]
    for text in pages:
        for word in forbidden:
            assert word not in text, word


def test_downloads_show_withheld_figures_as_d(client, market):
    csv_text = client.get("/monitor/aluminum/table.csv?dimension=category&measure=usd").get_data(as_text=True)
    assert "(D)" in csv_text and "Unwrought aluminum" in csv_text
    xlsx = client.get("/monitor/aluminum/table.xlsx?dimension=category&measure=usd").data
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    values = [c.value for row in wb.active.iter_rows() for c in row]
    assert "(D)" in values and any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def test_bad_parameters_fall_back_to_the_defaults(client, app):
    response = client.get("/monitor/aluminum/?dimension=<script>&measure=x&period=1999&origin=ZZ")
    assert response.status_code == 200 and "<script>" not in response.get_data(as_text=True)
