"""The monitor cannot be differenced (issue 12, point 2): an attacker who reads every table and
download (every dimension, filter and period) and combines the published figures linearly learns
no withheld figure. Both monitors are read so: aluminum's (smelt and cast of their own) and steel's
(melt and pour, and the product group derived from the category; issue 15, point 7), on the same
market shape."""
from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest
from conftest import make_user

from aimweb import licensing, rules
from aimweb.extensions import db
from aimweb.models import MonitorCell
from aimweb.monitor.aggregates import monitor, months_of, periods_available, refresh
from aimweb.monitor.disclosure import KINDS, TOTAL, Figure, Month, fails_primary
from aimweb.products import ALUMINUM, STEEL, get
from aimweb.products.steel import product_group
from aimweb.reference.countries import all_countries

# The data straddles a year's end (a December and the January after it), so the monitor is read
# on a December day whatever day the other tests are pinned to.
TODAY = date(2026, 12, 10)


@pytest.fixture(autouse=True)
def december(app):
    app.config["PROGRAM_TODAY"] = TODAY.isoformat()
P = 2**61 - 1  # a prime: a figure not determined modulo P is not determined over the rationals

UNWROUGHT, UNWROUGHT2, PLATES, FOIL = "unwrought", "unwrought2", "plates", "foil"
BARS, WIRE, CASTINGS, FORGINGS = "bars", "wire", "castings", "forgings"
ROLES = (UNWROUGHT, UNWROUGHT2, PLATES, FOIL, BARS, WIRE, CASTINGS, FORGINGS)


@dataclass(frozen=True)
class Market:
    """A product's HTS numbers in each role of the market below (the roles are aluminum's)."""

    product: str
    hts: dict[str, str]
    wire: str            # the category of WIRE

    def line(self, hts, smelt, cast, kg, usd):
        if self.product == STEEL.key:   # the country of melt and pour where aluminum has its smelt
            return STEEL.LineDraft(hts, smelt, kg, usd)
        return ALUMINUM.LineDraft(hts, smelt, "NA_", cast, kg, usd)

    def own(self, category: str, smelt: str, cast: str) -> tuple:
        """An atom's own attributes, in the monitor's order."""
        return (smelt, product_group(category)) if self.product == STEEL.key else (smelt, cast)


MARKETS = {
    "aluminum": Market("aluminum", dict(zip(ROLES, (
        "7601103000", "7601206000", "7606123035", "7607191000", "7604291010", "7605110000",
        "7616995160", "7616995170"))), "Wire"),
    # Two headings of one category (cold-rolled sheet), two categories of the Flat group, three of
    # the Long group, and one HTS heading (7224.10) in two categories of two groups.
    "steel": Market("steel", dict(zip(ROLES, (
        "7209150000", "7209160040", "7208510030", "7213100000", "7213200010", "7217101000",
        "7224100005", "7224100045"))), "Wire (other than of stainless steel)"),
}


@pytest.fixture(params=list(MARKETS))
def spec(request) -> Market:
    return MARKETS[request.param]


def month_start(back: int) -> date:
    index = TODAY.year * 12 + TODAY.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


# Months back from the current one: 25 (only in the year before last), 13 (25 months and last
# year, not 13 months), 12 (13 and 25 months, last year), 11 (13 and 25 months, this year), 2.
BACKS = (25, 13, 12, 11, 2)


