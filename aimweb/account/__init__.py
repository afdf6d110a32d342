"""The company profile a filer records after the first sign-in, the company's people (invitations,
roles, suspension, removal) and My account."""
from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from . import address_book, branches, me, people, views  # noqa: E402,F401
