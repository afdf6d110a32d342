"""Prometheus metrics: prometheus-flask-exporter times every request (a histogram labelled by
method, Flask endpoint and status; endpoint rather than path, so /licenses/<number> is one series,
not one per license), and a collector reads the job queue's depth when Prometheus scrapes.

Under gunicorn each worker is its own process: gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR, the
workers write their samples there, and a scrape of any worker adds them all up
(prometheus_client's multiprocess mode). Without it (flask run, tests), each app keeps its own
registry, so two apps of one process never clash over metric names.
"""
from __future__ import annotations

import ipaddress
import logging
import os

from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_flask_exporter import PrometheusMetrics
from sqlalchemy import func, select

from .. import jobs
from ..enums import MailStatus, UploadStatus
from ..extensions import db
from ..models import OutboxMessage, UploadBatch
from ..web.access import allowed_networks

EXTENSION = "aimweb_metrics"
log = logging.getLogger(__name__)


def queue_depth() -> dict[str, int]:
    """Work waiting: the job queue's pending jobs (the broker's count), and the rows behind them —
    mail in the outbox not sent yet, uploads queued or being checked or issued."""
    mail = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status.in_([MailStatus.PENDING, MailStatus.SENDING])))
    uploads = db.session.scalar(select(func.count()).select_from(UploadBatch).where(
        UploadBatch.status.in_(UploadStatus.WORKING)))
    return {"jobs": jobs.queue_depth(), "mail": mail or 0, "upload": uploads or 0}


class QueueDepthCollector:
    """aimweb_queue_depth{queue=...}: read at scrape time (a gauge set by workers would be stale)."""

    def __init__(self, depth=queue_depth):
        self.depth = depth

    def collect(self):
        gauge = GaugeMetricFamily("aimweb_queue_depth", "Jobs waiting in each queue", labels=["queue"])
        try:
            depth = self.depth()
        except Exception as error:  # noqa: BLE001 - database or broker down: the request metrics are still worth scraping
            db.session.rollback()
            log.warning("queue depth unavailable: %s", error)
            depth = {}
        for queue, count in sorted(depth.items()):
            gauge.add_metric([queue], count)
        yield gauge


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def init_app(app: Flask) -> None:
    for network in allowed_networks(app.config.get("METRICS_ALLOWED_NETWORKS")):
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as error:
            raise RuntimeError(f"AIMWEB_METRICS_ALLOWED_NETWORKS: {network!r} is not a network") from error
    registry = CollectorRegistry()
    exporter = PrometheusMetrics(app, path=None, group_by="endpoint", registry=registry,
                                 defaults_prefix="aimweb", excluded_paths=["^/metrics$"])
    app.extensions[EXTENSION] = {"registry": registry, "exporter": exporter}


def scrape(app: Flask) -> tuple[bytes, str]:
    """The text Prometheus reads: this process's (or all gunicorn workers') request metrics and the
    queue depth now."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        prometheus_multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(app.extensions[EXTENSION]["registry"])
    registry.register(QueueDepthCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
