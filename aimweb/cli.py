"""Administrator commands: `flask --app aimweb <command>`."""
from __future__ import annotations

import click
from flask import Flask

from .extensions import db
from .security import hash_password, password_problem, upsert_verified_user


def register_cli(app: Flask) -> None:
    @app.cli.command("create-officer")
    @click.argument("email")
    @click.option("--password", required=True, help="The officer's first password.")
    @click.option("--first-name", default="Commerce")
    @click.option("--last-name", default="Officer")
    @click.option("--admin", is_flag=True, help="Give the account the admin role.")
    def create_officer(email, password, first_name, last_name, admin):
        """Create a verified officer account (or make an existing account an officer)."""
        problem = password_problem(password)
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
        user, created = upsert_verified_user(email, password, "admin" if admin else "officer",
                                             first_name, last_name)
        if not created:
            user.role = "admin" if admin else "officer"
            user.password_hash = hash_password(password)
            user.session_version += 1
        db.session.commit()
        click.echo(f"{'Created' if created else 'Updated'} {user.role} {user.email}.")

    @app.cli.command("review-refresh")
    def review_refresh():
        """Daily: recompute unit-value statistics per HTS and re-check licenses whose import date passed."""
        from . import screening

        done = screening.refresh_review()
        click.echo(f"Unit-value statistics for {done['hts_numbers']} HTS numbers from "
                   f"{done['lines']} product lines; {done['rechecked']} licenses re-checked.")

    @app.cli.command("monitor-refresh")
    def monitor_refresh():
        """Rebuild the public monitor's figures from the licenses (run it hourly or nightly)."""
        from .monitor.aggregates import refresh

        log = refresh()
        click.echo(f"Monitor rebuilt from {log.licenses:,} licenses in {log.seconds} s.")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Load demo data: a filer with a company and an officer. Safe to run again."""
        from . import demo

        try:
            demo.seed_demo(echo=click.echo)
        except demo.DemoError as error:
            raise click.ClickException(str(error)) from None
