"""Steel (SIMA, 19 CFR part 360): its rules on both sides of each boundary, its catalogue and
`hts-load --product steel`, applying for a steel license over HTTP, the PDF, mixing refused."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from helpers import HEADER, LINE, add_line, csrf_token, issue, page_text, post, preview_form, start
from pypdf import PdfReader
from sqlalchemy import select

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.inputs import license_number_spellings
from aimweb.licenses import pdf
from aimweb.models import License
from aimweb.products import PRODUCTS
from aimweb.products.steel import MELT_POUR_REQUIRED_FROM, STEEL, product_group, product_groups
from aimweb.reference import countries, hts

TODAY = licensing.application_date()
STEEL_CATALOGUE = hts.packaged_catalogue("steel_hts_covered.csv")
ALUMINUM_CATALOGUE = hts.packaged_catalogue()

# Hot-rolled flat products of Korea, melted and poured in Korea; stainless pipe melted in Japan.
STEEL_LINES = (
    {"line-hts_number": "7208.10.15.00", "line-melt_pour_country": "KR",
     "line-quantity_kg": "24,000", "line-customs_value_usd": "19200.00"},
    {"line-hts_number": "7304.41.30.05", "line-melt_pour_country": "JP",
     "line-quantity_kg": "1500", "line-customs_value_usd": "9750.00"},
)
STEEL_HEADER = {**HEADER, "manufacturer_name": "Pohang Steel Works", "origin_country": "KR",
                "export_country": "KR"}


# ----- the rules, each side of each boundary (pure) --------------------------------------------

def steel_line(**changes):
    values = dict(hts_number="7208.10.15.00", melt_pour_country="KR", quantity_kg=Decimal("1000"),
                  customs_value_usd=Decimal("800"))
    values.update(changes)
    return STEEL.LineDraft(**values)


def line_problems(line, on=TODAY, product=STEEL, catalogue=STEEL_CATALOGUE):
    return {(p.field, p.message) for p in rules.validate_line(line, application_date=on,
                                                              catalogue=catalogue, product=product)}


def test_a_steel_line_with_a_country_of_melt_and_pour_passes():
    assert line_problems(steel_line()) == set()


def test_country_of_melt_and_pour_is_required_from_october_13_2020_not_the_day_before():
    empty = steel_line(melt_pour_country="")
    assert line_problems(empty, on=MELT_POUR_REQUIRED_FROM) == {
        ("melt_pour_country", "Country of Melt and Pour is required.")}
    assert line_problems(empty, on=MELT_POUR_REQUIRED_FROM - timedelta(days=1)) == set()


@pytest.mark.parametrize("special", [countries.UNKNOWN, countries.NOT_APPLICABLE])
@pytest.mark.parametrize("on", [MELT_POUR_REQUIRED_FROM - timedelta(days=1), TODAY])
def test_country_of_melt_and_pour_is_never_unknown_or_not_applicable(special, on):
    assert line_problems(steel_line(melt_pour_country=special), on=on) == {
        ("melt_pour_country", "Country of Melt and Pour must be a country: it can never be "
                              "“Not applicable” or “Unknown”.")}


def test_country_of_melt_and_pour_must_be_a_real_country():
    assert line_problems(steel_line(melt_pour_country="XQ")) == {
        ("melt_pour_country", "Country of Melt and Pour: 'XQ' is not a country.")}
    assert line_problems(steel_line(melt_pour_country="MX")) == set()


# Each edge of the covered ranges (7206.10–7216.50, 7216.99–7301.10, 7302.10, 7302.40–7302.90,
# 7304.10–7306.90): the first or last covered number, and the nearest one that is not.
@pytest.mark.parametrize(("number", "covered"), [
    ("7205.10.00.00", False), ("7206.10.00.00", True),
    ("7216.50.00.00", True), ("7216.61.00.00", False), ("7216.99.00.10", True),
    ("7301.10.00.00", True), ("7301.20.10.00", False),
    ("7302.10.10.10", True), ("7302.30.00.00", False), ("7302.40.00.00", True),
    ("7303.00.00.30", False), ("7304.11.00.20", True),
    ("7306.90.50.00", True), ("7307.11.00.30", False),
])
def test_steel_hts_numbers_are_covered_exactly_on_their_ranges(number, covered):
    found = line_problems(steel_line(hts_number=number))
    assert (found == set()) is covered, found
    if not covered:
        (field, message), = found
        assert field == "hts_number" and f"HTS {number} is not covered by SIMA" in message


def test_aluminum_and_steel_hts_numbers_never_cross():
    """An aluminum product is not covered on a steel license, nor a steel one on aluminum's."""
    assert not set(STEEL_CATALOGUE) & set(ALUMINUM_CATALOGUE)
    (_field, message), = line_problems(steel_line(hts_number="7601.10.30.00"))
    assert "not covered by SIMA" in message
    aluminum = PRODUCTS["aluminum"]
    al_line = aluminum.LineDraft(hts_number="7208.10.15.00", smelt_largest="CA", smelt_second="NA_",
                                 cast_country="CA", quantity_kg=Decimal("1000"), customs_value_usd=Decimal("2600"))
    assert any("not covered by AIM" in m for _, m in line_problems(al_line, product=aluminum,
                                                                   catalogue=ALUMINUM_CATALOGUE))


