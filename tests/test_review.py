"""The officers' review queue through HTTP: flagged licenses and their reasons, filters and search,
the license panel, Mark Action Required → the filer's correction → Answered → Clear (or Ask Again),
the officer-only note, the audit trail and its export, htmx partials, who may reach which route,
and `flask review-refresh` feeding the unit-value check.

Licenses the filer acts on are issued through HTTP (as in test_license_actions.py); the history
a check compares with is written straight into the database."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from conftest import csrf_token, make_user, sign_in
from factories import LINE_A, add_license, add_monthly_volumes
from helpers import HEADER, HTMX, LINE, issue, officer_post, post, preview_form
from sqlalchemy import select

from aimweb import licensing, screening
from aimweb.extensions import db
from aimweb.models import Finding, HtsUnitValueStat, License, LicenseEvent, User, utcnow

FILER = "filer@example.com"
OFFICER = "officer@example.com"
# Origin Vietnam, smelted and cast in China: possible transshipment (severity 2).
TRANSSHIPPED = ({**LINE, "line-smelt_largest": "CN", "line-cast_country": "CN",
                 "line-hts_number": "7606.12.30.35"},)
VIETNAM = {**HEADER, "origin_country": "VN", "export_country": "VN"}
# Unalloyed unwrought aluminum with no smelt country (severity 3).
NO_SMELT = ({**LINE, "line-smelt_largest": "NA_"},)
PLAIN = (LINE,)




def markup(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def text(response) -> str:
    """What a person reads: the page without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", markup(response)).split())




def queue(client, **params) -> list[str]:
    """The license numbers in the queue, in order."""
    response = client.get("/review/", query_string=params)
    assert response.status_code == 200
    return re.findall(r'<tr id="q-\d+">\s*<th scope="row"[^>]*>\s*<a class="aim-number" '
                      r'href="/review/licenses/(\w+)[?"]', response.get_data(as_text=True))


def queue_row(client, number) -> str:
    body = markup(client.get("/review/"))
    start = body.rindex("<tr", 0, body.index(f'href="/review/licenses/{number}"'))
    return body[start:body.index("</tr>", start)]


def state(query, number) -> dict:
    def read():
        lic = db.session.scalar(select(License).where(License.number == number))
        return dict(status=lic.status, review_state=lic.review_state, version=lic.version,
                    officer_message=lic.officer_message, importer=lic.importer_name,
                    origin=lic.origin_country, lines=[(ln.hts_number, str(ln.quantity_kg),
                                                       ln.smelt_largest) for ln in lic.lines],
                    findings=sorted(f.check for f in db.session.scalars(
                        select(Finding).where(Finding.license_id == lic.id))))
    return query(read)


def events(query) -> list[tuple]:
    """Every audit row, every column."""
    return query(lambda: [(e.id, e.license_id, e.actor_id, e.at, e.kind, e.note, e.changes, e.internal)
                          for e in db.session.scalars(select(LicenseEvent).order_by(LicenseEvent.id))])


def assert_only_appended(before: list[tuple], after: list[tuple]):
    """The audit trail grew; nothing in it was changed or deleted."""
    assert after[:len(before)] == before
    assert len(after) > len(before)


def modify(client, number, line=None, header=HEADER):
    """Modify License → (change product 1) → certify → Preview → Submit."""
    response = post(client, f"/licenses/{number}/modify", {})
    assert response.status_code == 302, response.status_code
    draft = response.headers["Location"]
    if line:
        edited = post(client, f"{draft}/lines/0", {**header, **line}, headers=HTMX)
        assert "aim-line--error" not in edited.get_data(as_text=True)
    assert post(client, f"{draft}/preview", {**header, "certified": "y"}).status_code == 302
    submitted = post(client, f"{draft}/submit", preview_form(client, draft))
    assert submitted.status_code == 303, submitted.status_code
    return submitted


# ----- the queue: flagged licenses with their reasons, most serious first ---------------------------

def test_a_license_that_trips_a_check_is_queued_with_its_reason_most_serious_first(signed_in, officer, query):
    transshipped = issue(signed_in, TRANSSHIPPED, VIETNAM)
    no_smelt = issue(signed_in, NO_SMELT)
    plain = issue(signed_in, PLAIN)
    assert state(query, transshipped)["findings"] == ["transshipment"]
    assert state(query, no_smelt)["findings"] == ["primary_not_applicable"]
    assert state(query, plain)["findings"] == [] and state(query, plain)["review_state"] is None

    page = text(officer.get("/review/"))
    assert "Review Queue" in page and "2 licenses to review" in page
    assert queue(officer) == [no_smelt, transshipped]  # severity 3 before 2; the plain one is not there
    row = queue_row(officer, transshipped)
    assert "Possible transshipment" in row and "Company of filer@example.com" in row and "Vietnam" in row
    assert ("Product 1: the country of origin, Vietnam, is neither the country of most recent cast "
            "(China) nor of largest smelt (China): possible transshipment.") in row
    assert ("Product 1: Country of Largest Smelt is “Not applicable”, but HTS 7601.10.30.00 is "
            "unalloyed (primary) aluminum") in queue_row(officer, no_smelt)


