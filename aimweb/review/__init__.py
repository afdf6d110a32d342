"""The Commerce officers' review queue: flagged licenses, Action Required, Clear, the audit trail."""
from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from . import views  # noqa: E402,F401
