"""Apply for Multiple Licenses: the Excel template and the upload."""
from flask import Blueprint

bp = Blueprint("bulk", __name__, url_prefix="/licenses/multiple")

from . import views  # noqa: E402,F401
