"""The monitor cannot be differenced (issue 12, point 2): an attacker who reads every table and
download (every dimension, filter and period) and combines the published figures linearly learns
no withheld figure."""
from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest
from conftest import make_user

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import MonitorCell
from aimweb.monitor.aggregates import DIMENSIONS, months_of, periods_available, refresh
from aimweb.monitor.disclosure import KINDS, TOTAL, Figure, Month, fails_primary
from aimweb.products.aluminum import ProductLineDraft
from aimweb.reference.countries import all_countries

# The data straddles a year's end (a December and the January after it), so the monitor is read
# on a December day whatever day the other tests are pinned to.
TODAY = date(2026, 12, 10)


@pytest.fixture(autouse=True)
def december(app):
    app.config["PROGRAM_TODAY"] = TODAY.isoformat()
P = 2**61 - 1  # a prime: a figure not determined modulo P is not determined over the rationals

UNWROUGHT, UNWROUGHT2, PLATES, FOIL = "7601103000", "7601206000", "7606123035", "7607191000"
BARS, WIRE, CASTINGS, FORGINGS = "7604291010", "7605110000", "7616995160", "7616995170"


def month_start(back: int) -> date:
    index = TODAY.year * 12 + TODAY.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


# Months back from the current one: 25 (only in the year before last), 13 (25 months and last
# year, not 13 months), 12 (13 and 25 months, last year), 11 (13 and 25 months, this year), 2.
BACKS = (25, 13, 12, 11, 2)


def lines_of(company: int, back: int) -> list[tuple[str, str, str, str, int]]:
    """(HTS, origin, smelt, cast, kg) company 0-6 imports in a month."""
    k = 1 + BACKS.index(back)
    out = []
    if company < 5:            # five companies: published
        out.append((UNWROUGHT, "CA", "CA", "CA", 20_000 + 3_000 * company + 1_000 * k))
    if company == 5:           # one company alone in a heading
        out.append((UNWROUGHT2, "CA", "CA", "CA", 9_000 + 500 * k))
    if company < 4:            # four companies; company 0 dominates one month
        out.append((PLATES, "CN", "CN", "CA" if company == 3 else "CN",
                    (400_000 if company == 0 and back == 12 else 8_000 + 1_000 * company + 300 * k)))
    if company in (5, 6):      # two companies only
        out.append((FOIL, "CN", "CN", "CN", 5_000 + 700 * company + 100 * k))
    if company in (2, 3, 4):   # three companies; smelted elsewhere than the origin
        out.append((BARS, "MX", "CA", "MX", 3_000 + 400 * company + 50 * k))
    if company in (1, 5, 6) and back in (12, 11) and not (company == 6 and back == 12):
        out.append((WIRE, "MX", "MX", "MX", 4_000 + 900 * company + 70 * k))  # two companies in Dec
    if company in (1, 2, 3):   # one heading in two categories (7616.99)
        out.append((CASTINGS, "CN", "CN", "CN", 2_000 + 150 * company + 40 * k))
    if company in (4, 6) and back != 2:
        out.append((FORGINGS, "CA", "CN", "CA", 1_500 + 100 * company + 30 * k))
    return out


@pytest.fixture
def market(app):
    with app.app_context():
        for company in range(7):
            user = make_user(f"filer{company}@importer.example")
            for back in BACKS:
                imported = month_start(back) + timedelta(days=9)
                drafts = [rules.LicenseDraft(
                    entry_type="consumption", importer_name=f"Importer {company}", exporter_name="Exporter",
                    manufacturer_name="Mill", origin_country=origin, export_country=origin, port_code="1303",
                    export_date=imported - timedelta(days=7), import_date=imported,
                    lines=[ProductLineDraft(hts, smelt, "NA_", cast, Decimal(kg), Decimal(kg) * Decimal("2.5")
                                                  + 11 * company)])
                    for hts, origin, smelt, cast, kg in lines_of(company, back)]
                licensing.issue_licenses(user, drafts, on=imported - timedelta(days=8))
        refresh(TODAY)
        cells = {(c.dimension, c.category, c.origin, c.period, c.key): c
                 for c in db.session.scalars(db.select(MonitorCell))}
        yield cells


