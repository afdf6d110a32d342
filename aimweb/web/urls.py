"""URLs for templates, built once: a page writes the same 40-odd links (stylesheets, scripts, the
icon sprite, the menu) on every request, and building one costs Werkzeug's route map ~5 µs.

`url_for` in templates is this function: for a call without "_" options (external, anchor,
method, scheme), the URL of an endpoint and its values under the request's script root is kept in
a bounded cache; anything else goes to Flask's `url_for` unchanged. Routes never change while the
app runs, so a kept URL is the URL Flask would build.
"""
from __future__ import annotations

from functools import lru_cache

from flask import request
from flask import url_for as flask_url_for


def url_for(endpoint: str, **values) -> str:
    if any(name.startswith("_") for name in values):
        return flask_url_for(endpoint, **values)
    try:
        return _kept(request.script_root, endpoint, tuple(sorted(values.items())))
    except TypeError:  # a value that can't be a cache key (a list): built each time
        return flask_url_for(endpoint, **values)


@lru_cache(maxsize=4096)
def _kept(script_root: str, endpoint: str, values: tuple) -> str:
    return flask_url_for(endpoint, **dict(values))