def test_queue_filters_by_check_category_country_company_and_date(signed_in, officer, query, app):
    transshipped = issue(signed_in, TRANSSHIPPED, VIETNAM)
    no_smelt = issue(signed_in, NO_SMELT)
    other_id = query(lambda: make_user("other@example.com").id)
    other = app.test_client()
    sign_in(other, "other@example.com")
    theirs = issue(other, NO_SMELT)
    # An older flagged license (written directly, then checked like any other).
    old = datetime(2025, 3, 10, 15, 0)

    def add_old():
        lic_id = add_license(other_id, "AOLD10325", created=old,
                             lines=({**LINE_A, "smelt_largest": "CN", "cast_country": "CN"},))
        screening.review_licenses([lic_id])
    query(add_old)

    everything = queue(officer)
    assert set(everything) == {transshipped, no_smelt, theirs, "AOLD10325"}
    assert set(queue(officer, check="primary_not_applicable")) == {no_smelt, theirs}
    assert set(queue(officer, check="transshipment")) == {transshipped, "AOLD10325"}
    assert queue(officer, category="Plates, sheets and strip") == [transshipped]
    assert set(queue(officer, category="Unwrought aluminum")) == {no_smelt, theirs, "AOLD10325"}
    assert queue(officer, country="VN") == [transshipped]
    assert set(queue(officer, company="OTHER@example")) == {theirs, "AOLD10325"}  # part, any case
    assert queue(officer, created_to="2025-12-31") == ["AOLD10325"]
    assert queue(officer, created_from="03/10/2025", created_to="2025-03-10") == ["AOLD10325"]
    assert "AOLD10325" not in queue(officer, created_from=licensing.application_date().isoformat())
    assert queue(officer, check="primary_not_applicable", company="other") == [theirs]
    assert queue(officer, check="surge") == []
    assert "Nothing to review with these filters." in text(officer.get("/review/?check=surge"))

    # Bad filters: a message at the field, not an error page.
    page = markup(officer.get("/review/?created_from=31/31/2025&check=nonsense"))
    assert "“31/31/2025” is not a date. Enter it like 07/31/2026." in page and "Choose a check from the list." in page
    assert "the year must be between 1900 and 2999" in markup(officer.get("/review/?created_to=12/31/9999"))
    assert 'aria-invalid="true"' in page


def test_search_by_number_opens_any_license_even_one_not_flagged(signed_in, officer):
    plain = issue(signed_in, PLAIN)
    assert queue(officer) == []
    response = officer.get("/review/", query_string={"number": f"  {plain.lower()} "})
    assert response.status_code == 302 and response.headers["Location"] == f"/review/licenses/{plain}"
    page = text(officer.get(response.headers["Location"]))
    assert f"License {plain}" in page and "No automatic check fires on this license." in page
    missing = text(officer.get("/review/?number=AZZZZ0199", follow_redirects=True))
    assert "No license numbered AZZZZ0199." in missing
    assert officer.get("/review/licenses/AZZZZ0199").status_code == 404


# ----- the license panel --------------------------------------------------------------------------

def test_the_panel_shows_every_field_history_recent_licenses_and_findings(signed_in, officer, query):
    earlier = issue(signed_in, PLAIN)
    number = issue(signed_in, TRANSSHIPPED, VIETNAM)
    modify(signed_in, number, {**TRANSSHIPPED[0], "line-quantity_kg": "10,000",
                               "line-customs_value_usd": "31000"},
           {**VIETNAM, "importer_name": "Bayou Aluminum Trading"})
    page = text(officer.get(f"/review/licenses/{number}"))
    for shown in [f"License {number}", "Corrected", "Flagged", "Company of filer@example.com",
                  "Test Filer (filer@example.com)",
                  # every field of the license
                  "ABC-1234567-6", "Consumption", "Bayou Aluminum Trading", "Northern Rolling Mills Inc.",
                  "Alouette Smelting", "Vietnam", "Baltimore", "7606.12.30.35", "Plates, sheets and strip",
                  "China", "Not applicable", "10,000.00", "31,000.00", "3.10",
                  "Expected Date of Export", "Expected Date of Import",
                  # findings
                  "Possible transshipment", "possible transshipment.",
                  # history, with before → after
                  "Submitted", "Corrected (by the filer)",
                  "Importer Name: Gulf Coast Metals LLC → Bayou Aluminum Trading",
                  "Product 1 Volume (KG): 12,500.00 → 10,000.00",
                  # the company's recent licenses
                  "The company's recent licenses", earlier]:
        assert shown in page, shown
    assert f'href="/review/licenses/{earlier}"' in markup(officer.get(f"/review/licenses/{number}"))
    # Only actions that change the review, never the license's data.
    assert "Mark Action Required" in page and "Close Review" in page
    assert "Modify License" not in page and "Cancel License" not in page