def test_steel_catalogue_has_746_numbers_in_54_categories_each_in_a_group():
    assert len(STEEL_CATALOGUE) == 746
    categories = {item.category for item in STEEL_CATALOGUE.values()}
    assert len(categories) == 54 and categories == set(product_groups())
    assert set(product_groups().values()) == {
        "Flat Products", "Long Products", "Pipe and Tube Products", "Semi-Finished Products",
        "Stainless Products"}
    assert STEEL_CATALOGUE["7208101500"].category == "Hot-rolled plate, in coils"
    assert product_group("Hot-rolled plate, in coils") == "Flat Products"


def test_steel_product_definition():
    assert STEEL.number_letter == "S" and STEEL.support_email == "steel.license@trade.gov"
    assert [f.label for f in STEEL.own_line_fields] == ["Country of Melt and Pour"]
    assert list(STEEL.template_titles) == [
        "Entry ID", "Customs Entry #", "Importer Name", "Exporter Name", "Manufacturer",
        "Country of Origin", "Country of Export", "Port of Entry", "Expected Date of Export",
        "Expected Date of Import", "HTS Number", "Country of Melt and Pour", "Volume (KG)",
        "Customs Value (US$)"]
    assert [(d.key, d.line_attribute) for d in STEEL.monitor_dimensions] == [
        ("melt_pour", "melt_pour_country"), ("product_group", "category")]


def test_a_typed_steel_number_is_read_with_its_look_alikes():
    assert license_number_spellings("s7kq41226") == ["S7KQ41226"]
    # 5 typed for the letter S, and S for 5 in the month and year.
    assert license_number_spellings("57KQ4-I2S6") == ["S7KQ41256"]
    assert license_number_spellings("17KQ41226") == []  # no product's letter reads like 1


# ----- the catalogue replaced with `flask hts-load --product steel` ----------------------------

CSV_HEADER = "hts10,description,category,heading,full_description,unit\n"


@pytest.fixture
def own_catalogues(app, tmp_path):
    app.config["HTS_CATALOGUE_FILE"] = str(tmp_path / "hts_catalogue.json")
    return app


