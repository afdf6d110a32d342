"""The JSON API for brokers' software, /api/v1 (issue 18).

Built with flask-smorest: the routes' marshmallow schemas and docstrings make the OpenAPI 3.1
document (/api/v1/openapi.json) and the reference page (/api/v1/docs); nothing is written by hand.
Requests authenticate with an API key (access.py) and are rate limited per key; errors are problem
details (aimweb/web/problems.py); every change goes through aimweb.licensing.
"""
from __future__ import annotations

import http

from flask import Flask, abort, current_app, redirect, render_template, url_for
from flask_smorest import Api, Blueprint

from ..extensions import csrf, limiter
from ..security import token_digest
from ..web.access import public
from ..web.problems import CONTENT_TYPE, PROBLEM_BASE, TYPES

API_VERSION = "1.0"


class ProblemApi(Api):
    """flask-smorest with problem details: its error schema is ours, and it registers no error
    handler of its own (aimweb/errors.py answers the API's errors, and only the API's, as problems)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        from .schemas import Problem

        for status in (401, 403, 404, 409, 422, 429):
            phrase = http.HTTPStatus(status)
            slugs = ", ".join(slug for slug, (code, _t) in TYPES.items() if code == status)
            self.spec.components.response(phrase.name, {
                "description": f"{phrase.phrase} (problem types: {slugs})",
                "content": {CONTENT_TYPE: {"schema": Problem}}})


api = ProblemApi()
bp = Blueprint("api", __name__, url_prefix="/api/v1",
               description="Check, submit, list, modify, duplicate and cancel licenses; reference data.")


def rate_limit_key() -> str:
    """Per API key (its digest: the limit is counted before the key is looked up); without one,
    per client address."""
    from flask import request

    from .access import bearer_token

    token = bearer_token()
    return "api-key:" + token_digest(token)[:32] if token else "api-addr:" + (request.remote_addr or "")


# Once, here: the limiter and the blueprint are module-level, and every create_app would add one more.
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(bp)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "aimweb license API")
    app.config.setdefault("API_VERSION", API_VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "The JSON API of the import license portal, for brokers' software. "
                                "Authenticate with an API key made on your account page: "
                                "`Authorization: Bearer aim_…`. Errors are RFC 9457 problem details."},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
    })
    api.init_app(app)
    api.spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer",
                                                   "description": "An API key from the account page"})
    from . import views  # noqa: F401  (the routes)

    api.register_blueprint(bp)
    csrf.exempt(bp)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api-docs."):
            app.view_functions[endpoint] = public(view)
    app.add_url_rule("/api/v1/docs", "api_reference", public(reference))
    app.add_url_rule(PROBLEM_BASE + "<slug>", "api_problem_type", public(problem_type))


def problem_type(slug: str):
    """A problem's `type`, dereferenced: its row of the reference page."""
    if slug not in TYPES:
        abort(404)
    return redirect(url_for("api_reference", _anchor=f"problem-{slug}"))


def reference():
    """The API's reference page, made from the OpenAPI document (nothing written by hand)."""
    return render_template("api/reference.html", spec=api.spec.to_dict(), problem_types=TYPES,
                           problem_base=PROBLEM_BASE)
