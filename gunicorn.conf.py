"""gunicorn's settings for aimweb: read by `gunicorn` started from this directory."""
import os
import shutil
import tempfile

wsgi_app = "wsgi:app"

# gthread, 4 threads per worker: measured on PostgreSQL at 1M licenses (bench/bench_prod_settings.py,
# README "Deploying for real"), 2 x 4 threads served the dashboard at 0.23-0.58x the floor's
# requests/s against 0.12-0.25x for 2 sync workers (4 sync workers: 0.12-0.21x) in the same runs: a
# request waiting for PostgreSQL leaves the CPU to another thread. Workers: one per core (-w or
# WEB_CONCURRENCY); each thread holds one database connection (AIMWEB_DATABASE_POOL_SIZE, 4).
# `-k sync` or `--threads` on the command line override these.
worker_class = "gthread"
threads = 4

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
