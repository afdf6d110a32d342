"""The aimweb application factory."""
from __future__ import annotations

import logging
import os
import secrets

from flask import Flask, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import products
from .config import Defaults
from .extensions import csrf, db, htmx, limiter, login_manager, mail, migrate
from .web.bounds import init_app as init_bounds
from .web.requestlog import init_app as init_request_log


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("AIMWEB")
    if test_config:
        # Last, so a test never runs against a database named in the environment.
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    # Logging and the request id first, so every later hook and extension logs with the id.
    init_request_log(app)
    from .ops import init_app as init_ops

    init_ops(app)  # /healthz, /readyz, /metrics; the request-latency histogram times what follows
    _check_secret_key(app)
    warning = memory_rate_limit_warning(app.config.get("RATELIMIT_STORAGE_URI"),
                                        os.environ.get("WEB_CONCURRENCY"))
    if warning:
        logging.getLogger(__name__).warning(warning)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "aimweb.sqlite3"
        )

    _pool_options(app)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            event.listen(db.engine, "checkout", _statement_timeout(app))
            event.listen(db.engine, "connect", _plan_cache_mode(app))
            _end_reads_with_commit(app)
    # No batch mode: on SQLite it rebuilds a table by copying it, which the license table's
    # foreign keys forbid; autogenerate writes plain op.add_column/op.create_index instead.
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=False
    )
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    # After htmx's request class, before any route: ids an INTEGER column holds (2^31 - 1), no NUL in text.
    init_bounds(app)

    from . import formatting, models  # noqa: F401  (models registers the tables with the metadata)
    from .account import bp as account_bp
    from .admin import bp as admin_bp
    from .api import init_app as init_api
    from .auth import bp as auth_bp
    from .bulk import bp as bulk_bp
    from .cli import register_cli
    from .errors import register_error_handlers
    from .jobs import init_app as init_jobs
    from .licenses import bp as licenses_bp
    from .main import bp as main_bp
    from .monitor import bp as monitor_bp
    from .outbox import init_app as init_outbox
    from .reference.cli import register_reference_cli
    from .review import bp as review_bp
    from .security import register_security
    from .web.access import public

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(licenses_bp)
    app.register_blueprint(bulk_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(monitor_bp)
    app.register_blueprint(admin_bp)
    init_api(app)
    formatting.register(app)
    app.view_functions["static"] = public(app.view_functions["static"])
    register_security(app)
    register_error_handlers(app)
    register_cli(app)
    register_reference_cli(app)
    init_outbox(app)
    init_jobs(app)  # last: every module that declares a job is imported by now

    @app.context_processor
    def _program():
        return {"program_name": app.config["PROGRAM_NAME"],
                "program_short_name": app.config["PROGRAM_SHORT_NAME"],
                "all_products": list(products.PRODUCTS.values()), "product_of": products.get}

    register_vocabularies(app)
    return app


def memory_rate_limit_warning(storage_uri: str | None, workers) -> str | None:
    """The start-up warning when rate limits live in each worker's memory and several workers
    serve: every worker counts alone, so each limit is multiplied by the number of workers.
    Called by create_app (WEB_CONCURRENCY) and by gunicorn.conf.py (gunicorn's worker count)."""
    try:
        workers = int(workers or 1)
    except ValueError:
        workers = 1
    if workers <= 1 or not (storage_uri or "memory://").startswith("memory://"):
        return None
    return (
        f"\n{'!' * 78}\nRATE LIMITS ARE PER WORKER: {workers} workers serve with "
        "AIMWEB_RATELIMIT_STORAGE_URI unset (memory://),\nso every limit (sign-in, codes) is "
        f"{workers} times what it says. Set AIMWEB_RATELIMIT_STORAGE_URI=redis://HOST:6379/0.\n"
        f"{'!' * 78}"
    )


def register_vocabularies(app: Flask) -> None:
    """Templates compare with the enums (aimweb.enums), never with a spelled-out status; their
    url_for keeps the URLs it has built (aimweb/web/urls.py)."""
    from .enums import Action, EventKind, LicenseStatus, ReviewState, UploadStatus
    from .products.base import ENTRY_FIELDS, HEADER, HEADER_FIELDS, SHIPMENT_FIELDS
    from .web.urls import url_for

    app.jinja_env.globals.update(Action=Action, EventKind=EventKind, LicenseStatus=LicenseStatus,
                                 ReviewState=ReviewState, UploadStatus=UploadStatus, url_for=url_for,
                                 HEADER=HEADER, HEADER_FIELDS=HEADER_FIELDS, ENTRY_FIELDS=ENTRY_FIELDS,
                                 SHIPMENT_FIELDS=SHIPMENT_FIELDS)


def _check_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        logging.getLogger(__name__).warning("No AIMWEB_SECRET_KEY set: using a throwaway key.")
        return
    raise RuntimeError(
        "AIMWEB_SECRET_KEY is not set. Set it to a long random value "
        "(python -c 'import secrets; print(secrets.token_hex(32))') before starting aimweb."
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # WAL and a busy timeout keep several gunicorn workers from hitting "database is locked".
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _pool_options(app: Flask) -> None:
    """DATABASE_POOL_SIZE and DATABASE_MAX_OVERFLOW into the engine options (PostgreSQL; SQLite
    keeps SQLAlchemy's own pool choice), unless SQLALCHEMY_ENGINE_OPTIONS names them itself."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        options.setdefault("pool_size", int(app.config["DATABASE_POOL_SIZE"]))
        options.setdefault("max_overflow", int(app.config["DATABASE_MAX_OVERFLOW"]))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Session, "after_flush")
def _flushed(session, flush_context):
    session.info["wrote"] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state):
    if not state.is_select:  # an INSERT, UPDATE or DELETE, or any text(): counted as a write
        state.session.info["wrote"] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _ended(session):
    session.info.pop("wrote", None)


def _end_reads_with_commit(app: Flask) -> None:
    """End a transaction that wrote nothing with COMMIT, not ROLLBACK (PostgreSQL).

    psycopg prepares a statement on its fifth run on a connection, and forgets every prepared
    statement at a ROLLBACK (a rolled-back transaction may have dropped what they use). Flask-
    SQLAlchemy ends each request's session by rolling back, so a page's statements were parsed and
    planned again on every request, and DEALLOCATE sent at the end of it. For a transaction that
    wrote nothing, COMMIT and ROLLBACK are the same; this commits when the session flushed nothing,
    executed nothing but SELECTs (the listeners above: every write of this app is a flush or a
    session.execute; `session.connection().execute` serves only the dashboard's reads, which
    tests/test_architecture.py holds) and has nothing pending, and leaves every other case, and
    any request that raised, to the rollback as before. The same for jobs and commands (any app
    context). Runs before Flask-SQLAlchemy's own teardown (Flask calls teardowns last registered
    first). Session events, not the engine's: an engine listener on every statement cost a web
    worker more CPU than the prepared statements saved (bench/results/2026-12-02-postgres-prepared.md)."""

    @app.teardown_appcontext
    def _commit_reads(error):
        if error is not None or not db.session.registry.has():
            return
        session = db.session()
        if (not session.in_transaction() or session.info.get("wrote")
                or session.new or session.dirty or session.deleted):
            return
        session.expire_on_commit = False  # the session ends here: objects read stay readable
        try:
            session.commit()
        except SQLAlchemyError:  # e.g. the connection was lost: nothing was written to keep
            logging.getLogger(__name__).warning("ending a read-only transaction failed", exc_info=True)
            session.rollback()


def _plan_cache_mode(app: Flask):
    """A connect listener: the connection's plan_cache_mode is DATABASE_PLAN_CACHE_MODE (config.py
    says why), set once when it opens."""
    mode = app.config.get("DATABASE_PLAN_CACHE_MODE")

    def connect(dbapi_connection, connection_record):
        if mode in (None, ""):
            return
        if mode not in ("auto", "force_custom_plan", "force_generic_plan"):
            raise ValueError(f"DATABASE_PLAN_CACHE_MODE must be auto, force_custom_plan or "
                             f"force_generic_plan, not {mode!r}")
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET plan_cache_mode = {mode}")
        dbapi_connection.commit()

    return connect


def _statement_timeout(app: Flask):
    """A pool checkout listener: the connection's statement_timeout is DATABASE_STATEMENT_TIMEOUT_MS
    inside a request and DATABASE_JOB_STATEMENT_TIMEOUT_MS outside (jobs, the worker, commands);
    inside a request, parallel query workers are DATABASE_REQUEST_PARALLEL_WORKERS.
    Set once per connection and again only when it moves between the two, so a web worker's
    requests run no extra statement."""

    def checkout(dbapi_connection, connection_record, connection_proxy):
        request = has_request_context()
        setting = "DATABASE_STATEMENT_TIMEOUT_MS" if request else "DATABASE_JOB_STATEMENT_TIMEOUT_MS"
        milliseconds = max(0, int(app.config[setting] or 0))
        workers = app.config.get("DATABASE_REQUEST_PARALLEL_WORKERS") if request else None
        workers = None if workers in (None, "") else max(0, int(workers))
        wanted = (milliseconds, workers)
        if connection_record.info.get("session_settings") != wanted:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {milliseconds}")
                if workers is None:
                    cursor.execute("RESET max_parallel_workers_per_gather")
                else:
                    cursor.execute(f"SET max_parallel_workers_per_gather = {workers}")
            dbapi_connection.commit()  # a SET in a transaction rolled back at check-in would be undone
            connection_record.info["session_settings"] = wanted

    return checkout
