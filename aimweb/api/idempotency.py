"""Safe retries: a POST with an Idempotency-Key answers a repeat with the first answer (same body)
or 409 (another body); the records are kept by aimweb.apikeys."""
from __future__ import annotations

import hashlib
from functools import wraps

from flask import g, make_response, request

from .. import apikeys
from ..web.problems import problem


def idempotent(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > apikeys.IDEMPOTENCY_KEY_MAX or "\x00" in key:
            return problem("bad-request", f"Idempotency-Key must be 1 to {apikeys.IDEMPOTENCY_KEY_MAX} "
                                          "characters.")
        digest = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.get_data()).hexdigest()
        record = apikeys.begin_request(g.api_key.id, key, digest)
        if record == "reused":
            return problem("idempotency-key-reused", "This Idempotency-Key was sent before with another "
                                                     "request: use a new key for a new request.")
        if record == "in-progress":
            return problem("idempotency-key-in-progress", "The first request with this Idempotency-Key "
                                                          "has not answered yet: retry in a moment.",
                           headers={"Retry-After": "1"})
        if record.status_code:
            response = make_response(record.body, record.status_code)
            response.content_type = record.content_type
            response.headers["Idempotent-Replayed"] = "true"
            return response
        record_id = record.id
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            apikeys.abandon_request(record_id)
            raise
        if response.status_code >= 500 or response.status_code == 429:
            apikeys.abandon_request(record_id)
        else:
            apikeys.finish_request(record_id, response.status_code, response.get_data(as_text=True),
                                   response.content_type)
        return response

    return wrapped
