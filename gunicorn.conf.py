"""gunicorn's settings for aimweb: read by `gunicorn` started from this directory."""
import os

wsgi_app = "wsgi:app"


def on_starting(server):
    # The master knows the real worker count (-w, WEB_CONCURRENCY, this file); the app does not.
    from aimweb import memory_rate_limit_warning

    warning = memory_rate_limit_warning(os.environ.get("AIMWEB_RATELIMIT_STORAGE_URI"), server.cfg.workers)
    if warning:
        server.log.warning(warning)
