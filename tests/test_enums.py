"""One status vocabulary: no status spelled out outside aimweb/enums.py, what each status allows,
and a refused change shown to the user as a message (never a 500)."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from factories import add_license
from helpers import HEADER, HTMX, LINE, issue, officer_post, page_text, post, row_html
from sqlalchemy import func, select

from aimweb import licensing, rules
from aimweb.enums import LABELS, EventKind, LicenseStatus, ReviewState, UploadStatus
from aimweb.extensions import db
from aimweb.models import License, LicenseEvent, User

ROOT = Path(__file__).resolve().parents[1]
OFFICER = "officer@example.com"
# Unalloyed unwrought aluminum with no smelt country (an officer check fires).
NO_SMELT = ({**LINE, "line-smelt_largest": "NA_"},)


def text(response) -> str:
    """What a person reads: the page without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))).split())





VOCABULARIES = (LicenseStatus, ReviewState, UploadStatus, EventKind)


def test_every_member_has_a_label():
    for vocabulary in VOCABULARIES:
        assert set(LABELS[vocabulary]) == set(vocabulary), vocabulary
        assert all(member.label for member in vocabulary)
    assert {kind.filer_label for kind in EventKind} and EventKind.ISSUED.filer_label == "Submitted (license issued)"
    # Stored as the plain strings the database always held: no data migration.
    assert [s.value for s in LicenseStatus] == ["draft", "submitted", "corrected", "action_required",
                                                 "cancelled", "applied"]
    assert LicenseStatus.CANCELLED == "cancelled" and f"{ReviewState.WAITING}" == "waiting"


# ----- what each status allows -------------------------------------------------------------------

S = LicenseStatus
# status: (can_modify, can_cancel, can_duplicate), written out rather than derived from the groups.
ALLOWED = {
    S.DRAFT: (False, False, False),
    S.SUBMITTED: (True, True, True),
    S.CORRECTED: (True, True, True),
    S.ACTION_REQUIRED: (True, True, True),
    S.CANCELLED: (False, False, True),
    S.APPLIED: (False, False, False),
}
EXPIRES = {S.SUBMITTED, S.CORRECTED, S.ACTION_REQUIRED}


@pytest.mark.parametrize("entry_type", ["consumption", "ftz"])
@pytest.mark.parametrize("status", list(LicenseStatus))
def test_what_each_status_allows_and_when_a_license_is_expired(status, entry_type):
    today = licensing.application_date()
    issued = today - timedelta(days=rules.VALIDITY_DAYS + 1)
    valid_from, last_day = rules.validity(issued, entry_type)
    lic = License(status=status, entry_type=entry_type, valid_from=valid_from, valid_through=last_day)
    assert (lic.can_modify, lic.can_cancel, lic.can_duplicate) == ALLOWED[status]
    # Past its last valid day: expired if in force and not a foreign-trade-zone admission.
    assert lic.is_expired(today) == (status in EXPIRES and entry_type == "consumption")
    # On its last valid day it is not expired yet.
    assert not lic.is_expired(today - timedelta(days=1))
    assert lic.status_label == status.label


def test_the_pages_offer_what_the_status_allows(app, signed_in, query):
    user_id = query(lambda: db.session.scalar(select(User.id)))
    today = licensing.application_date()
    for number, status in [("ASUBM0126", S.SUBMITTED), ("ACORR0126", S.CORRECTED),
                           ("AACTR0126", S.ACTION_REQUIRED), ("ACANC0126", S.CANCELLED)]:
        query(lambda number=number, status=status: add_license(
            user_id, number, status=status, valid_through=today - timedelta(days=1)))
        modify, cancel, duplicate = ALLOWED[status]
        page = page_text(signed_in.get(f"/licenses/{number}"))
        assert f">{status.label}<" in page
        assert ("Modify License</button>" in page) == modify, (number, page)
        assert ("Cancel License</a>" in page) == cancel, number
        assert ("Duplicate License</button>" in page) == duplicate, number
        assert (">Expired<" in page) == (status in EXPIRES), number
        assert ("This license is cancelled" in page) == (status == S.CANCELLED)
        row = row_html(signed_in.get("/licenses/"), number)
        assert ("Modify License" in row, "Cancel License" in row) == (modify, cancel), number
        assert (">Expired<" in row) == (status in EXPIRES), number