def test_hts_load_product_steel_replaces_only_the_steel_catalogue(own_catalogues, signed_in, tmp_path):
    runner = own_catalogues.test_cli_runner()
    assert "Steel HTS catalogue 2024 Revision (December 2024): 746 covered numbers." in runner.invoke(
        args=["hts-show", "--product", "steel"]).output
    rows = "".join(f'{i.hts10},"{i.description}","{i.category}",{i.heading},"{i.full_description}",{i.unit}\n'
                   for i in STEEL_CATALOGUE.values() if i.hts10 != "7208101500")
    new = tmp_path / "steel-2025.csv"
    new.write_text(CSV_HEADER + rows + '7208101510,"Of a width of 1,575 mm or more","Hot-rolled plate, in coils",'
                   '7208,"Flat-rolled > new",kg\n')
    result = runner.invoke(args=["hts-load", str(new), "--revision", "2025 Revision 5", "--product", "steel"])
    assert result.exit_code == 0, result.output
    assert "Steel HTS catalogue 2025 Revision 5: 746 covered numbers now in use." in result.output
    # Aluminum's catalogue is untouched.
    assert "Aluminum HTS catalogue 2024 Revision (December 2024): 66 covered numbers." in runner.invoke(
        args=["hts-show"]).output
    assert "Flat-rolled &gt; new" in signed_in.get(
        "/licenses/hts?product=steel&line-hts_number=7208.10.15.10").get_data(as_text=True)
    assert "is not covered by SIMA" in signed_in.get(
        "/licenses/hts?product=steel&line-hts_number=7208.10.15.00").get_data(as_text=True)
    draft = start(signed_in, "steel")
    assert "2025 Revision 5" in signed_in.get(draft).get_data(as_text=True)


def test_hts_load_refuses_an_unknown_product(own_catalogues, tmp_path):
    new = tmp_path / "x.csv"
    new.write_text(CSV_HEADER + '7208101500,"x","y",7208,"z",kg\n')
    result = own_catalogues.test_cli_runner().invoke(
        args=["hts-load", str(new), "--revision", "2025", "--product", "copper"])
    assert result.exit_code != 0 and "copper" in result.output


# ----- applying over HTTP ------------------------------------------------------------------------

def test_apply_offers_aluminum_and_steel(signed_in):
    html = signed_in.get("/licenses/apply").get_data(as_text=True)
    assert "Standard License" in html
    assert re.findall(r'<option value="(\w+)">(\w+)</option>', html.split('id="product"')[1])[:2] == [
        ("aluminum", "Aluminum"), ("steel", "Steel")]
    token = csrf_token(signed_in, "/licenses/apply")
    refused = signed_in.post("/licenses/apply", data={"csrf_token": token, "license_type": "standard",
                                                       "product": "copper"})
    assert refused.status_code == 200 and "Select the license type and the product." in page_text(refused)


def test_a_steel_draft_has_the_steel_product_line(signed_in):
    draft = start(signed_in, "steel")
    html = page_text(signed_in.get(draft))
    assert "Standard License · Steel" in html
    assert "Country of Melt and Pour" in html and 'name="line-melt_pour_country"' in html
    assert "Smelt" not in html and "Most Recent Cast" not in html
    assert "like 7208.10.15.00" in html
    info = page_text(signed_in.get("/licenses/hts?product=steel&line-hts_number=7208101500"))
    assert "Hot-rolled plate, in coils" in info and "7208.10.15.00" in info


