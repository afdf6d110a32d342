"""Disclosure control of the public monitor: which figures are withheld, decided once per month
over every figure that any table, filter, period or download can show.

Primary suppression: a figure is published only if at least MIN_COMPANIES distinct filer companies
contribute to it and no single company accounts for more than MAX_SHARE of its value. Unit values
are withheld with their figure.

Why not per table: the monitor shows the same month's imports cut many ways (by category, 6-digit
HTS, origin, smelt, cast; filtered by a category, an origin or both; over 13 or 25 months or a
calendar year), and a reader can subtract any published number from any other. Protection per
table let the 13-month total of a row minus its calendar-year total reveal a withheld month. So:

* Every figure of a month is a sum over the month's "atoms": the imports of one (category, 6-digit
  HTS, origin, smelt, cast). Figures of different months share no atom. The tables of a month show
  16 kinds of figures (KINDS: the total, by category, by HTS, by origin, smelt by category, cast by
  origin and category, ...); the same figure shown by two views (origin "CA" filtered by category
  "Foil" = category "Foil" filtered by origin "CA") is one figure with one decision.
* Complementary suppression, once per month: a withheld figure is safe when some change of the
  atoms ("certificate") alters it but alters no published figure: then the published figures of
  every view are equally consistent with two different values of it, so no linear combination of
  them (no subtraction across tables) gives it. For each primary-withheld figure without one, the
  cheapest certificate is chosen and every figure it alters is withheld too (all of those are then
  safe by the same certificate). A certificate is a product of one factor per attribute: a point
  (one value) or a difference of two values; it alters exactly the figures that fix every
  differenced attribute, e.g. a 2x2 box smelt x category alters four smelt-by-category figures and
  their four origin-filtered ones, nothing else. It only uses atoms no published zero ("–") rules
  out, and alters only figures that exist (a figure with no licenses is shown as "–", never "(D)").
  When no small product exists, the difference of two atoms of real data, or one atom, is used
  (every figure containing a real atom exists). The cost of a choice is the value newly withheld,
  a figure counting double for every attribute it sums over (a month's total is the last thing
  to withhold).
* Periods (13 months, 25 months, calendar years) add nothing: a period's figure is published only
  when every month of it is (monthly figures withheld in none of its months), so it is a sum of
  published monthly figures; otherwise it is withheld, and the certificate of its withheld month
  alters it as well.

tests/test_monitor_disclosure.py reads every view and download and checks, by elimination modulo
a large prime, that no withheld figure is a linear combination of the published ones. Not
covered: bounds (an attacker using that figures are not negative learns intervals, not values).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations, product
from operator import itemgetter

TOTAL = "*"


@dataclass(frozen=True)
class Figure:
    kg: Decimal
    usd: Decimal
    companies: int
    top_usd: Decimal

    @property
    def tons(self) -> Decimal:
        return self.kg / 1000

    @property
    def unit_value(self) -> Decimal | None:
        """US$ per metric ton."""
        return self.usd / self.tons if self.kg else None


def fails_primary(figure: Figure, min_companies: int, max_share: Decimal) -> bool:
    if figure.companies < min_companies:
        return True
    return figure.usd > 0 and figure.top_usd / figure.usd > max_share


# ----- the figures of a month --------------------------------------------------------------------
# An atom is (line, origin, *own) where line = (category, hts6) and own are the product's own
# dimensions (aluminum: largest smelt, most recent cast). A figure's key fixes some of these:
# (h, o, *own), None where summed over; h is None, ("c", category), ("x", hts6: all its
# categories) or ("h", (category, hts6)). An HTS heading of one category only is keyed ("h", ...)
# at the "x" level too, since both are the same figure.

def kinds(own: int) -> tuple[tuple, ...]:
    """The levels of (line, origin, *own) of every figure a view can show, for a product with `own`
    dimensions of its own (aluminum: 2, giving 16 kinds): each table (total, category, HTS, origin,
    each own dimension) under each filter (none, category, origin, both)."""
    found: list[tuple] = []
    for by_category, by_origin in product((0, 1), repeat=2):
        line = "c" if by_category else None
        none = (0,) * own
        tables = [(line, by_origin, *none), ("c", by_origin, *none), (line, 1, *none),
                  ("h" if by_category else "x", by_origin, *none), ("h", by_origin, *none)]
        tables += [(line, by_origin, *(int(i == j) for j in range(own))) for i in range(own)]
        found += [kind for kind in tables if kind not in found]
    return tuple(found)


KINDS = kinds(2)  # the aluminum monitor's (tests/test_monitor_disclosure.py reads it)

Key = tuple  # (h, o, *own)
Factor = tuple  # ((value, sign),) or ((value, 1), (other, -1))


class Month:
    """One month's figures and the decisions on them."""

    def __init__(self, atoms: list[tuple], own: tuple[str, ...]):
        self.own = own                           # the product's own dimensions, in atom order
        self.kinds = kinds(len(own))
        self.width = 2 + len(own)
        self.atoms = sorted(atoms, key=repr)     # (line, origin, *own) with imports
        self.categories = defaultdict(set)       # hts6 -> its categories this month
        values = [set() for _ in range(self.width)]
        for atom in self.atoms:
            self.categories[atom[0][1]].add(atom[0][0])
            for i, v in enumerate(atom):
                values[i].add(v)
        self.mixed = {x for x, cs in self.categories.items() if len(cs) > 1}
        self.values = [sorted(v, key=repr) for v in values]
        self.figures: dict[Key, Decimal | int] = {}   # key -> US$ (what a withheld figure costs)
        self.withheld: set[Key] = set()
        self.safe: set[Key] = set()
        self._by_size: list | None = None
        self._first: dict | None = None            # figure -> the first two atoms inside (_index)
        self._sized: list = []
        self._rankings: dict = {}
        self._keys: dict = {}                    # atom -> keys(atom), once the figures are all in
        self._valid: dict = {}                   # atom -> whether every figure containing it exists
        self._counted: dict = {}                 # (attr, level, factor) -> values it counts in
        self._weights: dict | None = None
        self._keysets: dict = {}
        # kinds, the finest first (the likeliest to be missing); levels of the attributes after the
        # first are 0 or 1
        self._checking_order = sorted(self.kinds, key=lambda kind: -sum(bool(level) for level in kind))
        # keys(): each kind's key picked from an atom's projections (_projections) by one itemgetter
        slot = {None: 0, "c": 1, "h": 2, "x": 3}
        self._pickers = [itemgetter(slot[level], *[4 + 2 * i + fixed for i, fixed in enumerate(levels)])
                         for level, *levels in self._checking_order]
        self._groups: dict = {}                  # (attr, level) -> rankings' figures by blank key
        self._bit: dict | None = None            # figure -> its bit (the fallback of certificate())
        self._weight_of: list = []
        self._masks: dict = {}                   # real atom -> the bits of its figures
        self._withheld_bits = (0, 0)             # (bits, for how many withheld figures)
        self._rank = [{v: i for i, v in enumerate(values)} for values in self.values]   # sorted by repr

    def key_of(self, dimension: str, category, origin, key, total=TOTAL) -> Key | None:
        """The figure a view's cell shows (`dimension` "total": the "All" row; `total`: a filter
        left unset), or None for an HTS heading without imports this month."""
        h = ("c", category) if category != total else None
        o = origin if origin != total else None
        own = [None] * len(self.own)
        if dimension == "category":
            h = ("c", key)
        elif dimension == "hts6":
            if category != total:
                h = ("h", (category, key))
            elif key in self.mixed:
                h = ("x", key)
            elif key in self.categories:
                h = ("h", (next(iter(self.categories[key])), key))
            else:
                return None
        elif dimension == "origin":
            o = key
        elif dimension in self.own:
            own[self.own.index(dimension)] = key
        return (h, o, *own)

    def add(self, key: Key, usd, primary_fails: bool) -> None:
        self.figures[key] = usd
        if primary_fails:
            self.withheld.add(key)

    # -- the figures a certificate alters --
    def _project(self, attr: int, level, value):
        if attr:
            return value
        category, hts = value
        if level == "c":
            return ("c", category)
        if level == "x" and hts in self.mixed:
            return ("x", hts)
        return ("h", value)

    def altered(self, change: list[tuple[tuple, int]]) -> set[Key] | None:
        """Figures a certificate (atoms with +1/-1) changes, or None when it would change a figure
        with no imports or use an atom that a published zero rules out."""
        sums: dict = defaultdict(int)
        for atom, sign in change:
            keys = self.keys(atom)
            if keys is None:
                return None
            for key in keys:
                sums[key] += sign
        out = {key for key, total in sums.items() if total}
        figures = self.figures
        return out if all(key in figures for key in out) else None

    def keys(self, atom: tuple) -> tuple[Key, ...] | None:
        """The figures containing an atom (one per kind), or None when one is zero."""
        keys = self._keys.get(atom, self)
        if keys is not self:
            return keys
        # key_of_atom for every kind, written out: most atoms tried by a certificate are not real
        # and are ruled out by their first missing figure.
        # Each kind's key is picked by an itemgetter from the atom's projections (None, category, line,
        # HTS, then None or the value of each other attribute): measured 4x faster than building them.
        line = atom[0]
        whole = ("h", line)
        projections = [None, ("c", line[0]), whole, ("x", line[1]) if line[1] in self.mixed else whole]
        for value in atom[1:]:
            projections += (None, value)
        figures = self.figures
        pickers = self._pickers
        if pickers[0](projections) not in figures:   # the finest: the likeliest to be missing
            self._keys[atom] = None
            return None
        keys = tuple([pick(projections) for pick in pickers])
        if not all(map(figures.__contains__, keys)):
            keys = None
        self._keys[atom] = keys
        return keys

    @staticmethod
    def expand(factors: tuple[Factor, ...]) -> list[tuple[tuple, int]]:
        """A product of factors as atoms with their signs."""
        out = []
        for parts in product(*factors):
            sign = 1
            for _, s in parts:
                sign *= s
            out.append((tuple(v for v, _ in parts), sign))
        return out

    def key_of_atom(self, kind: tuple, atom: tuple) -> Key:
        """The figure of a kind that contains the atom."""
        return tuple(None if not level else self._project(attr, level, atom[attr]) for attr, level in enumerate(kind))


    def cost(self, keys: set[Key]) -> tuple:
        """The value newly withheld, a figure counting double for every attribute it sums over:
        withholding Bars from Mexico in every cut costs less than withholding the month's total;
        then the number of figures newly withheld."""
        weights, withheld = self._weights, self.withheld
        if weights is None:
            self._weights = weights = {k: usd * (1 << k.count(None)) for k, usd in self.figures.items()}
        new = keys - withheld
        return (sum([weights[k] for k in new]), len(new)) if new else (0, 0)

    def altered_by(self, factors: tuple[Factor, ...]) -> set[Key] | None:
        """`altered(expand(factors))` without expanding: the signed count of a product of factors
        in a figure is the product, attribute by attribute, of the factor's signed count in the
        figure's value of that attribute (a figure fixes each attribute or sums over it), so the
        figures altered are, kind by kind, the products of the values with a non-zero count.
        (Measured: the refresh of 10,000 licenses spent most of its time expanding.)"""
        valid = self._valid
        for atom in product(*[[v for v, _ in f] for f in factors]):
            ok = valid.get(atom)
            if ok is None:
                ok = valid[atom] = self.keys(atom) is not None
            if not ok:
                return None
        out: set[Key] = set()
        counted = self._counted
        for kind in self.kinds:
            parts = []
            for attr, level in enumerate(kind):
                place = (attr, level, factors[attr])
                values = counted.get(place)
                if values is None:
                    values = counted[place] = self._count(attr, level, factors[attr])
                if not values:
                    break
                parts.append(values)
            else:
                out.update(product(*parts))
        return out

    def _count(self, attr: int, level, factor: Factor) -> tuple:
        """The values of a figure's attribute (at a kind's level) in which a factor counts non-zero."""
        counts: dict = defaultdict(int)
        for value, sign in factor:
            counts[self._project(attr, level, value) if level else None] += sign
        return tuple(value for value, count in counts.items() if count)

    # -- choosing a certificate for a figure --
    def _ranked(self, key: Key, attr: int, level=None, keep=None, count: int = 0) -> list:
        """The values of `attr` (those `keep` accepts) whose figure (`key` with that value of `attr`,
        projected to `level`) exists: withheld first, then the smallest; the first `count` of
        them (all: 0). Sorted once per month for all the figures differing only in `attr`."""
        place = (self._with(key, attr, None), attr, level)
        found = self._rankings.get(place)
        if found is None:
            # (US$, rank of the value, figure, value): a value is in one figure of a group, so the
            # tuples compare by (US$, rank) alone
            found = self._rankings[place] = sorted(self._group(attr, level).get(place[0], ()))
        withheld, out = self.withheld, []
        for _, _, k, v in found:
            if k in withheld and (keep is None or keep(v)):
                out.append(v)
                if len(out) == count:
                    return out
        for _, _, k, v in found:
            if k not in withheld and (keep is None or keep(v)):
                out.append(v)
                if len(out) == count:
                    return out
        return out

    def _group(self, attr: int, level) -> dict:
        """The figures that fix `attr` (its value at `level`), with each value of `attr` they hold,
        by their key with `attr` blank: the pairs (figure, value) a ranking sorts. One pass over
        the figures for all rankings of (attr, level) instead of one probe per value and ranking."""
        groups = self._groups.get((attr, level))
        if groups is None:
            preimage = defaultdict(list)          # value of the figure's attr -> the values inside
            for v in self.values[attr]:
                preimage[self._project(attr, level, v) if level else v].append(v)
            groups = self._groups[(attr, level)] = defaultdict(list)
            rank, after = self._rank[attr], attr + 1
            for k, usd in self.figures.items():
                inside = preimage.get(k[attr])
                if inside:
                    groups[(*k[:attr], None, *k[after:])] += [(usd, rank[v], k, v) for v in inside]
        return groups

    def _options(self, key: Key, attr: int, differ: bool, limit: int = 2) -> list[Factor]:
        """A factor's few best choices (the search is a heuristic: any certificate found is valid)."""
        fixed = key[attr]
        lines = self.values[0]
        if attr == 0:
            if fixed is None:
                if differ:
                    return []
                return [((line, 1),) for line in self._ranked(key, 0, "c", count=limit)]
            level, value = fixed
            if level == "h":
                def inside(line):
                    return line == value
            elif level == "x":
                def inside(line):
                    return line[1] == value
            else:
                def inside(line):
                    return line[0] == value
            mine = self._ranked(key, 0, "h", inside, count=1) or [line for line in lines if inside(line)][:1]
            if not differ:
                return [((line, 1),) for line in mine]
            others = self._ranked(key, 0, level, lambda line: self._project(0, level, line) != fixed, count=limit)
            return [((a, 1), (b, -1)) for a in mine for b in others]
        if fixed is None:
            if differ:
                return []
            ranked = self._ranked(key, attr, count=limit)
            if len(ranked) < limit:
                ranked += [v for v in self.values[attr] if v not in ranked]
            return [((v, 1),) for v in ranked[:limit]]
        if not differ:
            return [((fixed, 1),)]
        others = [v for v in self._ranked(key, attr, count=limit + 1) if v != fixed]
        return [((fixed, 1), (v, -1)) for v in others[:limit]]

    @staticmethod
    def _with(key: Key, attr: int, value) -> Key:
        out = list(key)
        out[attr] = value
        return tuple(out)

    def certificate(self, key: Key) -> tuple[set[Key], int | None]:
        """The figures to withhold so that `key` is safe: those a cheap certificate alters (and
        as bits, for a change of atoms; None for a product of factors). A
        product of factors (which makes many figures safe at once) is preferred, unless two atoms
        of real data already make `key` safe without withholding anything new (the search for
        products is the dearer one and mostly fails in a sparse month: measured, 17,849 of the
        18,717 certificates of 10,000 licenses came from atoms)."""
        cost, altered, bits = self._atom_certificate(key)
        if cost == (0, 0):
            return altered, bits
        found = self._product_certificate(key)
        return (altered, bits) if found is None else (found, None)

    def _product_certificate(self, key: Key) -> set[Key] | None:
        """The cheapest product of factors that alters `key` (the fewest factors differenced
        first), or None."""
        fixed = [attr for attr in range(self.width) if key[attr] is not None]
        best, options = None, {}   # (attr, differ) -> the factor's options (nothing is withheld meanwhile)
        # Every product below holds an atom made of its factors' first values: one of these. When
        # none has all its figures, no product is valid (most figures of a sparse month).
        for attr in range(self.width):
            options[(attr, False)] = self._options(key, attr, False)
        firsts = [[factor[0][0] for factor in options[(attr, False)]] for attr in range(self.width)]
        sizes = range(len(fixed), max(len(fixed) - 2, 0), -1)
        if not any(self.keys(atom) is not None for atom in product(*firsts)):
            sizes = ()
        for size in sizes:
            for differ in combinations(fixed, size):
                choices = []
                for attr in range(self.width):
                    place = (attr, attr in differ)
                    found = options.get(place)
                    if found is None:
                        found = options[place] = self._options(key, *place)
                    choices.append(found)
                for factors in product(*choices):
                    altered = self.altered_by(factors)
                    if altered is None or key not in altered:
                        continue
                    cost = self.cost(altered)
                    if best is None or cost < best[0]:
                        best = (cost, altered)
                        if not cost[0]:
                            return altered
            if best is not None:
                return best[1]
        return None

    def _atom_certificate(self, key: Key) -> tuple[tuple, set[Key], int]:
        """The cheapest change of two atoms, or of one, that alters `key`, with its cost and the
        figures it alters as bits."""
        # Two atoms of real data, one inside the figure and one outside (every figure either is in
        # exists), else one atom: a figure too thin for a product of factors (one origin only, ...).
        # Real atoms have every figure containing them, and two atoms alter the figures that hold
        # one and not the other (a figure holding both counts them alike): sets, not sums.
        # Measured (10,000 licenses: most of a month withheld, 20 outside atoms tried for each key):
        # the figures as bits of an int, a change's new figures are `(a & ~b | b & ~a) & ~withheld`
        # in a few big-int operations, and the set is built for the cheapest only.
        first, sized, masks = self._index()
        bit = self._bit[key]
        inside = first.get(key, ())   # the first two atoms inside (in atom order)
        outside = []                  # the first 20 atoms outside, by size, with their bits
        for atom, m in sized:
            if not m & bit:
                outside.append((atom, m))
                if len(outside) == 20:
                    break
        unwithheld = self._all ^ self._withheld_mask()   # not ~: negative big ints cost more
        mine = [(a, masks[a] & unwithheld) for a in inside]
        # The candidates in order: each inside atom alone, then each inside atom with each outside
        # one; the first that withholds nothing new is the answer (nothing is cheaper), found by
        # comparing the bits of figures not yet withheld (equal: their difference is all withheld).
        for a, fresh in mine:
            if not fresh:
                return (0, 0), set(self._keysets[a]), masks[a]
        theirs = [m & unwithheld for _, m in outside]
        for a, fresh in mine:
            if fresh in theirs:
                b = outside[theirs.index(fresh)][0]
                return (0, 0), set(self._keysets[a] ^ self._keysets[b]), masks[a] ^ masks[b]
        # Otherwise the cheapest, the first of equals: every candidate withholds something new.
        weights = self._weight_of
        best = None
        limit = None
        candidates = [(a, None, fresh) for a, fresh in mine]
        candidates += [(a, b, fresh ^ other) for a, fresh in mine for (b, _), other in zip(outside, theirs)]
        for a, b, fresh in candidates:
            # the heaviest figures have the lowest bits (_bits): stop once dearer than the best
            total, count = 0, fresh.bit_count()
            while fresh:
                low = fresh & -fresh
                total += weights[low.bit_length() - 1]
                if limit is not None and total > limit:
                    break
                fresh ^= low
            if fresh:
                continue
            cost = (total, count)
            if best is None or cost < best[0]:
                best = (cost, (a, b))
                limit = total
        assert best is not None, key
        cost, (a, b) = best
        if b is None:
            return cost, set(self._keysets[a]), masks[a]
        return cost, set(self._keysets[a] ^ self._keysets[b]), masks[a] ^ masks[b]

    def _bits(self) -> dict:
        """A bit for every figure (once the figures are all in), and their weights (cost()) by bit."""
        if self._bit is None:
            self.cost(set())
            weights = self._weights
            heaviest = sorted(self.figures, key=weights.__getitem__, reverse=True)   # stable: ties keep their order
            self._bit = {k: 1 << i for i, k in enumerate(heaviest)}
            self._weight_of = [weights[k] for k in heaviest]
            self._all = (1 << len(self.figures)) - 1
        return self._bit

    def _index(self) -> tuple[dict, list, dict]:
        """Once the figures are all in, for _atom_certificate: the first two atoms (in atom order)
        inside each figure, the atoms by size (by_size) with their figures as bits, and each real
        atom's figures as bits."""
        if self._first is None:
            bits = self._bits().__getitem__
            masks, keysets, keys = self._masks, self._keysets, self.keys
            first: dict = {}
            for atom in self.atoms:
                found = keysets.get(atom)
                if found is None:
                    found = keysets[atom] = frozenset(keys(atom))
                    masks[atom] = sum(map(bits, found))
                for k in found:
                    held = first.get(k)
                    if held is None:
                        first[k] = [atom]
                    elif len(held) == 1:
                        held.append(atom)
            self._sized = [(atom, masks[atom]) for atom in self.by_size()]
            self._first = first
        return self._first, self._sized, self._masks

    def _withheld_mask(self) -> int:
        """The withheld figures as bits, brought up to date with the figures withheld since."""
        if self._withheld_bits[1] != len(self.withheld):
            bits = self._bits()
            self._withheld_bits = (sum(bits[k] for k in self.withheld), len(self.withheld))
        return self._withheld_bits[0]

    def inside(self, atom: tuple, key: Key) -> bool:
        return all(fixed is None or self._project(attr, fixed[0] if attr == 0 else 1, atom[attr]) == fixed
                   for attr, fixed in enumerate(key))

    def by_size(self) -> list[tuple]:
        """The month's atoms, those of the smallest finest figures first (cheapest to withhold)."""
        if self._by_size is None:
            def size(atom):
                finest = (("c", atom[0][0]), *atom[1:3], *[None] * (self.width - 3))
                return (self.figures.get(finest, 0), repr(atom))
            self._by_size = sorted(self.atoms, key=size)
        return self._by_size

    def decide(self) -> set[Key]:
        """Withhold until every withheld figure is altered by a certificate."""
        figures = self.figures   # the finest first (the most attributes fixed: the fewest None)
        order = sorted(self.withheld, key=lambda k: (k.count(None), figures[k], repr(k)))
        for key in order:
            if key in self.safe:
                continue
            altered, bits = self.certificate(key)
            # the fallback's bits follow (figures only ever get withheld)
            if bits is None:
                bits = sum(map(self._bit.__getitem__, altered))   # distinct bits: their sum is their union
            self.withheld |= altered
            self._withheld_bits = (self._withheld_bits[0] | bits, len(self.withheld))
            self.safe |= altered
        return self.withheld
