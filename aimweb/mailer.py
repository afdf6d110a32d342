"""The one helper that writes mail: rendered now, put in the outbox, delivered after the commit."""
from __future__ import annotations

from flask import current_app, render_template
from jinja2 import TemplateNotFound

from . import outbox


def send_email(to: str, subject: str, template: str, **context) -> None:
    """Render templates/email/<template>.txt (and .html when present) into the outbox.

    Nothing is sent yet: the message joins the caller's database session, so it is committed
    with the change it reports (and dropped if that change is rolled back), then delivered by
    aimweb.outbox. With no MAIL_SERVER it is printed to the console when delivered.
    """
    if current_app.config.get("MAIL_SUPPRESS_SEND"):
        return
    body = render_template(f"email/{template}.txt", **context)
    try:
        current_app.jinja_env.get_template(f"email/{template}.html")
    except TemplateNotFound:
        html = None
    else:
        html = render_template(f"email/{template}.html", **context)
    outbox.add(to, subject, body, html)
