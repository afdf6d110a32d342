"""Input bounds at the entry point: ids an INTEGER column can hold, page numbers, and no
NUL bytes in a path, query parameter or form field. Bad input gets a 404 or the usual field
message, never an overflow or a NUL error from the database driver (a 500)."""
from __future__ import annotations

from flask import Flask, abort
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, UnicodeConverter

from ..inputs import MAX_ID

MAX_PAGE = 10_000  # far beyond any real list; a larger number is a made-up URL


class IdConverter(IntegerConverter):
    """`<int:...>` bounded to what the database can hold: a larger number is "not found"."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=MAX_ID if max is None else max, signed=signed)


class TextConverter(UnicodeConverter):
    """A path segment without a NUL byte (PostgreSQL refuses NUL in text: a 500, not a 404)."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]")


def _without_nul(mapping):
    if mapping is None:
        return
    if isinstance(mapping, MultiDict):
        pairs = mapping.items(multi=True)
    elif isinstance(mapping, dict):
        pairs = mapping.items()
    else:
        pairs = mapping
    for key, value in pairs:
        if isinstance(key, str):
            key = key.replace("\x00", "")
        if isinstance(value, str):
            value = value.replace("\x00", "")
        yield key, value


class NulFreeMultiDict(ImmutableMultiDict):
    """Query parameters and form fields with NUL bytes removed. A NUL is never typed (only a
    crafted request or a paste from a binary file carries one) and shows as nothing, so the text
    is what the person saw; the field's own checks then answer as for any other text."""

    def __init__(self, mapping=None):
        super().__init__(list(_without_nul(mapping)))


def page_number(args, max_page: int = MAX_PAGE) -> int:
    """The `page` query parameter: 1 when missing or not a number; below 1 or beyond `max_page` a
    made-up URL, so "not found" (an offset past 64 bits overflows the database driver)."""
    page = args.get("page", 1, type=int)
    if page < 1 or page > max_page:
        abort(404)
    return page


def init_app(app: Flask) -> None:
    """Call after the extensions (htmx sets its own request class, extended here) and before any
    route is added (the converters apply to the rules as they are added)."""
    app.request_class = type("AimRequest", (app.request_class,), {"parameter_storage_class": NulFreeMultiDict})
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter
