"""License numbers nobody misreads, the confirmation after Submit, and the Duplicate and Modify
safeguards (a copy leaves the entry number and dates empty; Submit warns about another live
license with the same customs entry number; the Modify preview says what changes)."""
from __future__ import annotations

import re
from datetime import timedelta

from conftest import make_user
from factories import add_license
from helpers import HEADER, LINE, add_line, issue, page_text, post, preview_form, rows, start, text_of
from sqlalchemy import func, select

from aimweb import licensing
from aimweb.clock import application_date
from aimweb.extensions import db
from aimweb.inputs import LOOK_ALIKES, license_number_spellings
from aimweb.models import License, User

TODAY = application_date()


def main_text(response) -> str:
    body = page_text(response)
    return text_of(body[body.index("<main"):body.index("</main>")])


def issued_count(query) -> int:
    return query(lambda: db.session.scalar(
        select(func.count()).select_from(License).where(License.number.is_not(None))))


def filer_id(query, email="filer@example.com") -> int:
    return query(lambda: db.session.scalar(select(User.id).where(User.email == email)))


# ----- license numbers -------------------------------------------------------------------------------

def test_new_license_numbers_have_no_characters_that_look_alike():
    for group in LOOK_ALIKES:
        assert len(set(group) & set(licensing.NUMBER_ALPHABET)) <= 1, group
    assert not set("0O1IL") & set(licensing.NUMBER_ALPHABET)
    drawn = {licensing.new_license_number(TODAY, "A") for _ in range(3000)}
    for number in drawn:
        assert re.fullmatch(r"A[23456789ACDEFGHJKMNPQRTUVWXY]{4}" + TODAY.strftime("%m%y"), number), number
    # Every character of the alphabet is used: the numbers are as spread as the alphabet allows.
    assert {c for n in drawn for c in n[1:5]} == set(licensing.NUMBER_ALPHABET)


def test_a_typed_number_is_read_case_and_look_alike_insensitively():
    assert license_number_spellings("a7kq40126") == ["A7KQ40126"]
    assert license_number_spellings(" A7KQ4-0126 ") == ["A7KQ40126"]
    # O typed for 0 (or 0 for O) in the four characters may be either; in the month and year, a digit.
    assert sorted(license_number_spellings("AOX5KO1Z6")) == sorted(
        ["A0X5K0126", "A0XSK0126", "AOX5K0126", "AOXSK0126"])
    assert len(license_number_spellings("AIIII0126")) == 81
    assert license_number_spellings("Gulf Coast") == [] and license_number_spellings("") == []


def test_search_finds_old_and_new_numbers_whatever_look_alike_is_typed(signed_in, query):
    me = filer_id(query)
    query(lambda: add_license(me, "A0I5B1225", importer="Old Numbers Inc."))  # issued before
    new = issue(signed_in)
    for typed, number in [("aoi5b1225", "A0I5B1225"), ("A015 8I225", "A0I5B1225"), ("A0I5B1225", "A0I5B1225"),
                          (new.lower(), new), (new[:5] + "-" + new[5:], new)]:
        assert rows(signed_in.get("/licenses/", query_string={"q": typed})) == [number], typed
    # The old number's page still opens, in any case.
    assert signed_in.get("/licenses/a0i5b1225").status_code == 200


def test_license_page_shows_the_number_in_the_number_face_with_a_copy_button(signed_in):
    number = issue(signed_in)
    html = signed_in.get(f"/licenses/{number}").get_data(as_text=True)
    assert f'<span class="aim-number">{number}</span>' in html
    # Hidden until the script can copy; the button names what it copies.
    assert re.search(rf'<button type="button"[^>]*data-copy="{number}" hidden>Copy<span class="usa-sr-only"> '
                     rf'license number {number}</span></button><span class="aim-copy__status" role="status">', html)


# ----- the confirmation after Submit -----------------------------------------------------------------

