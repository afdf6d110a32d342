"""The filer's licenses: dashboard, single-license form, license pages."""
from flask import Blueprint

bp = Blueprint("licenses", __name__, url_prefix="/licenses")

from . import dashboard, pdf, views  # noqa: E402,F401