# ----- what every view and download publishes ----------------------------------------------------

COUNTRY = {name: code for code, name in all_countries()}


def key_of_label(dimension: str, label: str) -> str:
    if label == "All":
        return TOTAL
    if dimension in ("origin", "smelt", "cast"):
        return COUNTRY[label]
    if dimension == "hts6":
        return label.replace(".", "")
    return label


def views(client, measure: str = "usd", periods=None):
    """Every table as downloaded: (dimension, category, origin, period) -> {(key, column): text}."""
    categories = sorted({rules_category(hts) for hts in (UNWROUGHT, PLATES, FOIL, BARS, WIRE, CASTINGS, FORGINGS)})
    out = {}
    for dimension, category, origin, period in product(DIMENSIONS, [TOTAL] + categories, [TOTAL, "CA", "CN", "MX"],
                                                       periods or list(periods_available(TODAY))):
        query = {"dimension": dimension, "measure": measure, "period": period}
        if category != TOTAL:
            query["category"] = category
        if origin != TOTAL:
            query["origin"] = origin
        response = client.get("/monitor/table.csv", query_string=query)
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        head, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
        columns = head[1:-1] + [TOTAL]
        out[(dimension, category, origin, period)] = {
            (key_of_label(dimension, r[0]), column): text for r in body for column, text in zip(columns, r[1:])}
    return out


def rules_category(hts: str) -> str:
    from aimweb.reference.hts import current_catalogue

    return current_catalogue().items[hts].category


# ----- the attacker ----------------------------------------------------------------------------

class Attacker:
    """Unknowns: the imports of every (month, category, HTS heading, origin, smelt, cast) that no
    published zero rules out (figures are not negative, so a zero empties every part of it).
    Equations: every published figure. A withheld figure is determined exactly when its row of
    coefficients lies in the span of the published ones: elimination modulo a large prime."""

    def __init__(self, universe: list[tuple]):
        self.universe = universe
        self.by_month: dict[str, list[tuple]] = {}
        for a in universe:
            self.by_month.setdefault(a[0], []).append(a)
        self._cache: dict = {}

    def atoms(self, place) -> frozenset:
        dimension, category, origin, period, key, column = place
        months = tuple(months_of(period, TODAY)) if column == TOTAL else (column,)
        return frozenset().union(*(self._month(m, dimension, category, origin, key) for m in months))

    def _month(self, month, dimension, category, origin, key) -> frozenset:
        place = (month, dimension if key != TOTAL else "", category, origin, key)
        if place not in self._cache:
            position = {"category": 1, "hts6": 2, "origin": 3, "smelt": 4, "cast": 5}.get(dimension)
            self._cache[place] = frozenset(
                a for a in self.by_month.get(month, ()) if (category == TOTAL or a[1] == category)
                and (origin == TOTAL or a[3] == origin) and (key == TOTAL or a[position] == key))
        return self._cache[place]

    def determined(self, published: list[frozenset], zero: list[frozenset], withheld: dict) -> list:
        return determined(self.universe, published, zero, withheld)


def determined(universe: list, published: list[frozenset], zero: list[frozenset], withheld: dict) -> list:
    """The withheld figures (place -> its atoms) that the published ones (sets of atoms) give away."""
    ruled_out = frozenset().union(*zero) if zero else frozenset()
    index = {a: i for i, a in enumerate(a for a in universe if a not in ruled_out)}
    n = len(index)

    def row(atoms):
        r = [0] * n
        for a in atoms:
            if a in index:
                r[index[a]] = 1
        return r

    basis: dict[int, list[int]] = {}   # echelon form: pivot column -> row, zero before it

    def in_span(r, insert):
        for col in range(n):
            if not r[col]:
                continue
            b = basis.get(col)
            if b is None:
                if insert:
                    inv = pow(r[col], P - 2, P)
                    basis[col] = [x * inv % P for x in r]
                return False
            f = r[col]
            r = [(x - f * y) % P for x, y in zip(r, b)]
        return True

    for atoms in set(published):
        in_span(row(atoms), True)
    return [place for place, atoms in withheld.items() if in_span(row(atoms), False)]


