"""The company registration form ("Account Creation Page")."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .. import addressbook, identifiers
from ..auth.forms import CreateAccountForm, NewPasswordForm
from ..enums import CompanyRole, PartyKind
from ..web.emails import email_field

_strip = [lambda v: v.strip() if isinstance(v, str) else v]


def _text(label, required=True, max_len=200, missing=None, description=""):
    message = missing or f"Enter the {label.lower()}."
    validators = [DataRequired(message)] if required else [Optional()]
    return StringField(label, validators=validators + [Length(max=max_len)], filters=_strip,
                       description=description)


def _checked_text(label, max_len=200, description=""):
    """Optional, but checked by the form's own validate_<name> even when left empty: a WTForms
    Optional() validator would stop the chain before it, so "required when…" rules never ran."""
    return StringField(label, validators=[Length(max=max_len)], filters=_strip, description=description)


# "What is this?" beside the fields (the guide's wording where it has one).
_CONTACT = "The company's contact person for its AIM licenses (kept with the registration, never published)."


def _state(label="State", required=True, missing="Select the state."):
    choices = [("", "- Select -")] + [(c, f"{c} - {n}") for c, n in identifiers.us_states()]
    validators = [DataRequired(missing)] if required else []
    return SelectField(label, choices=choices, validators=validators)


def _normalized(value: str, normalize, kind: str | None = None) -> str:
    """The normalized value; on a problem the typed value stays in the field for the user."""
    normalized, problem = normalize(value)
    if problem:
        raise ValidationError(problem.replace("telephone", kind) if kind else problem)
    return normalized


class _UsAddress(FlaskForm):
    """The checks of a U.S. street address (fields street, state, zip_code): the company's and a
    branch's."""

    def validate_street(self, field):
        problem = identifiers.street_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_zip_code(self, field):
        problem = identifiers.zip_problem(field.data, self.state.data)
        if problem:
            raise ValidationError(problem)


class CompanyForm(_UsAddress):
    ein = _checked_text("EIN", max_len=12, description=(
        "The Employer Identification Number (EIN) is also known as the Federal Tax or IRS "
        "identification number and is used to identify a business entity. It is NOT a Social "
        "Security Number. Nine digits in the format ##-#######, as on the company's IRS letter."))
    cbp_importer_number = _text("CBP-assigned importer number", required=False, max_len=14, description=(
        "Only for a company that has no EIN: the importer number U.S. Customs and Border "
        "Protection assigned to it (format YYDDPP-NNNNN). Leave it empty if you gave an EIN."))
    name = _text("Company Name", description="The company's legal name, as registered with the IRS or CBP.")
    company_type = SelectField(
        "Company Type",
        choices=[("", "- Select -")] + identifiers.COMPANY_TYPES,
        validators=[DataRequired("Select the company type.")],
        description=("What the company does in the import: it imports the goods itself, or files "
                     "for importers as a customs broker or agent. Any of them may apply for licenses."),
    )
    street = _text("Company Street Address", description=(
        "The company address must be a valid U.S. street address: a P.O. box cannot be used."))
    city = _text("City", max_len=100)
    state = _state()
    zip_code = _text("Zip", max_len=10, missing="Enter the ZIP code.")
    phone = _text("Phone", max_len=20, missing="Enter the telephone number.", description=(
        "The company's U.S. telephone number, in the format ###-###-####. It is printed on "
        "every license the company files."))
    fax = _text("Fax", required=False, max_len=20)
    contact_first_name = _text("First Name", max_len=100, description=_CONTACT)
    contact_last_name = _text("Last Name", max_len=100, description=_CONTACT)
    email = email_field("Email", missing="Enter the email address.", description=(
        "The company's email address for AIM licensing. It need not be the address you sign in with."))
    alternate_email = email_field("Alternate Email", required=False, description=(
        "Optional: a second address for the company, e.g. a shared mailbox."))

    def validate_ein(self, field):
        if field.data:
            field.data = _normalized(field.data, identifiers.normalize_ein)
        elif not self.cbp_importer_number.data:
            raise ValidationError(
                "Enter the company's EIN, or its CBP-assigned importer number if it has no EIN."
            )

    def validate_cbp_importer_number(self, field):
        if field.data:
            field.data = _normalized(field.data, identifiers.normalize_cbp_number)

    def validate_phone(self, field):
        field.data = _normalized(field.data, identifiers.normalize_phone)

    def validate_fax(self, field):
        if field.data:
            field.data = _normalized(field.data, identifiers.normalize_phone, "fax")


