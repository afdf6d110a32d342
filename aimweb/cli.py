"""Administrator commands: `flask --app aimweb <command>`."""
from __future__ import annotations

import click
from flask import Flask

from .extensions import db
from .security import EmailRefused, email_address, password_problem, upsert_verified_user


def register_cli(app: Flask) -> None:
    @app.cli.command("create-officer")
    @click.argument("email")
    @click.option("--password", required=True, help="The officer's first password.")
    @click.option("--first-name", default="Commerce")
    @click.option("--last-name", default="Officer")
    @click.option("--admin", is_flag=True, help="Give the account the admin role.")
    def create_officer(email, password, first_name, last_name, admin):
        """Create a verified officer account (or make an existing account an officer)."""
        try:  # the sign-in form's own rule: an address it refuses could never sign in
            email = email_address(email)
        except EmailRefused as refused:
            raise click.BadParameter(str(refused), param_hint="EMAIL") from None
        problem = password_problem(password, [email, first_name, last_name])
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
        user, created = upsert_verified_user(email, password, "admin" if admin else "officer",
                                             first_name, last_name)
        if not created:
            from . import accounts

            user.role = "admin" if admin else "officer"
            accounts.set_password(user, password)  # ends its sessions, recorded in the audit
        db.session.commit()
        click.echo(f"{'Created' if created else 'Updated'} {user.role} {user.email}.")

    @app.cli.command("suspend-user")
    @click.argument("email")
    @click.option("--reason", default="", help="Why (kept in the sign-in audit).")
    @click.option("--lift", is_flag=True, help="Lift the suspension instead.")
    def suspend_user(email, reason, lift):
        """Suspend an account (no sign-in, its sessions end at once), or lift it with --lift."""
        from . import accounts

        user = accounts.user_by_email(email)
        if user is None:
            raise click.BadParameter(f"No account has the email address {email}.", param_hint="EMAIL")
        if lift:
            done = accounts.reinstate_user(user, reason=reason)
            click.echo(f"Lifted the suspension of {user.email}." if done else f"{user.email} was not suspended.")
        else:
            done = accounts.suspend_user(user, reason=reason)
            click.echo(f"Suspended {user.email}; its sessions have ended." if done
                       else f"{user.email} was already suspended.")

    @app.cli.command("review-refresh")
    def review_refresh():
        """Daily: recompute unit-value statistics per HTS and check recent licenses applied for after their import."""
        from . import screening

        done = screening.refresh_review()
        click.echo(f"Unit-value statistics for {done['hts_numbers']} HTS numbers from "
                   f"{done['lines']} product lines; {done['rechecked']} licenses re-checked.")

    @app.cli.command("monitor-refresh")
    @click.option("--full", is_flag=True, help="Rebuild every month, not only those licenses changed "
                                               "(after a change of MONITOR_MIN_COMPANIES or MONITOR_MAX_SHARE).")
    def monitor_refresh(full):
        """Bring the public monitor's figures up to date (every 5 minutes: the months licenses changed)."""
        from .monitor.aggregates import refresh

        log = refresh(full=full)
        click.echo(f"Monitor {'rebuilt' if full else 'refreshed'}: {log.licenses:,} licenses, {log.seconds} s.")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Load demo data: a filer with a company and an officer. Safe to run again."""
        from . import demo

        try:
            demo.seed_demo(echo=click.echo)
        except demo.DemoError as error:
            raise click.ClickException(str(error)) from None
