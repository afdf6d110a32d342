"""Products as data: everything specific to aluminum lives in aimweb/products/aluminum.py.

The rule the source test enforces, outside aimweb/products/ and aimweb/models.py (storage):
- Python: no identifier contains "smelt", and none has "cast" as one of its _-separated words,
  except SQLAlchemy's cast() where the module imports it from sqlalchemy; no string literal holds
  a field name of a product's own (smelt_largest, smelt_second, cast_country), a monitor dimension
  key of a product's own ("smelt", "cast") or the label of a product's own field or dimension.
  Comments and prose (a company called "Alouette Smelting" in the demo data) are not names.
- Templates: no "smelt" at all, no word "cast", no own field name or label.
"""
from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from datetime import date
from pathlib import Path

from aimweb import products, rules
from aimweb.products import HEADER_FIELDS, aluminum
from aimweb.products.aluminum import ALUMINUM
from aimweb.reference import hts

ROOT = Path(__file__).resolve().parent.parent / "aimweb"
EXEMPT = (ROOT / "products", ROOT / "models.py")
TODAY = date(2026, 11, 20)


def _sources(pattern: str):
    for path in sorted(ROOT.rglob(pattern)):
        if not any(path == e or e in path.parents for e in EXEMPT):
            yield path


def _own_words() -> tuple[set[str], set[str]]:
    names, labels = set(), set()
    for product in products.PRODUCTS.values():
        for f in product.own_line_fields:
            names.add(f.name)
            labels |= {f.label.lower(), f.heading.lower(), f.title.lower()}
        for d in product.monitor_dimensions:
            names.add(d.key)
            labels.add(d.label.lower())
    return names, labels


def _python_offences(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    names, labels = _own_words()
    imported = re.search(r"^from sqlalchemy import (\([^)]*\)|[^\n]*)", text, re.M)
    sql_cast = imported is not None and re.search(r"\bcast\b", imported.group(1)) is not None
    found = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        where = f"{path.relative_to(ROOT.parent)}:{token.start[0]}"
        if token.type == tokenize.NAME:
            word = token.string.lower()
            if "smelt" in word or ("cast" in word.split("_") and not (word == "cast" and sql_cast)):
                found.append(f"{where}: identifier {token.string}")
        elif token.type == tokenize.STRING:
            value = token.string.lower()
            literal = value.strip("rbuf").strip("'\"")
            if (literal in names or any(n in value for n in names if "_" in n)
                    or any(label in value for label in labels)):
                found.append(f"{where}: string {token.string[:60]}")
    return found


def _template_offences(path: Path) -> list[str]:
    text = path.read_text("utf-8").lower()
    names, labels = _own_words()
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if ("smelt" in line or re.search(r"\bcast\b", line)
                or any(n in line for n in names if "_" in n) or any(label in line for label in labels)):
            found.append(f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()[:80]}")
    return found


def test_no_module_outside_the_product_names_a_smelt_or_cast_field():
    python = [o for path in _sources("*.py") for o in _python_offences(path)]
    templates = [o for pattern in ("*.html", "*.txt") for path in _sources(pattern)
                 for o in _template_offences(path)]
    assert python == []
    assert templates == []


def test_the_rule_catches_what_it_is_meant_to(tmp_path):
    """The source test above can fail: each kind of naming is caught (and SQL CAST is not)."""
    sample = tmp_path / "sample.py"
    sample.write_text('from sqlalchemy import cast\n'
                      'x = cast(y, String)\n'
                      'line.smelt_largest\n'
                      'cast_in = 1\n'
                      'key = "cast"\n'
                      'label = "Country of Most Recent Cast is required."\n', "utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path / "pkg"
    try:
        found = _python_offences(sample)
    finally:
        ROOT = saved
    assert [o.split(": ", 1)[1] for o in found] == [
        "identifier smelt_largest", "identifier cast_in", 'string "cast"',
        'string "Country of Most Recent Cast is required."']


def test_aluminum_template_has_the_guides_16_columns_in_order():
    assert list(ALUMINUM.template_titles) == [
        "Entry ID", "Customs Entry #", "Importer Name", "Exporter Name", "Manufacturer",
        "Country of Origin", "Country of Export", "Port of Entry", "Expected Date of Export",
        "Expected Date of Import", "HTS Number", "Country of Largest Smelt",
        "Country of Second Largest Smelt", "Country of Most Recent Cast", "Volume (KG)",
        "Customs Value (US$)"]
    assert [c.name for c in ALUMINUM.template_columns[11:14]] == [
        "smelt_largest", "smelt_second", "cast_country"]


def test_a_problem_message_uses_the_products_label(monkeypatch):
    """The label is read from the product: change it there and the rules' message follows."""
    line = aluminum.ProductLineDraft("7601.10.30.00", "", "NA_", "CA", "1000", "2600")
    draft = rules.LicenseDraft(importer_name="Acme", exporter_name="Northern", manufacturer_name="x",
                               origin_country="CA", export_country="CA", port_code="3004",
                               export_date=TODAY, import_date=TODAY, lines=[line])

    def messages():
        return {p.field: p.message for p in rules.validate_license(
            draft, application_date=TODAY, catalogue=hts.packaged_catalogue())}

    assert messages()["smelt_largest"] == ("Country of Largest Smelt is required: a country, or "
                                           "“Not applicable”.")
    renamed = dataclasses.replace(aluminum.SMELT_LARGEST, label="Land of the Biggest Smelter")
    monkeypatch.setattr(aluminum, "SMELT_LARGEST", renamed)
    assert messages()["smelt_largest"] == ("Land of the Biggest Smelter is required: a country, or "
                                           "“Not applicable”.")


def test_header_labels_are_defined_once_and_used_by_the_rules():
    draft = rules.LicenseDraft(lines=[])
    found = {p.field: p.message for p in rules.validate_license(
        draft, application_date=TODAY, catalogue=hts.packaged_catalogue())}
    for f in HEADER_FIELDS:
        if f.name in found:
            assert found[f.name].startswith(f.label), (f.name, found[f.name])
    assert {"importer_name", "port_code", "export_date", "import_date"} <= set(found)


def test_line_form_and_change_list_show_values_through_the_fields():
    cast = ALUMINUM.fields["cast_country"]
    assert cast.display("CA") == "Canada" and cast.display("") == "—"
    assert ALUMINUM.fields["hts_number"].display("7601103000") == "7601.10.30.00"
    assert ALUMINUM.fields["quantity_kg"].display("12500") == "12,500.00"
    assert products.get(None) is ALUMINUM and ALUMINUM.number_letter == "A"
