"""Administrator commands: `flask --app aimweb <command>`."""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .models import Company, User, utcnow
from .security import hash_password, password_problem

DEMO_FILER = ("filer@example.com", "Demo-Filer-2026!")
DEMO_OFFICER = ("officer@example.com", "Demo-Officer-2026!")


def _upsert_user(email: str, password: str, role: str, first: str, last: str) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.email == email.lower()))
    created = user is None
    if created:
        user = User(email=email.lower(), display_name=f"{first} {last}", first_name=first,
                    last_name=last, password_hash=hash_password(password), role=role,
                    email_verified_at=utcnow())
        db.session.add(user)
    return user, created


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
        user, created = _upsert_user(email, password, "admin" if admin else "officer",
                                     first_name, last_name)
        if not created:
            user.role = "admin" if admin else "officer"
            user.password_hash = hash_password(password)
            user.session_version += 1
        db.session.commit()
        click.echo(f"{'Created' if created else 'Updated'} {user.role} {user.email}.")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Load demo data: a filer with a company and an officer. Safe to run again."""
        filer, created = _upsert_user(DEMO_FILER[0], DEMO_FILER[1], "filer", "Dana", "Importer")
        if filer.company is None:
            company = db.session.scalar(select(Company).where(Company.ein == "12-1222222"))
            filer.company = company or Company(
                ein="12-1222222", name="KWO Aluminum Importers", company_type="importer",
                street="4800 Riverstone Blvd", city="Missouri City", state="TX", zip_code="77459",
                phone="281-555-0134", contact_first_name="Dana", contact_last_name="Importer",
                email=DEMO_FILER[0],
            )
        _upsert_user(DEMO_OFFICER[0], DEMO_OFFICER[1], "officer", "Olive", "Officer")
        db.session.commit()
        click.echo(f"Demo filer:   {DEMO_FILER[0]} / {DEMO_FILER[1]}")
        click.echo(f"Demo officer: {DEMO_OFFICER[0]} / {DEMO_OFFICER[1]}")
