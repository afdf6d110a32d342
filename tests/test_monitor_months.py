"""The monitor's "latest" month is the last complete one (issue 14, point 12): the month under way
is marked partial, Surges compare complete months; titles keep "HTS" in capitals."""
from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from conftest import make_user

from aimweb import licensing, rules
from aimweb.monitor.aggregates import refresh
from aimweb.products.aluminum import ProductLineDraft

# The tests' program day is 2026-05-12 (tests/factories.py): May 2026 is under way, April is complete.


def _issue(user, kg, import_date):
    line = ProductLineDraft("7601103000", "CA", "NA_", "CA", Decimal(kg), Decimal(kg) * 3)
    draft = rules.LicenseDraft(entry_type="consumption", importer_name="Importer", exporter_name="Exporter",
                               manufacturer_name="Smelter", origin_country="CA", export_country="CA",
                               port_code="1303", export_date=import_date - timedelta(days=5),
                               import_date=import_date, lines=[line])
    licensing.issue_licenses(user, [draft], on=import_date - timedelta(days=10))


@pytest.fixture
def april_surge(app):
    """Three companies import 1,000 kg a month from Canada, October to March; 5,000 kg each in
    April; 100 kg each so far in May."""
    with app.app_context():
        today = licensing.application_date()
        assert (today.year, today.month) == (2026, 5)
        users = [make_user(f"co{i}@example.com") for i in range(3)]
        for month in (date(2025, 10, 15), date(2025, 11, 15), date(2025, 12, 15), date(2026, 1, 15),
                      date(2026, 2, 15), date(2026, 3, 15)):
            for user in users:
                _issue(user, 1000, month)
        for user in users:
            _issue(user, 5000, date(2026, 4, 15))
            _issue(user, 100, date(2026, 5, 6))
        refresh(today)


def words(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.get_data(as_text=True))).split())


def test_the_month_under_way_is_marked_partial_and_latest_is_the_last_complete_month(client, april_surge):
    text = words(client.get("/monitor/aluminum/?dimension=origin&measure=tons"))
    assert "May 2026 (partial)" in text
    assert "Latest complete month: Apr 2026" in text
    latest = text.split("Latest complete month: Apr 2026", 1)[1][:80]
    assert "Canada 15.0 +400 %" in latest.replace("\u2212", "-"), latest  # April's 15 t against March's 3 t
    assert "May 2026 is partial" in text


def test_surges_compare_complete_months(client, april_surge):
    text = words(client.get("/monitor/aluminum/surges?measure=tons"))
    assert "By country of origin: Apr 2026 against Oct 2025 to Mar 2026" in text
    assert re.search(r"Canada 15\.0 3\.0 5\.0×", text), text  # April against October to March
    assert "May 2026" not in text.split("Aluminum import surges", 1)[1].split("Figures in", 1)[0].replace(
        "By country of origin", "")


def test_downloads_say_which_month_is_partial(client, april_surge):
    csv_text = client.get("/monitor/aluminum/table.csv?dimension=origin").get_data(as_text=True)
    assert "2026-05 is partial: the month is not over." in csv_text
    assert ",2026-04,2026-05," in csv_text  # the columns stay plain months for a program reading them
    book = openpyxl.load_workbook(io.BytesIO(client.get("/monitor/aluminum/table.xlsx?dimension=origin").data))
    cells = [str(c.value) for row in book.active.iter_rows() for c in row]
    assert any("2026-05 is partial" in c for c in cells)


@pytest.mark.parametrize("dimension, title", [
    ("hts6", "Quantity (metric tons) by 6-digit HTS, last 13 months"),
    ("origin", "Quantity (metric tons) by country of origin, last 13 months"),
])
def test_titles_keep_their_capitals(client, app, dimension, title):
    text = words(client.get(f"/monitor/aluminum/?dimension={dimension}"))
    assert title in text and "6-digit hts" not in text
