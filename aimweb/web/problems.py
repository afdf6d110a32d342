"""RFC 9457 problem details (application/problem+json): how the JSON API says what went wrong.

Each kind of problem has a stable `type` URI (PROBLEM_BASE + slug) that a client may switch on: a
reference relative to the API's own host (RFC 9457 allows it), the same on every deployment, which
opens its row of the API's reference page;
`title` is the same for every occurrence of the type, `detail` says what happened this time, and
validation problems list `errors` with each one's field (and line, and item of a batch).
"""
from __future__ import annotations

import json

from flask import Response, request

PROBLEM_BASE = "/api/v1/problems/"
CONTENT_TYPE = "application/problem+json"

# slug -> (status, title): the stable catalogue (the README lists it).
TYPES = {
    "bad-request": (400, "The request could not be read"),
    "unauthorized": (401, "An API key is required"),
    "forbidden": (403, "This key may not do that"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "idempotency-key-reused": (409, "This Idempotency-Key was used for another request"),
    "idempotency-key-in-progress": (409, "A request with this Idempotency-Key is still being processed"),
    "action-not-allowed": (409, "The license's status does not allow this"),
    "too-large": (413, "The request is too large"),
    "unsupported-media-type": (415, "Send JSON"),
    "invalid-request": (422, "The request does not match the API's schema"),
    "license-invalid": (422, "The license has problems"),
    "batch-invalid": (422, "Licenses in the batch have problems: none was issued"),
    "search-invalid": (422, "The search has problems"),
    "party-invalid": (422, "The address book entry has problems"),
    "rate-limited": (429, "Too many requests"),
    "server-error": (500, "Something went wrong on our side"),
    "timed-out": (503, "The request took too long"),
}
BY_STATUS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
             405: "method-not-allowed", 409: "action-not-allowed", 413: "too-large",
             415: "unsupported-media-type", 422: "invalid-request", 429: "rate-limited", 500: "server-error",
             503: "timed-out"}


def problem(slug: str, detail: str | None = None, *, errors: list[dict] | None = None,
            headers: dict | None = None, status: int | None = None) -> Response:
    code, title = TYPES[slug]
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status or code,
            "detail": detail or title, "instance": request.path}
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status or code, mimetype=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def for_status(status: int, detail: str | None = None, headers: dict | None = None) -> Response:
    slug = BY_STATUS.get(status)
    if slug is None:
        slug = "server-error" if status >= 500 else "bad-request"
        return problem(slug, detail, headers=headers, status=status)
    return problem(slug, detail, headers=headers)


def is_api_request() -> bool:
    return request.path.startswith("/api/")
