"""Small answers every page blueprint gives the same way: "not found" for what is not the
company's, and the redirect after a change with its message (Post/Redirect/Get)."""
from __future__ import annotations

from typing import TypeVar

from flask import abort, flash, redirect, url_for

T = TypeVar("T")


def found(thing: T | None) -> T:
    """The thing, or 404: another company's (or no such) branch, party, user… is "not found"."""
    if thing is None:
        abort(404)
    return thing


def done(message: str, endpoint: str, category: str = "success", **values):
    """Say what happened and show the page `endpoint` again (303: a reload repeats nothing)."""
    flash(message, category)
    return redirect(url_for(endpoint, **values), 303)