def test_htmx_opens_the_panel_alone_and_filters_return_only_the_results(signed_in, officer):
    number = issue(signed_in, NO_SMELT)
    panel = officer.get(f"/review/licenses/{number}", headers=HTMX).get_data(as_text=True)
    assert '<div class="aim-panel">' in panel and "<html" not in panel and "hx-swap-oob" not in panel
    results = officer.get("/review/?check=primary_not_applicable",
                          headers={**HTMX, "HX-Target": "queue-results"}).get_data(as_text=True)
    assert results.lstrip().startswith('<section id="queue-results"') and "<html" not in results
    assert number in results
    # Without JavaScript, the same links give whole pages.
    assert "<html" in officer.get(f"/review/licenses/{number}").get_data(as_text=True)


# ----- Mark Action Required → the filer corrects → Answered → Ask Again / Clear -----------------------

def test_action_required_round_trip_with_mail_answer_ask_again_and_clear(signed_in, officer, query, mailbox):
    number = issue(signed_in, TRANSSHIPPED, VIETNAM)
    trail = events(query)
    mailbox.clear()

    message = "The smelt and cast are in China but the origin is Vietnam: please confirm the origin."
    response = officer_post(officer, f"/review/licenses/{number}/action-required", {"message": message})
    # Back to the license, which keeps its place in the queue (flagged) for Previous/Next.
    assert response.status_code == 303
    assert response.headers["Location"] == f"/review/licenses/{number}?at=flagged"
    assert f"License {number} is marked Action Required; the filer will be emailed." in text(
        officer.get(response.headers["Location"]))
    after = state(query, number)
    assert (after["status"], after["review_state"], after["officer_message"]) == (
        "action_required", "waiting", message)
    assert_only_appended(trail, trail := events(query))
    assert number not in queue(officer)  # waiting for the filer
    assert number not in queue(officer, check="transshipment")

    # The filer's mail, read from the SMTP server.
    mail, = mailbox.wait_for(FILER)
    assert mail["Subject"] == f"AIM license {number}: Action Required"
    body = mailbox.body(mail)
    assert number in body and message in body and "Modify License" in body

    # The filer sees the message on the license, and a count on the dashboard.
    page = text(signed_in.get(f"/licenses/{number}"))
    assert "Action Required" in page and message in page
    assert "Something in this license may need to be corrected or confirmed." in page
    dashboard = text(signed_in.get("/licenses/"))
    assert "1 license needs your action." in dashboard

    # The filer corrects it: Corrected, and back in the queue marked Answered, first.
    issue(signed_in, NO_SMELT)  # a more serious flagged license
    modify(signed_in, number, header={**VIETNAM, "origin_country": "CN", "export_country": "VN"})
    after = state(query, number)
    assert (after["status"], after["review_state"], after["origin"]) == ("corrected", "answered", "CN")
    assert after["findings"] == []  # origin China = cast China: nothing fires any more
    assert queue(officer)[0] == number
    assert "Answered" in queue_row(officer, number)
    assert "needs your action" not in text(signed_in.get("/licenses/"))
    panel = text(officer.get(f"/review/licenses/{number}"))
    assert "Answered" in panel and "Ask Again" in panel
    assert "Country of Origin: Vietnam → China" in panel
    assert_only_appended(trail, trail := events(query))

    # Ask again: Action Required again, another mail.
    mailbox.clear()
    again = "Thank you. Please also confirm the exporter."
    officer_post(officer, f"/review/licenses/{number}/action-required", {"message": again})
    assert state(query, number)["status"] == "action_required"
    assert again in mailbox.body(mailbox.wait_for(FILER)[-1])
    assert again in text(signed_in.get(f"/licenses/{number}"))
    modify(signed_in, number, header={**VIETNAM, "origin_country": "CN", "export_country": "VN"})
    assert state(query, number)["review_state"] == "answered"
    assert_only_appended(trail, trail := events(query))

    # Clear, with an officer-only note.
    note = "Origin corrected to China; exporter confirmed by phone (internal ref 4471)."
    response = officer_post(officer, f"/review/licenses/{number}/clear", {"note": note})
    assert response.status_code == 303
    after = state(query, number)
    assert (after["status"], after["review_state"]) == ("corrected", "cleared")
    assert number not in queue(officer)
    assert_only_appended(trail, trail := events(query))
    assert trail[-1][4:] == ("cleared", note, None, True)
    # The officer sees the note; the filer never does.
    assert note in text(officer.get(f"/review/licenses/{number}"))
    filer_page = text(signed_in.get(f"/licenses/{number}"))
    assert note not in filer_page and "internal ref" not in filer_page and "Reviewed by" not in filer_page
    assert "Action Required" not in filer_page.split(" History ")[0]
    assert message in filer_page  # the filer's own history keeps what Commerce asked