class BranchForm(_UsAddress):
    """A branch of the company (the Branches page): the guide's Branch Name and Branch Address."""

    name = _text("Branch Name", missing="Enter the branch name.", description=(
        "The branch or office of the company, as your filers know it: licenses can be filed for it."))
    suffix = _text("Suffix", required=False, max_len=20, description=(
        "Optional: a short mark shown after the name, such as an office code (TX-01), to tell "
        "branches of the same name apart."))
    street = _text("Branch Address", missing="Enter the branch street address.", description=(
        "A U.S. street address: a P.O. box cannot be used."))
    city = _text("Branch City", max_len=100, missing="Enter the branch city.")
    state = _state("Branch State", missing="Select the branch state.")
    zip_code = _text("Branch Zip", max_len=10, missing="Enter the branch ZIP code.")


# ----- the company's people and My account -----------------------------------------------------

ROLE_CHOICES = [(role.value, role.label) for role in CompanyRole]


class InviteForm(FlaskForm):
    email = email_field("Email Address", missing="Enter your colleague's email address.", description=(
        "Your colleague's own work address: the invitation link is emailed there and works once."))
    company_role = SelectField("Role", choices=ROLE_CHOICES, default=CompanyRole.FILER.value,
                               validators=[DataRequired("Select the role.")], description=(
        "Company administrator: everything a filer does, and manages the company's users. "
        "Filer: applies for, modifies, duplicates and cancels licenses. "
        "Viewer: reads, prints and exports the company's licenses, and changes nothing."))


class RoleForm(FlaskForm):
    company_role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired("Select the role.")])


class NameForm(FlaskForm):
    display_name = StringField("Display Name", validators=[DataRequired("Enter a display name."), Length(max=100)],
                               filters=_strip)
    first_name = StringField("First Name", validators=[DataRequired("Enter your first name."), Length(max=100)],
                             filters=_strip)
    last_name = StringField("Last Name", validators=[DataRequired("Enter your last name."), Length(max=100)],
                            filters=_strip)


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField("Current Password", validators=[DataRequired("Enter your current password.")])


class JoinForm(CreateAccountForm):
    """A new account made from an invitation: its address is the invitation's (already verified)."""


# ----- the address book ------------------------------------------------------------------------

class PartyForm(FlaskForm):
    """A saved importer, exporter or manufacturer (aimweb/addressbook.py checks the name)."""

    kind = SelectField("Kind", choices=[(kind.slug, kind.label) for kind in PartyKind],
                       validators=[DataRequired("Select the kind of party.")],
                       description="Importer, exporter or manufacturer: the license field it is offered in.")
    name = StringField("Name", validators=[Length(max=200, message="The name must be at most 200 characters.")],
                       filters=_strip, description="As it is written on licenses.")
    importer_number = _checked_text("Importer Number (optional)", max_len=12, description=(
        "Importers of record only: the importer's EIN (##-#######) or CBP-assigned importer "
        "number (YYDDPP-NNNNN)."))
    country = SelectField("Country (optional)", choices=[], description="Where the party is, if you wish to note it.")

    def __init__(self, *args, **kwargs):
        from ..reference import countries

        super().__init__(*args, **kwargs)
        self.country.choices = [("", "- Select -")] + countries.all_countries()
        self.name.flags.required = True

    def validate_importer_number(self, field):
        """The address book's own rule (aimweb/addressbook.py), so the form and the API agree."""
        kind = PartyKind.of_slug(self.kind.data or "")
        if kind is None:  # the kind's own message says so
            return
        try:
            field.data = addressbook.importer_number(field.data, kind)
        except addressbook.PartyRefused as refused:
            raise ValidationError(refused.message) from None
