"""The HTS catalogues of covered products (one per product), each read from a CSV with its revision."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PACKAGED_REVISION = "2024 Revision (December 2024)"
COLUMNS = ("hts10", "description", "category", "heading", "full_description", "unit")


@dataclass(frozen=True)
class HtsItem:
    hts10: str
    dotted: str
    description: str
    category: str
    heading: str
    full_description: str
    unit: str


def normalize_hts(text: str) -> str | None:
    """'7601.10.30.00', '7601103000', '7601.10.3000' -> '7601103000'; else None."""
    digits = re.sub(r"[\s.\-]", "", str(text or ""))
    return digits if re.fullmatch(r"\d{10}", digits) else None


def format_hts(hts10: str) -> str:
    return f"{hts10[:4]}.{hts10[4:6]}.{hts10[6:8]}.{hts10[8:10]}"


def parse_hts_csv(text: str) -> list[HtsItem]:
    """Parse a catalogue file; a clear ValueError names the line of any problem."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"The HTS file lacks the column(s): {', '.join(missing)}.")
    items: dict[str, HtsItem] = {}
    for line_no, row in enumerate(reader, start=2):
        hts10 = normalize_hts(row["hts10"])
        if hts10 is None:
            raise ValueError(f"Line {line_no}: {row['hts10']!r} is not a 10-digit HTS number.")
        if hts10 in items:
            raise ValueError(f"Line {line_no}: HTS number {format_hts(hts10)} appears twice.")
        if not (row["description"] or "").strip() or not (row["category"] or "").strip():
            raise ValueError(f"Line {line_no}: description and category are required.")
        items[hts10] = HtsItem(
            hts10=hts10,
            dotted=format_hts(hts10),
            description=row["description"].strip(),
            category=row["category"].strip(),
            heading=(row["heading"] or hts10[:4]).strip(),
            full_description=(row["full_description"] or "").strip(),
            unit=(row["unit"] or "kg").strip(),
        )
    if not items:
        raise ValueError("The HTS file has no products.")
    return list(items.values())


PACKAGED_FILE = "hts_covered.csv"  # aluminum's; a product names its own (products/steel.py)


@lru_cache(maxsize=8)
def packaged_catalogue(filename: str = PACKAGED_FILE) -> dict[str, HtsItem]:
    text = resources.files(__package__).joinpath("data", filename).read_text("utf-8")
    return {item.hts10: item for item in parse_hts_csv(text)}


# ----- the catalogue in use: the packaged one, or one loaded with `flask hts-load` ------------------

INSTANCE_FILE = "hts_catalogue.json"


@dataclass(frozen=True)
class Catalogue:
    revision: str
    items: dict[str, HtsItem]


_loaded: dict[str, tuple[float, Catalogue]] = {}


def catalogue_path(name: str | None = None) -> str:
    """HTS_CATALOGUE_FILE, or hts_catalogue.json in the instance folder (needs an app context);
    a product's own catalogue (`name`, like "steel") beside it: hts_catalogue_steel.json."""
    import os

    from flask import current_app

    path = current_app.config.get("HTS_CATALOGUE_FILE") or os.path.join(
        current_app.instance_path, INSTANCE_FILE)
    if name:
        root, ext = os.path.splitext(path)
        path = f"{root}_{name}{ext}"
    return path


@dataclass(frozen=True)
class CatalogueSource:
    """Where a product's catalogue comes from: its packaged CSV, replaced by `flask hts-load
    --product KEY` (stored under `name`; None for the first product's historical file name).
    Called, it gives the catalogue in use: Product.catalogue is one of these."""

    packaged_file: str = PACKAGED_FILE
    name: str | None = None

    def path(self) -> str:
        return catalogue_path(self.name)

    def __call__(self) -> Catalogue:
        return current_catalogue(self.path(), self.packaged_file)


def current_catalogue(path: str | None = None, packaged_file: str = PACKAGED_FILE) -> Catalogue:
    """The catalogue loaded with `flask hts-load` (re-read when the file changes), else the packaged.

    A stat per call, not a read: every worker sees a new revision on its next request.
    """
    import json
    import os

    path = path or catalogue_path()
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return Catalogue(PACKAGED_REVISION, packaged_catalogue(packaged_file))
    cached = _loaded.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    with open(path, encoding="utf-8") as f:
        stored = json.load(f)
    items = {item.hts10: item for item in parse_hts_csv(stored["csv"])}
    catalogue = Catalogue(stored["revision"], items)
    _loaded[path] = (mtime, catalogue)
    return catalogue


def install_catalogue(path: str, csv_text: str, revision: str) -> Catalogue:
    """Check a catalogue file and make it the one in use (atomically: no reader sees half)."""
    import json
    import os
    import tempfile

    revision = " ".join(revision.split())
    if not revision:
        raise ValueError("Give the revision of the HTS file, like '2025 Revision 5'.")
    items = parse_hts_csv(csv_text)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".hts-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"revision": revision, "csv": csv_text}, f)
    os.replace(tmp, path)
    return Catalogue(revision, {item.hts10: item for item in items})
