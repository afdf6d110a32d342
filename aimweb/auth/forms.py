"""Forms of the sign-up, sign-in and password-reset steps."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from ..security import password_problem
from ..web.emails import email_field


def _email_field(label: str = "Email Address", description: str = ""):
    return email_field(label, description=description)


class EmailForm(FlaskForm):
    email = _email_field(description=(
        "The address you sign in with. The portal sends its verification codes, your license "
        "confirmations and any message from Commerce about a license there."))


class CodeForm(FlaskForm):
    code = StringField(
        "Verification code",
        validators=[
            DataRequired("Enter the 6-digit code from the email."),
            Regexp(r"^\s*\d{6}\s*$", message="The code is 6 digits, like 123456."),
        ],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New Password",
        validators=[DataRequired("Enter a new password.")],
        description=("Between 8 and 64 characters, with at least 3 of: a lowercase letter, an "
                     "uppercase letter, a number, a symbol. A common password, or one made from your "
                     "name or email address, is refused because it is easy to guess."),
    )
    confirm = PasswordField(
        "Confirm New Password",
        validators=[
            DataRequired("Enter the new password again."),
            EqualTo("password", "The two passwords do not match."),
        ],
        description="The same password again, so that a typing mistake cannot lock you out.",
    )

    # What the user typed elsewhere (e-mail, names): a password built from them is easy to guess.
    user_inputs: tuple | list = ()

    def validate_password(self, field):
        problem = password_problem(field.data or "", self.user_inputs)
        if problem:
            raise ValidationError(problem)


class CreateAccountForm(NewPasswordForm):
    display_name = StringField(
        "Display Name", validators=[DataRequired("Enter a display name."), Length(max=100)],
        description="How the portal names you at the top of every page once you are signed in.",
    )
    first_name = StringField(
        "First Name", validators=[DataRequired("Enter your first name."), Length(max=100)],
        description=("Your own first name, as the person filing: every license you certify is "
                     "printed with your name."),
    )
    last_name = StringField(
        "Last Name", validators=[DataRequired("Enter your last name."), Length(max=100)],
        description=("Your own last name, as the person filing: every license you certify is "
                     "printed with your name."),
    )


class SignInForm(FlaskForm):
    email = _email_field()
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
