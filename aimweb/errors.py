"""Readable error pages: no stack trace ever reaches a user."""
from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .web import problems

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
        if problems.is_api_request():
            return _api_problem(error)
        return _render(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error):
        app.logger.error("Unhandled error", exc_info=error)
        from .extensions import db

        db.session.rollback()
        canceled = getattr(getattr(error, "orig", None), "sqlstate", None) == QUERY_CANCELED
        if problems.is_api_request():
            return problems.for_status(503 if canceled else 500)
        return _render(503 if canceled else 500)


def _api_problem(error: HTTPException):
    """The JSON API's errors as problem details (RFC 9457), never an HTML page."""
    code = error.code or 500
    if code == 429:
        return problems.problem("rate-limited", "This API key made too many requests: wait and retry.",
                                headers={"Retry-After": str(_retry_after())})
    if code == 422 and isinstance(getattr(error, "data", None), dict):  # flask-smorest's parser
        return problems.problem("invalid-request", errors=_schema_errors(error.data.get("messages") or {}))
    headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
    if code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="aimweb"'
    return problems.for_status(code, getattr(error, "description", None) if code == 401 else None, headers)


def _retry_after() -> int:
    import time

    from .extensions import limiter

    limit = limiter.current_limit
    return max(1, int((limit.reset_at if limit else time.time() + 60) - time.time()))


def _schema_errors(messages: dict, trail: tuple = ()) -> list[dict]:
    """webargs' nested {"json": {"lines": {0: {"hts_number": ["..."]}}}} as a flat list of field
    problems with a JSON pointer each."""
    found = []
    for key, value in messages.items():
        path = trail if not trail and key in ("json", "query", "headers") else (*trail, key)
        if isinstance(value, dict):
            found += _schema_errors(value, path)
        else:
            for message in value if isinstance(value, list) else [value]:
                names = [str(p) for p in path]
                found.append({"field": next((n for n in reversed(names) if not n.isdigit()), ""),
                              "pointer": "/" + "/".join(names), "message": str(message)})
    return found
