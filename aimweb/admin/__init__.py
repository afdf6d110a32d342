"""Officers' administration pages: the sign-in audit (read and export) and suspending accounts."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import suspensions, views  # noqa: E402,F401
