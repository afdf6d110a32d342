"""Readable error pages: no stack trace ever reaches a user."""
from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Page not found", "The page you asked for does not exist, or you do not have access to it."),
    405: ("Not allowed", "That action is not available here."),
    413: ("File too large", "The file is larger than this portal accepts. Split it into smaller files and try again."),
    429: ("Too many requests", "You have made too many requests in a short time. Please wait a minute and try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. Nothing was saved half-way. "
                                  "Please try again."),
    503: ("Taking too long", "This request took longer than the portal allows and was stopped. Nothing "
                             "was saved half-way. Narrow it (fewer licenses, a shorter date range) and try again."),
}
# PostgreSQL's query_canceled: a statement ran past DATABASE_STATEMENT_TIMEOUT_MS.
QUERY_CANCELED = "57014"


def _render(code: int, message: str | None = None, *, token_renewed: bool = False):
    title, default = MESSAGES.get(code, ("Error", "Something went wrong."))
    return render_template("errors/error.html", code=code, title=title, message=message or default,
                           token_renewed=token_renewed), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        if request.headers.get("HX-Request"):
            # The page stays as it is (htmx swaps nothing on an error): app.js shows this text and
            # puts the fresh token of this response's <meta name="csrf-token"> into the page.
            return _render(400, "For your security, this page's form had expired, so that last "
                                "step was not sent. Nothing you typed is lost: press the button "
                                "again.", token_renewed=True)
        return _render(
            400,
            "This form had been open too long or your session ended, so for your security it was "
            "not sent. Please go back, reload the page and submit again.",
        )

    @app.errorhandler(HTTPException)
    def _http(error):
        return _render(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error):
        app.logger.error("Unhandled error", exc_info=error)
        from .extensions import db

        db.session.rollback()
        if getattr(getattr(error, "orig", None), "sqlstate", None) == QUERY_CANCELED:
            return _render(503)
        return _render(500)
