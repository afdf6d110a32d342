"""The one place a view decides between a whole page and the fragment htmx asked for.

Every response carries `Vary: HX-Request` (aimweb.security), so a cache never hands the
fragment to a plain browser or the page to htmx.
"""
from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from flask import render_template, request


def wants_partial(target: str | None = None) -> bool:
    """True for an htmx request (and, given a target, only one swapping that element's id):
    a search form elsewhere on the page that targets something else still gets the page."""
    if not request.htmx:
        return False
    return target is None or request.htmx.target == target


def page_or_partial(page_template: str, partial_template: str, /, *, hx_target: str | None = None,
                    **context) -> str:
    """Render the partial for htmx (see wants_partial), the whole page otherwise. The templates
    are positional-only, so the context may hold a "page" of its own."""
    return render_template(partial_template if wants_partial(hx_target) else page_template, **context)


def current_page() -> SplitResult | None:
    """The URL of the page an htmx request was sent from (None for a plain request)."""
    return urlsplit(request.htmx.current_url or "") if request.htmx else None
