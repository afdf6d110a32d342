"""Logs for several servers behind a load balancer: one JSON object per line (python-json-logger),
each carrying the request id, and one line per request (method, path, status, duration, user).

The request id is the caller's X-Request-ID when it looks like one (the load balancer's, so its
log and ours join up), else a new one; every answer sends it back in X-Request-ID, and every log
line written while the request runs carries it. LOG_FORMAT picks "json" (production), "text"
(`make run`) or "none" (logging left as it is).
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect as sa_inspect

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller's id may look like: short, no spaces or quotes that could forge a log field.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"  # and "time": ISO 8601, UTC

log = logging.getLogger("aimweb.request")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(JSON_FIELDS, timestamp="time", rename_fields={"levelname": "level", "name": "logger"})


def configure_logging(log_format: str) -> None:
    """One handler on the root logger, replacing the one an earlier app of this process installed."""
    if log_format not in ("json", "text"):
        return
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "aimweb", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.aimweb = True
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    logging.getLogger("aimweb").setLevel(logging.INFO)


def request_id_from(header: str | None) -> str:
    if header and _WELL_FORMED.fullmatch(header):
        return header
    return uuid.uuid4().hex


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_FORMAT"])

    # create_app calls this before any extension registers its own: the id and the clock exist
    # for all the others (a rate limit's 429 is logged with its id too).
    @app.before_request
    def _start():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    def _user_id(user) -> int | None:
        # From the identity map's key: reading user.id after the request's last commit would
        # reload the expired row (one more SELECT on every page).
        state = sa_inspect(user, raiseerr=False) if user is not None else None
        return state.identity[0] if state is not None and state.identity else None

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id") or request_id_from(None)
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        # The user only when the request already loaded it: a health check must not hit the database.
        user = g.get("_login_user")
        log.info(
            "%s %s %s", request.method, request.path, response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,  # never the query string: it can hold an e-mail or a search
                "endpoint": request.endpoint,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "user_id": _user_id(user),
                "remote_addr": request.remote_addr,
            },
        )
        return response
