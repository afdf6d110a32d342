"""The HTS catalogue carries its revision and is replaced by `flask hts-load` without a code change."""
from __future__ import annotations

import pytest
from conftest import PASSWORD, make_user, post_form

from aimweb.reference.hts import PACKAGED_REVISION, packaged_catalogue

HEADER = "hts10,description,category,heading,full_description,unit\n"


def packaged_rows(skip=()):
    return "".join(f'{i.hts10},"{i.description}",{i.category},{i.heading},"{i.full_description}",{i.unit}\n'
                   for i in packaged_catalogue().values() if i.hts10 not in skip)


@pytest.fixture
def app(app, tmp_path):
    app.config["HTS_CATALOGUE_FILE"] = str(tmp_path / "hts_catalogue.json")
    return app


def test_packaged_catalogue_has_the_66_covered_numbers_and_its_revision(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hts-show"])
    assert result.exit_code == 0
    assert f"HTS catalogue {PACKAGED_REVISION}: 66 covered numbers." in result.output


def test_a_new_revision_replaces_the_catalogue_in_use(app, client, tmp_path):
    # The 2025 revision splits 7601.10.60.30 into 7601.10.60.40 and .45.
    new = tmp_path / "hts-2025.csv"
    new.write_text(HEADER + packaged_rows(skip={"7601106030"})
                   + '7601106040,"Of 99.8 to 99.9 percent",Unwrought aluminum,7601,"Unwrought > 99.8-99.9",kg\n'
                   + '7601106045,"Of more than 99.9 percent",Unwrought aluminum,7601,"Unwrought > 99.9",kg\n')
    result = app.test_cli_runner().invoke(args=["hts-load", str(new), "--revision", "2025 Revision 5"])
    assert result.exit_code == 0, result.output
    assert "HTS catalogue 2025 Revision 5: 67 covered numbers now in use." in result.output
    with app.app_context():
        make_user()
    post_form(client, "/signin", {"email": "filer@example.com", "password": PASSWORD})
    assert "Unwrought &gt; 99.9<" in client.get("/licenses/hts?line-hts_number=7601.10.60.45").get_data(as_text=True)
    assert "is not covered" in client.get("/licenses/hts?line-hts_number=7601.10.60.30").get_data(as_text=True)


@pytest.mark.parametrize(("content", "message"), [
    (HEADER + "7601.10.30\tbad,x,y,7601,z,kg\n", "is not a 10-digit HTS number"),
    (HEADER + '7601103000,"a",b,7601,c,kg\n7601103000,"a",b,7601,c,kg\n', "appears twice"),
    ("hts,description\n7601103000,x\n", "lacks the column(s)"),
])
def test_a_bad_catalogue_file_is_refused_and_nothing_changes(app, tmp_path, content, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hts-load", str(bad), "--revision", "2025 Revision 5"])
    assert result.exit_code != 0
    assert message in result.output and "Nothing was changed." in result.output
    assert PACKAGED_REVISION in runner.invoke(args=["hts-show"]).output
