"""The one helper that sends mail: an SMTP relay when configured, the console otherwise."""
from __future__ import annotations

import sys

from flask import current_app, render_template
from flask_mail import Message

from .extensions import mail


def send_email(to: str, subject: str, template: str, **context) -> None:
    """Render templates/email/<template>.txt and send it as a plain-text message (there are no
    HTML parts: every mail is a short notice with a code or a license number)."""
    if current_app.config.get("MAIL_SUPPRESS_SEND"):
        return
    body = render_template(f"email/{template}.txt", **context)
    if not current_app.config.get("MAIL_SERVER"):
        print(f"\n----- mail to {to}: {subject} -----\n{body}\n-----", file=sys.stdout, flush=True)
        return
    mail.send(Message(subject=subject, recipients=[to], body=body))
