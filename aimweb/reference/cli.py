"""Reference-data commands: replace a product's HTS catalogue without a code change."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from .. import products
from .hts import install_catalogue

PRODUCT_OPTION = click.option(
    "--product", type=click.Choice(sorted(products.PRODUCTS)), default=products.DEFAULT,
    show_default=True, help="The product whose covered-HTS catalogue this is.")


def register_reference_cli(app: Flask) -> None:
    @app.cli.command("hts-load")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--revision", required=True, help="The HTS revision the file comes from, e.g. '2025 Revision 5'.")
    @PRODUCT_OPTION
    def hts_load(csv_file: Path, revision: str, product: str):
        """Make CSV_FILE the covered-HTS catalogue in use (columns as in reference/data/hts_covered.csv)."""
        spec = products.get(product)
        try:
            catalogue = install_catalogue(spec.catalogue.path(), csv_file.read_text("utf-8-sig"), revision)
        except (ValueError, UnicodeDecodeError) as error:
            raise click.ClickException(f"{csv_file}: {error} Nothing was changed.") from error
        click.echo(f"{spec.name} HTS catalogue {catalogue.revision}: {len(catalogue.items)} covered "
                   "numbers now in use.")

    @app.cli.command("hts-show")
    @PRODUCT_OPTION
    def hts_show(product: str):
        """Print the revision and size of a product's HTS catalogue in use."""
        spec = products.get(product)
        catalogue = spec.catalogue()
        click.echo(f"{spec.name} HTS catalogue {catalogue.revision}: {len(catalogue.items)} covered numbers.")