def test_clear_without_a_change_keeps_the_license_as_it_is(signed_in, officer, query, mailbox):
    number = issue(signed_in, NO_SMELT)
    before, trail = state(query, number), events(query)
    mailbox.clear()
    officer_post(officer, f"/review/licenses/{number}/clear",
                 {"note": "Recycled content confirmed with CBP; no smelt country expected."})
    after = state(query, number)
    assert after == {**before, "review_state": "cleared"}  # same status, version and data
    assert after["findings"] == ["primary_not_applicable"]  # the finding stays on record
    assert number not in queue(officer)
    # ... but the queue filtered by that check (read from the findings) no longer lists it.
    assert queue(officer, check="primary_not_applicable") == []
    assert "0 licenses to review" in text(officer.get("/review/?check=primary_not_applicable"))
    assert_only_appended(trail, events(query))
    assert mailbox.to(FILER) == []  # the filer is not told about a Clear


def test_clear_withdraws_a_pending_action_required(signed_in, officer, query):
    number = issue(signed_in, NO_SMELT)
    assert queue(officer, check="primary_not_applicable") == [number]
    officer_post(officer, f"/review/licenses/{number}/action-required", {"message": "Smelt country?"})
    assert queue(officer, check="primary_not_applicable") == []
    officer_post(officer, f"/review/licenses/{number}/clear", {"note": "Asked by mistake."})
    after = state(query, number)
    assert (after["status"], after["review_state"]) == ("submitted", "cleared")
    page = text(signed_in.get(f"/licenses/{number}"))
    assert "Something in this license may need to be corrected" not in page
    assert "Asked by mistake." not in page
    assert "needs your action" not in text(signed_in.get("/licenses/"))


def test_a_corrected_license_cleared_then_flagged_again_by_a_new_correction(signed_in, officer, query):
    number = issue(signed_in, NO_SMELT)
    officer_post(officer, f"/review/licenses/{number}/clear", {"note": "Fine."})
    assert number not in queue(officer)
    # The filer changes it later, on their own: checked again, and back in the queue.
    modify(signed_in, number, {**NO_SMELT[0], "line-quantity_kg": "100"})
    assert state(query, number)["review_state"] == "flagged" and number in queue(officer)


@pytest.mark.parametrize("route, field, value, message", [
    ("action-required", "message", "", "Write the message to the filer: what should be corrected or confirmed."),
    ("action-required", "message", "  \n\t ", "Write the message to the filer"),
    ("action-required", "message", "x" * 2001, "The message may have at most 2,000 characters."),
    ("clear", "note", "", "Write a note for the file: why is this license clear?"),
    ("clear", "note", "   ", "Write a note for the file"),
    ("clear", "note", "y" * 2001, "The note may have at most 2,000 characters."),
])
def test_an_empty_or_too_long_message_or_note_is_refused_and_nothing_changes(
        signed_in, officer, query, mailbox, route, field, value, message):
    number = issue(signed_in, NO_SMELT)
    before, trail = state(query, number), events(query)
    mailbox.clear()
    response = officer_post(officer, f"/review/licenses/{number}/{route}", {field: value})
    assert response.status_code == 400
    page = markup(response)
    assert message in page and 'aria-invalid="true"' in page and "usa-error-message" in page
    # htmx: the panel comes back with the error, and the row stays in the queue.
    partial = officer_post(officer, f"/review/licenses/{number}/{route}", {field: value},
                           headers={**HTMX, "HX-Current-URL": "http://localhost/review/"})
    assert partial.status_code == 200 and message in text(partial)
    assert "hx-swap-oob" not in partial.get_data(as_text=True)
    assert state(query, number) == before and events(query) == trail and mailbox.to(FILER) == []
    assert number in queue(officer)


def oob_queue(body: str) -> str | None:
    """The queue section an htmx response redraws out of band, if any."""
    found = re.search(r'<section id="queue-results"[^>]*hx-swap-oob="true">.*?</section>', body, re.DOTALL)
    return found and found.group(0)


