"""The Steel Import Monitor (issue 15, point 7): steel's public pages like aluminum's, by country
of origin, country of melt and pour, Section 232 product category, product group and 6-digit HTS;
the landing page to pick the metal; the aluminum monitor's first URLs still work."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from conftest import make_user

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import MonitorCell, MonitorChange
from aimweb.monitor.aggregates import refresh
from aimweb.products import ALUMINUM, STEEL

TODAY = date(2026, 12, 10)
COLD_SHEET, COLD_SHEET2, PLATE, REBAR = "7209150000", "7209160040", "7208510030", "7213100000"
RISKY = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(autouse=True)
def december(app):
    app.config["PROGRAM_TODAY"] = TODAY.isoformat()


def steel(user, hts: str, origin: str, melted: str, kg: int, usd: int, imported: date):
    draft = rules.LicenseDraft(
        product=STEEL.key, entry_type="consumption", importer_name="Secret Steel Buyer Co",
        exporter_name="Hidden Mill Trading", manufacturer_name="Covert Steelworks", origin_country=origin,
        export_country=origin, port_code="1303", export_date=imported - timedelta(days=7), import_date=imported,
        lines=[STEEL.LineDraft(hts, melted, Decimal(kg), Decimal(usd))])
    return licensing.issue_licenses(user, [draft], on=imported - timedelta(days=8))[0]


def aluminum(user, kg: int, imported: date):
    draft = rules.LicenseDraft(
        entry_type="consumption", importer_name="Importer", exporter_name="Exporter", manufacturer_name="Smelter",
        origin_country="CA", export_country="CA", port_code="1303", export_date=imported - timedelta(days=7),
        import_date=imported, lines=[ALUMINUM.LineDraft("7601103000", "CA", "NA_", "CA", Decimal(kg),
                                                        Decimal(kg) * 3)])
    return licensing.issue_licenses(user, [draft], on=imported - timedelta(days=8))[0]


NOVEMBER = date(2026, 11, 10)


@pytest.fixture
def market(app):
    """November 2026: five companies import cold-rolled sheet from Korea, melted and poured in
    Korea (published); two import plate from Japan melted in Brazil (withheld); three import
    rebar from Mexico melted in Mexico. One aluminum importer, alone, imports a lot: it must not
    show in the steel monitor (nor steel in the aluminum one)."""
    with app.app_context():
        users = [make_user(f"mill{i}@importer.example") for i in range(5)]
        numbers = []
        for i, user in enumerate(users):
            numbers.append(steel(user, COLD_SHEET if i % 2 else COLD_SHEET2, "KR", "KR", 100_000 + 10_000 * i,
                                 90_000 + 9_000 * i, NOVEMBER))
        for user in users[:2]:
            numbers.append(steel(user, PLATE, "JP", "BR", 50_000, 60_000, NOVEMBER))
        for user in users[2:]:
            numbers.append(steel(user, REBAR, "MX", "MX", 20_000, 14_000, NOVEMBER))
        aluminum(make_user("smelter@importer.example"), 777_000, NOVEMBER)
        refresh(TODAY)
        yield {"numbers": numbers}


def words(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.get_data(as_text=True))).split())


def row(page: str, name: str) -> str:
    return re.search(rf"<th scope=\"row\">{re.escape(html.escape(name))}</th>(.*?)</tr>", page, re.S).group(1)


def test_the_landing_page_offers_each_metal_with_its_monitor(client, market):
    response = client.get("/monitor/")
    text = words(response)
    assert response.status_code == 200
    assert "Aluminum Import Monitor" in text and "Steel Import Monitor" in text
    assert "Steel Import Monitoring and Analysis (SIMA), 19 CFR part 360" in text
    assert "country of melt and pour and product group" in text
    assert "Includes 10 licenses issued through" in text   # steel's, its own count
    assert "Includes 1 licenses issued through" in text
    page = response.get_data(as_text=True)
    assert 'href="/monitor/steel/"' in page and 'href="/monitor/aluminum/"' in page


def test_the_steel_monitor_shows_steel_only_by_section_232_category(client, market):
    response = client.get("/monitor/steel/?measure=tons")
    page, text = response.get_data(as_text=True), words(response)
    assert response.status_code == 200
    assert "Steel Import Monitor" in text and "SIMA" in text
    assert "Quantity (metric tons) by Section 232 product category, last 13 months" in text
    # Cold-rolled sheet: 100 + 110 + 120 + 130 + 140 t = 600 t, five companies: published.
    assert ">600.0<" in row(page, "Cold-rolled sheet")
    # Plate: two companies, withheld; rebar with it, or plate would be the total minus the rest.
    assert "(D)" in row(page, "Plate in cut lengths") and "100.0" not in row(page, "Plate in cut lengths")
    assert "(D)" in row(page, "Reinforcing bars")
    assert "777" not in page and "Unwrought" not in page   # the aluminum license is not steel
    assert 'role="img"' in page   # the chart
    assert "Includes licenses issued through" in text and "10 licenses" in text


@pytest.mark.parametrize("dimension, heading, rows", [
    ("hts6", "6-digit HTS", ["7209.15", "7209.16", "7208.51", "7213.10"]),
    ("origin", "Country of origin", ["South Korea", "Japan", "Mexico"]),
    ("melt_pour", "Country of melt and pour", ["South Korea", "Brazil", "Mexico"]),
    ("product_group", "Product group", ["Flat Products", "Long Products"]),
    ("category", "Section 232 product category", ["Cold-rolled sheet", "Plate in cut lengths", "Reinforcing bars"]),
])
@pytest.mark.parametrize("measure", ["tons", "usd", "unit"])
def test_every_steel_dimension_has_its_table_chart_and_downloads(client, market, dimension, heading, rows, measure):
    response = client.get(f"/monitor/steel/?dimension={dimension}&measure={measure}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'role="img"' in page
    assert f'<option value="{dimension}" selected>{heading}</option>' in page
    for name in rows:
        assert f'<th scope="row">{html.escape(name)}</th>' in page, name
    download = client.get(f"/monitor/steel/table.csv?dimension={dimension}&measure={measure}")
    assert download.status_code == 200
    assert f"sima-monitor-{dimension}-{measure}-13m.csv" in download.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0][0] == heading and {r[0] for r in table[1:] if r} >= set(rows)


def test_flat_products_group_two_categories(client, market):
    """The group's figure is the sum of its categories': Flat = cold-rolled sheet + plate (withheld
    with plate: 600 t published beside the group would give plate away)."""
    page = client.get("/monitor/steel/?dimension=product_group&measure=tons").get_data(as_text=True)
    assert "(D)" in row(page, "Flat Products")
    filtered = client.get("/monitor/steel/?dimension=product_group&measure=tons&category=Cold-rolled+sheet")
    assert ">600.0<" in row(filtered.get_data(as_text=True), "Flat Products")


def test_steel_downloads_withhold_and_write_text_as_text(client, market):
    download = client.get("/monitor/steel/table.xlsx?dimension=melt_pour&measure=usd")
    assert download.status_code == 200
    assert "sima-monitor-melt_pour-usd-13m.xlsx" in download.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    assert book.active.title == "SIMA monitor"
    values = [c.value for r in book.active.iter_rows() for c in r if c.value is not None]
    assert "(D)" in values and "Brazil" in values
    assert any("Steel Import Monitoring and Analysis (SIMA)" in str(v) for v in values)
    assert [v for v in values if isinstance(v, str) and v.startswith(RISKY)] == []
    csv_text = client.get("/monitor/steel/table.csv?dimension=category").get_data(as_text=True)
    cells = [c for r in csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))) for c in r]
    assert [c for c in cells if c.startswith(RISKY)] == []
    assert "Section 232 product category: all" in csv_text


def test_no_steel_page_or_download_reveals_a_filer(client, market, app):
    pages = [client.get("/monitor/steel/" + u).get_data(as_text=True) for u in (
        "", "?dimension=origin", "?dimension=hts6&measure=usd", "?dimension=melt_pour&measure=unit",
        "?dimension=product_group", "surges", "table.csv?dimension=melt_pour")]
    pages.append(client.get("/monitor/").get_data(as_text=True))
    with app.app_context():
        emails = [f"mill{i}@importer.example" for i in range(5)]
    for text in pages:
        for word in market["numbers"] + emails + ["Secret Steel", "Hidden Mill", "Covert Steelworks"]:
            assert word not in text, word


def test_steel_surges_and_filters_by_section_232_category(client, market):
    response = client.get("/monitor/steel/surges?category=Cold-rolled+sheet&origin=KR")
    text = words(response)
    assert response.status_code == 200
    assert "Steel import surges" in text
    page = response.get_data(as_text=True)
    assert '<option selected>Cold-rolled sheet</option>' in page
    assert '<label class="usa-label" for="m-category">Section 232 product category</label>' in page
    assert 'href="/monitor/steel/"' in page   # Tables and charts of the same metal


def test_the_aluminum_monitor_counts_aluminum_only(client, market):
    page = client.get("/monitor/aluminum/?measure=tons").get_data(as_text=True)
    assert "Unwrought aluminum" in page and "Cold-rolled" not in page
    assert "1 licenses" in words(client.get("/monitor/aluminum/"))


@pytest.mark.parametrize("old, new", [
    ("/monitor/?dimension=origin&measure=usd", "/monitor/aluminum/?dimension=origin&measure=usd"),
    ("/monitor/?category=Foil", "/monitor/aluminum/?category=Foil"),
    ("/monitor/surges?measure=tons", "/monitor/aluminum/surges?measure=tons"),
    ("/monitor/surges", "/monitor/aluminum/surges"),
    ("/monitor/table.csv?dimension=smelt", "/monitor/aluminum/table.csv?dimension=smelt"),
    ("/monitor/table.xlsx", "/monitor/aluminum/table.xlsx"),
])
def test_the_aluminum_monitors_first_urls_redirect(client, old, new):
    response = client.get(old)
    assert response.status_code == 301 and response.headers["Location"] == new
    assert client.get(old, follow_redirects=True).status_code == 200


def test_unknown_metals_and_other_products_dimensions(client, market):
    assert client.get("/monitor/copper/").status_code == 404
    assert client.get("/monitor/copper/table.csv").status_code == 404
    # Aluminum's own dimension on the steel monitor (and steel's on aluminum's) falls back.
    text = words(client.get("/monitor/steel/?dimension=smelt"))
    assert "by Section 232 product category" in text
    text = words(client.get("/monitor/aluminum/?dimension=melt_pour"))
    assert "by product category" in text
    response = client.get("/monitor/steel/?dimension=<script>&category=%00&origin=ZZ&period=1e308")
    assert response.status_code == 200 and "<script>" not in response.get_data(as_text=True)


def test_a_steel_change_marks_and_rebuilds_the_steel_monitor_only(app, market):
    with app.app_context():
        user = make_user("newmill@importer.example")
        months = db.select(MonitorCell.id).where(MonitorCell.product == "aluminum", MonitorCell.period.like("%-%"))
        aluminum_cells = db.session.scalars(months).all()
        steel(user, COLD_SHEET, "KR", "KR", 50_000, 45_000, NOVEMBER)
        assert db.session.execute(db.select(MonitorChange.product, MonitorChange.month)).all() == [
            ("steel", "2026-11")]
        log = refresh(TODAY)
        assert log.logs["steel"].licenses == 11 and log.logs["aluminum"].licenses == 1
        # Aluminum's months were not rebuilt (the same rows), steel's November was.
        assert db.session.scalars(months).all() == aluminum_cells
        sheet = db.session.scalar(db.select(MonitorCell.kg).where(
            MonitorCell.product == "steel", MonitorCell.dimension == "category", MonitorCell.key == "Cold-rolled sheet",
            MonitorCell.category == "*", MonitorCell.origin == "*", MonitorCell.period == "2026-11"))
        assert sheet == Decimal(650_000)
        incremental = {(c.product, c.dimension, c.category, c.origin, c.period, c.key, c.kg, c.usd, c.withheld)
                       for c in db.session.scalars(db.select(MonitorCell))}
        refresh(TODAY, full=True)
        assert incremental == {(c.product, c.dimension, c.category, c.origin, c.period, c.key, c.kg, c.usd,
                                c.withheld) for c in db.session.scalars(db.select(MonitorCell))}
