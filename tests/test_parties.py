"""Telling party names apart (aimweb/parties.py, pure): the same name whatever its case, spaces,
punctuation or accents; a close name (a possible typo) within a small edit distance; fast enough
for an upload of 5,000 rows against a few thousand saved parties."""
from __future__ import annotations

import random
import string

import pytest

from aimweb.enums import PartyKind
from aimweb.parties import PartyIndex, allowed_distance, distance_within, name_key, same_name

IMPORTER, EXPORTER = PartyKind.IMPORTER, PartyKind.EXPORTER


@pytest.mark.parametrize(("a", "b"), [
    ("Gulf Coast Metals LLC", "GULF COAST METALS, L.L.C."),
    ("Gulf Coast Metals LLC", "  gulf   coast metals llc "),
    ("Société Générale", "SOCIETE GENERALE"),
    ("O'Neil & Sons", "oneil sons"),
])
def test_case_space_punctuation_and_accents_make_the_same_name(a, b):
    assert same_name(a, b)


def test_a_letter_more_is_not_the_same_name():
    assert not same_name("Gulf Coast Metals LLC", "Gulf Coast Metal LLC")
    assert name_key("Acme, Inc.") == "acmeinc"


@pytest.mark.parametrize(("a", "b", "limit", "expected"), [
    ("gulfcoastmetals", "gulfcoastmetals", 2, 0),
    ("gulfcoastmetals", "gulfcoastmetal", 2, 1),      # a letter dropped
    ("gulfcoastmetals", "gulfcaostmetals", 2, 1),     # two letters swapped
    ("gulfcoastmetals", "gulfcoastmedals", 2, 1),     # a letter changed
    ("gulfcoastmetals", "golfcoastmedals", 2, 2),
    ("gulfcoastmetals", "golfcoustmedals", 2, None),  # three edits
    ("abc", "abcdef", 2, None),
])
def test_the_distance_is_given_only_within_its_limit(a, b, limit, expected):
    assert distance_within(a, b, limit) == expected
    assert distance_within(b, a, limit) == expected


def _osa(a: str, b: str) -> int:
    """The textbook optimal-string-alignment distance, to check the banded one against."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_the_banded_distance_agrees_with_the_textbook_one():
    rng = random.Random(17)
    for _ in range(3000):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 9)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 9)))
        for limit in (1, 2):
            full = _osa(a, b)
            assert distance_within(a, b, limit) == (full if full <= limit else None), (a, b, limit)


def test_short_names_allow_fewer_edits():
    assert allowed_distance("abb") == 0          # ABB and ABC are two companies
    assert allowed_distance("alcoa") == 1
    assert allowed_distance("gulfcoastmetals") == 2


@pytest.fixture
def index():
    return PartyIndex([(IMPORTER, "Gulf Coast Metals LLC"), (IMPORTER, "Alcoa"), (IMPORTER, "ABB"),
                       (EXPORTER, "Northern Rolling Mills Inc."), (EXPORTER, "Alouette Smelting")])


def test_a_typo_of_a_saved_party_is_close_to_it(index):
    near = index.close_to(IMPORTER, "Gulf Coast Metls LLC")
    assert near.name == "Gulf Coast Metals LLC" and near.distance == 1
    assert index.close_to(IMPORTER, "Gulf Caost Metal LLC").distance == 2
    assert index.close_to(IMPORTER, "Alcao").name == "Alcoa"


def test_the_saved_name_itself_is_not_a_typo(index):
    assert index.close_to(IMPORTER, "GULF COAST METALS, LLC") is None
    assert index.saved(IMPORTER, "gulf coast metals llc") == "Gulf Coast Metals LLC"


def test_names_far_off_short_or_of_another_kind_are_not_close(index):
    assert index.close_to(IMPORTER, "Gulf Coast Alloys LLC") is None
    assert index.close_to(IMPORTER, "ABC") is None                 # too short to call a typo
    assert index.close_to(IMPORTER, "Alcan") is None               # two letters of five
    assert index.close_to(EXPORTER, "Gulf Coast Metls LLC") is None  # saved as an importer only
    assert index.close_to(IMPORTER, "") is None


def _company_names(rng: random.Random, count: int) -> list[str]:
    words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9))) for _ in range(600)]
    suffixes = ["LLC", "Inc.", "Corp.", "Ltd", "GmbH", "S.A.", "Co."]
    return [" ".join(rng.choice(words).title() for _ in range(rng.randint(1, 3))) + " " + rng.choice(suffixes)
            for _ in range(count)]


def _typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1:]


def test_5000_rows_of_3_names_against_3000_parties_find_the_typos_and_no_strangers():
    """The upload's results page checks every name of the file: here every row's three names are
    different, a tenth of them typos of a saved party. Every typo is offered a party; a name
    nobody saved is offered nothing. (How long it takes is bench/bench_party_matching.py's figure,
    in the README; a test does not time.)"""
    rng = random.Random(4)
    saved = _company_names(rng, 3000)
    index = PartyIndex((kind, name) for kind in PartyKind for name in saved)
    typos = {}
    names = []
    for name in _company_names(rng, 15000):
        if rng.random() < 0.1:
            meant = rng.choice(saved)
            name = _typo(rng, meant)
            typos[len(names)] = meant
        names.append(name)
    found = [index.close_to(PartyKind.IMPORTER if i % 3 == 0 else PartyKind.EXPORTER, n) for i, n in enumerate(names)]
    assert len(typos) >= 1000
    # A typo is offered its party unless it spells the same name (a dropped "." or space) or the
    # name is too short for any allowance.
    meant_to_find = [i for i, meant in typos.items()
                     if name_key(names[i]) != name_key(meant) and allowed_distance(name_key(names[i]))]
    assert len(meant_to_find) >= 900
    assert all(found[i] is not None for i in meant_to_find)
    strangers = [i for i, n in enumerate(names) if i not in typos and n not in saved]
    offered = sum(1 for i in strangers if found[i] is not None)
    assert offered < len(strangers) * 0.05, (offered, len(strangers))


def test_the_index_finds_what_comparing_with_every_party_finds():
    """The pieces only narrow the search: every close party comparing all of them would find is
    found (swaps across a piece's edge, edits at either end, names of every length)."""
    rng = random.Random(11)
    saved = ["".join(rng.choice("abcde") for _ in range(rng.randint(3, 16))) for _ in range(300)]
    index = PartyIndex((IMPORTER, name) for name in saved)
    keys = {name_key(n) for n in saved}

    def edit(name):
        for _ in range(rng.randint(1, 2)):
            i = rng.randrange(len(name))
            name = rng.choice([name[:i] + name[i + 1:], name[:i] + rng.choice("abcde") + name[i:],
                               name[:i] + rng.choice("abcde") + name[i + 1:],
                               name[:i] + name[i + 1:i + 2] + name[i:i + 1] + name[i + 2:]])
        return name

    for _ in range(1500):
        query = edit(rng.choice(saved))
        expected = None
        if query not in keys and allowed_distance(query):
            found = [d for d in (distance_within(query, s, min(allowed_distance(query), allowed_distance(s)))
                                 for s in saved if allowed_distance(s)) if d is not None]
            expected = min(found) if found else None
        near = index.close_to(IMPORTER, query)
        assert (near.distance if near else None) == expected, query