def test_apply_for_a_steel_license_with_two_products_end_to_end(signed_in, mailbox, query):
    draft = start(signed_in, "steel")
    for n, line in enumerate(STEEL_LINES, start=1):
        html = page_text(add_line(signed_in, draft, line, STEEL_HEADER))
        assert "aim-line--error" not in html and f"Product {n} added." in html
    lines = page_text(signed_in.get(draft))
    assert "Korea" in lines and "Japan" in lines and "0.80" in lines and "6.50" in lines  # unit values
    assert post(signed_in, f"{draft}/preview", {**STEEL_HEADER, "certified": "y"}).status_code == 302
    preview = page_text(signed_in.get(f"{draft}/preview"))
    assert "Standard License · Steel" in preview and "Country of Melt and Pour" in preview
    submitted = post(signed_in, f"{draft}/submit", preview_form(signed_in, draft))
    assert submitted.status_code == 303
    number = submitted.headers["Location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"S[23456789ACDEFGHJKMNPQRTUVWXY]{4}" + TODAY.strftime("%m%y"), number)

    def stored():
        lic = db.session.scalar(select(License).where(License.number == number))
        return lic.product, [(line.hts_number, line.category, line.melt_pour_country, line.smelt_largest,
                              str(line.unit_value)) for line in lic.lines]
    assert query(stored) == ("steel", [
        ("7208101500", "Hot-rolled plate, in coils", "KR", "", "0.80"),
        ("7304413005", STEEL_CATALOGUE["7304413005"].category, "JP", "", "6.50")])
    page = page_text(signed_in.get(f"/licenses/{number}"))
    assert "Country of Melt and Pour" in page and "Korea" in page and "Japan" in page

    mail = mailbox.wait_for("filer@example.com")[-1]
    assert mail["Subject"] == f"SIMA license {number} issued"
    body = mailbox.body(mail)
    assert "Your steel import license has been issued." in body and number in body
    assert "steel.license@trade.gov" in body and "Steel Import Monitoring and Analysis (SIMA)" in body
    # Found on the dashboard by its number, 5 typed for its S.
    assert number in signed_in.get("/licenses/", query_string={"q": "5" + number[1:]}).get_data(as_text=True)


def test_steel_and_aluminum_products_never_mix_on_one_license(signed_in, query):
    steel = start(signed_in, "steel")
    html = page_text(add_line(signed_in, steel, {**STEEL_LINES[0], "line-hts_number": "7601.10.30.00"},
                              STEEL_HEADER))
    assert "HTS 7601.10.30.00 is not covered by SIMA" in html
    aluminum = start(signed_in)
    html = page_text(add_line(signed_in, aluminum, {**LINE, "line-hts_number": "7208.10.15.00"}))
    assert "HTS 7208.10.15.00 is not covered by AIM" in html
    assert query(lambda: [len(db.session.get(License, int(d.rsplit("/", 1)[1])).lines)
                          for d in (steel, aluminum)]) == [0, 0]
    # Aluminum's fields posted on a steel line are not read: its own field is still required.
    html = page_text(add_line(signed_in, steel, {**LINE, "line-hts_number": "7208.10.15.00"}, STEEL_HEADER))
    assert "Country of Melt and Pour is required." in html


@pytest.mark.parametrize("special", ["Unknown", "Not applicable", "NA_", "UNK"])
def test_the_form_refuses_unknown_or_not_applicable_melt_and_pour(signed_in, special):
    draft = start(signed_in, "steel")
    html = page_text(add_line(signed_in, draft, {**STEEL_LINES[0], "line-melt_pour_country": special},
                              STEEL_HEADER))
    assert "The product was not added" in html and "Country of Melt and Pour" in html


def test_duplicating_a_steel_license_keeps_its_product_and_melt_and_pour(signed_in, query):
    number = issue(signed_in, lines=STEEL_LINES[:1], header=STEEL_HEADER, product="steel")
    copy = post(signed_in, f"/licenses/{number}/duplicate", {})
    assert copy.status_code in (302, 303)
    html = page_text(signed_in.get(copy.headers["Location"]))
    assert "Standard License · Steel" in html and "Korea" in html


# ----- the PDF ------------------------------------------------------------------------------------

def pdf_text(content: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages), reader


def test_a_steel_license_prints_with_its_own_title_and_fields(signed_in, query):
    number = issue(signed_in, lines=STEEL_LINES, header=STEEL_HEADER, product="steel")
    response = signed_in.get(f"/licenses/{number}/pdf")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'inline; filename="SIMA-license-{number}.pdf"'
    text, reader = pdf_text(response.data)
    for expected in ["Steel Import License", number, "STEEL IMPORT MONITORING (19 CFR PART 360)",
                     "Country of Melt and Pour", "Korea", "Japan", "7208.10.15.00", "7304.41.30.05",
                     "Hot-rolled plate, in coils", "Total, 2 products", f"SIMA license {number}"]:
        assert expected in text, expected
    assert "Aluminum" not in text and "Smelt" not in text and "Cast" not in text
    assert reader.metadata.title == f"Steel Import License {number}"
    assert reader.metadata.author == "Steel Import Monitoring and Analysis (SIMA)"  # its program, not the portal
    # Cached like aluminum's: a second download renders nothing.
    before = pdf.render_count
    assert signed_in.get(f"/licenses/{number}/pdf").data == response.data
    assert pdf.render_count == before
