"""Apply for Single License through HTTP: the form, product lines (htmx and plain), preview, submit."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

from conftest import csrf_token, make_user, sign_in
from helpers import HEADER, HTMX, LINE, add_line, issue, post, start
from sqlalchemy import func, select

from aimweb import licensing
from aimweb.extensions import db
from aimweb.models import License, LicenseEvent

TODAY = licensing.application_date()
IMPORT = TODAY + timedelta(days=20)
EXPORT = TODAY + timedelta(days=5)

def count(query, *where) -> int:
    return query(lambda: db.session.scalar(select(func.count()).select_from(License).where(*where)))


def by_number(number):
    return db.session.scalar(select(License).where(License.number == number))


def test_apply_page_offers_standard_license_and_aluminum(signed_in):
    html = signed_in.get("/licenses/apply").get_data(as_text=True)
    assert "Standard License" in html and "Aluminum" in html
    assert "Apply for Single License" in signed_in.get("/licenses/").get_data(as_text=True)


def test_whole_application_issues_a_license_number_and_mails_it(signed_in, mailbox, app):
    number = issue(signed_in)
    with app.app_context():
        check_issued(by_number(number))
    page = signed_in.get(f"/licenses/{number}").get_data(as_text=True)
    assert "Submitted" in page and "View/Print" in page and "Gulf Coast Metals LLC" in page
    mail = mailbox.wait_for("filer@example.com")[-1]
    assert number in mail["Subject"] and number in mailbox.body(mail)


def check_issued(lic):
    assert re.fullmatch(r"A[A-Z0-9]{4}" + TODAY.strftime("%m%y"), lic.number)
    assert lic.status == "submitted"
    assert lic.valid_from == TODAY and lic.valid_through == TODAY + timedelta(days=75)
    assert lic.entry_number == "ABC-1234567-6" and lic.port_code == "1303"
    assert [(line.hts_number, str(line.quantity_kg), str(line.unit_value)) for line in lic.lines] == [
        ("7601103000", "12500.00", "3.10")]
    assert lic.lines[0].category == "Unwrought aluminum"
    assert [e.kind for e in lic.events] == ["issued"]


def test_foreign_trade_zone_license_does_not_expire(signed_in, query):
    number = issue(signed_in, header={**HEADER, "entry_type": "ftz"})
    assert query(lambda: (by_number(number).valid_from, by_number(number).valid_through)) == (TODAY, None)
    assert "does not expire" in signed_in.get(f"/licenses/{number}").get_data(as_text=True)


def test_hts_number_fills_in_description_and_category_or_says_not_covered(signed_in):
    found = signed_in.get("/licenses/hts?line-hts_number=7601103000", headers=HTMX).get_data(as_text=True)
    assert "Unwrought aluminum" in found and "7601.10.30.00" in found
    missing = signed_in.get("/licenses/hts?line-hts_number=7602.00.00.00", headers=HTMX).get_data(as_text=True)
    assert "is not covered by AIM" in missing


def test_unit_value_is_computed_from_volume_and_value(signed_in):
    html = signed_in.get("/licenses/unit-value?line-quantity_kg=12,500&line-customs_value_usd=38750").get_data(
        as_text=True)
    assert ">3.10<" in html
    assert "—" in signed_in.get("/licenses/unit-value?line-quantity_kg=0&line-customs_value_usd=x").get_data(
        as_text=True)


def test_add_products_with_htmx_returns_only_the_product_lines(signed_in):
    draft = start(signed_in)
    html = add_line(signed_in, draft).get_data(as_text=True)
    assert html.lstrip().startswith('<section id="products"') and "<html" not in html
    assert "7601.10.30.00" in html and "3.10" in html and "Total, 1 product" in html
    # The header typed so far was kept with the draft.
    page = signed_in.get(draft).get_data(as_text=True)
    assert 'value="Gulf Coast Metals LLC"' in page


def test_bad_product_line_is_refused_at_its_fields_with_the_values_kept(signed_in, query):
    draft = start(signed_in)
    bad = {**LINE, "line-hts_number": "7602.00.00.00", "line-smelt_largest": "NA_",
           "line-smelt_second": "CA", "line-cast_country": "", "line-quantity_kg": "-5"}
    html = add_line(signed_in, draft, bad).get_data(as_text=True)
    assert "is not covered by AIM" in html
    assert "must be “Not applicable” when the largest is “Not applicable”" in html
    assert "Country of Most Recent Cast is required." in html
    assert "Volume (KG) must be more than zero." in html
    assert 'value="7602.00.00.00"' in html and 'value="-5"' in html
    assert count(query, License.status != "draft") == 0
    assert "No products yet" in html


def test_without_javascript_add_products_round_trips_the_whole_page(signed_in):
    draft = start(signed_in)
    response = add_line(signed_in, draft, htmx=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("#products")
    page = signed_in.get(draft).get_data(as_text=True)
    assert "<html" in page and "7601.10.30.00" in page and 'value="Northern Rolling Mills Inc."' in page
    bad = add_line(signed_in, draft, {**LINE, "line-quantity_kg": "lots"}, htmx=False)
    assert bad.status_code == 200
    assert "Volume (KG) must be a number" in bad.get_data(as_text=True)


def test_lines_can_be_edited_and_removed_before_preview(signed_in):
    draft = start(signed_in)
    add_line(signed_in, draft)
    add_line(signed_in, draft, {**LINE, "line-hts_number": "7606123035", "line-quantity_kg": "100",
                                "line-customs_value_usd": "450"})
    editor = post(signed_in, f"{draft}/lines/1/edit", HEADER, headers=HTMX).get_data(as_text=True)
    assert "Edit product 2" in editor and 'value="7606.12.30.35"' in editor
    saved = post(signed_in, f"{draft}/lines/1", {**HEADER, **LINE, "line-hts_number": "7606123035",
                                                 "line-quantity_kg": "200", "line-customs_value_usd": "900"},
                 headers=HTMX).get_data(as_text=True)
    assert "200.00" in saved and "Total, 2 products" in saved
    removed = post(signed_in, f"{draft}/lines/0/remove", HEADER, headers=HTMX).get_data(as_text=True)
    assert "Total, 1 product" in removed and "7601.10.30.00" not in removed.split("line-editor")[0]


def test_preview_lists_every_problem_at_its_field_and_keeps_what_was_typed(signed_in):
    draft = start(signed_in)
    header = {**HEADER, "entry_number": "ABC-1234567-7", "importer_name": "", "export_date": "31/12/2026",
              "port_code": "Atlantis", "import_date": (TODAY + timedelta(days=61)).isoformat()}
    response = post(signed_in, f"{draft}/preview", header)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for message in ["check digit does not match", "Importer Name is required",
                    "“31/12/2026” is not a date", "no single port matches “Atlantis”",
                    "at most 60 days before the date of import", "Add at least one product",
                    "Check the box to certify"]:
        assert message in html, message
    assert 'value="ABC-1234567-7"' in html and 'value="31/12/2026"' in html and 'value="Atlantis"' in html
    assert 'aria-invalid="true"' in html
    # One summary, "There is a problem", in page order (the products before the certification),
    # and the only alert on the page: a screen reader hears the list once, not once per field.
    summary = html.split('aim-error-summary')[1].split('</ul>')[0]
    assert "There is a problem" in summary
    order = [summary.index(m) for m in ["check digit does not match", "Importer Name is required",
                                        "no single port matches", "Add at least one product",
                                        "Check the box to certify"]]
    assert order == sorted(order)
    assert html.count('role="alert"') == 1


def test_preview_shows_everything_read_only_with_the_computed_values(signed_in):
    draft = start(signed_in)
    add_line(signed_in, draft)
    response = post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"})
    assert response.headers["Location"].endswith("/preview")
    html = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    main = html.split('<main')[1].split('aim-submit-form')[0]
    assert "<input" not in main and "<select" not in main
    for text in ["Gulf Coast Metals LLC", "1303 — Baltimore, MD", "Canada", "Unwrought aluminum",
                 "12,500.00", "38,750.00", "3.10", ">Submit<"]:
        assert text in html, text


def test_double_submit_issues_one_license(signed_in, query):
    draft = start(signed_in)
    add_line(signed_in, draft)
    post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"})
    first = post(signed_in, f"{draft}/submit", {})
    second = post(signed_in, f"{draft}/submit", {})
    # The second click shows the same confirmation, of the one license.
    assert first.headers["Location"] == second.headers["Location"]
    number = first.headers["Location"].rsplit("/", 1)[1]
    assert first.headers["Location"].endswith(f"/licenses/submitted/{number}")
    assert count(query, License.status == "submitted") == 1
    assert query(lambda: db.session.scalar(select(func.count()).select_from(LicenseEvent))) == 1
    # The draft's page now leads to the license; it can't be changed through the form any more.
    assert signed_in.get(draft).headers["Location"].endswith(f"/licenses/{number}")
    changed = add_line(signed_in, draft, htmx=False)
    assert changed.headers["Location"].endswith(f"/licenses/{number}")


def test_submit_of_a_draft_that_became_invalid_issues_nothing(signed_in, query):
    draft = start(signed_in)
    add_line(signed_in, draft)
    post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"})
    post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y", "importer_name": ""})
    response = post(signed_in, f"{draft}/submit", {})
    assert response.status_code == 302 and "/drafts/" in response.headers["Location"]
    assert count(query, License.number.is_not(None)) == 0


def test_license_number_collision_draws_another_number(signed_in, monkeypatch):
    first = issue(signed_in)
    drawn = iter([first, first, "AZZZZ" + TODAY.strftime("%m%y")])
    monkeypatch.setattr(licensing, "new_license_number", lambda on, letter: next(drawn))
    assert issue(signed_in) == "AZZZZ" + TODAY.strftime("%m%y")


def test_another_company_cannot_see_or_touch_a_license_or_draft(client, query):
    query(lambda: make_user("owner@example.com"))
    sign_in(client, "owner@example.com")
    number = issue(client)
    draft = start(client)
    client.post("/signout", data={"csrf_token": csrf_token(client, "/licenses/")})
    query(lambda: make_user("other@example.com"))
    sign_in(client, "other@example.com")
    for path in [f"/licenses/{number}", f"/licenses/{number}/pdf", f"/licenses/{number.lower()}",
                 draft, f"{draft}/preview"]:
        assert client.get(path).status_code == 404, path
    for path in [f"{draft}/lines", f"{draft}/preview", f"{draft}/submit", f"{draft}/lines/0/remove"]:
        assert post(client, path, {**HEADER, **LINE}).status_code == 404, path


def test_officers_review_but_never_file(client, query):
    query(lambda: make_user("officer@example.com", role="officer", company=False))
    sign_in(client, "officer@example.com")
    assert client.get("/licenses/apply").status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, app):
    response = client.get("/licenses/apply")
    assert response.status_code == 302 and "/signin?next=" in response.headers["Location"]


def test_concurrent_submits_of_one_draft_issue_one_license(signed_in, query, app):
    draft = start(signed_in)
    add_line(signed_in, draft)
    post(signed_in, f"{draft}/preview", {**HEADER, "certified": "y"})
    token = csrf_token(signed_in, "/licenses/apply")
    cookie = signed_in.get_cookie("session").value
    barrier = threading.Barrier(4)
    answers = []

    def submit():
        client = app.test_client()
        client.set_cookie("session", cookie)
        barrier.wait()
        answers.append(client.post(f"{draft}/submit", data={"csrf_token": token}))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} == {303}
    assert len({a.headers["Location"] for a in answers}) == 1
    assert count(query, License.status == "submitted") == 1
    assert query(lambda: db.session.scalar(select(func.count()).select_from(LicenseEvent))) == 1


def test_concurrent_submits_that_draw_the_same_number_both_get_a_license(signed_in, query, app, monkeypatch):
    drafts = []
    header = {**HEADER, "entry_number": ""}  # three entries: no same-entry warning in the way
    for _ in range(3):
        draft = start(signed_in)
        add_line(signed_in, draft, header=header)
        post(signed_in, f"{draft}/preview", {**header, "certified": "y"})
        drafts.append(draft)
    same = "ASAME" + TODAY.strftime("%m%y")
    real = licensing.new_license_number
    drawn = threading.local()

    def first_the_same(on, letter):  # every submit first draws the same number, then random ones
        if getattr(drawn, "done", False):
            return real(on, letter)
        drawn.done = True
        return same
    monkeypatch.setattr(licensing, "new_license_number", first_the_same)
    token = csrf_token(signed_in, "/licenses/apply")
    cookie = signed_in.get_cookie("session").value
    barrier = threading.Barrier(len(drafts))
    answers = []

    def submit(draft):
        client = app.test_client()
        client.set_cookie("session", cookie)
        barrier.wait()
        answers.append(client.post(f"{draft}/submit", data={"csrf_token": token}))

    threads = [threading.Thread(target=submit, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = {a.headers["Location"].rsplit("/", 1)[1] for a in answers}
    assert len(numbers) == 3 and same in numbers
    assert count(query, License.status == "submitted") == 3


# ----- focus, announcements, autosave (issue 14, point 4 and 5) ------------------------------------

def test_product_line_answers_say_what_happened_and_where_the_focus_goes(signed_in):
    draft = start(signed_in)
    added = add_line(signed_in, draft).get_data(as_text=True)
    assert 'data-aim-announce="Product 1 added."' in added
    assert 'data-aim-focus="#line-hts_number"' in added
    again = add_line(signed_in, draft).get_data(as_text=True)
    assert 'data-aim-announce="Product 2 added."' in again
    rejected = add_line(signed_in, draft, {**LINE, "line-quantity_kg": "lots"}).get_data(as_text=True)
    assert 'data-aim-announce="The product was not added: correct the 1 field marked."' in rejected
    assert 'data-aim-focus="#line-quantity_kg"' in rejected
    edit = post(signed_in, f"{draft}/lines/1/edit", HEADER, headers=HTMX).get_data(as_text=True)
    assert 'data-aim-announce="Editing product 2."' in edit and 'data-aim-focus="#line-hts_number"' in edit
    saved = post(signed_in, f"{draft}/lines/1", {**HEADER, **LINE}, headers=HTMX).get_data(as_text=True)
    assert 'data-aim-announce="Product 2 saved."' in saved and 'data-aim-focus="#edit-line-1"' in saved
    assert 'id="edit-line-1"' in saved
    removed = post(signed_in, f"{draft}/lines/0/remove", HEADER, headers=HTMX).get_data(as_text=True)
    assert 'data-aim-announce="Product 1 removed."' in removed
    assert 'data-aim-focus="#products-heading"' in removed
    assert 'id="products-heading" class="aim-legend" tabindex="-1"' in removed


def _selected(html: str, name: str) -> str | None:
    select_html = html.split(f'name="{name}"')[1].split("</select>")[0]
    found = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html)
    return found and (found.group(1) or found.group(2))


def test_keep_countries_for_the_next_product(signed_in):
    draft = start(signed_in)
    line = {**LINE, "line-smelt_largest": "NO", "line-smelt_second": "IS", "line-cast_country": "DE"}
    kept = add_line(signed_in, draft, {**line, "keep_countries": "y"}).get_data(as_text=True)
    assert [_selected(kept, f"line-{n}") for n in ("smelt_largest", "smelt_second", "cast_country")] == [
        "NO", "IS", "DE"]
    assert 'value="7601.10.30.00"' not in kept.split('id="line-editor"')[1]  # the HTS is for the new product
    assert 'id="keep_countries" type="checkbox" name="keep_countries" value="y" checked' in kept
    plain = add_line(signed_in, draft, line).get_data(as_text=True)
    assert _selected(plain, "line-smelt_largest") in (None, "")
    # Without JavaScript: the same, through the redirect.
    response = add_line(signed_in, draft, {**line, "keep_countries": "y"}, htmx=False)
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert _selected(page, "line-cast_country") == "DE" and "Total, 3 products" in page


def test_header_is_kept_from_the_first_change_and_corrected_errors_go(signed_in, query):
    draft = start(signed_in)
    draft_id = int(draft.rsplit("/", 1)[1])
    answer = post(signed_in, f"{draft}/header", {"importer_name": "Gulf Coast Metals LLC",
                                                  "import_date": "31/12/2026"})
    assert answer.status_code == 200 and answer.json["saved"] is True
    # What is still wrong in the header comes back, so the page can drop the errors now corrected.
    assert "importer_name" not in answer.json["problems"]
    assert "is not a date" in " ".join(answer.json["problems"]["import_date"])
    assert query(lambda: db.session.get(License, draft_id).form_data["importer_name"]) == "Gulf Coast Metals LLC"
    # Leaving and coming back: the draft shows what was typed, and the dashboard offers to resume it.
    assert 'value="Gulf Coast Metals LLC"' in signed_in.get(draft).get_data(as_text=True)
    dashboard = signed_in.get("/licenses/").get_data(as_text=True)
    assert "Applications not yet submitted" in dashboard
    assert f'href="{draft}">Resume<span class="usa-sr-only"> Gulf Coast Metals LLC</span>' in dashboard
    # A submitted draft is not changed by a late autosave.
    number = issue(signed_in)
    submitted = query(lambda: by_number(number).id)
    late = post(signed_in, f"/licenses/drafts/{submitted}/header", {"importer_name": "Changed"})
    assert late.status_code == 409
    assert query(lambda: by_number(number).importer_name) == "Gulf Coast Metals LLC"