def test_htmx_actions_return_the_panel_and_take_the_row_out_of_the_queue(signed_in, officer, query, mailbox):
    number = issue(signed_in, NO_SMELT)
    other = issue(signed_in, TRANSSHIPPED, VIETNAM)
    lic_id = query(lambda: db.session.scalar(select(License.id).where(License.number == number)))
    from_queue = {**HTMX, "HX-Target": "review-panel",
                  "HX-Current-URL": "http://localhost/review/?check=&country=&company="}
    response = officer_post(officer, f"/review/licenses/{number}/action-required",
                            {"message": "Please give the smelt country."}, headers=from_queue)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '<div class="aim-panel">' in body and "<html" not in body
    # Out of band: the queue as the page's filters show it, without the row, with the new count.
    queue_now = oob_queue(body)
    assert f'id="q-{lic_id}"' not in queue_now and f"/review/licenses/{other}" in queue_now
    assert "1 license to review" in queue_now
    page = html.unescape(body)
    assert f"License {number} is marked Action Required; the filer will be emailed." in page
    assert "Waiting for the filer. Message sent: “Please give the smelt country.”" in page
    assert len(mailbox.wait_for(FILER, 3)) == 3  # two issued, then Action Required
    # Nothing was left over for a later full page.
    assert "is marked Action Required" not in text(officer.get("/review/"))

    # A second action in the same panel (the row is gone already) redraws the queue again.
    response = officer_post(officer, f"/review/licenses/{number}/clear", {"note": "ok"}, headers=from_queue)
    assert f"Review of license {number} closed: no action needed." in text(response)
    assert "1 license to review" in oob_queue(response.get_data(as_text=True))
    assert state(query, number)["review_state"] == "cleared"

    # The queue keeps the page's filters: here, nothing matches Vietnam any more once it is cleared.
    filtered = {**from_queue, "HX-Current-URL": "http://localhost/review/?country=VN"}
    response = officer_post(officer, f"/review/licenses/{other}/clear", {"note": "ok"}, headers=filtered)
    assert "Nothing to review with these filters." in oob_queue(response.get_data(as_text=True))


def test_htmx_actions_from_the_license_page_or_refused_do_not_touch_the_queue(signed_in, officer):
    number = issue(signed_in, NO_SMELT)
    standalone = {**HTMX, "HX-Target": "review-panel",
                  "HX-Current-URL": f"http://localhost/review/licenses/{number}"}
    # The license page has the panel's target too, so its htmx forms work there.
    assert 'id="review-panel"' in officer.get(f"/review/licenses/{number}").get_data(as_text=True)
    response = officer_post(officer, f"/review/licenses/{number}/clear", {"note": "ok"}, headers=standalone)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "closed: no action needed" in body and "hx-swap-oob" not in body
    from_queue = {**standalone, "HX-Current-URL": "http://localhost/review/"}
    refused = officer_post(officer, f"/review/licenses/{number}/clear", {"note": ""}, headers=from_queue)
    assert "Write a note" in refused.get_data(as_text=True)
    assert "hx-swap-oob" not in refused.get_data(as_text=True)


# ----- officers never change a license's data ------------------------------------------------------

def test_officers_cannot_change_license_data(signed_in, officer, query, app):
    number = issue(signed_in, TRANSSHIPPED, VIETNAM)
    before = state(query, number)
    token = csrf_token(officer, "/review/")
    for path in [f"/licenses/{number}/modify", f"/licenses/{number}/cancel", f"/licenses/{number}/duplicate"]:
        assert officer.post(path, data={"csrf_token": token}).status_code == 403, path
    # The only officer routes that write are the two review actions.
    writes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/review") and "POST" in rule.methods}
    assert writes == {"review.action_required", "review.clear"}
    # Fields smuggled into the actions are ignored.
    officer_post(officer, f"/review/licenses/{number}/action-required",
                 {"message": "Confirm the origin.", "origin_country": "CN", "importer_name": "X",
                  "status": "cancelled"})
    after = state(query, number)
    assert (after["origin"], after["importer"], after["lines"]) == (
        before["origin"], before["importer"], before["lines"])
    assert after["status"] == "action_required"


def test_an_officer_cannot_act_on_a_cancelled_license(signed_in, officer, query):
    number = issue(signed_in, NO_SMELT)
    post(signed_in, f"/licenses/{number}/cancel", {})
    assert number not in queue(officer)
    panel = text(officer.get(f"/review/licenses/{number}"))
    assert "Mark Action Required" not in panel
    trail = events(query)
    response = officer_post(officer, f"/review/licenses/{number}/action-required", {"message": "Why?"})
    assert response.status_code == 400
    assert f"License {number} is cancelled" in text(response)
    assert state(query, number)["status"] == "cancelled" and events(query) == trail


def test_an_answered_license_the_filer_cancels_leaves_the_queue(signed_in, officer, query):
    number = issue(signed_in, NO_SMELT)
    officer_post(officer, f"/review/licenses/{number}/action-required", {"message": "Smelt?"})
    modify(signed_in, number)
    assert number in queue(officer)
    post(signed_in, f"/licenses/{number}/cancel", {})
    assert state(query, number)["status"] == "cancelled"
    assert number not in queue(officer)  # no action is offered on a cancelled license


# ----- the audit trail --------------------------------------------------------------------------

