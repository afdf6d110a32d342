"""Telling party names apart: the same name (case, spaces, punctuation and accents aside), and a
name close to a saved party's without being the same (a possible typo). Pure: no Flask, no
database; aimweb/addressbook.py loads the parties, the upload's results ask.

"Close" is a small edit distance between the normalised names (optimal string alignment: a
character added, dropped, changed, or two neighbours swapped, each counts one): at most 1 for
names of 5 to 9 characters, at most 2 from 10 characters on, never for names under 5 characters
(short names differ by a letter as a rule: ABB and ABC are two companies). Chosen over difflib's
ratio >= 0.88, which misses one changed letter in a name of up to 8 characters (7 of 8 alike is
0.875) and costs a full alignment per pair: 30 times slower here (bench/bench_party_matching.py).

Speed: a name within k edits of a saved one holds one of 2k + 1 pieces of the saved name unchanged,
at about the same place (pigeonhole: an edit touches one piece, a swap of two neighbours at most
two). Saved names are indexed by their pieces (with their length
and the piece's number), so a name is compared only with the few saved names sharing a piece at
that place, whose character set differs by at most twice the distance (each edit changes at most
two characters' presence); the distance itself is computed in a band and given up as soon as it
exceeds the limit. Each distinct name is looked up once per kind.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import cache

SHORTEST = 5
LONG = 10


def name_key(name: str) -> str:
    """The name as compared: lower case, accents dropped, only letters and digits kept."""
    folded = unicodedata.normalize("NFKD", (name or "").casefold())
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


def same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


def allowed_distance(key: str) -> int:
    """How many edits a name of this (normalised) length may be from a saved one to be "close"."""
    if len(key) < SHORTEST:
        return 0
    return 1 if len(key) < LONG else 2


def distance_within(a: str, b: str, limit: int) -> int | None:
    """The optimal-string-alignment distance of a and b if it is at most `limit`, else None."""
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return None
    if a == b:
        return 0
    big = limit + 1
    before = None
    previous = list(range(lb + 1))
    for i in range(1, la + 1):
        current = [i] + [big] * lb
        low, high = max(1, i - limit), min(lb, i + limit)
        ca = a[i - 1]
        best = current[0] if low == 1 else big
        for j in range(low, high + 1):
            cost = 0 if ca == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return None
        before, previous = previous, current
    return previous[lb] if previous[lb] <= limit else None


def _mask(key: str) -> int:
    mask = 0
    for c in key:
        mask |= 1 << (ord(c) & 1023)
    return mask


@dataclass(frozen=True)
class Near:
    """A saved party a name is close to."""

    name: str        # the saved party's name, as saved
    distance: int


@cache
def _pieces(length: int) -> tuple[tuple[int, int], ...]:
    """(start, length) of the near-equal consecutive pieces a saved name of that length is indexed
    by: 2k + 1 of them for k allowed edits (none for a name too short to have a typo)."""
    count = 2 * allowed_distance("x" * length) + 1
    if count == 1:
        return ()
    bounds = [round(i * length / count) for i in range(count + 1)]
    return tuple((bounds[i], bounds[i + 1] - bounds[i]) for i in range(count))


class PartyIndex:
    """The saved parties of a company, per kind, ready to be asked about many names."""

    def __init__(self, parties: Iterable[tuple[Hashable, str]]):
        """`parties`: (kind, name) of every saved party (archived ones left out by the caller)."""
        self._exact: dict[Hashable, dict[str, str]] = defaultdict(dict)
        # kind -> (saved length, piece number) -> piece -> the saved names holding it there
        self._pieces: dict[Hashable, dict[tuple[int, int], dict[str, list]]] = defaultdict(dict)
        self._cache: dict[tuple[Hashable, str], Near | None] = {}
        for kind, name in parties:
            key = name_key(name)
            if not key or key in self._exact[kind]:
                continue
            self._exact[kind][key] = name
            entry = (key, _mask(key), name, allowed_distance(key))
            tables = self._pieces[kind]
            for number, (start, size) in enumerate(_pieces(len(key))):
                tables.setdefault((len(key), number), {}).setdefault(key[start:start + size], []).append(entry)

    def saved(self, kind: Hashable, name: str) -> str | None:
        """The saved party of that kind with the same name (as saved), if any."""
        return self._exact.get(kind, {}).get(name_key(name))

    def close_to(self, kind: Hashable, name: str) -> Near | None:
        """The closest saved party of that kind whose name is close to, not the same as, `name`
        (one of the closest); None when it is saved as it is, or nothing is close."""
        key = name_key(name)
        found = self._cache.get((kind, key), False)
        if found is False:
            found = self._cache[(kind, key)] = self._closest(kind, key)
        return found

    def _closest(self, kind: Hashable, key: str) -> Near | None:
        limit = allowed_distance(key)
        if not limit or key in self._exact.get(kind, {}):
            return None
        mask, size_of_key = _mask(key), len(key)
        tables = self._pieces.get(kind, {})
        seen, best = set(), None
        for length in range(size_of_key - limit, size_of_key + limit + 1):
            for number, (start, size) in enumerate(_pieces(length)):
                table = tables.get((length, number))
                if not table:
                    continue
                for at in range(max(0, start - limit), min(size_of_key - size, start + limit) + 1):
                    for saved, saved_mask, name, allowed in table.get(key[at:at + size], ()):
                        if saved in seen:
                            continue
                        seen.add(saved)
                        # Both names must be long enough for the distance: a short saved name
                        # never matches a long typo of it by more than its own allowance.
                        within = min(limit, allowed)
                        if (mask ^ saved_mask).bit_count() > 2 * within:
                            continue
                        found = distance_within(key, saved, within)
                        if found is not None and (best is None or (found, name) < (best.distance, best.name)):
                            best = Near(name, found)
        return best
