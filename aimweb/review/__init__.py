"""The Commerce officers' review queue."""
from flask import Blueprint, render_template

from ..security import role_required

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.get("/")
@role_required("officer", "admin")
def queue():
    return render_template("review/queue.html")
