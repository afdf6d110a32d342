"""Officer review covers steel (issue 15, point 6), through HTTP: each automatic check on a steel
license on both sides of its boundary (unit value against the steel HTS number's own statistics,
transshipment when steel is melted and poured outside a watched origin, surge), the queue's
Product filter alone, with a category and with a check, its categories per product, and Action
Required on a steel license answered by the filer's Modify.

Steel licenses are issued through HTTP; the history a check compares with is written straight
into the database."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from factories import LINE_A, add_license, add_monthly_volumes
from helpers import HEADER, HTMX, LINE, issue, officer_post, page_text, post, preview_form, text_of
from sqlalchemy import select

from aimweb.extensions import db
from aimweb.models import Finding, License

FILER = "filer@example.com"
HOT_ROLLED = "7208101500"            # Hot-rolled plate, in coils
HOT_ROLLED_CATEGORY = "Hot-rolled plate, in coils"
# Korean hot-rolled plate, melted and poured in Korea: nothing to flag.
STEEL = {"line-hts_number": "7208.10.15.00", "line-melt_pour_country": "KR",
         "line-quantity_kg": "24,000", "line-customs_value_usd": "19200.00"}
KOREA = {**HEADER, "manufacturer_name": "Pohang Steel Works", "origin_country": "KR", "export_country": "KR"}
VIETNAM = {**KOREA, "origin_country": "VN", "export_country": "VN"}
# Melted and poured in China, origin Vietnam (a watched origin): possible transshipment.
CHINESE_MELT = {**STEEL, "line-melt_pour_country": "CN"}
# Aluminum smelted and cast in China, origin Vietnam: aluminum's transshipment.
ALUMINUM_TRANSSHIPPED = {**LINE, "line-smelt_largest": "CN", "line-cast_country": "CN",
                         "line-hts_number": "7606.12.30.35"}
ALUMINUM_VIETNAM = {**HEADER, "origin_country": "VN", "export_country": "VN"}


def markup(response) -> str:
    return page_text(response)


def text(response) -> str:
    return text_of(markup(response))


def issue_steel(client, lines=(STEEL,), header=KOREA) -> str:
    return issue(client, lines, header, product="steel")


def findings(query, number) -> list[str]:
    return query(lambda: sorted(db.session.scalars(
        select(Finding.check).join(License, License.id == Finding.license_id)
        .where(License.number == number))))


def reasons(query, number) -> list[str]:
    return query(lambda: list(db.session.scalars(
        select(Finding.reason).join(License, License.id == Finding.license_id)
        .where(License.number == number))))


def queue(client, **params) -> list[str]:
    response = client.get("/review/", query_string=params)
    assert response.status_code == 200
    return re.findall(r'<tr id="q-\d+">\s*<th scope="row"[^>]*>\s*<a class="aim-number" '
                      r'href="/review/licenses/(\w+)[?"]', response.get_data(as_text=True))


def seed_steel_prices(query, user_id, count=20, start=Decimal("0.80"), hts=HOT_ROLLED):
    """`count` steel licenses of one HTS number at start, start + 0.01, … US$ a kg."""
    def seed():
        for i in range(count):
            value = start + Decimal(i) / 100
            lic_id = add_license(user_id, f"SSEED{i:02d}26", lines=(dict(
                hts_number=hts, description="Hot-rolled plate", category=HOT_ROLLED_CATEGORY,
                melt_pour_country="KR", quantity_kg=Decimal(1000), customs_value_usd=value * 1000,
                unit_value=value),))
            db.session.get(License, lic_id).product = "steel"
        db.session.commit()
    query(seed)


def seed_aluminum_prices(query, user_id, count=20):
    def seed():
        for i in range(count):
            value = Decimal("3.00") + Decimal(i) / 100
            add_license(user_id, f"ASEED{i:02d}26", lines=(
                {**LINE_A, "quantity_kg": Decimal(1000), "customs_value_usd": value * 1000,
                 "unit_value": value},))
    query(seed)


# ----- unit value: against the steel HTS number's own statistics -----------------------------------

def test_steel_unit_value_is_judged_against_its_own_hts_number_statistics(app, signed_in, filer, query):
    # Steel plate at $0.80-0.99 a kg (median 0.895, MAD 0.05: limit 5 x 1.4826 x 0.05 = 0.37),
    # aluminum at $3.00-3.19 a kg: each HTS number gets its own median.
    seed_steel_prices(query, filer.id)
    seed_aluminum_prices(query, filer.id)
    result = app.test_cli_runner().invoke(args=["review-refresh"])
    assert "Unit-value statistics for 2 HTS numbers from 40 product lines" in result.output, result.output

    def at(price: str) -> dict:
        return {**STEEL, "line-quantity_kg": "1,000", "line-customs_value_usd": price}

    inside = issue_steel(signed_in, (at("1260.00"),))    # $1.26 a kg: 4.93 typical spreads
    outside = issue_steel(signed_in, (at("1270.00"),))   # $1.27 a kg: 5.06
    assert findings(query, inside) == []
    assert findings(query, outside) == ["unit_value"]
    assert reasons(query, outside)[0].startswith(
        "Product 1: unit value $1.27/kg is far above the usual $0.90/kg for HTS 7208.10.15.00 "
        "(median of 20 recent licenses")
    # An aluminum price is usual for aluminum, and far off for steel plate.
    assert findings(query, issue_steel(signed_in, (at("3100.00"),))) == ["unit_value"]
    assert findings(query, issue(signed_in, (LINE,))) == []
    below = issue_steel(signed_in, (at("520.00"),))      # $0.52 a kg: 5.03 below
    assert findings(query, below) == ["unit_value"] and "far below" in reasons(query, below)[0]
    assert findings(query, issue_steel(signed_in, (at("530.00"),))) == []  # $0.53: 4.9


# ----- transshipment: melted and poured outside a watched origin -----------------------------------

def test_steel_melted_and_poured_outside_a_watched_origin_is_possible_transshipment(signed_in, query):
    flagged = issue_steel(signed_in, (CHINESE_MELT,), VIETNAM)
    assert findings(query, flagged) == ["transshipment"]
    assert reasons(query, flagged) == [
        "Product 1: the country of origin, Vietnam, is not the country of melt and pour (China), and "
        "Vietnam is an origin watched for transshipment (steel made elsewhere finished or relabelled "
        "there): possible transshipment."]
    # Melted and poured in the watched origin itself: nothing.
    assert findings(query, issue_steel(signed_in, ({**STEEL, "line-melt_pour_country": "VN"},), VIETNAM)) == []
    # Melted elsewhere, rolled in an origin not watched (Korean mills roll Chinese slab): lawful, common.
    assert findings(query, issue_steel(signed_in, (CHINESE_MELT,), KOREA)) == []
    # Judged product by product: only the line melted elsewhere.
    two = issue_steel(signed_in, ({**STEEL, "line-melt_pour_country": "VN"}, CHINESE_MELT), VIETNAM)
    assert [r[:10] for r in reasons(query, two)] == ["Product 2:"]


@pytest.mark.parametrize("app", [{"REVIEW_STEEL_TRANSSHIPMENT_ORIGINS": "kr, MY"}], indirect=True)
def test_the_watched_origins_are_a_setting(signed_in, query, officer):
    assert findings(query, issue_steel(signed_in, (CHINESE_MELT,), KOREA)) == ["transshipment"]
    assert findings(query, issue_steel(signed_in, (CHINESE_MELT,), VIETNAM)) == []  # no longer watched
    assert "origin is one the office watches for transshipment: Malaysia, South Korea." in text(
        officer.get("/review/"))


def test_the_officer_page_explains_the_steel_transshipment_check(signed_in, officer):
    page = text(officer.get("/review/"))
    assert "What the checks look for" in page
    assert ("Steel: flags a product melted and poured in a country other than its country of origin, "
            "when that origin is one the office watches for transshipment: Costa Rica, Malaysia, "
            "United Arab Emirates, Vietnam.") in page
    assert "so a different country of melt and pour alone is not flagged" in page
    assert ("Aluminum: flags a product whose country of origin is neither its country of most recent "
            "cast nor its country of largest smelt") in page
    assert "Each HTS number, aluminum or steel, has its own median" in page
    # Beside the finding, on the license page.
    number = issue_steel(signed_in, (CHINESE_MELT,), VIETNAM)
    panel = text(officer.get(f"/review/licenses/{number}"))
    assert ("What “Possible transshipment” looks for in steel licenses The check flags a product melted "
            "and poured in a country") in panel
    assert "Ask for the mill test certificate, which names the melt shop." in panel
    assert "Steel (SIMA, 19 CFR part 360)" in panel and "Country of Melt and Pour China" in panel


# ----- surge: a company's kilograms of one steel HTS number -----------------------------------------

def seed_months(query, kg_by_months_back: dict[int, int], hts=HOT_ROLLED):
    query(lambda: add_monthly_volumes(FILER, kg_by_months_back, hts))


def test_a_steel_surge_is_three_times_the_company_monthly_average(signed_in, query):
    seed_months(query, dict.fromkeys(range(1, 7), 8000))  # 8,000 kg a month; the license has 24,000
    flagged = issue_steel(signed_in)
    assert findings(query, flagged) == ["surge"]
    assert "HTS 7208.10.15.00 this month, 24,000 kg, is 3.0 times its monthly average" in reasons(query, flagged)[0]


def test_no_steel_surge_just_under_three_times(signed_in, query):
    seed_months(query, dict.fromkeys(range(1, 7), 8001))
    # Another HTS number's small history says nothing of this one.
    seed_months(query, dict.fromkeys(range(1, 7), 100), hts="7304413005")
    assert findings(query, issue_steel(signed_in)) == []


# ----- the queue: filtered by product, with a category and a check ---------------------------------

@pytest.fixture
def both(signed_in, query) -> dict:
    """A flagged steel license and a flagged aluminum one, both for transshipment from Vietnam."""
    return {"steel": issue_steel(signed_in, (CHINESE_MELT,), VIETNAM),
            "aluminum": issue(signed_in, (ALUMINUM_TRANSSHIPPED,), ALUMINUM_VIETNAM)}


def test_the_queue_filters_by_product(both, officer):
    assert set(queue(officer)) == {both["steel"], both["aluminum"]}
    assert queue(officer, product="steel") == [both["steel"]]
    assert queue(officer, product="aluminum") == [both["aluminum"]]
    assert queue(officer, product="steel", check="transshipment") == [both["steel"]]
    assert queue(officer, product="steel", country="VN") == [both["steel"]]
    assert queue(officer, product="steel", country="KR") == []
    assert queue(officer, product="steel", check="primary_not_applicable") == []
    page = markup(officer.get("/review/?product=steel"))
    assert '<option value="steel" selected>Steel</option>' in page
    assert "1 license to review" in text(officer.get("/review/?product=steel"))
    # The row says which product; the license link keeps the filter (Previous/Next within steel).
    assert f'href="/review/licenses/{both["steel"]}?product=steel"' in page
    assert "Steel · Created" in text_of(page)


def test_the_queue_filters_by_product_and_category(both, officer):
    assert queue(officer, product="steel", category=HOT_ROLLED_CATEGORY) == [both["steel"]]
    assert queue(officer, category=HOT_ROLLED_CATEGORY) == [both["steel"]]
    assert queue(officer, product="aluminum", category="Plates, sheets and strip") == [both["aluminum"]]
    # A category of the other product: said at the field, not an empty queue.
    response = officer.get("/review/?product=steel&category=Plates, sheets and strip")
    assert response.status_code == 200 and queue(officer, product="steel",
                                                 category="Plates, sheets and strip") == []
    assert ("“Plates, sheets and strip” is not a steel category: choose one from the list, or All "
            "categories.") in text(response)
    assert "Choose a product from the list." in text(officer.get("/review/?product=copper"))


def category_options(page: str) -> list[str]:
    select_html = re.search(r'<select class="usa-select" id="q-category".*?</select>', page, re.S).group(0)
    return re.findall(r"<option(?: selected)?>([^<]+)</option>", select_html)


def test_the_category_filter_lists_the_chosen_product_categories(officer):
    steel = category_options(markup(officer.get("/review/?product=steel")))
    aluminum = category_options(markup(officer.get("/review/?product=aluminum")))
    assert len(steel) == 54 and HOT_ROLLED_CATEGORY in steel and "Plates, sheets and strip" not in steel
    assert "Plates, sheets and strip" in aluminum and HOT_ROLLED_CATEGORY not in aluminum
    every = markup(officer.get("/review/"))
    assert '<optgroup label="Aluminum">' in every and '<optgroup label="Steel">' in every
    assert set(category_options(every)) == set(steel) | set(aluminum)


def test_htmx_product_change_redraws_the_categories_and_filtering_redraws_them_out_of_band(both, officer):
    # The Product select asks for its categories alone (keeping a category that belongs).
    group = officer.get("/review/", query_string={"product": "steel", "category": HOT_ROLLED_CATEGORY},
                        headers={**HTMX, "HX-Target": "q-category-group"}).get_data(as_text=True)
    assert group.lstrip().startswith('<div class="usa-form-group" id="q-category-group">')
    assert "<html" not in group and "queue-results" not in group
    assert f"<option selected>{HOT_ROLLED_CATEGORY}</option>" in group
    # The filter form's answer: the results, and the category list out of band.
    results = officer.get("/review/?product=steel", headers={**HTMX, "HX-Target": "queue-results"})
    body = results.get_data(as_text=True)
    assert "<html" not in body and 'id="queue-results"' in body
    assert 'id="q-category-group" hx-swap-oob="true"' in body
    assert "Plates, sheets and strip" not in body and both["steel"] in body and both["aluminum"] not in body


# ----- Action Required on a steel license, answered by the filer's Modify ---------------------------

def test_action_required_on_a_steel_license_and_the_filer_modify(signed_in, officer, query, mailbox, both):
    number = both["steel"]
    message = "Melted and poured in China, origin Vietnam: send the mill test certificate or correct."
    response = officer_post(officer, f"/review/licenses/{number}/action-required?product=steel",
                            {"message": message})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/review/licenses/{number}?product=steel&at=flagged"
    mail = mailbox.wait_for(FILER)[-1]
    assert mail["Subject"] == f"SIMA license {number}: Action Required"
    body = mailbox.body(mail)
    assert f"Action Required on your steel import license {number}." in body and message in body
    assert "Steel Import Monitoring and Analysis (SIMA) licensing" in body
    assert "steel.license@trade.gov" in body
    assert queue(officer, product="steel") == []  # waiting for the filer

    # The filer sees the message and corrects the country of melt and pour.
    assert message in text(signed_in.get(f"/licenses/{number}"))
    draft = post(signed_in, f"/licenses/{number}/modify", {}).headers["Location"]
    edited = post(signed_in, f"{draft}/lines/0", {**VIETNAM, **CHINESE_MELT, "line-melt_pour_country": "VN"},
                  headers=HTMX)
    assert "aim-line--error" not in edited.get_data(as_text=True)
    assert post(signed_in, f"{draft}/preview", {**VIETNAM, "certified": "y"}).status_code == 302
    submitted = post(signed_in, f"{draft}/submit", {**preview_form(signed_in, draft),
                                                    "reply": "The melt shop is in Vietnam."})
    assert submitted.status_code == 303

    # Answered: back in the queue of steel licenses, the check no longer fires.
    assert findings(query, number) == []
    assert queue(officer, product="steel") == [number]
    assert queue(officer, product="aluminum") == [both["aluminum"]]
    panel = text(officer.get(f"/review/licenses/{number}?product=steel"))
    assert "The filer’s answer" in panel and "The melt shop is in Vietnam." in panel
    assert "Product 1 Country of Melt and Pour China Vietnam" in panel
    closed = officer_post(officer, f"/review/licenses/{number}/clear", {"note": "Mill certificate checked."})
    assert closed.status_code == 303 and queue(officer, product="steel") == []


def test_a_filer_cannot_reach_the_steel_queue(signed_in, both):
    assert signed_in.get("/review/?product=steel").status_code == 403
