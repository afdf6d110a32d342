"""License views."""
from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from . import bp


@bp.get("/")
@login_required
def dashboard():
    if current_user.is_officer:
        return redirect(url_for("review.queue"))
    if current_user.company is None:
        return redirect(url_for("account.company"))
    return render_template("licenses/dashboard.html")
