"""PostgreSQL production settings: the pool from AIMWEB_DATABASE_POOL_SIZE / _MAX_OVERFLOW, and a
statement timeout that cuts a runaway statement of a web request (the user reads a 503 page, the
worker is free again) but not a job's (a full monitor rebuild runs long statements), and no parallel
query workers for a request."""
import os

import pytest
from sqlalchemy import text

from aimweb.extensions import db
from aimweb.web.access import public

pytestmark = pytest.mark.skipif(
    not os.environ.get("AIMWEB_TEST_DATABASE_URI", "").startswith("postgresql"),
    reason="PostgreSQL settings: run with AIMWEB_TEST_DATABASE_URI=postgresql+psycopg://…")


@pytest.mark.parametrize("app", [{"DATABASE_POOL_SIZE": 3, "DATABASE_MAX_OVERFLOW": 1}], indirect=True)
def test_pool_size_and_overflow_come_from_the_settings(app):
    with app.app_context():
        assert db.engine.pool.size() == 3
        assert db.engine.pool._max_overflow == 1


@pytest.mark.parametrize("app", [{"DATABASE_STATEMENT_TIMEOUT_MS": 200}], indirect=True)
def test_a_runaway_statement_of_a_request_is_cut_and_answered_503_but_a_jobs_is_not(app):
    @public
    def slow():
        db.session.execute(text("SELECT pg_sleep(2)"))
        return "finished"

    app.add_url_rule("/slow-for-test", "slow_for_test", slow)
    client = app.test_client()
    response = client.get("/slow-for-test")
    assert response.status_code == 503
    assert "took longer than the portal allows" in response.get_data(as_text=True)
    # The same pooled connection, now outside a request: the job setting (no limit) applies.
    with app.app_context():
        assert db.session.scalar(text("SHOW statement_timeout")) == "0"
        db.session.execute(text("SELECT pg_sleep(0.4)"))
        db.session.remove()
    # And back inside a request, the limit again (a quick page is not affected).
    with app.test_request_context():
        assert db.session.scalar(text("SHOW statement_timeout")) == "200ms"
        db.session.remove()


def test_a_request_s_queries_start_no_parallel_workers_but_a_job_s_may(app):
    """Starting parallel workers cost a request more than they saved (README, Configuration)."""
    with app.app_context():
        server_default = db.session.scalar(text("SELECT reset_val FROM pg_settings "
                                                "WHERE name = 'max_parallel_workers_per_gather'"))
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == server_default
        db.session.remove()
    with app.test_request_context():
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        db.session.remove()
    with app.app_context():   # the same pooled connection, back to the server's setting for a job
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == server_default
        db.session.remove()
