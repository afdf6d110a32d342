"""Reference-data commands: replace the HTS catalogue without a code change."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from .hts import catalogue_path, current_catalogue, install_catalogue


def register_reference_cli(app: Flask) -> None:
    @app.cli.command("hts-load")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--revision", required=True, help="The HTS revision the file comes from, e.g. '2025 Revision 5'.")
    def hts_load(csv_file: Path, revision: str):
        """Make CSV_FILE the covered-HTS catalogue in use (columns as in reference/data/hts_covered.csv)."""
        try:
            catalogue = install_catalogue(catalogue_path(), csv_file.read_text("utf-8-sig"), revision)
        except (ValueError, UnicodeDecodeError) as error:
            raise click.ClickException(f"{csv_file}: {error} Nothing was changed.") from error
        click.echo(f"HTS catalogue {catalogue.revision}: {len(catalogue.items)} covered numbers now in use.")

    @app.cli.command("hts-show")
    def hts_show():
        """Print the revision and size of the HTS catalogue in use."""
        catalogue = current_catalogue()
        click.echo(f"HTS catalogue {catalogue.revision}: {len(catalogue.items)} covered numbers.")