def lines_of(company: int, back: int) -> list[tuple[str, str, str, str, int]]:
    """(role, origin, smelt, cast, kg) company 0-6 imports in a month."""
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
def market(app, spec):
    """The market in the spec's product; the other product has a little of its own (one company)
    that must change nothing."""
    other = next(m for m in MARKETS.values() if m is not spec)
    with app.app_context():
        for company in range(7):
            user = make_user(f"filer{company}@importer.example")
            for back in BACKS:
                imported = month_start(back) + timedelta(days=9)
                drafts = [rules.LicenseDraft(
                    product=spec.product, entry_type="consumption", importer_name=f"Importer {company}",
                    exporter_name="Exporter", manufacturer_name="Mill", origin_country=origin,
                    export_country=origin, port_code="1303",
                    export_date=imported - timedelta(days=7), import_date=imported,
                    lines=[spec.line(spec.hts[role], smelt, cast, Decimal(kg),
                                     Decimal(kg) * Decimal("2.5") + 11 * company)])
                    for role, origin, smelt, cast, kg in lines_of(company, back)]
                licensing.issue_licenses(user, drafts, on=imported - timedelta(days=8))
        imported = month_start(12) + timedelta(days=9)
        licensing.issue_licenses(make_user("other@importer.example"), [rules.LicenseDraft(
            product=other.product, entry_type="consumption", importer_name="Other", exporter_name="Exporter",
            manufacturer_name="Mill", origin_country="CA", export_country="CA", port_code="1303",
            export_date=imported - timedelta(days=7), import_date=imported,
            lines=[other.line(other.hts[WIRE], "CA", "CA", Decimal(900_000), Decimal(2_000_000))])],
            on=imported - timedelta(days=8))
        refresh(TODAY)
        cells = {(c.dimension, c.category, c.origin, c.period, c.key): c
                 for c in db.session.scalars(db.select(MonitorCell).where(MonitorCell.product == spec.product))}
        yield cells


# ----- what every view and download publishes ----------------------------------------------------

COUNTRY = {name: code for code, name in all_countries()}


def key_of_label(spec: Market, dimension: str, label: str) -> str:
    if label == "All":
        return TOTAL
    if dimension in monitor(spec.product).country_dimensions:
        return COUNTRY[label]
    if dimension == "hts6":
        return label.replace(".", "")
    return label


def views(client, spec: Market, measure: str = "usd", periods=None):
    """Every table as downloaded: (dimension, category, origin, period) -> {(key, column): text}."""
    categories = sorted({rules_category(spec, hts) for hts in spec.hts.values()})
    out = {}
    for dimension, category, origin, period in product(monitor(spec.product).dimensions, [TOTAL] + categories,
                                                       [TOTAL, "CA", "CN", "MX"],
                                                       periods or list(periods_available(TODAY))):
        query = {"dimension": dimension, "measure": measure, "period": period}
        if category != TOTAL:
            query["category"] = category
        if origin != TOTAL:
            query["origin"] = origin
        response = client.get(f"/monitor/{spec.product}/table.csv", query_string=query)
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        head, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
        columns = head[1:-1] + [TOTAL]
        out[(dimension, category, origin, period)] = {
            (key_of_label(spec, dimension, r[0]), column): text
            for r in body for column, text in zip(columns, r[1:])}
    return out


def rules_category(spec: Market, hts: str) -> str:
    return get(spec.product).catalogue().items[hts].category


def positions(spec: Market) -> dict[str, int]:
    """Where an atom (month, category, HTS heading, origin, *own) holds each dimension's value."""
    return {dimension: i + 1 for i, dimension in enumerate(monitor(spec.product).dimensions)}


# ----- the attacker ----------------------------------------------------------------------------

class Attacker:
    """Unknowns: the imports of every (month, category, HTS heading, origin, smelt, cast) that no
    published zero rules out (figures are not negative, so a zero empties every part of it).
    Equations: every published figure. A withheld figure is determined exactly when its row of
    coefficients lies in the span of the published ones: elimination modulo a large prime."""

    def __init__(self, universe: list[tuple], where: dict[str, int]):
        self.universe, self.where = universe, where
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
            position = self.where.get(dimension)
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


def collect(spec: Market, cells_by_view, universe):
    """The published figures, the published zeros and the withheld figures, as sets of atoms."""
    where = positions(spec)
    attacker = Attacker(universe, where)
    published, zero, withheld = [], [], {}
    keys = {d: sorted({a[where[d]] for a in universe}) for d in where}
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


def universe_of(spec: Market) -> list[tuple]:
    """Every atom the attacker cannot rule out before reading: steel's product group is known to be
    its category's, so it adds no unknowns."""
    lines = {(rules_category(spec, h), h[:6]) for h in spec.hts.values()}
    countries = ("CA", "CN", "MX")
    months = [f"{month_start(b):%Y-%m}" for b in range(36)]
    return sorted({(m, c, x, o, *spec.own(c, s, t)) for m in months for c, x in sorted(lines) for o in countries
                   for s in countries for t in countries})


