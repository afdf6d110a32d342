"""The officer loop through HTTP (issue 14, point 9): the filer answers Action Required with Modify
and a reply to the officer; the officer reads the reply with the before → after of the change on
the license page and in the queue ("Filer replied"); the officer's button is "Close Review", not a
second "Clear"; Previous/Next step through the queue with its filters, by keyset; every officer
page has a visible heading and the license number a Copy button."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta

import pytest
from conftest import make_user
from factories import add_license
from helpers import HEADER, HTMX, LINE, issue, officer_post, page_text, post, preview_form, text_of
from sqlalchemy import event, select

from aimweb import licensing
from aimweb.enums import EventKind, LicenseStatus, ReviewState
from aimweb.extensions import db
from aimweb.models import Finding, License, LicenseEvent

FILER = "filer@example.com"
OFFICER = "officer@example.com"
# Origin Vietnam, smelted and cast in China: possible transshipment, flagged.
TRANSSHIPPED = ({**LINE, "line-smelt_largest": "CN", "line-cast_country": "CN",
                 "line-hts_number": "7606.12.30.35"},)
VIETNAM = {**HEADER, "origin_country": "VN", "export_country": "VN"}
TO_CHINA = {**VIETNAM, "origin_country": "CN"}
MESSAGE = "Smelted and cast in China but the origin is Vietnam: please correct or confirm."
REPLY = "The mill certificate says China.\nOrigin corrected; the exporter stays in Vietnam."




markup = page_text


def text(response) -> str:
    return text_of(markup(response))




def flagged_then_action_required(signed_in, officer) -> str:
    number = issue(signed_in, TRANSSHIPPED, VIETNAM)
    response = officer_post(officer, f"/review/licenses/{number}/action-required", {"message": MESSAGE})
    assert response.status_code == 303
    return number


def modify_to_preview(client, number, header=TO_CHINA) -> str:
    """Modify License → change the header → certify → Preview: the draft's URL."""
    response = post(client, f"/licenses/{number}/modify", {})
    assert response.status_code == 302
    draft = response.headers["Location"]
    assert post(client, f"{draft}/preview", {**header, "certified": "y"}).status_code == 302
    return draft


def submit(client, draft, reply=None):
    data = preview_form(client, draft)
    if reply is not None:
        data["reply"] = reply
    return post(client, f"{draft}/submit", data)


def lic_state(query, number) -> tuple:
    return query(lambda: (lambda lic: (lic.status, lic.review_state, lic.origin_country))(
        db.session.scalar(select(License).where(License.number == number))))


def corrections(query, number) -> list[LicenseEvent]:
    def read():
        license_id = db.session.scalar(select(License.id).where(License.number == number))
        found = db.session.scalars(select(LicenseEvent).where(
            LicenseEvent.license_id == license_id, LicenseEvent.kind == EventKind.CORRECTED)).all()
        db.session.expunge_all()
        return found
    return query(read)


# ----- the filer's reply ----------------------------------------------------------------------------

def test_filer_replies_and_the_officer_reads_it_with_the_before_and_after(signed_in, officer, query):
    number = flagged_then_action_required(signed_in, officer)
    draft = modify_to_preview(signed_in, number)

    preview = markup(signed_in.get(f"{draft}/preview"))
    assert "Reply to the officer (optional)" in preview and MESSAGE in preview
    assert 'name="reply"' in preview and 'maxlength="2000"' in preview
    assert submit(signed_in, draft, REPLY).status_code == 303
    assert lic_state(query, number) == (LicenseStatus.CORRECTED, ReviewState.ANSWERED, "CN")
    stored, = corrections(query, number)
    assert stored.reply == REPLY
    change = stored.changes[0]
    assert (change["label"], change["before"], change["after"]) == ("Country of Origin", "Vietnam", "China")

    # The queue: Answered, "Filer replied", the start of the reply.
    queue = markup(officer.get("/review/"))
    start = queue.index('<tr id="q-')
    row = queue[start:queue.index("</tr>", start)]
    assert number in row and "Answered" in row and "Filer replied" in row
    assert "The mill certificate says China." in row

    # The officer's license page: the answer, the reply with its line break, before → after.
    page = officer.get(f"/review/licenses/{number}")
    body, shown = markup(page), text(page)
    assert "The filer’s answer" in shown and f"Commerce asked: “{MESSAGE}”" in shown
    assert REPLY in body  # its line break kept (shown by white-space: pre-line)
    answer = body[body.index('id="answer-heading"'):body.index("</section>", body.index('id="answer-heading"'))]
    assert re.search(r"Country of Origin</th>\s*<td[^>]*>Vietnam</td>\s*<td[^>]*>China</td>", answer)
    # The same in the panel the queue opens (htmx) and in the history and the audit trail.
    assert REPLY in markup(officer.get(f"/review/licenses/{number}", headers=HTMX))
    assert "Filer’s reply:" in body
    assert REPLY in markup(officer.get("/review/audit"))
    rows = list(csv.reader(io.StringIO(officer.get("/review/audit.csv").get_data(as_text=True).lstrip("\ufeff"))))
    corrected = next(r for r in rows if r[2] == "Corrected (by the filer)")
    assert corrected[7] == REPLY

    # The filer sees their reply in the license's history.
    history = text(signed_in.get(f"/licenses/{number}")).split(" History ")[1]
    assert "Reply to the officer: The mill certificate says China. Origin corrected" in history


