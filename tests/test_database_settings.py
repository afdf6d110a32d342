"""PostgreSQL production settings: the pool from AIMWEB_DATABASE_POOL_SIZE / _MAX_OVERFLOW, and a
statement timeout that cuts a runaway statement of a web request (the user reads a 503 page, the
worker is free again) but not a job's (a full monitor rebuild runs long statements), and no parallel
query workers for a request."""
import os

import pytest
from conftest import add_user
from helpers import sign_in
from sqlalchemy import select, text

from aimweb.extensions import db
from aimweb.models import Company
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


# ----- a transaction that wrote nothing ends with COMMIT, and keeps its prepared statements -----------

def _company(name: str) -> Company:
    return Company(name=name, company_type="Importer", street="1 Water St", city="Mobile", state="AL",
                   zip_code="36602", phone="251-555-0100", contact_first_name="Ann", contact_last_name="Lee",
                   email="ann@example.com")


def test_what_a_request_did_not_commit_is_never_saved(app):
    """Reads end with COMMIT instead of ROLLBACK (aimweb/__init__.py, _end_reads_with_commit), so
    everything else must still be rolled back: a row flushed but not committed, a row added but not
    flushed, and a row flushed by a request that then failed."""
    @public
    def flushed():
        db.session.add(_company("Flushed LLC"))
        db.session.flush()
        return "flushed"

    @public
    def pending():
        db.session.add(_company("Pending LLC"))
        return "pending"

    @public
    def failed():
        db.session.add(_company("Failed LLC"))
        db.session.flush()
        raise RuntimeError("after the flush")

    @public
    def changed():
        db.session.scalar(select(Company).filter_by(name="Saved LLC")).name = "Renamed LLC"
        return "changed"

    for view in (flushed, pending, failed, changed):
        app.add_url_rule(f"/{view.__name__}-for-test", f"{view.__name__}_for_test", view)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        db.session.add(_company("Saved LLC"))
        db.session.commit()
    client = app.test_client()
    assert [client.get(f"/{name}-for-test").status_code for name in ("flushed", "pending", "failed", "changed")] == [
        200, 200, 500, 200]
    with app.app_context():
        assert db.session.scalars(select(Company.name)).all() == ["Saved LLC"]


def test_a_page_s_statements_stay_prepared_from_one_request_to_the_next(app, client):
    """psycopg prepares a statement on its fifth run on a connection and forgets them all at a
    ROLLBACK: the dashboard's statements are prepared once, not parsed and planned on every view."""
    add_user(app)
    sign_in(client)
    for _ in range(7):
        assert client.get("/licenses/").status_code == 200
    with app.app_context():
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any(s.startswith("SELECT license.id, license.number") for s in prepared), prepared


# ----- every statement with parameters planned for its values; the dashboard's with none, once -------

def test_statements_are_planned_for_their_values_unless_the_setting_says_otherwise(app):
    """A generic plan made for a company of average size read a large company's filtered licenses
    seven times slower (config.py, DATABASE_PLAN_CACHE_MODE)."""
    with app.app_context():
        assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
        db.session.remove()


@pytest.mark.parametrize("app", [{"DATABASE_PLAN_CACHE_MODE": None}], indirect=True)
def test_without_the_setting_the_server_s_plan_cache_mode_applies(app):
    with app.app_context():
        server_default = db.session.scalar(text("SELECT reset_val FROM pg_settings WHERE name = 'plan_cache_mode'"))
        assert db.session.scalar(text("SHOW plan_cache_mode")) == server_default
        db.session.remove()


def test_the_dashboard_list_is_planned_once_per_search_not_at_every_view(app, client):
    """The company, statuses, page size and offset are written into the list's statement, so it has
    no parameters: prepared, it keeps its one plan (made for this company) instead of being planned
    at every view; a filtered list too, for its own values."""
    add_user(app)
    sign_in(client)
    for _ in range(8):
        assert client.get("/licenses/").status_code == 200
        assert client.get("/licenses/?status=submitted&import_from=2026-01-01&import_to=2026-03-31").status_code == 200
    with app.app_context():
        lists = db.session.execute(text(
            "SELECT statement, generic_plans, custom_plans, parameter_types FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT license.id, license.number%'")).all()
    assert len(lists) == 2, lists
    for statement, generic, custom, parameters in lists:
        assert parameters == [] and custom == 0 and generic >= 3, (statement, generic, custom, parameters)
