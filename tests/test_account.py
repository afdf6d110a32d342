"""Company registration (the guide's "Account Creation Page") and the company profile, over HTTP."""
from __future__ import annotations

import html
import re
import time

import pytest
from conftest import post_form, sign_in
from factories import make_user
from helpers import COMPANY
from sqlalchemy import func, select

from aimweb.extensions import db
from aimweb.models import Company, User

VALID = COMPANY
TAKEN = ("This {} is already registered in AIM, so the company already has an account. "
         "Please write to aluminum.license@trade.gov to be added to it.")


def add_user(app, email="newcomer@example.com", company=False, role="filer") -> int:
    with app.app_context():
        return make_user(email, role=role, company=company, company_name="Gulf Coast Metals LLC",
                         first="Dana", last="Whitaker", company_type="customs_broker", ein="12-7654321").id


def add_company(app, **fields) -> None:
    """A company registered by someone else (no user needed)."""
    with app.app_context():
        values = {k: v or None for k, v in VALID.items()} | {"name": "Someone Else Inc."} | fields
        db.session.add(Company(**values))
        db.session.commit()


def enter_as(client, user_id: int) -> None:
    """Signed in without the (slow, tested elsewhere) password check: the session sign-in leaves."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:1"
        session["_fresh"] = True
        session["signed_in_at"] = int(time.time())


@pytest.fixture
def newcomer(app, client):
    """A signed-in filer whose company is not registered yet."""
    user_id = add_user(app)
    enter_as(client, user_id)
    return user_id


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", response.get_data(as_text=True))).split())


def field_error(response, field_id: str) -> str | None:
    m = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</span>', response.get_data(as_text=True), re.DOTALL)
    return " ".join(html.unescape(m.group(1)).split()) if m else None


def typed_value(response, field_id: str) -> str | None:
    page = response.get_data(as_text=True)
    m = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page)
    if m:
        value = re.search(r'\bvalue="([^"]*)"', m.group(0))
        return html.unescape(value.group(1)) if value else ""
    m = re.search(rf'<select[^>]*\bid="{field_id}".*?</select>', page, re.DOTALL)
    selected = re.search(r'<option selected value="([^"]*)"', m.group(0))
    return selected.group(1) if selected else ""


def companies(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Company))


def save(client, **changes):
    return post_form(client, "/account/company", {**VALID, **changes})


# ----- first time -------------------------------------------------------------------------------

def test_first_sign_in_leads_to_company_registration(app, client):
    add_user(app)
    response = sign_in(client, email="newcomer@example.com")
    assert response.headers["Location"] == "/account/company"
    response = client.get("/account/company")
    page = text(response)
    assert "Register your company" in page and "Fields marked with * are required." in page
    for label in ("EIN", "CBP-assigned importer number", "Company Name", "Company Type",
                  "Company Street Address", "City", "State", "Zip", "Phone", "Fax", "Alternate Email",
                  "Save"):
        assert label in page
    # Branches are kept on their own page once the company is registered (issue 17).
    assert "Branch Name" not in page and "adds them on the Branches page" in page
    # What the account already says is filled in.
    assert typed_value(response, "email") == "newcomer@example.com"
    assert typed_value(response, "contact_first_name") == "Dana"
    assert typed_value(response, "contact_last_name") == "Whitaker"
    # Nothing else can be done before the company is registered.
    assert client.get("/licenses/").headers["Location"] == "/account/company"


def test_registering_the_company_leads_to_the_dashboard(app, client, newcomer):
    response = save(client, ein="123456789", phone="(281) 555 0134", fax="1-281-555-0135",
                    company_type="customs_broker")
    assert response.headers["Location"] == "/licenses/"
    page = text(client.get("/licenses/"))
    assert "Your company profile was saved." in page and "Riverstone Metals LLC" in page
    with app.app_context():
        user = db.session.get(User, newcomer)
        company = user.company
        assert (company.ein, company.phone, company.fax, company.company_type) == (
            "12-3456789", "281-555-0134", "281-555-0135", "customs_broker")
        assert company.cbp_importer_number is None
    assert client.get("/account/company").status_code == 200  # now the profile page


def test_cbp_importer_number_can_stand_in_for_the_ein(app, client, newcomer):
    response = save(client, ein="", cbp_importer_number="21010100001")
    assert response.headers["Location"] == "/licenses/"
    with app.app_context():
        company = db.session.get(User, newcomer).company
        assert (company.ein, company.cbp_importer_number) == (None, "210101-00001")


def test_company_form_shows_every_error_at_once_and_keeps_what_was_typed(app, client, newcomer):
    bad = {
        "ein": "07-1234567", "name": "", "company_type": "", "street": "P.O. Box 123", "city": "",
        "state": "CA", "zip_code": "77459", "phone": "123-456-7890", "fax": "12",
        "email": "not-an-email", "alternate_email": "also bad",
    }
    response = save(client, **bad)
    assert response.status_code == 200
    assert {f: field_error(response, f) for f in bad} == {
        "ein": "07 is not a prefix the IRS issues. Check the EIN on your IRS letter.",
        "name": "Enter the company name.",
        "company_type": "Select the company type.",
        "street": "Enter a U.S. street address. A P.O. box cannot be used.",
        "city": "Enter the city.",
        "state": None,
        "zip_code": "ZIP code 77459 is in TX, not CA.",
        "phone": "123-456-7890 is not a valid U.S. telephone number.",
        "fax": "Enter a U.S. fax number in the format ###-###-####, like 202-482-3809.",
        "email": "An email address must have an @-sign. Enter an email address like name@example.com.",
        "alternate_email": "An email address must have an @-sign. Enter an email address like name@example.com.",
    }
    assert "Please correct the 10 fields marked below" in text(response)
    assert {f: typed_value(response, f) for f in bad} == bad
    assert typed_value(response, "contact_last_name") == "Whitaker"
    assert companies(app) == 0


@pytest.mark.parametrize(
    "field, typed, message",
    [
        pytest.param("ein", "07-1234567",
                     "07 is not a prefix the IRS issues. Check the EIN on your IRS letter.", id="ein-bad-prefix"),
        pytest.param("ein", "00-1234567",
                     "00 is not a prefix the IRS issues. Check the EIN on your IRS letter.", id="ein-zero-prefix"),
        pytest.param("ein", "12-345678",
                     "The EIN must be nine digits in the format ##-#######, like 12-3456789.",
                     id="ein-eight-digits"),
        pytest.param("ein", "",
                     "Enter the company's EIN, or its CBP-assigned importer number if it has no EIN.",
                     id="no-ein-nor-cbp-number"),
        pytest.param("cbp_importer_number", "2101-01",
                     "The CBP-assigned importer number has the format YYDDPP-NNNNN, like 210101-00001.",
                     id="cbp-number-format"),
        pytest.param("street", "PO Box 77",
                     "Enter a U.S. street address. A P.O. box cannot be used.", id="street-po-box"),
        pytest.param("street", "Post Office Box 4",
                     "Enter a U.S. street address. A P.O. box cannot be used.", id="street-post-office-box"),
        pytest.param("street", "Riverstone Blvd",
                     "Enter a street address with a building number, like 100 Main Street.",
                     id="street-without-number"),
        pytest.param("city", "", "Enter the city.", id="city-missing"),
        pytest.param("state", "", "Select the state.", id="state-missing"),
        pytest.param("zip_code", "90210", "ZIP code 90210 is in CA, not TX.", id="zip-in-another-state"),
        pytest.param("zip_code", "7745",
                     "Enter a 5-digit ZIP code, like 77459 (or ZIP+4, like 77459-1234).", id="zip-four-digits"),
        pytest.param("zip_code", "00000", "00000 is not a U.S. ZIP code.", id="zip-unknown"),
        pytest.param("zip_code", "75011",
                     "ZIP code 75011 is for P.O. boxes only. Enter the ZIP code of the street address.",
                     id="zip-po-boxes-only"),
        pytest.param("phone", "123-456-7890",
                     "123-456-7890 is not a valid U.S. telephone number.", id="phone-invalid-area-code"),
        pytest.param("phone", "555-0134",
                     "Enter a U.S. telephone number in the format ###-###-####, like 202-482-3809.",
                     id="phone-seven-digits"),
        pytest.param("phone", "", "Enter the telephone number.", id="phone-missing"),
        pytest.param("fax", "123-456-7890",
                     "123-456-7890 is not a valid U.S. fax number.", id="fax-invalid-area-code"),
        pytest.param("contact_first_name", "", "Enter the first name.", id="contact-first-name-missing"),
        pytest.param("contact_last_name", "", "Enter the last name.", id="contact-last-name-missing"),
        pytest.param("email", "dana@", "There must be something after the @-sign. "
                     "Enter an email address like name@example.com.", id="email-incomplete"),
        pytest.param("email", "dana@riverstone.test", "The part after the @-sign is a special-use or reserved "
                     "name that cannot be used with email. Enter an email address like name@example.com.",
                     id="email-reserved-domain"),
        pytest.param("email", "", "Enter the email address.", id="email-missing"),
    ],
)
def test_company_form_says_what_is_wrong_with_a_field(app, client, newcomer, field, typed, message):
    changes = {field: typed}
    if field == "ein" and not typed:
        changes["cbp_importer_number"] = ""
    response = save(client, **changes)
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert "Please correct the 1 field marked below" in text(response)
    assert typed_value(response, field) == typed
    assert companies(app) == 0


@pytest.mark.parametrize(
    "field, registered, typed, label",
    [("ein", "12-3456789", "123456789", "EIN"),
     ("cbp_importer_number", "210101-00001", "21010100001", "CBP-assigned importer number")],
    ids=["ein", "cbp-number"],
)
def test_registered_identifier_gets_a_clear_message_and_no_second_company(
        app, client, newcomer, field, registered, typed, label):
    add_company(app, **{"ein": None, "cbp_importer_number": None, field: registered})
    response = save(client, **{"ein": "", field: typed})
    assert response.status_code == 200
    assert field_error(response, field) == TAKEN.format(label)
    assert typed_value(response, "name") == "Riverstone Metals LLC"
    assert companies(app) == 1
    with app.app_context():
        assert db.session.get(User, newcomer).company_id is None


# ----- later ------------------------------------------------------------------------------------

@pytest.fixture
def registered(app, client):
    user_id = add_user(app, "filer@example.com", company=True)
    enter_as(client, user_id)
    return user_id


def test_profile_can_be_edited_later(app, client, registered):
    response = client.get("/account/company")
    page = text(response)
    assert "Company Profile" in page and "Register your company" not in page and "Back" in page
    assert typed_value(response, "name") == "Gulf Coast Metals LLC"
    assert typed_value(response, "ein") == "12-7654321"
    assert typed_value(response, "company_type") == "customs_broker"

    form = {f: typed_value(response, f) for f in VALID}
    response = post_form(client, "/account/company", {**form, "name": "Gulf Coast Metals Inc.",
                                                      "phone": "202-482-3809", "branch_name": ""})
    assert response.headers["Location"] == "/licenses/"
    page = text(client.get("/licenses/"))
    assert "Your company profile was saved." in page and "Gulf Coast Metals Inc." in page
    assert companies(app) == 1
    with app.app_context():
        company = db.session.get(User, registered).company
        assert (company.name, company.phone, company.ein) == ("Gulf Coast Metals Inc.", "202-482-3809", "12-7654321")


def test_profile_edit_cannot_take_another_companys_ein(app, client, registered):
    add_company(app, ein="12-3456789")
    response = client.get("/account/company")
    form = {f: typed_value(response, f) for f in VALID}
    response = post_form(client, "/account/company", {**form, "ein": "12-3456789"})
    assert field_error(response, "ein") == TAKEN.format("EIN")
    with app.app_context():
        assert db.session.get(User, registered).company.ein == "12-7654321"


def test_officer_has_no_company_page(app, client):
    enter_as(client, add_user(app, "officer@example.com", role="officer"))
    assert client.get("/account/company").headers["Location"] == "/review/"
