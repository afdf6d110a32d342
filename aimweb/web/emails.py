"""The email field of every form (sign-up, sign-in, password reset, the company's contact emails):
one rule, security.email_address, which `flask create-officer` uses too, and its reason shown."""
from __future__ import annotations

from wtforms import EmailField
from wtforms.validators import DataRequired, Optional, StopValidation

from ..security import EmailRefused, email_address


class EmailAddress:
    """Checks the address with the portal's one rule, says why it is refused, and keeps it as
    stored (trimmed, lower-cased)."""

    def __call__(self, form, field):
        try:
            field.data = email_address(field.data)
        except EmailRefused as refused:
            raise StopValidation(str(refused)) from None


def email_field(label: str = "Email Address", *, required: bool = True,
                missing: str = "Enter your email address.", description: str = "") -> EmailField:
    first = DataRequired(missing) if required else Optional()
    return EmailField(label, validators=[first, EmailAddress()], description=description,
                      filters=[lambda v: v.strip() if isinstance(v, str) else v])
