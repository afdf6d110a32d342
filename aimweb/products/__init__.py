"""The products a license can be for: each one a module of data (aluminum.py, steel.py), looked up by key.

Adding a product is adding its module (and its reference data) to PRODUCTS; see the README's
"Where to add a product".
"""
from __future__ import annotations

from .aluminum import ALUMINUM
from .base import HEADER, HEADER_FIELDS, Field, Product
from .steel import STEEL

PRODUCTS: dict[str, Product] = {p.key: p for p in (ALUMINUM, STEEL)}
DEFAULT = ALUMINUM.key


def get(key: str | None) -> Product:
    """The product of a license (License.product); KeyError for an unknown key."""
    return PRODUCTS[key or DEFAULT]


def own_line_fields() -> list[Field]:
    """Every product's own line fields, each once (for queries over licenses of any product)."""
    seen: dict[str, Field] = {}
    for product in PRODUCTS.values():
        for f in product.own_line_fields:
            seen.setdefault(f.name, f)
    return list(seen.values())


__all__ = ["DEFAULT", "HEADER", "HEADER_FIELDS", "PRODUCTS", "Field", "Product", "get", "own_line_fields"]