def test_audit_trail_lists_every_officer_action_and_exports_csv(signed_in, officer, query):
    number = issue(signed_in, NO_SMELT)
    officer_post(officer, f"/review/licenses/{number}/action-required", {"message": "Smelt country?"})
    modify(signed_in, number, {**NO_SMELT[0], "line-smelt_largest": "CA"})
    officer_post(officer, f"/review/licenses/{number}/clear", {"note": "Answered: Canada."})
    other = issue(signed_in, PLAIN)

    page = text(officer.get("/review/audit"))
    assert "Audit Trail" in page
    for shown in ["Submitted", "Marked Action Required", "Smelt country?", "Corrected (by the filer)",
                  "Product 1 Country of Largest Smelt: Not applicable → Canada", "Review closed",
                  "Answered: Canada.", "officers only", OFFICER, FILER, other]:
        assert shown in page, shown
    only_officers = markup(officer.get("/review/audit?officers=1"))
    assert "Smelt country?" in only_officers and "Answered: Canada." in only_officers
    assert "Corrected (by the filer)</td>" not in only_officers and other not in only_officers
    assert other not in text(officer.get(f"/review/audit?number={number.lower()}"))

    response = officer.get("/review/audit.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="aim-audit-trail.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["When (UTC)", "License Number", "What", "Who", "Officer-only", "Note", "Changes",
                       "Filer's reply"]
    mine = [r for r in rows[1:] if r[1] == number]
    assert [r[2] for r in mine] == ["Review closed", "Corrected (by the filer)", "Marked Action Required",
                                    "Submitted"]  # newest first
    assert mine[0][3:6] == [OFFICER, "yes", "Answered: Canada."]
    assert mine[1][3] == FILER and "Product 1 Country of Largest Smelt: Not applicable -> Canada" in mine[1][6]
    assert mine[2][3:6] == [OFFICER, "no", "Smelt country?"]
    assert len(rows) == 1 + 5
    filtered = list(csv.reader(io.StringIO(officer.get(
        "/review/audit.csv?officers=1").get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[2] for r in filtered[1:]] == ["Review closed", "Marked Action Required"]


def test_audit_csv_neutralizes_formulas(signed_in, officer):
    number = issue(signed_in, NO_SMELT)
    officer_post(officer, f"/review/licenses/{number}/clear", {"note": "=HYPERLINK(\"http://x\")"})
    rows = list(csv.reader(io.StringIO(officer.get("/review/audit.csv").get_data(as_text=True))))
    note = next(r[5] for r in rows if r[2] == "Review closed")
    assert not note.startswith("=") and "HYPERLINK" in note


def test_audit_pages_keep_the_filters_and_move_on(signed_in, officer, query):
    number = issue(signed_in, NO_SMELT)

    def many_events():
        lic = db.session.scalar(select(License).where(License.number == number))
        officer_id = db.session.scalar(select(User.id).where(User.email == OFFICER))
        start = utcnow() - timedelta(days=1)
        for i in range(120):
            db.session.add(LicenseEvent(license_id=lic.id, actor_id=officer_id, kind="cleared",
                                        note=f"note {i:03d}", internal=True,
                                        at=start + timedelta(seconds=i)))
        db.session.commit()
    query(many_events)
    first = markup(officer.get("/review/audit?kind=cleared"))
    assert "note 119" in first and "note 070" in first and "note 069" not in first
    older = re.search(r'href="\?([^"]+)">Older', first).group(1)
    second = markup(officer.get("/review/audit?" + html.unescape(older)))
    assert "note 069" in second and "note 020" in second and "note 070" not in second
    older = re.search(r'href="\?([^"]+)">Older', second).group(1)
    third = markup(officer.get("/review/audit?" + html.unescape(older)))
    assert "note 019" in third and "note 000" in third and "note 020" not in third
    assert not re.search(r"<td[^>]*>Submitted", third)  # the filter was kept


def test_audit_rows_are_never_updated_or_deleted(signed_in, officer, query):
    number = issue(signed_in, NO_SMELT)
    second = issue(signed_in, TRANSSHIPPED, VIETNAM)
    trail = events(query)
    steps = [
        lambda: officer_post(officer, f"/review/licenses/{number}/action-required", {"message": "Smelt?"}),
        lambda: modify(signed_in, number, {**NO_SMELT[0], "line-smelt_largest": "CA"}),
        lambda: officer_post(officer, f"/review/licenses/{number}/action-required", {"message": "Again?"}),
        lambda: officer_post(officer, f"/review/licenses/{number}/clear", {"note": "Withdrawn."}),
        lambda: modify(signed_in, number),
        lambda: officer_post(officer, f"/review/licenses/{second}/clear", {"note": "Fine."}),
        lambda: post(signed_in, f"/licenses/{second}/cancel", {}),
        lambda: post(signed_in, f"/licenses/{number}/cancel", {}),
    ]
    for step in steps:
        step()
        assert_only_appended(trail, trail := events(query))
    assert [e[4] for e in trail] == ["issued", "issued", "action_required", "corrected", "action_required",
                                     "cleared", "corrected", "cleared", "cancelled", "cancelled"]


# ----- who may reach the officer routes ------------------------------------------------------------

def officer_routes(number):
    return [("GET", "/review/"), ("GET", f"/review/licenses/{number}"),
            ("POST", f"/review/licenses/{number}/action-required"), ("POST", f"/review/licenses/{number}/clear"),
            ("GET", "/review/audit"), ("GET", "/review/audit.csv")]


def test_every_officer_route_is_forbidden_to_a_filer_and_asks_anonymous_to_sign_in(signed_in, query, app):
    number = issue(signed_in, NO_SMELT)
    before, trail = state(query, number), events(query)
    token = csrf_token(signed_in, "/licenses/")
    anonymous = app.test_client()
    anonymous_token = csrf_token(anonymous, "/signin")
    for method, path in officer_routes(number):
        data = {"message": "Hacked", "note": "Hacked"}
        if method == "GET":
            as_filer, as_nobody = signed_in.get(path), anonymous.get(path)
        else:
            as_filer = signed_in.post(path, data={"csrf_token": token, **data})
            as_nobody = anonymous.post(path, data={"csrf_token": anonymous_token, **data})
        assert as_filer.status_code == 403, path
        assert as_nobody.status_code == 302, path
        assert as_nobody.headers["Location"].startswith("/signin?next="), path
        # htmx too: no panel, no queue
        assert signed_in.get(path, headers=HTMX).status_code in (403, 405), path
    # Also for a license that does not exist: the role is checked before the number.
    assert signed_in.get("/review/licenses/AZZZZ0199").status_code == 403
    assert anonymous.get("/review/licenses/AZZZZ0199").status_code == 302
    assert state(query, number) == before and events(query) == trail


def test_officer_routes_give_not_found_for_an_unknown_license(officer):
    for method, path in officer_routes("AZZZZ0199")[1:4]:
        response = officer.get(path) if method == "GET" else officer_post(officer, path, {"message": "x", "note": "x"})
        assert response.status_code == 404, path


def test_an_admin_reviews_too(app, query, signed_in):
    number = issue(signed_in, NO_SMELT)
    query(lambda: make_user("admin@example.com", role="admin", company=False))
    admin = app.test_client()
    sign_in(admin, "admin@example.com")
    assert queue(admin) == [number]


# ----- statistics and history: `flask review-refresh`, surge, import passed, modifications -------------

def test_review_refresh_computes_statistics_so_a_later_outlier_is_flagged(signed_in, filer, query, app):
    def seed():
        for i in range(20):  # $3.00 … $3.19 a kg
            value = Decimal("3.00") + Decimal(i) / 100
            add_license(filer.id, f"ASEED{i:02d}26", lines=(
                {**LINE_A, "quantity_kg": Decimal(1000), "customs_value_usd": value * 1000, "unit_value": value},))
    query(seed)
    outlier = {**LINE, "line-quantity_kg": "12,500", "line-customs_value_usd": "387500"}  # $31.00 a kg
    before_refresh = issue(signed_in, (outlier,))
    assert "unit_value" not in state(query, before_refresh)["findings"]  # no statistics yet

    result = app.test_cli_runner().invoke(args=["review-refresh"])
    assert result.exit_code == 0, result.output
    assert "Unit-value statistics for 1 HTS numbers from 21 product lines" in result.output
    stat = query(lambda: db.session.scalar(select(HtsUnitValueStat)))
    assert stat.hts_number == "7601103000" and stat.sample == 21

    number = issue(signed_in, (outlier,))
    assert state(query, number)["findings"] == ["unit_value"]
    row = queue_row(signed_in_officer(app, query), number)
    assert "Unit value far from usual" in row
    assert "Product 1: unit value $31.00/kg is far above the usual $3.10/kg for HTS 7601.10.30.00 " \
           "(median of 21 recent licenses" in row
    # A usual price is not flagged.
    assert state(query, issue(signed_in, PLAIN))["findings"] == []


def signed_in_officer(app, query):
    if not query(lambda: db.session.scalar(select(User.id).where(User.email == OFFICER))):
        query(lambda: make_user(OFFICER, role="officer", company=False))
    client = app.test_client()
    sign_in(client, OFFICER)
    return client


def test_a_license_applied_for_after_its_import_is_flagged_when_issued(signed_in, officer, query):
    today = licensing.application_date()
    late_header = {**HEADER, "entry_number": "", "export_date": (today - timedelta(days=9)).isoformat(),
                   "import_date": (today - timedelta(days=6)).isoformat()}
    late = issue(signed_in, PLAIN, late_header)
    on_time = issue(signed_in, PLAIN)
    assert state(query, late)["findings"] == ["late_filing"] and state(query, late)["review_state"] == "flagged"
    assert state(query, on_time)["findings"] == []
    assert queue(officer) == [late] and queue(officer, check="late_filing") == [late]
    row = queue_row(officer, late)
    assert "Applied for after the import" in row
    assert (f"Applied for 6 days after the expected date of import ({today - timedelta(days=6):%m/%d/%Y}): "
            "the goods were imported before the license existed. No customs entry number was given: "
            "ask the filer for it.") in row
    # Filed on time, the import date since passed: not in the queue (the old check flagged it).
    assert queue(officer, check="transshipment") == []


def test_review_refresh_flags_late_filings_of_the_recent_window_only(signed_in, filer, query, app, officer):
    today = licensing.application_date()
    now = utcnow()

    def seed():
        return [
            # applied for 3 days after its import, 5 days ago, before the check existed
            add_license(filer.id, "ALATE00526", created=now - timedelta(days=5),
                        import_date=today - timedelta(days=8), entry_number="ABC-1234567-6"),
            # the same, 200 days ago: outside the 90-day window, history rather than work
            add_license(filer.id, "ALATE01125", created=now - timedelta(days=200),
                        import_date=today - timedelta(days=203)),
            # applied for before its import, which has long passed: nothing to act on
            add_license(filer.id, "AUSED00326", created=now - timedelta(days=60),
                        import_date=today - timedelta(days=31)),
            # late, but cancelled
            add_license(filer.id, "ACANC00526", status="cancelled", created=now - timedelta(days=5),
                        import_date=today - timedelta(days=8)),
        ]
    query(seed)
    result = app.test_cli_runner().invoke(args=["review-refresh"])
    assert result.exit_code == 0 and "1 licenses re-checked" in result.output, result.output
    assert state(query, "ALATE00526")["findings"] == ["late_filing"]
    assert state(query, "ALATE00526")["review_state"] == "flagged"
    for number in ("ALATE01125", "AUSED00326", "ACANC00526"):
        assert state(query, number)["findings"] == [] and state(query, number)["review_state"] is None
    assert queue(officer, check="late_filing") == ["ALATE00526"]
    assert "Check that customs entry ABC-1234567-6 quotes it." in queue_row(officer, "ALATE00526")
    # Run again: nothing more to do.
    assert "0 licenses re-checked" in app.test_cli_runner().invoke(args=["review-refresh"]).output


@pytest.mark.parametrize("app", [{"REVIEW_QUEUE_COUNT_LIMIT": 2}], indirect=True)
def test_the_queue_is_counted_and_paged_up_to_the_limit(signed_in, officer, query):
    flagged = [issue(signed_in, NO_SMELT) for _ in range(3)]
    page = text(officer.get("/review/"))
    assert "2+ licenses to review" in page
    assert "Counted up to 2 as the queue stands now; the pages show the 2 most serious." in page
    assert len(queue(officer)) == 2 and set(queue(officer)) < set(flagged)
    assert officer.get("/review/?page=2").status_code == 404  # no page beyond the counted ones
    # The same bound on the queue filtered by a check, alone and with another filter.
    assert "2+ licenses to review" in text(officer.get("/review/?check=primary_not_applicable"))
    assert len(queue(officer, check="primary_not_applicable")) == 2
    assert "2+ licenses to review" in text(officer.get("/review/?check=primary_not_applicable&country=CA"))
    # A filter that leaves fewer is counted exactly.
    narrow = text(officer.get("/review/", query_string={"check": "transshipment"}))
    assert "0 licenses to review" in narrow and "Counted up to" not in narrow


def seed_months(query, email, kg_by_months_back: dict[int, int], hts="7601103000"):
    query(lambda: add_monthly_volumes(email, kg_by_months_back, hts))


def test_surge_against_the_company_own_history(signed_in, query):
    seed_months(query, FILER, dict.fromkeys(range(1, 7), 4000))  # 4,000 kg a month for six months
    usual = issue(signed_in, PLAIN)  # 12,500 kg: 3.1 times the average, but ...
    assert state(query, usual)["findings"] == ["surge"]
    # ... a license counts with the others of the month: a second one is flagged too.
    second = issue(signed_in, ({**LINE, "line-quantity_kg": "100", "line-customs_value_usd": "310"},))
    assert state(query, second)["findings"] == ["surge"]


def test_no_surge_below_three_times_or_for_a_newcomer(signed_in, query, app):
    seed_months(query, FILER, dict.fromkeys(range(1, 7), 5000))  # 12,500 kg is 2.5 times
    assert state(query, issue(signed_in, PLAIN))["findings"] == []
    # A company that began last month has too little history to surge against.
    query(lambda: make_user("new@example.com"))
    newcomer = app.test_client()
    sign_in(newcomer, "new@example.com")
    seed_months(query, "new@example.com", {1: 1000})
    assert state(query, issue(newcomer, PLAIN))["findings"] == []


def test_three_modifications_are_flagged(signed_in, query):
    number = issue(signed_in, PLAIN)
    for kg in ("12,000", "11,000"):
        modify(signed_in, number, {**LINE, "line-quantity_kg": kg})
    assert state(query, number)["findings"] == []
    modify(signed_in, number, {**LINE, "line-quantity_kg": "10,000"})
    assert state(query, number)["findings"] == ["modifications"]


def test_a_check_that_fires_on_two_lines_lists_and_counts_the_license_once(signed_in, officer, query):
    number = issue(signed_in, TRANSSHIPPED * 2, VIETNAM)
    assert state(query, number)["findings"] == ["transshipment", "transshipment"]
    assert queue(officer, check="transshipment") == [number]
    assert "1 license to review" in text(officer.get("/review/?check=transshipment"))
    assert queue(officer, check="transshipment", country="VN") == [number]
