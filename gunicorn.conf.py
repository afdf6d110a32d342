"""gunicorn's settings for aimweb: read by `gunicorn` started from this directory."""
import os
import shutil
import tempfile

wsgi_app = "wsgi:app"

# sync workers, one request at a time each: measured on PostgreSQL and SQLite at 1M licenses
# (bench/bench_prod_settings.py, README "Production settings"), 2 sync workers served the dashboard at
# 0.13-0.17x the floor's requests/s (SQLite 0.21x) against 0.08-0.12x (SQLite 0.13x) for gthread 2 x 4
# threads in the same runs, with a p99 two to five times shorter: the threads of a process wait for
# its GIL more than for the database. Workers: -w or WEB_CONCURRENCY (one per core at least; more
# when long requests such as a 50,000-license export, 8-13 s, must not take a core's worker away).
# Where the database is on another host, re-measure `--threads 4` (it fills network waits).
worker_class = "sync"

# Prometheus under gunicorn: every worker is a process of its own, so each writes its samples to
# files in PROMETHEUS_MULTIPROC_DIR and a scrape of any worker adds them all up (aimweb/ops/metrics.py).
# Set before any worker imports prometheus_client. A directory given in the environment is used
# (and emptied at start, as prometheus_client requires); otherwise a temporary one, removed at exit.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="aimweb-prometheus-")

# gunicorn's own messages (start, worker boots and deaths) in the app's format: one JSON object per
# line unless AIMWEB_LOG_FORMAT says otherwise. Its access log stays off: the app logs every request
# itself, with the request id (aimweb/web/requestlog.py).
if os.environ.get("AIMWEB_LOG_FORMAT", "json").strip('"') == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "WARNING", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        "formatters": {
            "json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": "%(levelname)s %(name)s %(message)s",
                     "timestamp": "time", "rename_fields": {"levelname": "level", "name": "logger"}},
        },
    }


def on_starting(server):
    # The master knows the real worker count (-w, WEB_CONCURRENCY, this file); the app does not.
    from aimweb import memory_rate_limit_warning

    warning = memory_rate_limit_warning(os.environ.get("AIMWEB_RATELIMIT_STORAGE_URI"), server.cfg.workers)
    if warning:
        server.log.warning(warning)
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):  # a previous run's samples would be added to this one's
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    # A dead worker's gauges go; its counters and histograms stay in the totals (prometheus_client).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
