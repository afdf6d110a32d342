"""Who may use the JSON API, decided in one place.

Requests carry an API key ("Authorization: Bearer aim_…"); the user is loaded from the key alone,
never from the session cookie (so a browser's cookie can't be replayed at the API: no CSRF hole).
Every permission of the API is one of the functions below, on the company roles (administrator,
filer, viewer: User.can_file) as the HTML pages decide them.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, g, request

from .. import apikeys
from ..models import User
from ..web.access import declare


def can_read(user: User) -> bool:
    """Read the company's licenses, PDFs and reference data."""
    return user.company_id is not None and not user.is_officer


def can_write(user: User) -> bool:
    """Check, submit, modify, duplicate and cancel the company's licenses."""
    return can_read(user) and user.can_file


def can_manage_keys(user: User) -> bool:
    """Make and revoke one's API keys (on the account page): an administrator or a filer; a
    viewer's key would only read what the viewer reads on the pages, so none is needed."""
    return can_write(user)


def bearer_token() -> str | None:
    sent = request.headers.get("Authorization", "")
    scheme, _, token = sent.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def api_key_required(write: bool = False):
    """The view needs a usable API key (401 otherwise) whose user may read, or write (403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = bearer_token()
            key = apikeys.authenticate(token) if token else None
            if key is None:
                abort(401, "Send a valid API key: “Authorization: Bearer aim_…”. Keys are made on "
                           "your account page.")
            if not (can_write(key.user) if write else can_read(key.user)):
                abort(403)
            g.api_key, g.api_user = key, key.user
            return view(*args, **kwargs)

        return declare(wrapped, "api-key")

    return decorator
