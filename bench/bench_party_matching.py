"""Benchmark of the address book's "close to a saved party" check (aimweb/parties.py), which the
upload's results page runs on every importer, exporter and manufacturer name of the file.

Saved: 3,000 parties of each kind (company-like names: 1 to 3 words from a pool of 600, a suffix).
Files of 5,000 rows x 3 names: (a) realistic, 300 distinct names per kind, a tenth of them typos of
a saved party; (b) worst case, every name different (15,000 distinct names, nothing cached).
Also: difflib's ratio >= 0.88 on the same worst case's first 500 names (what was measured against).

Run: .venv/bin/python bench/bench_party_matching.py
"""
from __future__ import annotations

import difflib
import os
import random
import statistics
import string
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from aimweb.enums import PartyKind
from aimweb.parties import PartyIndex, name_key

rng = random.Random(4)
WORDS = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9))) for _ in range(600)]
SUFFIXES = ["LLC", "Inc.", "Corp.", "Ltd", "GmbH", "S.A.", "Co."]


def names(count: int) -> list[str]:
    return [" ".join(rng.choice(WORDS).title() for _ in range(rng.randint(1, 3))) + " " + rng.choice(SUFFIXES)
            for _ in range(count)]


def typo(name: str) -> str:
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1:]


def cpu(fn) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def main() -> None:
    saved = names(3000)
    parties = [(kind, name) for kind in PartyKind for name in saved]
    builds = [cpu(lambda: PartyIndex(parties)) for _ in range(3)]
    print(f"index of {len(parties):,} parties: {statistics.median(builds) * 1000:.0f} ms CPU")

    distinct = [typo(rng.choice(saved)) if rng.random() < 0.1 else n for n in names(300)]
    realistic = [(kind, rng.choice(distinct)) for _ in range(5000) for kind in PartyKind]
    worst = [(kind, typo(rng.choice(saved)) if rng.random() < 0.1 else n)
             for kind, n in zip(list(PartyKind) * 5000, names(15000))]
    for label, rows in (("realistic (300 distinct names per kind)", realistic),
                        ("worst case (15,000 distinct names)", worst)):
        times, found = [], 0
        for _ in range(3):
            index = PartyIndex(parties)
            times.append(cpu(lambda index=index, rows=rows: [index.close_to(k, n) for k, n in rows]))
            found = sum(1 for k, n in rows if index.close_to(k, n) is not None)
        print(f"5,000 rows x 3 names, {label}: {statistics.median(times) * 1000:.0f} ms CPU "
              f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); {found:,} names close to a party")

    sample = worst[:500]
    keys = [name_key(n) for n in saved]

    def by_difflib():
        for _, name in sample:
            matcher = difflib.SequenceMatcher(None, b=name_key(name))
            for key in keys:
                matcher.set_seq1(key)
                if matcher.real_quick_ratio() >= 0.88 and matcher.quick_ratio() >= 0.88:
                    matcher.ratio()
    seconds = cpu(by_difflib)
    print(f"difflib ratio >= 0.88, 500 names x 3,000 parties: {seconds * 1000:.0f} ms CPU "
          f"(about {seconds * 30:.0f} s for 15,000 names)")


if __name__ == "__main__":
    main()