def collect(cells_by_view, universe):
    """The published figures, the published zeros and the withheld figures, as sets of atoms."""
    attacker = Attacker(universe)
    published, zero, withheld = [], [], {}
    keys = {d: sorted({a[{"category": 1, "hts6": 2, "origin": 3, "smelt": 4, "cast": 5}[d]] for a in universe})
            for d in DIMENSIONS}
    for (dimension, category, origin, period), cells in cells_by_view.items():
        months = months_of(period, TODAY)
        listed = {key for key, _ in cells}
        for key in keys[dimension]:
            if key not in listed:  # a row the table does not list had no imports in the period
                zero.append(attacker.atoms((dimension, category, origin, period, key, TOTAL)))
        for (key, column), text in cells.items():
            place = (dimension, category, origin, period, key, column)
            atoms = attacker.atoms(place)
            if text == "(D)":
                withheld[place] = atoms
            elif text in ("", "–"):
                zero.append(atoms)
            else:
                published.append(atoms)
        assert {c for _, c in cells} <= set(months) | {TOTAL}
    return attacker, published, zero, withheld


def universe_of() -> list[tuple]:
    lines = {(rules_category(h), h[:6]) for h in (UNWROUGHT, UNWROUGHT2, PLATES, FOIL, BARS, WIRE, CASTINGS, FORGINGS)}
    countries = ("CA", "CN", "MX")
    months = [f"{month_start(b):%Y-%m}" for b in range(36)]
    return [(m, c, x, o, s, t) for m in months for c, x in sorted(lines) for o in countries for s in countries
            for t in countries]


def test_no_withheld_figure_of_any_view_is_a_combination_of_published_ones(client, market):
    published_views = views(client)
    attacker, published, zero, withheld = collect(published_views, universe_of())
    assert len(withheld) > 100 and len(published) > 1000   # a test with something to protect
    # Every figure failing the rules is withheld, in every view (the rules read on the refresh's counts).
    for (dimension, category, origin, period), cells in published_views.items():
        for (key, column), text in cells.items():
            cell = market.get((dimension if key != TOTAL else "total", category, origin,
                               period if column == TOTAL else column, key if key != TOTAL else TOTAL))
            if cell is not None and cell.companies is not None and fails_primary(   # a month's figure
                    Figure(cell.kg, cell.usd, cell.companies, cell.top_usd), 3, Decimal("0.8")):
                assert text == "(D)", (dimension, category, origin, period, key, column)
    # The Wire example of the issue: December withheld (two companies) in every view showing it.
    december = f"{month_start(12):%Y-%m}"
    assert published_views[("category", TOTAL, TOTAL, "13m")][("Wire", december)] == "(D)"
    assert attacker.determined(published, zero, withheld) == []


def test_quantities_and_unit_values_are_withheld_exactly_where_values_are(client, market):
    """The analysis above reads US$; tons and unit values have the same withheld places, so it
    holds for them too (tons are another set of unknowns with the same equations)."""
    usd = views(client, "usd", ["13m", str(TODAY.year - 1)])
    for measure in ("tons", "unit"):
        other = views(client, measure, ["13m", str(TODAY.year - 1)])
        for view, cells in usd.items():
            assert ({p for p, t in cells.items() if t == "(D)"}
                    == {p for p, t in other[view].items() if t == "(D)"}), view


def test_the_attacker_finds_a_month_withheld_only_table_by_table(client, market):
    """The leak of the per-table rule: Wire's 13-month total (December + January) published next
    to its calendar-year total (January): their difference is December, withheld. Planted here,
    the attacker finds December."""
    published_views = views(client, "usd", ["13m", str(TODAY.year)])
    attacker, published, zero, withheld = collect(published_views, universe_of())
    december = f"{month_start(12):%Y-%m}"
    wire = ("category", TOTAL, TOTAL, "13m", "Wire", december)
    assert wire in withheld and attacker.determined(published, zero, withheld) == []
    this_year = published_views[("category", TOTAL, TOTAL, str(TODAY.year))]
    assert this_year[("Wire", TOTAL)] not in ("(D)", "")      # January alone: published
    total = ("category", TOTAL, TOTAL, "13m", "Wire", TOTAL)
    assert total in withheld                                  # December and January: withheld
    leaked = published + [attacker.atoms(total)]              # as the per-table rule published it
    assert wire in attacker.determined(leaked, zero, {p: a for p, a in withheld.items() if p != total})