def test_submit_leads_to_a_confirmation_with_number_validity_entry_type_and_next_steps(signed_in, query):
    draft = start(signed_in)
    add_line(signed_in, draft)
    post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"})
    response = post(signed_in, f"{draft}/submit", preview_form(signed_in, draft))
    assert response.status_code == 303 and "/licenses/submitted/" in response.headers["Location"]
    number = response.headers["Location"].rsplit("/", 1)[1]
    page = signed_in.get(response.headers["Location"])
    html, text = page.get_data(as_text=True), main_text(page)
    assert "<h1" in html and "License issued" in text
    assert f"License {number} has been issued. A confirmation will be emailed to you at filer@example.com." in text
    assert f"License Number {number} Copy license number {number}" in text
    assert f"Valid From {TODAY:%m/%d/%Y} Valid Through {TODAY + timedelta(days=75):%m/%d/%Y}" in text
    assert "Entry Type Consumption Customs Entry Number ABC-1234567-6" in text
    assert "Quote it on the entry summary (CBP Form 7501)" in text
    assert "1 product · 12,500.00 kg · US$ 38,750.00" in text
    assert f'href="/licenses/{number}/pdf">View/Print</a>' in html
    assert re.search(r'action="/licenses/apply">.*?name="product" value="aluminum">.*?>Apply for another</button>',
                     html, re.S)
    assert re.search(rf'action="/licenses/{number}/duplicate">.*?>Duplicate this license</button>', html, re.S)
    assert "also on" not in text  # no other license carries the entry number

    # "Apply for another" opens a new application at once; "Duplicate this license" a copy.
    again = post(signed_in, "/licenses/apply", {"license_type": "standard", "product": "aluminum"})
    assert re.search(r"/licenses/drafts/\d+$", again.headers["Location"])
    copy = post(signed_in, f"/licenses/{number}/duplicate", {})
    assert "This is a copy of license" in page_text(signed_in.get(copy.headers["Location"]))
    assert issued_count(query) == 1


def test_confirmation_of_a_foreign_trade_zone_license_says_it_does_not_expire(signed_in):
    number = issue(signed_in, header={**HEADER, "entry_type": "ftz", "entry_number": ""})
    text = main_text(signed_in.get(f"/licenses/submitted/{number}"))
    assert "Valid Through Does not expire (foreign trade zone admission)" in text
    assert "Entry Type Foreign trade zone admission Customs Entry Number Not given" in text
    assert "Quote it on the zone admission (CBP Form 214)" in text


def test_a_cancelled_license_has_no_confirmation_to_show(signed_in):
    number = issue(signed_in)
    post(signed_in, f"/licenses/{number}/cancel", {})
    response = signed_in.get(f"/licenses/submitted/{number}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/licenses/{number}")
    assert signed_in.get("/licenses/submitted/ANOPE0126").status_code == 404


# ----- the same customs entry number on two live licenses ---------------------------------------------

def ready_to_submit(client, header=HEADER) -> str:
    draft = start(client)
    add_line(client, draft, header=header)
    assert post(client, f"{draft}/preview", {**header, "certified": "y"}).status_code == 302
    return draft


def test_submit_warns_when_a_live_license_already_carries_the_entry_number(signed_in, query):
    first = issue(signed_in)
    draft = ready_to_submit(signed_in)
    preview = main_text(signed_in.get(f"{draft}/preview"))
    assert "Customs entry number already used" in preview
    assert f"License {first} already carries this customs entry number" in preview
    assert f"{first} · Submitted · Gulf Coast Metals LLC" in preview

    # Submit from a form that did not show the warning (another tab, an old page): nothing issued.
    refused = post(signed_in, f"{draft}/submit", {"seen_same_entry": ""})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"{draft}/preview")
    assert issued_count(query) == 1
    shown = main_text(signed_in.get(refused.headers["Location"]))
    assert f"Nothing was issued yet. License {first} already carries this customs entry number" in shown

    # Seen, and submitted anyway (one entry may need two licenses): issued, and the confirmation says so.
    issued = post(signed_in, f"{draft}/submit", preview_form(signed_in, draft))
    second = issued.headers["Location"].rsplit("/", 1)[1]
    assert second != first and issued_count(query) == 2
    text = main_text(signed_in.get(issued.headers["Location"]))
    assert f"Customs entry number ABC-1234567-6 is also on license {first}." in text


