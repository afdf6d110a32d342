"""The public landing page."""
from flask import Blueprint, render_template

from ..web.access import public

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def home():
    return render_template("main/home.html")
