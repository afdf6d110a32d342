"""The migration that replaces the "import date passed" check (b7e2c4a91d05), on data: its findings
go, each license's score loses them, a license they alone flagged leaves the queue, and the
findings left carry their license's place in the queue. On a SQLite file of its own (the test
database is shared by the session), up from the revision before and back down to nothing."""
from __future__ import annotations

from factories import add_license, make_user
from flask_migrate import downgrade, upgrade
from helpers import migrated_to
from sqlalchemy import text

from aimweb.extensions import db

BEFORE = "7a3c5e9d1b42"


def test_the_old_findings_go_and_the_queue_places_are_copied(tmp_path):
    with migrated_to(tmp_path):
        user = make_user()
        only, both, cleared = (add_license(user.id, n) for n in ("AONLY00126", "ABOTH00126", "ACLRD00126"))
        db.session.remove()
        downgrade(revision=BEFORE)
        old = text('INSERT INTO finding (license_id, "check", severity, reason, created_at) '
                   "VALUES (:license, :check, :severity, 'why', '2026-05-01')")
        for license_id, check, severity in [(only, "import_passed", 1), (both, "import_passed", 1),
                                            (both, "transshipment", 2), (cleared, "import_passed", 1)]:
            db.session.execute(old, {"license": license_id, "check": check, "severity": severity})
        place = text("UPDATE license SET review_state = :state, review_score = :score WHERE id = :id")
        for license_id, state, score in [(only, "flagged", 1), (both, "flagged", 3), (cleared, "cleared", 1)]:
            db.session.execute(place, {"id": license_id, "state": state, "score": score})
        db.session.commit()
        db.session.remove()

        upgrade()
        licenses = db.session.execute(text("SELECT number, review_state, review_score FROM license ORDER BY id")).all()
        findings = db.session.execute(text('SELECT license_id, "check", queue_state, queue_score, '
                                           "license_created_at IS NOT NULL FROM finding")).all()
        assert [tuple(row) for row in licenses] == [("AONLY00126", None, 0), ("ABOTH00126", "flagged", 2),
                                                    ("ACLRD00126", "cleared", 0)]
        assert [tuple(row) for row in findings] == [(both, "transshipment", "flagged", 2, 1)]