def test_the_reply_is_optional_and_a_confirmation_without_change_says_so(signed_in, officer, query):
    number = flagged_then_action_required(signed_in, officer)
    draft = modify_to_preview(signed_in, number, header=VIETNAM)  # nothing changed
    assert submit(signed_in, draft).status_code == 303
    assert corrections(query, number)[0].reply is None
    shown = text(officer.get(f"/review/licenses/{number}"))
    assert "No reply written." in shown
    assert "Nothing: submitted again without a change, the filer confirms the license as it is." in shown
    assert "Filer replied" not in text(officer.get("/review/"))


def test_a_reply_longer_than_2000_characters_is_refused_and_kept_and_nothing_changes(signed_in, officer, query):
    number = flagged_then_action_required(signed_in, officer)
    draft = modify_to_preview(signed_in, number)
    too_long = "x" * 2001
    response = submit(signed_in, draft, too_long)
    assert response.status_code == 400
    body = markup(response)
    assert "The reply may have at most 2,000 characters; it has 2,001." in body
    assert f">{too_long}</textarea>" in body and 'aria-invalid="true"' in body
    assert lic_state(query, number) == (LicenseStatus.ACTION_REQUIRED, ReviewState.WAITING, "VN")
    assert corrections(query, number) == []
    # Spaces around the text and lines do not count; 2,000 characters are taken.
    assert submit(signed_in, draft, "  " + "y" * 2000 + "  \n\n\n").status_code == 303
    assert corrections(query, number)[0].reply == "y" * 2000


def test_the_reply_is_shown_as_text_never_as_markup(signed_in, officer, query):
    number = flagged_then_action_required(signed_in, officer)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
    assert submit(signed_in, modify_to_preview(signed_in, number), hostile).status_code == 303
    assert corrections(query, number)[0].reply == hostile
    for response in (officer.get(f"/review/licenses/{number}"), officer.get("/review/"),
                     officer.get("/review/audit"), signed_in.get(f"/licenses/{number}")):
        raw = response.get_data(as_text=True)
        assert "<script>alert" not in raw and "<img src=x" not in raw
        assert "&lt;script&gt;alert(" in raw


def test_no_reply_box_when_the_license_is_not_marked_action_required(signed_in):
    number = issue(signed_in)
    draft = modify_to_preview(signed_in, number, header=HEADER)
    assert 'name="reply"' not in signed_in.get(f"{draft}/preview").get_data(as_text=True)


def test_the_officer_button_is_close_review_and_cannot_be_read_as_clear_filters(signed_in, officer, query):
    number = issue(signed_in, TRANSSHIPPED, VIETNAM)
    page = markup(officer.get(f"/review/licenses/{number}"))
    buttons = re.findall(r"<button[^>]*>([^<]*)", page)
    assert "Close Review" in buttons and "Clear" not in buttons
    response = officer_post(officer, f"/review/licenses/{number}/clear", {"note": "Certificate checked."})
    shown = text(officer.get(response.headers["Location"]))
    assert f"Review of license {number} closed: no action needed." in shown and "Review closed" in shown
    assert lic_state(query, number)[1] == ReviewState.CLEARED  # the stored state is unchanged


