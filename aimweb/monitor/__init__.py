"""The public AIM monitor: aggregate imports by month, never revealing a filer."""
from flask import Blueprint

bp = Blueprint("monitor", __name__, url_prefix="/monitor")

from . import views  # noqa: E402,F401
