"""Numbers and dates at the edge of what Python can hold: a message at the field, never a 500."""
from __future__ import annotations

import pytest
from conftest import csrf_token
from helpers import HEADER, HTMX, LINE, start

from aimweb import inputs

HUGE = ["1e308", "9" * 400, "1E+400000", "-1e308", "1e-400", "0." + "0" * 398 + "1"]


def post(client, path, data, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/licenses/apply"), **data}, **kwargs)


@pytest.mark.parametrize("text", HUGE)
@pytest.mark.parametrize("field", ["line-quantity_kg", "line-customs_value_usd"])
def test_huge_or_tiny_amount_on_a_product_line_is_a_message_at_its_field(signed_in, field, text):
    draft = start(signed_in)
    response = post(signed_in, f"{draft}/lines", {**HEADER, **LINE, field: text}, headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "aim-line--error" in html or "usa-error-message" in html
    assert f'id="{field}-error"' in html or f"{field}-error" in html


@pytest.mark.parametrize("text", HUGE[:5])  # the view reads 40 characters: HUGE[5] reads as 0
def test_unit_value_preview_of_huge_numbers_shows_a_dash(signed_in, text):
    for args in (f"line-quantity_kg={text}&line-customs_value_usd=100",
                 f"line-quantity_kg=0.01&line-customs_value_usd={text}",
                 f"line-quantity_kg={text}&line-customs_value_usd={text}"):
        response = signed_in.get(f"/licenses/unit-value?{args}")
        assert response.status_code == 200
        assert "—" in response.get_data(as_text=True)


@pytest.mark.parametrize(("typed", "message"), [
    ("9999-12-31", "the year must be between 1900 and 2999"), ("12/31/9999", "between 1900 and 2999"),
    ("0001-01-01", "between 1900 and 2999"), ("01/01/1899", "between 1900 and 2999"),
    ("07/31/26", "type the year with 4 digits")])
def test_date_outside_the_typed_range_at_preview_is_a_message_at_its_field(signed_in, typed, message):
    draft = start(signed_in)
    assert post(signed_in, f"{draft}/lines", {**HEADER, **LINE}, headers=HTMX).status_code == 200
    response = post(signed_in, f"{draft}/preview", {**HEADER, "import_date": typed, "certified": "y"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Expected Date of Import: “{typed}”" in html and message in html
    assert typed in html  # what was typed is kept


def test_one_date_parser_with_one_set_of_limits():
    assert str(inputs.parse_date("07/31/2026")) == "2026-07-31"
    assert str(inputs.parse_date("2026-07-31")) == "2026-07-31"
    assert str(inputs.parse_date("1900-01-01")) == "1900-01-01"
    assert str(inputs.parse_date("12/31/2999")) == "2999-12-31"
    for bad in ("12/31/9999", "9999-12-31", "1899-12-31", "07/31/26", "7/31/0026", "2026-02-30", "soon"):
        with pytest.raises(inputs.UnreadableDate):
            inputs.parse_date(bad)


def test_amounts_beyond_the_bound_are_text_for_the_rules():
    assert inputs.parse_amount("1,250.50") == inputs.parse_amount(1250.5)
    for text in HUGE[:5]:
        assert isinstance(inputs.parse_amount(text), str), text
    for number in (1e308, 10**400, float("inf")):
        assert isinstance(inputs.parse_amount(number), str), number  # a spreadsheet cell