# ----- Previous / Next through the queue ---------------------------------------------------------

T0 = datetime(2026, 5, 1, 12, 0)


@pytest.fixture
def queue_of_six(app, query):
    """Six licenses in the queue in a known order (answers first, then most serious, newest, higher
    id), and one waiting for its filer (not in the queue). Some come from Vietnam; some carry a
    transshipment finding."""
    def seed():
        user = make_user("many@example.com")
        rows = [  # name, state, score, created, origin, transshipment finding
            ("A2", ReviewState.ANSWERED, 1, T0, "CA", False),
            ("A1", ReviewState.ANSWERED, 5, T0, "VN", True),
            ("F2", ReviewState.FLAGGED, 9, T0, "VN", True),
            ("F1", ReviewState.FLAGGED, 9, T0 + timedelta(days=1), "CA", False),
            ("F3", ReviewState.FLAGGED, 3, T0 + timedelta(days=2), "VN", True),
            ("F4", ReviewState.FLAGGED, 3, T0 + timedelta(days=2), "CA", True),  # same key: higher id first
            ("W1", ReviewState.WAITING, 7, T0, "VN", True),
        ]
        numbers = {}
        for name, state, score, created, origin, transshipped in rows:
            number = f"A{name}XY0526"
            license_id = add_license(user.id, number, created=created)
            lic = db.session.get(License, license_id)
            lic.review_state, lic.review_score, lic.origin_country = state, score, origin
            if transshipped:
                db.session.add(Finding(license_id=license_id, check="transshipment", severity=2,
                                       reason="Possible transshipment.", queue_score=score,
                                       license_created_at=created,
                                       queue_state=state if state in ReviewState.QUEUED else None))
            numbers[name] = number
        db.session.commit()
        return numbers
    return query(seed)


def steps(client, number, **params) -> tuple[str | None, str | None, str]:
    """(previous, next, the query string Next carries) on the officer's license page."""
    body = client.get(f"/review/licenses/{number}", query_string=params).get_data(as_text=True)
    found = []
    for name in ("previous", "next"):
        m = re.search(rf'id="panel-{name}"[^>]*href="/review/licenses/(\w+)([^"]*)"', body)
        found.append(m)
    return (found[0] and found[0].group(1), found[1] and found[1].group(1),
            html.unescape(found[1].group(2)) if found[1] else "")


def walk(client, numbers, **params) -> list[tuple]:
    return [steps(client, n, **params)[:2] for n in numbers]


def queue_numbers(client, **params) -> list[str]:
    body = client.get("/review/", query_string=params).get_data(as_text=True)
    row_link = r'<tr id="q-\d+">\s*<th scope="row"[^>]*>\s*<a class="aim-number" href="/review/licenses/(\w+)'
    return re.findall(row_link, body)


def test_previous_and_next_follow_the_queue_order_to_both_ends(officer, queue_of_six):
    n = queue_of_six
    order = [n["A1"], n["A2"], n["F1"], n["F2"], n["F4"], n["F3"]]
    assert queue_numbers(officer) == order
    expected = list(zip([None, *order[:-1]], [*order[1:], None]))
    assert walk(officer, order) == expected
    first, last = text(officer.get(f"/review/licenses/{order[0]}")), text(officer.get(f"/review/licenses/{order[-1]}"))
    assert "First in the queue" in first and "Next › in the queue: " + order[1] in first
    assert "Last in the queue" in last and "‹ Previous in the queue: " + order[-2] in last


@pytest.mark.parametrize(("params", "names"), [
    ({"country": "VN"}, ["A1", "F2", "F3"]),                       # the license's own index
    ({"check": "transshipment"}, ["A1", "F2", "F4", "F3"]),        # the findings' index
    ({"check": "transshipment", "country": "CA"}, ["F4"]),         # both
])
def test_previous_and_next_keep_the_queue_filters(officer, queue_of_six, params, names):
    order = [queue_of_six[name] for name in names]
    assert queue_numbers(officer, **params) == order
    assert walk(officer, order, **params) == list(zip([None, *order[:-1]], [*order[1:], None]))
    # The links carry the filters (and the queue's rows too), so the next step keeps them.
    if len(order) > 1:
        assert steps(officer, order[0], **params)[2] == "?" + "&".join(f"{k}={v}" for k, v in params.items())
    queue_page = html.unescape(officer.get("/review/", query_string=params).get_data(as_text=True))
    assert f'href="/review/licenses/{order[0]}?' in queue_page
    # A filter nobody matches: nothing to step to.
    assert walk(officer, order[:1], **params, company="Nobody") == [(None, None)]