def test_the_attacker_sees_a_withheld_cell_that_a_row_and_its_total_give_away():
    universe = [("2026-01", "Foil", x, "CN", "CN", "CN") for x in ("760711", "760719", "760720")]
    attacker = Attacker(universe)
    one, two, three = ([a] for a in universe)
    everything = frozenset(universe)
    assert attacker.determined([frozenset(one), everything], [], {"x": frozenset(two + three)}) == ["x"]
    assert attacker.determined([frozenset(one), everything], [], {"y": frozenset(two)}) == []
    assert attacker.determined([everything], [frozenset(three)], {"y": frozenset(one + two)}) == ["y"]


@pytest.mark.parametrize("seed", range(30))
def test_no_random_month_gives_a_withheld_figure_away(seed):
    """The decision on one month (disclosure.Month) against the attacker, on random imports:
    few companies, dominant ones, an HTS heading in two categories, smelt and cast anywhere."""
    rng = random.Random(seed)
    lines = [("Foil", "760711"), ("Foil", "760719"), ("Wire", "760511"), ("Castings", "761699"),
             ("Forgings", "761699")]
    countries = ["CA", "CN", "MX"]
    records = [(rng.randint(0, 5), (rng.choice(lines), rng.choice(countries), rng.choice(countries),
                                    rng.choice(countries)), rng.choice([10, 100, 1000, 5000]))
               for _ in range(rng.randint(3, 30))]
    month = Month([atom for _, atom, _ in records], ("smelt", "cast"))
    by_company: dict = defaultdict(lambda: defaultdict(int))
    for company, atom, usd in records:
        for kind in KINDS:
            by_company[month.key_of_atom(kind, atom)][company] += usd
    for key, usd in by_company.items():
        total = sum(usd.values())
        month.add(key, total, fails_primary(Figure(total, total, len(usd), max(usd.values())), 3, Decimal("0.8")))
    primary = set(month.withheld)
    withheld = month.decide()
    assert primary <= withheld
    universe = list(product(lines, countries, countries, countries))
    inside = {key: frozenset(a for a in universe if month.inside(a, key)) for key in month.figures}
    zero = [frozenset([a]) for a in universe
            if any(month.key_of_atom(kind, a) not in month.figures for kind in KINDS)]
    published = [atoms for key, atoms in inside.items() if key not in withheld]
    assert determined(universe, published, zero, {k: inside[k] for k in withheld}) == []


@pytest.mark.parametrize("seed", range(10))
def test_the_figures_a_product_of_factors_alters_are_those_of_its_atoms(seed):
    """altered_by counts a product of factors attribute by attribute; expanded into atoms with their
    signs (altered), the same figures change, and the same products are refused."""
    rng = random.Random(seed)
    lines = [("Foil", "760711"), ("Foil", "760719"), ("Castings", "761699"), ("Forgings", "761699")]
    countries = ["CA", "CN", "MX"]
    atoms = [(rng.choice(lines), rng.choice(countries), rng.choice(countries), rng.choice(countries))
             for _ in range(rng.randint(5, 40))]
    month = Month(atoms, ("smelt", "cast"))
    for atom in atoms:
        for kind in KINDS:
            month.add(month.key_of_atom(kind, atom), 1, False)
    values = [lines, countries, countries, countries]
    for _ in range(200):
        factors = tuple(((a, 1),) if rng.random() < 0.5 else ((a, 1), (rng.choice([v for v in vs if v != a]), -1))
                        for vs in values for a in [rng.choice(vs)])
        assert month.altered_by(factors) == month.altered(month.expand(factors)), factors
