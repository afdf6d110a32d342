"""Default settings; every one can be overridden by an AIMWEB_* environment variable."""
from datetime import timedelta
from typing import ClassVar


class Defaults:
    # Required outside debug/testing: create_app refuses to start without AIMWEB_SECRET_KEY.
    SECRET_KEY = None
    # Filled in by create_app with an absolute path under instance/ when left empty.
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {}
    # PostgreSQL (README "Deploying for real", measured by bench/bench_prod_settings.py): the
    # connections each process keeps (DATABASE_POOL_SIZE) and may open beyond them at a peak
    # (DATABASE_MAX_OVERFLOW); connections are opened when first needed, so a sync worker
    # (gunicorn.conf.py) holds one or two, a gthread worker one per thread. Set in
    # SQLALCHEMY_ENGINE_OPTIONS, pool_size and max_overflow there win.
    DATABASE_POOL_SIZE = 4       # room for `--threads 4` (gthread) where it is chosen
    DATABASE_MAX_OVERFLOW = 2    # a streamed export, the mail thread
    # PostgreSQL: a statement run for a web request is cancelled after this long (the request
    # answers 503 and the worker is free again). Measured at 1M licenses: the longest single
    # statement of a page was 0.37 s (a free-text search); the slowest request, the export of a
    # company's 50,000 licenses, streams for 12.5 s in statements under 0.1 s each. 30 s leaves room
    # for a whole 100,000-license export even as one statement, and is under gunicorn's --timeout.
    # 0: no limit. Jobs, the worker and `flask` commands run outside requests and get
    # DATABASE_JOB_STATEMENT_TIMEOUT_MS (0: no limit; a full monitor rebuild runs 2.3 s statements).
    DATABASE_STATEMENT_TIMEOUT_MS = 30_000
    DATABASE_JOB_STATEMENT_TIMEOUT_MS = 0
    # PostgreSQL: parallel workers per query of a web request (max_parallel_workers_per_gather).
    # 0: none. Starting them cost more than they saved on a request's queries (1M licenses, 2
    # cores: the review queue by HTS category 83 ms p95 with them, 21 ms without). Jobs and
    # commands keep the server's setting. None: the server's setting for requests too.
    DATABASE_REQUEST_PARALLEL_WORKERS = 0
    # PostgreSQL: plan_cache_mode of every connection. Statements stay prepared across requests
    # (aimweb/__init__.py, _end_reads_with_commit), and in "auto" mode PostgreSQL then keeps one
    # generic plan for a statement whose plans for the values at hand look dearer: a company's
    # licenses filtered by status and two months of import dates were planned for a company of
    # average size (500 licenses, an estimate of 1 row) and, for a company with 50,000, read 6,000
    # rows and sorted them: 10 ms of server CPU a page instead of 1.4 ms (1M seed). Companies and
    # statuses are far from average, so every run is planned for its values; a prepared statement
    # still saves the parsing. None: the server's setting.
    DATABASE_PLAN_CACHE_MODE = "force_custom_plan"

    # Mail: with no MAIL_SERVER, messages are printed to the console (development).
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "AIM Licensing <no-reply@aim.example.gov>"
    MAIL_TIMEOUT_SECONDS = 30
    # Mail goes through the outbox (aimweb/outbox.py): a failed attempt is retried after
    # MAIL_RETRY_SECONDS, doubling up to MAIL_RETRY_MAX_SECONDS, and given up after
    # MAIL_MAX_ATTEMPTS (about 4.5 hours of retries with these values).
    MAIL_MAX_ATTEMPTS = 15
    MAIL_RETRY_SECONDS = 30
    MAIL_RETRY_MAX_SECONDS = 1800
    # What happens once a request has committed mail: "queue" makes it a job of the worker
    # (aimweb/jobs.py); "thread" hands it to a delivery thread of the process; "inline" delivers it
    # before the answer leaves (tests); "none" leaves it all to the worker's mail sweep or to
    # `flask mail-deliver`.
    MAIL_KICK = "queue"
    # MAIL_SUPPRESS_SEND (true: no mail at all, not even on the console) is deliberately not set
    # here: unset, Flask-Mail turns it on under TESTING, and aimweb.mailer reads it as off.

    # Flask-Limiter: memory:// is per process; production uses redis://127.0.0.1:6379/0.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SIGN_IN = "20 per minute;200 per hour"
    RATELIMIT_CODES = "10 per minute;60 per hour"
    # Each API key (aimweb/api): a batch counts once, however many licenses it holds.
    API_RATE_LIMIT = "300 per minute;20000 per hour"

    # Operations (aimweb/ops, aimweb/web/requestlog.py). Logs: "json" (one object per line, with the
    # request id; production), "text" (the same fields for a person; `make run`) or "none" (leave
    # logging as Python sets it up).
    LOG_FORMAT = "json"
    # Who may read GET /metrics: a scraper sending "Authorization: Bearer <METRICS_TOKEN>", or a
    # client address inside one of METRICS_ALLOWED_NETWORKS (CIDRs). Neither set: nobody (404).
    METRICS_TOKEN = None
    METRICS_ALLOWED_NETWORKS: ClassVar[list] = []
    # GET /readyz gives the database and Redis this long each before answering 503.
    READYZ_TIMEOUT_SECONDS = 2

    # Session cookie: short idle lifetime, hard cap enforced by auth (see aimweb/security.py).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=1)
    # The idle lifetime is extended by re-sending the cookie at most this often (aimweb/security.py).
    SESSION_REFRESH_SECONDS = 60
    SESSION_ABSOLUTE_LIFETIME_SECONDS = 24 * 3600
    REMEMBER_COOKIE_DURATION = timedelta(days=0)

    WTF_CSRF_TIME_LIMIT = 3600
    # Excel uploads: files up to this size are checked inside the request; larger ones by a
    # background job whose progress the page shows. A job silent this long was cut off.
    UPLOAD_INLINE_MAX_BYTES = 64 * 1024
    UPLOAD_STALE_SECONDS = 120
    # A batch whose job stopped this many times (killed workers) ends Failed: nothing issued.
    UPLOAD_MAX_ATTEMPTS = 3

    # The job queue (aimweb/jobs.py): None: the SQLite file instance/queue.sqlite3 (make run);
    # "redis://host:6379/0" in production; "sqlite:////path"; "immediate": jobs run where they are
    # queued, no worker (tests). QUEUE_WORKERS: jobs a `flask worker` runs at once (threads).
    QUEUE_URL = None
    QUEUE_WORKERS = 2
    # The worker's schedule: crontab lines in UTC ("" turns a job off).
    QUEUE_MONITOR_REFRESH = "*/5 * * * *"   # every 5 minutes: the monitor months licenses changed
    QUEUE_REVIEW_REFRESH = "30 7 * * *"     # daily at 02:30 New York (EST): unit-value statistics
    QUEUE_MAIL_SWEEP = "* * * * *"          # due mail: retries, and mail a killed worker had not sent
    QUEUE_UPLOAD_SWEEP = "* * * * *"        # uploads whose job stopped: taken over, or ended Failed

    # The dashboard's count of a company's licenses per search is kept (per process) until any
    # license is issued or changes status, and at most this long; 0 counts on every page.
    DASHBOARD_COUNT_CACHE_SECONDS = 60
    # Where the dashboard's .xlsx export is spooled before it is sent; None: the system's temp dir.
    EXPORT_TMP_DIR = None

    # The officers' automatic checks (aimweb/checks.py).
    REVIEW_UNIT_VALUE_LIMIT = 5         # robust z-score: distance from the HTS median / (1.4826 x MAD)
    REVIEW_MIN_SAMPLE = 20              # licenses of an HTS number before the unit-value check fires
    REVIEW_SURGE_RATIO = 3              # a company's kg of an HTS this month vs its monthly average
    REVIEW_SURGE_MIN_KG = 10000
    REVIEW_SURGE_HISTORY_MONTHS = 6
    REVIEW_MODIFICATIONS_LIMIT = 3
    REVIEW_LATE_FILING_DAYS = 0         # days after the date of import a license may be applied for unflagged
    REVIEW_LATE_FILING_WINDOW_DAYS = 90  # review-refresh looks for unflagged late filings this far back
    REVIEW_LOW_VALUE_WINDOW_DAYS = 7    # a low-value license's entries this close together may be one shipment
    REVIEW_LOW_VALUE_MAX_USES = 5       # ... and more of them than this within the window are flagged
    REVIEW_QUEUE_COUNT_LIMIT = 1000     # the queue is counted ("1,000+") and paged this far

    # The public monitor's disclosure rules and surge highlight (aimweb/monitor/).
    MONITOR_MIN_COMPANIES = 3           # distinct filer companies a published figure needs
    MONITOR_MAX_SHARE = 0.8             # largest single company's share of a figure's value
    MONITOR_SURGE_RATIO = 1.5           # latest month vs the average of the six before
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024

    # One-time codes e-mailed for sign-up and password reset.
    CODE_TTL_SECONDS = 600
    CODE_MAX_ATTEMPTS = 5
    CODE_RESEND_INTERVAL_SECONDS = 60
    CODE_MAX_PER_HOUR = 5
    # Wrong codes typed for one address and purpose within an hour, over all its codes.
    CODE_MAX_WRONG_PER_HOUR = 10
    # Wrong passwords for one e-mail address from one client address: pause that address's tries
    # after this many, for this long. From all addresses together: pause every try after
    # SIGN_IN_ACCOUNT_MAX_FAILURES. Failures older than the window are forgotten.
    SIGN_IN_MAX_FAILURES = 5
    SIGN_IN_LOCK_SECONDS = 15 * 60
    SIGN_IN_ACCOUNT_MAX_FAILURES = 50
    SIGN_IN_FAILURE_WINDOW_SECONDS = 3600
    # A company administrator's invitation of a colleague (aimweb/members.py): how long its link
    # works, and how many a company may send in an hour.
    INVITATION_TTL_SECONDS = 7 * 24 * 3600
    INVITATIONS_PER_HOUR = 20
    # Named in the message a suspended user reads.
    SUPPORT_EMAIL = "aim-helpdesk@trade.example.gov"

    # Content-Security-Policy: no inline script anywhere.
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    # The covered-HTS catalogue loaded by `flask hts-load`; empty: instance/hts_catalogue.json
    # (the packaged December 2024 revision is used until one is loaded).
    HTS_CATALOGUE_FILE = None
    PREFERRED_URL_SCHEME = "http"
    # The portal's name in its frame (header, footer, page titles) and in the account mails; a
    # license's own pages and mails name its product's program (aimweb/products).
    PROGRAM_NAME = "Steel and Aluminum Import Licensing (SIMA and AIM)"
    PROGRAM_SHORT_NAME = "SIMA and AIM Licensing"   # page titles, a phone's header, mail subjects
    # Tests and demos only: run the clock on this day (YYYY-MM-DD; aimweb/clock.py). Never in production.
    PROGRAM_TODAY = None