def test_steps_are_keyset_reads_without_offset(app, officer, queue_of_six):
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert steps(officer, queue_of_six["F2"], check="transshipment")[:2] == (
            queue_of_six["A1"], queue_of_six["F4"])
        assert steps(officer, queue_of_six["F1"])[:2] == (queue_of_six["A2"], queue_of_six["F2"])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # (SQLite's dialect writes "LIMIT ? OFFSET ?" for every limit, with an offset of 0.)
    skipping = [s for s, p in statements
                if "OFFSET" in s.upper() and not (isinstance(p, tuple | list) and p and p[-1] == 0)]
    assert statements and skipping == []


def test_a_license_out_of_the_queue_steps_to_the_queue_and_a_closed_review_moves_on(officer, queue_of_six):
    n = queue_of_six
    # Waiting for its filer: not in the queue; Next is the queue's first.
    assert steps(officer, n["W1"])[:2] == (None, n["A1"])
    # Close Review on A2: it leaves the queue, and its page steps on from where it was.
    response = officer_post(officer, f"/review/licenses/{n['A2']}/clear?country=CA", {"note": "Fine."})
    assert response.headers["Location"] == f"/review/licenses/{n['A2']}?country=CA&at=answered"
    page = officer.get(response.headers["Location"])
    assert steps(officer, n["A2"], country="CA", at="answered")[:2] == (None, n["F1"])
    assert f"/review/licenses/{n['F1']}?country=CA" in markup(page)
    assert queue_numbers(officer, country="CA") == [n["F1"], n["F4"]]
    # From the queue's panel (htmx): the same, and the steps load into the panel.
    response = officer_post(officer, f"/review/licenses/{n['F1']}/clear", {"note": "Fine."},
                            headers={**HTMX, "HX-Target": "review-panel", "HX-Current-URL": "http://localhost/review/"})
    body = markup(response)
    assert re.search(rf'id="panel-next"[^>]*href="/review/licenses/{n["F2"]}"[^>]*hx-get=', body)
    assert re.search(rf'id="panel-previous"[^>]*href="/review/licenses/{n["A1"]}"', body)


# ----- headings and Copy ---------------------------------------------------------------------------

def visible_h1(response) -> str:
    m = re.search(r"<h1(?![^>]*usa-sr-only)[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S)
    assert m, "no visible h1"
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(m.group(1))).split())


def test_every_officer_page_has_a_visible_heading(signed_in, officer):
    number = issue(signed_in, TRANSSHIPPED, VIETNAM)
    assert visible_h1(officer.get("/review/")) == "Review Queue"
    assert visible_h1(officer.get(f"/review/licenses/{number}")) == f"License {number}"
    assert visible_h1(officer.get("/review/audit")) == "Audit Trail"
    assert visible_h1(officer.get("/admin/sign-ins")) == "Sign-in Audit"
    # The panel inside the queue page keeps an h2 (the page has its h1).
    panel = officer.get(f"/review/licenses/{number}", headers={**HTMX, "HX-Current-URL": "http://localhost/review/"})
    assert "<h1" not in panel.get_data(as_text=True) and f"License {number}" in text(panel)


def test_the_officer_license_page_and_panel_have_a_copy_button(signed_in, officer):
    number = issue(signed_in, TRANSSHIPPED, VIETNAM)
    for headers in ({}, HTMX):
        response = officer.get(f"/review/licenses/{number}", headers=headers)
        assert f'data-copy="{number}"' in response.get_data(as_text=True)


def test_the_service_keeps_the_reply_tidy():
    assert licensing.clean_reply("  one  two \n\n\n\n three \x00 ") == "one two\n\nthree"
    assert licensing.clean_reply(" \n \t ") is None
    with pytest.raises(licensing.LicenseError):
        licensing.clean_reply("z" * 2001)
