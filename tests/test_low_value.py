"""The low-value license (19 CFR 361.103(f), 360.103(f)): applied for from the same Apply choice,
numbered apart from standard licenses, used on entries under the product's limit, cancelled with
its history kept, hinted at on small standard licenses, and checked for split shipments."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from helpers import (
    ENTRY_1,
    LINE,
    entry,
    issue,
    issue_low_value,
    page_text,
    post,
    rows,
    signed_in_as,
    start,
    start_low_value,
    text_of,
)

from aimweb import rules
from aimweb.clock import application_date
from aimweb.enums import LicenseKind, LicenseStatus
from aimweb.extensions import db
from aimweb.models import License, LicenseUse
from aimweb.products import PRODUCTS


def record(client, number, entry_number=ENTRY_1, value="1200.00", on=None):
    on = on or application_date()
    return post(client, f"/licenses/{number}/uses",
                {"entry_number": entry_number, "entry_date": on.isoformat(), "value_usd": value})


def test_apply_offers_both_kinds_and_a_low_value_license_is_issued(signed_in, query, mailbox):
    page = page_text(signed_in.get("/licenses/apply"))
    assert "Standard License" in page and "Low-Value License" in page
    number = issue_low_value(signed_in)
    assert re.fullmatch(r"AL[23456789ACDEFGHJKMNPQRTUVWXY]{4}\d{4}", number)
    def facts():
        lic = db.session.scalar(db.select(License).where(License.number == number))
        return lic.license_type, lic.status, lic.covered_hts, len(lic.lines), lic.valid_from, lic.valid_through
    kind, status, covered, lines, valid_from, valid_through = query(facts)
    assert kind == LicenseKind.LOW_VALUE and status == LicenseStatus.SUBMITTED
    assert covered == ["7601103000", "7604101000"] and lines == 0
    today = application_date()
    assert (valid_from, valid_through) == (today, today + timedelta(days=rules.LOW_VALUE_VALIDITY_DAYS - 1))
    page = page_text(signed_in.get(f"/licenses/{number}"))
    assert "Low-Value License" in page and "7601.10.30.00" in page and "365 days left" in page
    assert "No entry recorded yet." in page and "Modify License" not in page
    # The dashboard lists it, with its kind.
    dashboard = signed_in.get("/licenses/")
    assert number in rows(dashboard) and "Low-Value License" in page_text(dashboard)


def test_steel_low_value_number_and_missing_fields(signed_in):
    draft = start_low_value(signed_in, "steel")
    response = post(signed_in, f"{draft}/preview", {"importer_name": "", "covered_hts": "7601.10.30.00"})
    page = page_text(response)
    assert response.status_code == 200
    assert "Importer Name is required." in page
    assert "HTS 7601.10.30.00 is not covered by SIMA" in page
    assert "Check the box to certify" in page
    number = issue_low_value(signed_in, "steel", hts="7208.10.15.00")
    assert number.startswith("SL") and len(number) == 10


def test_a_use_at_or_over_the_limit_is_refused_with_the_reason(signed_in, query):
    number = issue_low_value(signed_in)
    assert record(signed_in, number, entry(1), "4999.99").status_code == 303
    refused = record(signed_in, number, entry(2), "5000.00")
    assert refused.status_code == 200
    assert "cannot use a low-value license" in page_text(refused)
    assert "less than $5,000" in page_text(refused)
    again = record(signed_in, number, entry(1), "10.00")
    assert "already recorded" in page_text(again)
    uses = query(lambda: db.session.scalars(db.select(LicenseUse.value_usd)).all())
    assert uses == [Decimal("4999.99")]
    page = page_text(signed_in.get(f"/licenses/{number}"))
    assert entry(1) in page and "4,999.99" in page and "Total, 1 entry" in page


def test_steel_limit_allows_exactly_5000(signed_in):
    number = issue_low_value(signed_in, "steel", hts="7208.10.15.00")
    assert record(signed_in, number, entry(3), "5000.00").status_code == 303
    refused = record(signed_in, number, entry(4), "5000.01")
    assert refused.status_code == 200 and "$5,000 or less" in page_text(refused)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("entry_number", "", "Customs Entry Number is required."),
    ("entry_number", "ABC-1234567-0", "check digit does not match"),
    ("entry_date", "2026-13-45", "Date of Entry"),
    ("value_usd", "abc", "must be a number"),
    ("value_usd", "0", "must be more than zero"),
    ("value_usd", "1e308", "Value of the covered metal"),
])
def test_bad_uses_are_refused_at_their_field(signed_in, field, value, message):
    number = issue_low_value(signed_in)
    data = {"entry_number": entry(5), "entry_date": application_date().isoformat(), "value_usd": "100"}
    data[field] = value
    response = post(signed_in, f"/licenses/{number}/uses", data)
    assert response.status_code == 200
    assert message in page_text(response)


def test_a_use_outside_the_validity_is_refused(signed_in):
    number = issue_low_value(signed_in)
    response = record(signed_in, number, entry(6), "100", on=application_date() - timedelta(days=1))
    assert response.status_code == 200 and "within the license's validity" in page_text(response)


def test_cancelling_stops_use_and_keeps_the_history(signed_in, query):
    number = issue_low_value(signed_in)
    assert record(signed_in, number, entry(7), "300").status_code == 303
    assert post(signed_in, f"/licenses/{number}/cancel", {}).status_code in (302, 303)
    page = page_text(signed_in.get(f"/licenses/{number}"))
    assert "Cancelled" in page and entry(7) in page and "no further entry can use it" in page
    refused = record(signed_in, number, entry(8), "300")
    assert refused.status_code == 200 and "cancelled" in page_text(refused)
    assert query(lambda: db.session.scalar(db.select(db.func.count()).select_from(LicenseUse))) == 1


def test_standard_license_cannot_record_uses_and_low_value_cannot_be_modified(signed_in, query):
    standard = issue(signed_in)
    refused = record(signed_in, standard, entry(9), "100")
    assert "only a low-value license records the entries" in page_text(refused)
    low = issue_low_value(signed_in)
    response = post(signed_in, f"/licenses/{low}/modify", {}, follow_redirects=True)
    assert "it is not modified" in page_text(response)
    assert query(lambda: db.session.scalar(db.select(db.func.count()).select_from(LicenseUse))) == 0


def test_another_company_cannot_record_a_use(app, signed_in, query):
    from factories import make_user
    number = issue_low_value(signed_in)
    query(lambda: make_user("other@example.com", company_name="Other Metals Inc"))
    other = signed_in_as(app, "other@example.com")
    assert other.get(f"/licenses/{number}").status_code == 404
    assert post(other, f"/licenses/{number}/uses", {"entry_number": entry(10), "value_usd": "1",
                                                    "entry_date": application_date().isoformat()}
                ).status_code == 404


def test_low_value_number_is_found_by_its_look_alikes(signed_in):
    number = issue_low_value(signed_in)
    typed = (number[0] + "1" + number[2:]).lower()  # the L typed as a one
    response = signed_in.get("/licenses/", query_string={"q": typed})
    assert number in rows(response)


def test_small_standard_license_gets_a_hint_not_a_refusal(signed_in):
    small = {**LINE, "line-quantity_kg": "1000", "line-customs_value_usd": "4999.99"}
    from helpers import HEADER, add_line
    draft = start(signed_in)
    add_line(signed_in, draft, small)
    assert post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"}).status_code == 302
    assert "a low-value license" in page_text(signed_in.get(f"{draft}/preview"))
    big = {**LINE, "line-quantity_kg": "1000", "line-customs_value_usd": "5000.00"}
    draft = start(signed_in)
    add_line(signed_in, draft, big)
    post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"})
    assert "a low-value license" not in page_text(signed_in.get(f"{draft}/preview"))


def test_the_pdf_says_low_value(signed_in, app):
    from aimweb.licenses.pdf import license_pdf_html
    number = issue_low_value(signed_in)
    response = signed_in.get(f"/licenses/{number}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    with app.test_request_context():
        html = license_pdf_html(db.session.scalar(db.select(License).where(License.number == number)))
    assert "Aluminum Low-Value Import License" in html and "7604.10.10.00" in html


# ----- the one comparison, each boundary on both sides ----------------------------------------------

@pytest.mark.parametrize(("product", "value", "within"), [
    ("aluminum", "4999.99", True), ("aluminum", "5000.00", False),
    ("steel", "5000.00", True), ("steel", "5000.01", False),
])
def test_low_value_limit_boundaries(product, value, within):
    assert rules.within_low_value_limit(PRODUCTS[product], Decimal(value)) is within


@pytest.mark.parametrize(("product", "total", "hinted"), [
    ("aluminum", "4999.99", True), ("aluminum", "5000.00", False),
    ("steel", "5000.00", True), ("steel", "5000.01", False),
])
def test_standard_license_hint_boundaries(product, total, hinted):
    line = PRODUCTS[product].LineDraft(customs_value_usd=Decimal(total))
    assert (rules.low_value_hint(PRODUCTS[product], [line]) is not None) is hinted


def test_use_date_boundaries():
    today = application_date()
    kwargs = dict(product=PRODUCTS["aluminum"], entry_number=ENTRY_1, value_usd=Decimal(1),
                  valid_from=today, valid_through=today + timedelta(days=364), today=today)
    assert rules.validate_use(entry_date=today, **kwargs) == []
    assert rules.validate_use(entry_date=today - timedelta(days=1), **kwargs)
    ahead = today + timedelta(days=rules.USE_DAYS_AHEAD)
    assert rules.validate_use(entry_date=ahead, **kwargs) == []
    assert rules.validate_use(entry_date=ahead + timedelta(days=1), **kwargs)
    last = dict(kwargs, today=today + timedelta(days=364))
    assert rules.validate_use(entry_date=today + timedelta(days=364), **last) == []
    assert rules.validate_use(entry_date=today + timedelta(days=365), **last)


# ----- the officer: split shipments in the review queue ------------------------------------------------

def facts_with(uses, product="aluminum"):
    from aimweb.checks import LicenseFacts
    return LicenseFacts(status=LicenseStatus.SUBMITTED, origin_country="", import_date=None,
                        corrections=0, product=product, uses=uses)


@pytest.mark.parametrize(("values", "gap_days", "flagged"), [
    (["2500.00", "2499.99"], 0, False),   # 4,999.99 together: under the aluminum limit
    (["2500.00", "2500.00"], 0, True),    # 5,000.00: at the limit, which no aluminum entry may be
    (["2500.00", "2500.00"], 6, True),    # the window's last day
    (["2500.00", "2500.00"], 7, False),   # a week apart: two shipments
])
def test_split_check_boundaries(values, gap_days, flagged):
    from aimweb.checks import Thresholds, low_value_split_findings
    day = application_date()
    uses = [(day, Decimal(values[0])), (day + timedelta(days=gap_days), Decimal(values[1]))]
    found = low_value_split_findings(facts_with(uses), Thresholds())
    assert bool(found) is flagged
    if flagged:
        assert "2 entries used this low-value license" in found[0].reason
        assert "one shipment" in found[0].reason


def test_split_check_counts_frequency_and_steel_allows_the_limit():
    from aimweb.checks import Thresholds, low_value_split_findings
    day = application_date()
    t = Thresholds()
    steel = [(day, Decimal("2500")), (day, Decimal("2500"))]
    assert low_value_split_findings(facts_with(steel, "steel"), t) == []   # $5,000 or less
    many = [(day + timedelta(days=i % 3), Decimal("10")) for i in range(t.low_value_max_uses)]
    assert low_value_split_findings(facts_with(many), t) == []
    found = low_value_split_findings(facts_with(many + [(day, Decimal("10"))]), t)
    assert found and found[0].severity == 1 and f"more than {t.low_value_max_uses}" in found[0].reason


def test_split_uses_put_the_license_in_the_officers_queue(signed_in, officer, query):
    number = issue_low_value(signed_in)
    assert record(signed_in, number, entry(11), "3000").status_code == 303
    assert number not in page_text(officer.get("/review/"))
    assert record(signed_in, number, entry(12), "2500").status_code == 303
    queue = page_text(officer.get("/review/"))
    assert number in queue
    panel = page_text(officer.get(f"/review/licenses/{number}"))
    assert "Low-value entries that may be one shipment" in panel
    assert "worth $5,500.00 together" in panel and entry(12) in panel
    assert "Mark Action Required" not in panel and "Close Review" in panel
    from helpers import officer_post
    refused = officer_post(officer, f"/review/licenses/{number}/action-required", {"message": "One shipment?"})
    assert refused.status_code < 500
    closed = officer_post(officer, f"/review/licenses/{number}/clear", {"note": "Two shipments, checked."})
    assert closed.status_code in (200, 302, 303)
    from aimweb.enums import ReviewState
    state = query(lambda: db.session.scalar(db.select(License.review_state).where(License.number == number)))
    assert state == ReviewState.CLEARED


def test_the_monitor_says_low_value_licenses_are_left_out(client):
    for metal in ("aluminum", "steel"):
        assert "low-value licenses are left out" in page_text(client.get(f"/monitor/{metal}/")).lower()


def test_renewal_copies_importer_and_hts_into_a_new_low_value_license(signed_in, query):
    number = issue_low_value(signed_in)
    response = post(signed_in, f"/licenses/{number}/duplicate", {})
    assert response.status_code in (302, 303)
    draft = response.headers["Location"]
    raw = page_text(signed_in.get(draft))
    page = text_of(raw)
    assert "Apply for Low-Value License" in page and f"This renews license {number}" in page
    assert "7601.10.30.00 7604.10.10.00" in page and 'value="Gulf Coast Metals LLC"' in raw
    assert post(signed_in, f"{draft}/preview", {"importer_name": "Gulf Coast Metals LLC",
                                                "covered_hts": "7601.10.30.00", "certified": "y"}
                ).status_code == 302
    renewed = post(signed_in, f"{draft}/submit", {}).headers["Location"].rsplit("/", 1)[1]
    assert renewed.startswith("AL") and renewed != number


def test_low_value_license_in_the_dashboard_summary_and_exports(signed_in):
    number = issue_low_value(signed_in)
    summary = signed_in.get(f"/licenses/{number}/summary", headers={"HX-Request": "true"})
    assert summary.status_code == 200 and number in page_text(summary)
    for kind in ("csv", "xlsx"):
        assert signed_in.get(f"/licenses/export.{kind}").status_code == 200


def test_a_low_value_draft_takes_no_product_lines(signed_in, query):
    from aimweb.models import ProductLine
    draft = start_low_value(signed_in)
    response = post(signed_in, f"{draft}/lines", {**LINE, "importer_name": "X"})
    assert response.status_code == 200
    assert "Apply for Low-Value License" in page_text(response)
    assert query(lambda: db.session.scalar(db.select(db.func.count()).select_from(ProductLine))) == 0
