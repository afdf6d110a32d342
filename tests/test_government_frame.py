"""A government service's frame (issue 14, point 10): the USWDS banner, the agency, the identifier
footer with its Privacy, Accessibility and FOIA links, "What is this?" beside the account and
company fields, and "Apply for Single License" going straight to the form when there is only one
kind of license to choose."""
from __future__ import annotations

import html
import re

import pytest
from conftest import csrf_token, sign_in
from helpers import page_text, text_of

from aimweb.licenses import views as license_views


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", page_text(response)).split())


@pytest.mark.parametrize("path", ["/", "/signin", "/signup", "/password/forgot", "/monitor/", "/privacy",
                                  "/accessibility"])
def test_every_page_has_the_banner_the_agency_and_the_identifier(client, path):
    response = client.get(path)
    assert response.status_code == 200
    text = words(response)
    assert "An official website of the United States government" in text
    assert "Here’s how you know" in text and "Official websites use .gov" in text
    assert "U.S. Department of Commerce" in text and "International Trade Administration" in text
    body = response.get_data(as_text=True)
    assert '<a href="/privacy" class="usa-identifier__required-link usa-link">Privacy policy</a>' in body
    assert ('<a href="/accessibility" class="usa-identifier__required-link usa-link">'
            'Accessibility statement</a>') in body
    assert ('<a href="https://www.trade.gov/foia" class="usa-identifier__required-link usa-link">'
            'FOIA requests</a>') in body


def test_signed_in_pages_have_the_frame_too(signed_in):
    text = words(signed_in.get("/licenses/"))
    assert "An official website of the United States government" in text and "Privacy policy" in text


def test_privacy_and_accessibility_pages_say_what_the_portal_does(client):
    privacy = words(client.get("/privacy"))
    assert "Privacy policy" in privacy and "Registration data is never published" in privacy
    assert "only a one-way hash" in privacy and "One cookie, which keeps you signed in" in privacy
    accessibility = words(client.get("/accessibility"))
    assert "WCAG" in accessibility and "aluminum.license@trade.gov" in accessibility


def test_sign_up_and_reset_explain_the_email_field(client):
    for path in ("/signup", "/password/forgot"):
        text = words(client.get(path))
        assert "What is this? Email Address" in text  # the hidden words say which field
        assert "The address you sign in with." in text


def test_the_sign_in_form_has_no_what_is_this(client):
    assert "What is this?" not in words(client.get("/signin"))


def test_company_form_explains_its_fields_as_the_guide_does(app, signed_in):
    text = words(signed_in.get("/account/company"))
    assert "What is this? EIN" in text
    assert "is also known as the Federal Tax or IRS identification number" in text
    assert "It is NOT a Social Security Number" in text
    assert "What is this? Company Street Address" in text and "a P.O. box cannot be used" in text
    assert text.count("What is this?") >= 10


def test_apply_for_single_license_opens_the_form_at_once_with_one_choice(signed_in, monkeypatch):
    monkeypatch.setattr(license_views, "PRODUCTS", [("aluminum", "Aluminum")])
    monkeypatch.setattr(license_views, "LICENSE_TYPES", [("standard", "Standard License")])
    dashboard = signed_in.get("/licenses/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/licenses/apply"[^>]*>(.*?)</form>', dashboard, re.S)
    assert form, "Apply for Single License is a button that starts the form"
    assert 'name="license_type" value="standard"' in form.group(1)
    assert 'name="product" value="aluminum"' in form.group(1)
    assert "Apply for Single License" in form.group(1)
    response = signed_in.post("/licenses/apply", data={
        "csrf_token": csrf_token(signed_in, "/licenses/"), "license_type": "standard", "product": "aluminum"})
    assert response.status_code == 302 and re.search(r"/licenses/drafts/\d+$", response.headers["Location"])
    assert "Standard License · Aluminum" in words(signed_in.get(response.headers["Location"]))


def test_with_a_second_product_the_choice_page_comes_back(signed_in):
    assert license_views.PRODUCTS == [("aluminum", "Aluminum"), ("steel", "Steel")]
    dashboard = signed_in.get("/licenses/").get_data(as_text=True)
    assert '<a class="usa-button" href="/licenses/apply">Apply for Single License</a>' in dashboard
    page = words(signed_in.get("/licenses/apply"))
    assert "License Type" in page and "Steel" in page and "Low-Value License" in page


def test_a_reserved_address_is_refused_at_sign_in_with_the_reason(client, filer):
    response = sign_in(client, email="filer@example.test")
    assert response.status_code == 200
    assert "special-use or reserved name that cannot be used with email" in words(response)


# ----- the frame names both programs (issue 15, point 8) -------------------------------------------

def test_the_header_and_footer_name_both_programs_with_their_regulations_and_addresses(client):
    response = client.get("/privacy")
    body, text = response.get_data(as_text=True), words(response)
    assert "<title>Privacy policy | SIMA and AIM Licensing</title>" in body
    assert '<span class="aim-logo__long">Steel and Aluminum Import Licensing (SIMA and AIM)</span>' in body
    assert '<span class="aim-logo__short">SIMA and AIM Licensing</span>' in body
    footer = words_of(body[body.index("<footer"):])
    assert footer.startswith("Steel and Aluminum Import Licensing (SIMA and AIM) Import licenses for aluminum "
                             "products under 19 CFR part 361 (AIM) and steel products under 19 CFR part 360 "
                             "(SIMA). Questions: aluminum licenses, aluminum.license@trade.gov; steel "
                             "licenses, steel.license@trade.gov.")
    for address in ("aluminum.license@trade.gov", "steel.license@trade.gov"):
        assert f'<a href="mailto:{address}">{address}</a>' in body
    assert "Aluminum Import Monitoring and Analysis (AIM)" not in text
    # The policy pages say where to write for either product, and under which regulations.
    assert ("Write to aluminum.license@trade.gov (aluminum) or steel.license@trade.gov (steel).") in text
    assert "review them under 19 CFR part 361 (aluminum) and 19 CFR part 360 (steel)" in text
    assert "steel.license@trade.gov (steel)" in words(client.get("/accessibility"))


def words_of(markup: str) -> str:
    return text_of(html.unescape(markup))


@pytest.mark.parametrize("app", [{"PROGRAM_NAME": "Metals Import Licensing Portal",
                                  "PROGRAM_SHORT_NAME": "MILP"}], indirect=True)
def test_the_program_name_is_a_setting_for_the_frame_and_the_account_mails(client, mailbox):
    body = client.get("/signup").get_data(as_text=True)
    assert "<title>Sign up | MILP</title>" in body and "Metals Import Licensing Portal" in body
    assert "SIMA and AIM" not in body
    client.post("/signup", data={"csrf_token": csrf_token(client, "/signup"), "email": "new@example.com"})
    [mail] = mailbox.wait_for("new@example.com")
    assert mail["Subject"] == "MILP: your verification code"
    assert mailbox.body(mail).rstrip().endswith("Metals Import Licensing Portal")


def test_account_mails_are_signed_by_the_portal_not_one_program(client, mailbox, filer):
    client.post("/signup", data={"csrf_token": csrf_token(client, "/signup"), "email": "filer@example.com"})
    [mail] = mailbox.wait_for("filer@example.com")  # already registered: a notice, no code
    assert mail["Subject"] == "SIMA and AIM Licensing: you already have an account"
    said = mailbox.body(mail)
    assert "create a new account on Steel and Aluminum Import Licensing (SIMA and AIM)" in said
    assert said.rstrip().endswith("Steel and Aluminum Import Licensing (SIMA and AIM)")
    assert "Aluminum Import Monitoring" not in said
