"""The officers' automatic checks (aimweb/checks.py), pure: each one on both sides of its threshold."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from aimweb import checks
from aimweb.checks import Context, LicenseFacts, Thresholds, UnitValueStat, median_and_mad, run_all
from aimweb.products import aluminum
from aimweb.products.aluminum import ALUMINUM, LineFacts

T = Thresholds()
TODAY = date(2026, 7, 15)
PRIMARY = ("Unwrought aluminum > Aluminum, not alloyed > Other > Of greater than 99.8 percent "
           "aluminum")
ALLOY = "Unwrought aluminum > Aluminum alloys > Other > Other > Other > Other > Other"
OTHER = "Aluminum foil > Not backed > Rolled but not further worked > Of a thickness not exceeding 0.01 mm"


def line(position=0, hts="7601106030", description=PRIMARY, largest="CA", second="NA_", cast="CA",
         kg="1000", unit_value="3.00") -> LineFacts:
    return LineFacts(position, hts, description, largest, second, cast, Decimal(kg),
                     None if unit_value is None else Decimal(unit_value))


def facts(*lines, status="submitted", origin="CA", import_date=TODAY + timedelta(days=20),
          corrections=0, filed_on=TODAY, entry_number="ABC-1234567-6") -> LicenseFacts:
    return LicenseFacts(status=status, origin_country=origin, import_date=import_date,
                        corrections=corrections, lines=list(lines) or [line()], filed_on=filed_on,
                        entry_number=entry_number)


def kinds(found) -> list[str]:
    return [f.check for f in found]


# ----- unit value: robust z-score against the HTS median, with a minimum sample -------------------

# median 3.00, MAD 0.10: the typical spread is 1.4826 x 0.10 = 0.14826 $/kg; limit 5 -> 0.7413 $/kg.
STAT = {"7601106030": UnitValueStat(sample=20, median=Decimal("3.00"), mad=Decimal("0.10"))}


@pytest.mark.parametrize("value, fires", [
    ("3.74", False),   # z = 4.99: just inside
    ("3.75", True),    # z = 5.06: just outside
    ("2.26", False),   # below the median, z = 4.99
    ("2.25", True),    # z = 5.06
])
def test_unit_value_fires_just_beyond_the_limit_on_either_side(value, fires):
    found = checks.unit_value_findings([line(unit_value=value)], STAT, T)
    assert bool(found) is fires
    if fires:
        finding, = found
        side = "above" if Decimal(value) > 3 else "below"
        assert finding.check == "unit_value" and finding.severity == 2 and finding.line == 0
        assert finding.reason.startswith(f"Product 1: unit value ${value}/kg is far {side} the usual "
                                         "$3.00/kg for HTS 7601.10.60.30 (median of 20 recent licenses")


def test_unit_value_exactly_at_the_limit_does_not_fire_and_twice_the_limit_is_high():
    # Identical prices (MAD 0): the spread is floored at 1 % of the median, here exactly $0.10.
    exact = {"7601106030": UnitValueStat(20, Decimal("10.00"), Decimal(0))}
    assert checks.unit_value_findings([line(unit_value="10.50")], exact, T) == []  # z = 5
    assert checks.unit_value_findings([line(unit_value="10.51")], exact, T)[0].severity == 2
    assert checks.unit_value_findings([line(unit_value="9.49")], exact, T)[0].severity == 2
    assert checks.unit_value_findings([line(unit_value="11.00")], exact, T)[0].severity == 2  # z = 10
    assert checks.unit_value_findings([line(unit_value="11.01")], exact, T)[0].severity == 3  # z > 10


def test_unit_value_needs_the_minimum_sample():
    outlier = [line(unit_value="30.00")]
    small = {"7601106030": UnitValueStat(sample=19, median=Decimal("3.00"), mad=Decimal("0.10"))}
    enough = {"7601106030": UnitValueStat(sample=20, median=Decimal("3.00"), mad=Decimal("0.10"))}
    assert checks.unit_value_findings(outlier, small, T) == []
    assert kinds(checks.unit_value_findings(outlier, enough, T)) == ["unit_value"]
    # The sample is a setting.
    assert kinds(checks.unit_value_findings(outlier, small, Thresholds(min_sample=19))) == ["unit_value"]


def test_unit_value_without_statistics_or_value_does_not_fire():
    assert checks.unit_value_findings([line(hts="7601203000", unit_value="30.00")], STAT, T) == []
    assert checks.unit_value_findings([line(unit_value=None)], STAT, T) == []


def test_identical_prices_do_not_make_every_difference_infinite():
    # MAD 0: the spread is floored at 1 % of the median (0.03), so 3.15 (z = 5) is not flagged.
    same = {"7601106030": UnitValueStat(50, Decimal("3.00"), Decimal("0"))}
    assert checks.unit_value_findings([line(unit_value="3.15")], same, T) == []
    assert kinds(checks.unit_value_findings([line(unit_value="3.16")], same, T)) == ["unit_value"]


def test_unit_value_limit_is_a_setting():
    value = [line(unit_value="3.75")]  # z = 5.06
    assert checks.unit_value_findings(value, STAT, Thresholds(unit_value_limit=Decimal("5.1"))) == []
    assert checks.unit_value_findings(value, STAT, Thresholds(unit_value_limit=Decimal(5)))


def test_unit_value_names_the_product_it_is_about():
    found = checks.unit_value_findings([line(0, unit_value="3.00"), line(1, unit_value="9.00")], STAT, T)
    assert [(f.line, f.reason[:9]) for f in found] == [(1, "Product 2")]


# ----- possible transshipment --------------------------------------------------------------------

@pytest.mark.parametrize("origin, largest, cast, fires", [
    ("CA", "CA", "CA", False),  # all the same
    ("CN", "RU", "CN", False),  # origin = country of most recent cast
    ("CN", "CN", "VN", False),  # origin = country of largest smelt
    ("VN", "CN", "CN", True),   # neither: possible transshipment
    ("MX", "NA_", "CA", True),  # "not applicable" smelt is not the origin either
])
def test_transshipment_when_origin_is_neither_cast_nor_largest_smelt(origin, largest, cast, fires):
    found = checks.transshipment_findings(origin, [line(largest=largest, cast=cast)], ALUMINUM)
    assert bool(found) is fires
    if fires:
        assert found[0].check == "transshipment" and found[0].severity == 2 and found[0].line == 0
        assert "neither the country of most recent cast" in found[0].reason
        assert "possible transshipment" in found[0].reason


def test_transshipment_reason_names_the_countries():
    finding, = checks.transshipment_findings("VN", [line(largest="CN", cast="CN")], ALUMINUM)
    assert finding.reason == ("Product 1: the country of origin, Vietnam, is neither the country of "
                              "most recent cast (China) nor of largest smelt (China): possible "
                              "transshipment.")


def test_transshipment_is_judged_product_by_product():
    found = checks.transshipment_findings("CN", [line(0, largest="CN", cast="CN"),
                                                 line(1, largest="RU", cast="VN")], ALUMINUM)
    assert [f.line for f in found] == [1]
    assert checks.transshipment_findings("", [line(largest="RU", cast="VN")], ALUMINUM) == []


# ----- "not applicable" smelt on primary (unalloyed) aluminum -----------------------------------

@pytest.mark.parametrize("hts, description, largest, fires", [
    ("7601106030", PRIMARY, "NA_", True),     # unalloyed unwrought with no smelt country
    ("7601103000", "Unwrought aluminum > Aluminum, not alloyed > Of uniform cross section", "NA_", True),
    ("7601106030", PRIMARY, "CA", False),     # a real country
    ("7601106030", PRIMARY, "UNK", False),    # "unknown" is another matter (the rules decide)
    ("7601209095", ALLOY, "NA_", False),      # an alloy: may be made from scrap
    ("7607116010", OTHER, "NA_", False),      # other products
])
def test_primary_not_applicable(hts, description, largest, fires):
    found = aluminum.primary_not_applicable_findings([line(hts=hts, description=description, largest=largest)])
    assert bool(found) is fires
    if fires:
        assert found[0].check == "primary_not_applicable" and found[0].severity == 3
        assert "is unalloyed (primary) aluminum" in found[0].reason


def test_is_primary_metal_reads_the_description():
    assert aluminum.is_primary_metal("Aluminum, NOT ALLOYED")
    assert aluminum.is_primary_metal("Unalloyed aluminum ingot")
    assert aluminum.is_primary_metal("Primary aluminum")
    assert not aluminum.is_primary_metal(ALLOY)
    assert not aluminum.is_primary_metal("containing 0.03 percent or more of lead (secondary aluminum)")


# ----- applied for after the import (late filing) --------------------------------------------------

@pytest.mark.parametrize("days_after_import, fires", [(-60, False), (-1, False), (0, False), (1, True), (14, True)])
def test_late_filing_fires_for_a_license_applied_for_after_its_import(days_after_import, fires):
    filed = facts(import_date=TODAY - timedelta(days=days_after_import), filed_on=TODAY)
    found = checks.late_filing_findings(filed, T)
    assert bool(found) is fires
    if fires:
        plural = "s" if days_after_import != 1 else ""
        assert found[0].check == "late_filing" and found[0].severity == 1
        assert found[0].reason.startswith(f"Applied for {days_after_import} day{plural} after the expected date "
                                          f"of import ({TODAY - timedelta(days=days_after_import):%m/%d/%Y})")
        assert "Check that customs entry ABC-1234567-6 quotes it." in found[0].reason


def test_a_late_filing_without_an_entry_number_ranks_higher_and_asks_for_it():
    found = checks.late_filing_findings(facts(import_date=TODAY - timedelta(days=3), entry_number=None), T)
    assert [f.severity for f in found] == [2]
    assert "No customs entry number was given: ask the filer for it." in found[0].reason


def test_an_import_date_long_past_is_not_a_finding_when_the_license_was_filed_before_it():
    """The old check flagged this (import date passed 400 days ago, never corrected): nothing to act on."""
    used = facts(import_date=TODAY - timedelta(days=400), filed_on=TODAY - timedelta(days=430))
    assert checks.late_filing_findings(used, T) == []
    assert run_all(used, Context(today=TODAY), T) == []


def test_a_future_import_is_not_a_late_filing():
    assert checks.late_filing_findings(facts(import_date=TODAY + timedelta(days=60)), T) == []


@pytest.mark.parametrize("status, fires", [("submitted", True), ("corrected", True), ("action_required", True),
                                           ("cancelled", False), ("draft", False)])
def test_late_filing_only_for_a_license_in_force(status, fires):
    late = facts(status=status, import_date=TODAY - timedelta(days=5))
    assert bool(checks.late_filing_findings(late, T)) is fires


def test_late_filing_days_is_a_setting_and_missing_dates_are_no_finding():
    late = facts(import_date=TODAY - timedelta(days=3))
    assert checks.late_filing_findings(late, Thresholds(late_filing_days=2))
    assert checks.late_filing_findings(late, Thresholds(late_filing_days=3)) == []
    assert checks.late_filing_findings(facts(import_date=None), T) == []
    assert checks.late_filing_findings(facts(import_date=TODAY - timedelta(days=3), filed_on=None), T) == []


# ----- repeated modifications ---------------------------------------------------------------------

@pytest.mark.parametrize("corrections, severity", [(0, None), (2, None), (3, 1), (5, 1), (6, 2)])
def test_modifications_from_three(corrections, severity):
    found = checks.modifications_findings(corrections, T)
    assert [f.severity for f in found] == ([] if severity is None else [severity])
    if found:
        assert found[0].reason == f"The license was modified {corrections} times."


def test_modifications_limit_is_a_setting():
    assert checks.modifications_findings(2, Thresholds(modifications_limit=2))
    assert not checks.modifications_findings(3, Thresholds(modifications_limit=4))


# ----- a surge of the company's volume against its own history ----------------------------------

HISTORY = [Decimal(10000)] * 6  # average 10,000 kg a month


@pytest.mark.parametrize("current, fires", [("29000", False), ("29999.99", False), ("30000", True),
                                            ("45000", True)])
def test_surge_at_three_times_the_monthly_average(current, fires):
    found = checks.surge_findings({"7601106030": (Decimal(current), HISTORY)}, T)
    assert bool(found) is fires
    if fires:
        finding, = found
        assert finding.check == "surge" and finding.severity == 2 and finding.line is None
        assert finding.reason.startswith("This company's volume of HTS 7601.10.60.30 this month, ")
        assert "its monthly average of the previous 6 months (10,000 kg)" in finding.reason


def test_surge_reason_gives_the_ratio():
    finding, = checks.surge_findings({"7601106030": (Decimal(30000), HISTORY)}, T)
    assert "30,000 kg, is 3.0 times" in finding.reason
    assert not checks.surge_findings({"7601106030": (Decimal(29000), HISTORY)}, T)  # 2.9 times


def test_surge_needs_the_minimum_volume():
    small = [Decimal(1000)] * 6
    assert checks.surge_findings({"7601106030": (Decimal(9999), small)}, T) == []  # 10 x, but < 10,000 kg
    assert checks.surge_findings({"7601106030": (Decimal(10000), small)}, T)


def test_surge_needs_enough_history():
    assert checks.surge_findings({"7601106030": (Decimal(90000), HISTORY[:5])}, T) == []
    assert checks.surge_findings({"7601106030": (Decimal(90000), HISTORY[:5])},
                                 Thresholds(surge_history_months=5))
    # Nothing in the history: no average to compare with.
    assert checks.surge_findings({"7601106030": (Decimal(90000), [Decimal(0)] * 6)}, T) == []


def test_surge_is_judged_per_hts_number():
    found = checks.surge_findings({"7601106030": (Decimal(30000), HISTORY),
                                   "7601209095": (Decimal(20000), HISTORY)}, T)
    assert len(found) == 1 and "HTS 7601.10.60.30" in found[0].reason


# ----- everything at once, and the settings ----------------------------------------------------

def test_run_all_returns_every_finding_most_serious_first():
    lic = facts(line(0, largest="NA_", cast="CN", unit_value="9.00"), origin="VN",
                import_date=TODAY - timedelta(days=40), corrections=3)
    context = Context(today=TODAY, unit_values=STAT,
                      volumes={"7601106030": (Decimal(30000), HISTORY)})
    found = run_all(lic, context, T)
    # Every check a standard license can have (the split-shipment one reads a low-value license's uses).
    assert sorted(kinds(found)) == sorted(set(checks.CHECKS) - {"low_value_split"})
    assert [f.severity for f in found] == sorted((f.severity for f in found), reverse=True)
    assert kinds(found)[:2] == ["unit_value", "primary_not_applicable"]  # both severity 3 (z = 40)


def test_run_all_on_a_plain_license_finds_nothing():
    context = Context(today=TODAY, unit_values=STAT, volumes={"7601106030": (Decimal(12000), HISTORY)})
    assert run_all(facts(), context, T) == []


def test_thresholds_from_config_reads_every_setting_and_defaults_the_rest():
    assert Thresholds.from_config({}) == Thresholds()
    config = {"REVIEW_UNIT_VALUE_LIMIT": 4.5, "REVIEW_MIN_SAMPLE": "30", "REVIEW_SURGE_RATIO": "2.5",
              "REVIEW_SURGE_MIN_KG": 5000, "REVIEW_SURGE_HISTORY_MONTHS": 12,
              "REVIEW_MODIFICATIONS_LIMIT": "4", "REVIEW_LATE_FILING_DAYS": 2,
              "REVIEW_LATE_FILING_WINDOW_DAYS": "30"}
    assert Thresholds.from_config(config) == Thresholds(
        unit_value_limit=Decimal("4.5"), min_sample=30, surge_ratio=Decimal("2.5"),
        surge_min_kg=Decimal(5000), surge_history_months=12, modifications_limit=4,
        late_filing_days=2, late_filing_window_days=30)


def test_the_defaults_in_config_match_the_thresholds():
    from aimweb.config import Defaults

    assert Thresholds.from_config(vars(Defaults)) == Thresholds()


# ----- median and MAD ----------------------------------------------------------------------------

def D(*values) -> list[Decimal]:
    return [Decimal(str(v)) for v in values]


def test_median_and_mad_odd_count():
    assert median_and_mad(D(3, 1, 2, 100, 4)) == UnitValueStat(5, Decimal(3), Decimal(1))


def test_median_and_mad_even_count_averages_the_middle_two():
    # median (2 + 3) / 2 = 2.5; deviations 1.5, 0.5, 0.5, 7.5 -> MAD (0.5 + 1.5) / 2 = 1.0
    assert median_and_mad(D(1, 2, 3, 10)) == UnitValueStat(4, Decimal("2.5"), Decimal("1.0"))


def test_median_and_mad_are_robust_to_one_wild_value():
    # sorted 2.9 3.0 3.0 3.0 3.1 5000: median 3.0; deviations 0 0 0 0.1 0.1 4997: MAD 0.05
    assert median_and_mad(D(3.0, 2.9, 5000, 3.1, 3.0, 3.0)) == UnitValueStat(6, Decimal("3.0"), Decimal("0.05"))


def test_median_and_mad_of_one_and_of_none():
    assert median_and_mad(D("3.10")) == UnitValueStat(1, Decimal("3.10"), Decimal(0))
    assert median_and_mad([]) == UnitValueStat(0, Decimal(0), Decimal(0))
