"""CBP Schedule D ports of entry."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Port:
    code: str
    name: str
    state: str
    name_alt: str

    @property
    def label(self) -> str:
        city = self.name.rsplit(",", 1)[0].title()
        return f"{self.code} — {city}, {self.state}" if self.state else f"{self.code} — {city}"


@lru_cache(maxsize=1)
def all_ports() -> dict[str, Port]:
    text = resources.files(__package__).joinpath("data/ports.csv").read_text("utf-8")
    ports = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = row["code"].strip().zfill(4)
        ports[code] = Port(code, row["name"].strip(), row["state"].strip(), row["name_alt"].strip())
    return ports


def search_ports(query: str, limit: int = 20) -> list[Port]:
    """Code prefix first, then state code, then city (either name) substring."""
    q = (query or "").strip().lower()
    if not q:
        return []
    ports = all_ports().values()
    by_code = [p for p in ports if p.code.startswith(q)]
    by_state = [p for p in ports if p.state.lower() == q]
    by_city = [p for p in ports if q in p.name.lower() or q in p.name_alt.lower()]
    seen, found = set(), []
    for port in by_code + by_state + by_city:
        if port.code not in seen:
            seen.add(port.code)
            found.append(port)
    return found[:limit]