def test_no_withheld_figure_of_any_view_is_a_combination_of_published_ones(client, spec, market):
    published_views = views(client, spec)
    attacker, published, zero, withheld = collect(spec, published_views, universe_of(spec))
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
    assert published_views[("category", TOTAL, TOTAL, "13m")][(spec.wire, december)] == "(D)"
    assert attacker.determined(published, zero, withheld) == []


def test_quantities_and_unit_values_are_withheld_exactly_where_values_are(client, spec, market):
    """The analysis above reads US$; tons and unit values have the same withheld places, so it
    holds for them too (tons are another set of unknowns with the same equations)."""
    usd = views(client, spec, "usd", ["13m", str(TODAY.year - 1)])
    for measure in ("tons", "unit"):
        other = views(client, spec, measure, ["13m", str(TODAY.year - 1)])
        for view, cells in usd.items():
            assert ({p for p, t in cells.items() if t == "(D)"}
                    == {p for p, t in other[view].items() if t == "(D)"}), view


def test_the_attacker_finds_a_month_withheld_only_table_by_table(client, spec, market):
    """The leak of the per-table rule: Wire's 13-month total (December + January) published next
    to its calendar-year total (January): their difference is December, withheld. Planted here,
    the attacker finds December."""
    published_views = views(client, spec, "usd", ["13m", str(TODAY.year)])
    attacker, published, zero, withheld = collect(spec, published_views, universe_of(spec))
    december = f"{month_start(12):%Y-%m}"
    wire = ("category", TOTAL, TOTAL, "13m", spec.wire, december)
    assert wire in withheld and attacker.determined(published, zero, withheld) == []
    this_year = published_views[("category", TOTAL, TOTAL, str(TODAY.year))]
    assert this_year[(spec.wire, TOTAL)] not in ("(D)", "")      # January alone: published
    total = ("category", TOTAL, TOTAL, "13m", spec.wire, TOTAL)
    assert total in withheld                                  # December and January: withheld
    leaked = published + [attacker.atoms(total)]              # as the per-table rule published it
    assert wire in attacker.determined(leaked, zero, {p: a for p, a in withheld.items() if p != total})


def test_the_attacker_sees_a_withheld_cell_that_a_row_and_its_total_give_away():
    universe = [("2026-01", "Foil", x, "CN", "CN", "CN") for x in ("760711", "760719", "760720")]
    attacker = Attacker(universe, {})
    one, two, three = ([a] for a in universe)
    everything = frozenset(universe)
    assert attacker.determined([frozenset(one), everything], [], {"x": frozenset(two + three)}) == ["x"]
    assert attacker.determined([frozenset(one), everything], [], {"y": frozenset(two)}) == []
    assert attacker.determined([everything], [frozenset(three)], {"y": frozenset(one + two)}) == ["y"]


# A dimension derived from the category (steel's product group): Foil and Wire in one group,
# Castings and Forgings (one HTS heading) in two.
GROUP = {"Foil": "Flat", "Wire": "Flat", "Castings": "Cast", "Forgings": "Long"}


@pytest.mark.parametrize("derived", [False, True], ids=["smelt-cast", "melt-group"])
@pytest.mark.parametrize("seed", range(30))
def test_no_random_month_gives_a_withheld_figure_away(seed, derived):
    """The decision on one month (disclosure.Month) against the attacker, on random imports:
    few companies, dominant ones, an HTS heading in two categories, smelt and cast anywhere; or
    (steel's shape) melt and pour anywhere and a group that the category decides."""
    rng = random.Random(seed)
    lines = [("Foil", "760711"), ("Foil", "760719"), ("Wire", "760511"), ("Castings", "761699"),
             ("Forgings", "761699")]
    countries = ["CA", "CN", "MX"]

    def atom_of(line, origin, smelt, cast):
        return (line, origin, smelt, GROUP[line[0]] if derived else cast)

    records = [(rng.randint(0, 5), atom_of(rng.choice(lines), rng.choice(countries), rng.choice(countries),
                                        rng.choice(countries)), rng.choice([10, 100, 1000, 5000]))
               for _ in range(rng.randint(3, 30))]
    month = Month([atom for _, atom, _ in records], ("melt_pour", "product_group") if derived else ("smelt", "cast"))
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
    universe = sorted({atom_of(*a) for a in product(lines, countries, countries, countries)})
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