def test_a_license_issued_after_the_preview_with_the_same_entry_number_stops_submit(signed_in, query):
    draft = ready_to_submit(signed_in)
    seen = preview_form(signed_in, draft)
    assert seen == {"seen_same_entry": ""}
    query(lambda: add_license(filer_id(query), "AKKKK1226", entry_number="ABC-1234567-6"))
    response = post(signed_in, f"{draft}/submit", seen)
    assert response.headers["Location"].endswith(f"{draft}/preview") and issued_count(query) == 1
    assert "AKKKK1226" in preview_form(signed_in, draft)["seen_same_entry"]


def test_cancelled_expired_or_other_companies_licenses_do_not_warn(signed_in, query, app):
    me = filer_id(query)
    query(lambda: add_license(me, "ACCCC1226", status="cancelled", entry_number="ABC-1234567-6"))
    query(lambda: add_license(me, "AEEEE1226", entry_number="ABC-1234567-6",
                              valid_through=TODAY - timedelta(days=1)))
    other = query(lambda: make_user("other@example.com").id)
    query(lambda: add_license(other, "AOOOO1226", entry_number="ABC-1234567-6"))
    draft = ready_to_submit(signed_in)
    assert "Customs entry number already used" not in main_text(signed_in.get(f"{draft}/preview"))
    assert post(signed_in, f"{draft}/submit", {"seen_same_entry": ""}).status_code == 303


# ----- Duplicate and Modify ---------------------------------------------------------------------------

def test_a_duplicate_names_its_original_on_the_preview_the_confirmation_and_the_license(signed_in, query):
    number = issue(signed_in)
    draft = post(signed_in, f"/licenses/{number}/duplicate", {}).headers["Location"]
    header = {**HEADER, "entry_number": "SP7-0000001-4"}
    # Preview without the dates: the copy needs this shipment's.
    problems = page_text(post(signed_in, f"{draft}/preview", {**header, "export_date": "", "import_date": "",
                                                              "certified": "y"}))
    assert "Expected Date of Import is required." in problems and issued_count(query) == 1
    assert post(signed_in, f"{draft}/preview", {**header, "certified": "y"}).status_code == 302
    assert f"A copy of license {number}." in main_text(signed_in.get(f"{draft}/preview"))
    issued = post(signed_in, f"{draft}/submit", preview_form(signed_in, draft))
    copy = issued.headers["Location"].rsplit("/", 1)[1]
    assert f"Duplicated From {number}" in main_text(signed_in.get(issued.headers["Location"]))
    page = main_text(signed_in.get(f"/licenses/{copy}"))
    assert f"Duplicated From {number}" in page and f"Duplicated from {number}." in page


def test_modify_preview_without_a_change_says_so_and_never_promises_a_new_number(signed_in, query):
    number = issue(signed_in)
    draft = post(signed_in, f"/licenses/{number}/modify", {}).headers["Location"]
    assert post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"}).status_code == 302
    text = main_text(signed_in.get(f"{draft}/preview"))
    assert f"Preview changes to license {number}" in text
    assert "Nothing changes. Submitting confirms the license as it is." in text
    assert "obtain the license number" not in text
    assert f"valid for 75 days from {TODAY:%m/%d/%Y}, as before" in text


def test_modify_preview_lists_a_changed_entry_number_and_warns_if_another_license_has_it(signed_in, query):
    other = issue(signed_in, header={**HEADER, "entry_number": "SP7-0000001-4"})
    number = issue(signed_in)
    draft = post(signed_in, f"/licenses/{number}/modify", {}).headers["Location"]
    changed = {**HEADER, "entry_number": "SP7-0000001-4"}
    add_line(signed_in, draft, {**LINE, "line-quantity_kg": "100"}, changed)
    post(signed_in, f"{draft}/preview", {**changed, "certified": "y"})
    text = main_text(signed_in.get(f"{draft}/preview"))
    assert "Customs Entry Number ABC-1234567-6 SP7-0000001-4" in text
    assert "Product 2 — added (7601.10.30.00)" in text
    assert f"License {other} already carries this customs entry number" in text
