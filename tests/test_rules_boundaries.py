"""The license rules on both sides of every boundary (RULES.md), without Flask or a database."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from aimweb import rules
from aimweb.products import aluminum
from aimweb.products.aluminum import ProductLineDraft
from aimweb.reference import countries, hts, ports
from aimweb.rules import LicenseDraft

NA, UNK = countries.NOT_APPLICABLE, countries.UNKNOWN
TODAY = date(2026, 11, 20)  # a Friday
CATALOGUE = hts.packaged_catalogue()


def line(**changes) -> ProductLineDraft:
    values = dict(hts_number="7601.10.30.00", smelt_largest="CA", smelt_second="AE",
                  cast_country="CA", quantity_kg=Decimal("1000"), customs_value_usd=Decimal("2600"))
    values.update(changes)
    return ProductLineDraft(**values)


def draft(lines=None, **changes) -> LicenseDraft:
    values = dict(entry_number="", entry_type="consumption", importer_name="Acme Metals LLC",
                  exporter_name="Northern Ingot Ltd", manufacturer_name="Northern Smelting",
                  origin_country="CA", export_country="CA", port_code="3004",
                  export_date=TODAY + timedelta(days=5), import_date=TODAY + timedelta(days=10),
                  lines=[line()] if lines is None else lines)
    values.update(changes)
    return LicenseDraft(**values)


def problems(d: LicenseDraft, on: date = TODAY):
    return rules.validate_license(d, application_date=on, catalogue=CATALOGUE)


def fields(d: LicenseDraft, on: date = TODAY):
    return {(p.field, p.line) for p in problems(d, on)}


def test_a_complete_license_is_valid():
    assert problems(draft()) == []


def test_every_problem_is_returned_at_once():
    found = fields(draft(importer_name="", origin_country="", lines=[line(cast_country=NA, quantity_kg=0)]))
    assert {("importer_name", None), ("origin_country", None), ("cast_country", 0), ("quantity_kg", 0)} <= found


def test_no_product_line_is_a_problem():
    assert ("lines", None) in fields(draft(lines=[]))


@pytest.mark.parametrize("name", ["importer_name", "exporter_name", "manufacturer_name"])
def test_names_are_required(name):
    assert any(p.field == name and "is required" in p.message for p in problems(draft(**{name: "  "})))


def test_manufacturer_may_be_unknown():
    assert problems(draft(manufacturer_name="Unknown")) == []
    assert rules.is_manufacturer_unknown(" unknown ")


# --- customs entry number --------------------------------------------------------------------

@pytest.mark.parametrize("number", ["ABC-1234567-6", "999-9999999-0", "SP7-0000001-4", "123-4567890-3",
                                    "abc12345676", " abc-1234567-6 "])
def test_entry_numbers_with_a_right_check_digit_pass(number):
    assert problems(draft(entry_number=number)) == []


@pytest.mark.parametrize("number", ["ABC-1234567-7", "999-9999999-1", "SP7-0000001-5", "123-4567890-4"])
def test_entry_number_with_a_wrong_check_digit_fails(number):
    assert [p.field for p in problems(draft(entry_number=number))] == ["entry_number"]


@pytest.mark.parametrize("number", ["AB-1234567-6", "ABC-123456-6", "ABCD1234567", "ABC-1234567-X"])
def test_entry_number_with_a_bad_shape_fails(number):
    assert "filer code" in problems(draft(entry_number=number))[0].message


def test_entry_number_is_optional_and_normalized():
    assert problems(draft(entry_number="")) == []
    assert rules.normalize_entry_number("sp7 0000001 4") == "SP7-0000001-4"


def test_entry_type_must_be_known():
    assert fields(draft(entry_type="warehouse")) == {("entry_type", None)}


# --- countries and port -------------------------------------------------------------------------

@pytest.mark.parametrize("value", [NA, UNK, "XX", ""])
def test_origin_and_export_must_be_real_countries(value):
    assert ("origin_country", None) in fields(draft(origin_country=value))
    assert ("export_country", None) in fields(draft(export_country=value))


def test_port_must_be_a_known_code():
    assert fields(draft(port_code="9999")) == {("port_code", None)}


# --- dates --------------------------------------------------------------------------------------

def test_export_on_the_import_date_is_fine_but_not_after():
    same = TODAY + timedelta(days=10)
    assert problems(draft(export_date=same, import_date=same)) == []
    assert fields(draft(export_date=same + timedelta(days=1), import_date=same)) == {("export_date", None)}


def test_apply_at_most_60_days_before_import():
    assert problems(draft(import_date=TODAY + timedelta(days=60), export_date=TODAY)) == []
    assert fields(draft(import_date=TODAY + timedelta(days=61), export_date=TODAY)) == {("import_date", None)}


def test_apply_until_10_working_days_after_import():
    imported = date(2026, 11, 6)  # Friday; 10 working days later is Friday 11/20
    assert problems(draft(import_date=imported, export_date=imported), on=date(2026, 11, 20)) == []
    assert fields(draft(import_date=imported, export_date=imported), on=date(2026, 11, 21)) == {("import_date", None)}


def test_dates_are_required():
    assert {("export_date", None), ("import_date", None)} <= fields(draft(export_date=None, import_date=None))


# --- HTS ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["7601.10.30.00", "7601103000", " 7601.10.3000 ", "7616.99.51.60"])
def test_covered_hts_numbers_pass_with_or_without_dots(typed):
    assert problems(draft(lines=[line(hts_number=typed)])) == []


def test_uncovered_hts_number_fails_and_says_so():
    found = problems(draft(lines=[line(hts_number="7602.00.00.30")]))
    assert found[0].field == "hts_number" and "not covered" in found[0].message


def test_hts_number_must_have_10_digits():
    assert "10 digits" in problems(draft(lines=[line(hts_number="7601.10")]))[0].message


def test_catalogue_has_66_products_with_categories():
    assert len(CATALOGUE) == 66
    assert CATALOGUE["7601103000"].category == "Unwrought aluminum"
    assert hts.format_hts("7601103000") == "7601.10.30.00"


def test_hts_file_problems_name_the_line():
    with pytest.raises(ValueError, match="Line 3"):
        hts.parse_hts_csv("hts10,description,category,heading,full_description,unit\n"
                          "7601103000,a,b,7601,c,kg\n7601103000,a,b,7601,c,kg\n")


# --- smelt and cast ---------------------------------------------------------------------------------

def test_cast_country_cannot_be_unknown():
    assert fields(draft(lines=[line(cast_country=UNK)])) == {("cast_country", 0)}


def test_cast_country_cannot_be_not_applicable():
    assert fields(draft(lines=[line(cast_country=NA)])) == {("cast_country", 0)}


def test_unknown_smelt_accepted_up_to_2022_06_28_only():
    old = date(2022, 6, 28)
    d = draft(lines=[line(smelt_largest=UNK, smelt_second=UNK)], export_date=old, import_date=old + timedelta(days=1))
    assert problems(d, on=old) == []
    assert fields(d, on=old + timedelta(days=1)) == {("smelt_largest", 0), ("smelt_second", 0)}
    assert [c for c, _ in aluminum.smelt_choices(old)] == [NA, UNK]
    assert [c for c, _ in aluminum.smelt_choices(old + timedelta(days=1))] == [NA]


def test_largest_not_applicable_forces_the_second():
    assert problems(draft(lines=[line(smelt_largest=NA, smelt_second=NA)])) == []
    assert fields(draft(lines=[line(smelt_largest=NA, smelt_second="CA")])) == {("smelt_second", 0)}


def test_second_smelt_may_be_not_applicable_with_one_source():
    assert problems(draft(lines=[line(smelt_largest="CA", smelt_second=NA)])) == []


def test_second_smelt_must_differ_from_the_largest():
    assert fields(draft(lines=[line(smelt_largest="CA", smelt_second="CA")])) == {("smelt_second", 0)}


def test_smelt_fields_are_required():
    assert fields(draft(lines=[line(smelt_largest="", smelt_second="")])) == {("smelt_largest", 0), ("smelt_second", 0)}


# --- quantities, values, unit value -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["quantity_kg", "customs_value_usd"])
@pytest.mark.parametrize("value", [Decimal("0"), Decimal("-5"), None, "abc", Decimal("1.005"), Decimal("NaN")])
def test_quantities_and_values_must_be_positive_numbers(name, value):
    assert (name, 0) in fields(draft(lines=[line(**{name: value})]))


def test_smallest_positive_amounts_pass():
    assert problems(draft(lines=[line(quantity_kg=Decimal("0.01"), customs_value_usd=Decimal("0.01"))])) == []


def test_absurd_unit_values_fail_on_both_sides():
    ok_low = line(quantity_kg=Decimal("1000"), customs_value_usd=Decimal("100"))       # 0.10 $/kg
    ok_high = line(quantity_kg=Decimal("1"), customs_value_usd=Decimal("1000"))        # 1000 $/kg
    too_low = line(quantity_kg=Decimal("1000"), customs_value_usd=Decimal("99"))       # 0.099
    too_high = line(quantity_kg=Decimal("1"), customs_value_usd=Decimal("1000.01"))
    assert problems(draft(lines=[ok_low, ok_high])) == []
    assert fields(draft(lines=[too_low, too_high])) == {("customs_value_usd", 0), ("customs_value_usd", 1)}


def test_unit_value_is_value_over_volume():
    assert rules.unit_value(Decimal("3"), Decimal("10")) == Decimal("3.33")
    assert rules.unit_value(Decimal("0"), Decimal("10")) is None


# --- validity ---------------------------------------------------------------------------------------

def test_license_is_valid_75_days_and_ftz_does_not_expire():
    assert rules.validity(TODAY, "consumption") == (TODAY, TODAY + timedelta(days=75))
    assert rules.validity(TODAY, "ftz") == (TODAY, None)


# --- reference lookups --------------------------------------------------------------------------------

@pytest.mark.parametrize("text,code", [("Canada", "CA"), ("can", "CA"), ("ca", "CA"), ("South Korea", "KR"),
                                       ("Russia", "RU"), ("UAE", "AE"), ("not applicable", NA), ("Unknown", UNK),
                                       ("Atlantis", None)])
def test_countries_by_name_or_code(text, code):
    assert countries.lookup_country(text) == code


def test_ports_search_by_code_city_or_state():
    assert ports.search_ports("3004")[0].code == "3004"
    assert any(p.code == "0101" for p in ports.search_ports("portland"))
    assert all(p.state == "ME" for p in ports.search_ports("me")[:3])
