"""The readiness checks behind GET /readyz: each dependency a request needs, with a short timeout.

Each check opens its own connection (NullPool, a fresh Redis client) and closes it: the probe
proves a new worker could connect now, holds nothing between probes, and never waits behind the
app's pool. A load balancer probing every few seconds costs one connection each time.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)


def check_database(app: Flask, timeout: float) -> None:
    with _probe_engine(app, timeout).connect() as connection:
        connection.execute(text("SELECT 1"))


def _probe_engine(app: Flask, timeout: float) -> Engine:
    """An engine of its own (made once per app: making one costs more than the probe), no pool."""
    key = (app.config["SQLALCHEMY_DATABASE_URI"], timeout)
    engines = app.extensions.setdefault("aimweb_readiness_engines", {})
    if key not in engines:
        url = make_url(key[0])
        if url.get_backend_name() == "postgresql":
            connect_args = {"connect_timeout": max(1, round(timeout)),
                            "options": f"-c statement_timeout={int(timeout * 1000)}"}
        else:
            connect_args = {"timeout": timeout}
        engines[key] = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    return engines[key]


def redis_uris(app: Flask) -> list[str]:
    """The Redis servers requests rely on: the rate limits' storage (and, once it lands, the job
    queue's broker)."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or ""
    return [uri] if uri.startswith(("redis://", "rediss://", "unix://")) else []


def check_redis(app: Flask, timeout: float) -> None:
    for uri in redis_uris(app):
        client = redis.Redis.from_url(uri, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()


# name -> check(app, timeout): raises when the dependency does not answer. A new dependency adds one.
CHECKS: dict[str, Callable[[Flask, float], None]] = {"database": check_database, "redis": check_redis}


def failed_checks(app: Flask) -> list[str]:
    """The names of the checks that failed (the reason goes to the log, not to the caller)."""
    timeout = float(app.config["READYZ_TIMEOUT_SECONDS"])
    failed = []
    for name, check in CHECKS.items():
        try:
            check(app, timeout)
        except Exception as error:  # noqa: BLE001 - any failure means "not ready"; logged with its reason
            log.warning("readiness check %s failed: %s", name, error)
            failed.append(name)
    return failed
