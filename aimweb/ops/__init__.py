"""What a load balancer and Prometheus ask the app: GET /healthz (the process answers), GET /readyz
(its database and Redis answer too) and GET /metrics (prometheus-flask-exporter's request
latency by endpoint, and the job queue's depth)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..enums import Health
from ..web.access import internal, public
from .metrics import init_app as init_metrics
from .metrics import scrape
from .readiness import failed_checks

bp = Blueprint("ops", __name__)

__all__ = ["bp", "init_app"]


def init_app(app) -> None:
    init_metrics(app)
    app.register_blueprint(bp)


@bp.get("/healthz")
@public
def healthz():
    """The process is up and answering: no database, no session, nothing to fail but the process."""
    return jsonify(status=Health.OK)


@bp.get("/readyz")
@public
def readyz():
    """Ready for traffic: the database and Redis answer within READYZ_TIMEOUT_SECONDS each. 503
    with what failed otherwise (names only: no addresses, no error text that could hold a secret)."""
    failed = failed_checks(current_app._get_current_object())
    if failed:
        return jsonify(status=Health.UNAVAILABLE, failed=failed), 503
    return jsonify(status=Health.OK)


@bp.get("/metrics")
@internal
def metrics():
    body, content_type = scrape(current_app._get_current_object())
    return current_app.response_class(body, content_type=content_type)
