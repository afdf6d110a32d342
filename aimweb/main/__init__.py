"""The public landing page and the pages every federal site links from its footer."""
from flask import Blueprint, render_template

from ..web.access import public

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def home():
    return render_template("main/home.html")


@bp.get("/privacy")
@public
def privacy():
    return render_template("main/privacy.html")


@bp.get("/accessibility")
@public
def accessibility():
    return render_template("main/accessibility.html")