# ----- a refused change is a message ---------------------------------------------------------------

def events_of(query, number) -> list[str]:
    return query(lambda: [e.kind for e in db.session.scalars(
        select(LicenseEvent).join(License, License.id == LicenseEvent.license_id)
        .where(License.number == number).order_by(LicenseEvent.id))])


def test_modify_of_a_cancelled_license_is_refused_with_the_reason(signed_in, query):
    number = issue(signed_in)
    post(signed_in, f"/licenses/{number}/cancel", {})
    response = post(signed_in, f"/licenses/{number}/modify", {})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/licenses/{number}")
    page = page_text(signed_in.get(response.headers["Location"]))
    assert f"License {number} is cancelled: a cancelled license cannot be changed or restored." in page
    assert query(lambda: db.session.scalar(select(func.count()).select_from(License)
                                           .where(License.amends_id.is_not(None)))) == 0


def test_cancelling_twice_says_it_is_already_cancelled(signed_in, query):
    number = issue(signed_in)
    first = post(signed_in, f"/licenses/{number}/cancel", {})
    assert f"License {number} has been cancelled." in page_text(signed_in.get(first.headers["Location"]))
    again = post(signed_in, f"/licenses/{number}/cancel", {})
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/licenses/{number}")
    page = page_text(signed_in.get(again.headers["Location"]))
    assert f"License {number} is already cancelled." in page
    assert "has been cancelled" not in page  # not told a second time that it happened now
    # From a dashboard row left open in another tab: the row as it is now, no error page.
    row = post(signed_in, f"/licenses/{number}/cancel", {}, headers=HTMX)
    assert row.status_code == 200 and ">Cancelled<" in page_text(row) and "Modify License" not in page_text(row)
    assert events_of(query, number) == ["issued", "cancelled"]


def test_a_cancel_that_lost_the_race_is_refused_not_recorded_twice(app, signed_in, query):
    """Two requests read the license before either cancelled it: the second is refused by the
    conditional UPDATE, with the same message, and writes no second event."""
    number = issue(signed_in)
    with app.app_context():
        user = db.session.scalar(select(User))
        stale = db.session.scalar(select(License).where(License.number == number))
        assert stale.can_cancel
        db.session.execute(License.__table__.update().where(License.__table__.c.id == stale.id)
                           .values(status=LicenseStatus.CANCELLED))
        with pytest.raises(licensing.TransitionRefused, match=f"License {number} is already cancelled."):
            licensing.cancel_license(stale, user)
    assert events_of(query, number) == ["issued"]


def test_an_officer_action_on_a_cancelled_license_is_refused_with_the_reason(signed_in, officer, query):
    number = issue(signed_in, NO_SMELT)
    post(signed_in, f"/licenses/{number}/cancel", {})
    for path, data in [("action-required", {"message": "Confirm the smelt country."}),
                       ("clear", {"note": "Fine."})]:
        response = officer_post(officer, f"/review/licenses/{number}/{path}", data)
        assert response.status_code == 400, path
        assert f"License {number} is cancelled" in text(response), path
        inline = officer_post(officer, f"/review/licenses/{number}/{path}", data, headers=HTMX)
        assert inline.status_code == 200 and f"License {number} is cancelled" in text(inline), path
    assert events_of(query, number) == ["issued", "cancelled"]


def test_a_submitted_draft_can_no_longer_be_edited(signed_in, query):
    number = issue(signed_in)
    draft_id = query(lambda: db.session.scalar(select(License.id).where(License.number == number)))
    response = post(signed_in, f"/licenses/drafts/{draft_id}/lines", {**HEADER, "line-hts_number": "7601"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/licenses/{number}")
    with pytest.raises(licensing.TransitionRefused, match="has already been submitted"), \
            signed_in.application.app_context():
        licensing.save_draft_header(db.session.get(License, draft_id), {})
