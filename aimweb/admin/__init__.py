"""Officers' administration pages: the sign-in audit (read and export)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401
