"""Test helpers shared by the test modules (no test module imports another): pages read as text,
CSRF tokens, forms posted the way a browser posts them, sign-in."""
from __future__ import annotations

import html
import re

from factories import PASSWORD

HTMX = {"HX-Request": "true"}


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def csrf_token(client, path: str) -> str:
    body = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
        r'name="csrf-token" content="([^"]+)"', body
    )
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def post_form(client, path: str, data: dict, **kwargs):
    """POST a form the way a browser does: with the CSRF token from the page."""
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}, **kwargs)


def sign_in(client, email="filer@example.com", password=PASSWORD, **kwargs):
    return post_form(client, "/signin", {"email": email, "password": password}, **kwargs)


def signed_in_as(app, email, password=PASSWORD):
    """A new client signed in as `email`."""
    client = app.test_client()
    assert sign_in(client, email, password).status_code == 302
    return client
