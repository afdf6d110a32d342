"""Demo data: a filer, an officer and licenses issued through the licensing service (`flask seed-demo`)."""
from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from . import addressbook, branches, licensing, rules
from .clock import application_date
from .enums import PartyKind
from .extensions import db
from .models import Company, License, User
from .products import Product
from .products.aluminum import ALUMINUM
from .products.steel import STEEL
from .security import upsert_verified_user

DEMO_FILER = ("filer@example.com", "Demo-Filer-2026!")
DEMO_OFFICER = ("officer@example.com", "Demo-Officer-2026!")


class DemoError(Exception):
    """A demo license was refused by the rules (the demo data needs updating)."""


def seed_demo(echo: Callable[[str], None] = print) -> None:
    """Load demo data: a filer with a company and an officer. Safe to run again."""
    filer, _ = upsert_verified_user(DEMO_FILER[0], DEMO_FILER[1], "filer", "Dana", "Importer")
    if filer.company is None:
        company = db.session.scalar(select(Company).where(Company.ein == "12-1222222"))
        filer.company = company or Company(
            ein="12-1222222", name="KWO Aluminum Importers", company_type="importer",
            street="4800 Riverstone Blvd", city="Missouri City", state="TX", zip_code="77459",
            phone="281-555-0134", contact_first_name="Dana", contact_last_name="Importer",
            email=DEMO_FILER[0],
        )
    upsert_verified_user(DEMO_OFFICER[0], DEMO_OFFICER[1], "officer", "Olive", "Officer")
    db.session.commit()
    _seed_demo_parties(filer)
    if not branches.company_branches(filer.company_id):   # a branch to file for (Filed for)
        branches.add_branch(filer.company_id, branches.BranchValues(
            "Houston Office", "1200 Smith St", "Houston", "TX", "77002", "HOU"))
    issued = _seed_demo_licenses(filer)
    if issued:
        echo(f"Issued {issued} demo licenses to {filer.company.name}.")
        market = _seed_demo_market()
        echo(f"Issued {market} licenses (aluminum and steel) of other demo importers over the last 14 months.")
        from .monitor.aggregates import refresh

        refresh()
        echo("Built the public monitors' figures (aluminum and steel).")
    echo(f"Demo filer:   {DEMO_FILER[0]} / {DEMO_FILER[1]}")
    echo(f"Demo officer: {DEMO_OFFICER[0]} / {DEMO_OFFICER[1]}")


# The demo company's address book: a few parties of its shipments (saved once).
DEMO_PARTIES = [(PartyKind.IMPORTER, "Gulf Coast Metals LLC", "210101-00001"),
                (PartyKind.IMPORTER, "Midwest Extrusions Inc.", None),
                (PartyKind.EXPORTER, "Alouette Smelting Inc.", None),
                (PartyKind.EXPORTER, "Emirates Global Aluminium", None),
                (PartyKind.MANUFACTURER, "EGA Jebel Ali", None)]


def _seed_demo_parties(filer: User) -> None:
    for kind, name, number in DEMO_PARTIES:
        with suppress(addressbook.PartyRefused):  # saved by an earlier run
            addressbook.add(filer.company_id, addressbook.PartyValues(kind, name, number), filer)


# importer, exporter, manufacturer, origin, port, days to import, lines (aluminum's line fields in
# order: HTS, its own fields, kg, US$)
DEMO_SHIPMENTS = [
    ("Gulf Coast Metals LLC", "Alouette Smelting Inc.", "Alouette Smelting Inc.", "CA", "3802",
     12, [("7601103000", "CA", "NA_", "CA", "24000", "74400")]),
    ("Gulf Coast Metals LLC", "Emirates Global Aluminium", "EGA Jebel Ali", "AE", "5301",
     25, [("7601209095", "AE", "NA_", "AE", "18500", "51800"), ("7604291010", "AE", "IN", "AE", "2200", "9900")]),
    ("Midwest Extrusions Inc.", "Hydro Extrusion Mexico", "unknown", "MX", "2304",
     5, [("7604210090", "NA_", "NA_", "MX", "3100", "15500")]),
    ("Riverstone Packaging Co.", "Gränges Finspång AB", "Gränges Finspång AB", "SE", "1001",
     40, [("7607113000", "NO", "IS", "SE", "8800", "39600")]),
    ("Houston Foil Distributors", "Shandong Nanshan Aluminium", "Nanshan Aluminium", "CN", "5301",
     18, [("7607191000", "CN", "NA_", "CN", "12000", "40800"), ("7606123035", "CN", "NA_", "CN", "6000", "19800")]),
    ("Lakeshore Cable LLC", "Norsk Hydro ASA", "Hydro Karmøy", "NO", "3901",
     30, [("7605110000", "NO", "NA_", "NO", "15000", "48000")]),
    ("Gulf Coast Metals LLC", "Vedanta Aluminium", "Vedanta Jharsuguda", "IN", "5301",
     55, [("7601103000", "IN", "NA_", "IN", "30000", "87000")]),
    ("Atlantic Sheet Supply", "Novelis Deutschland GmbH", "Novelis Nachterstedt", "DE", "1303",
     8, [("7606126000", "NO", "DE", "DE", "9500", "43700")]),
    # Two the automatic checks flag for the officers' queue: possible transshipment, and primary
    # metal declared without its country of production.
    ("Border Metals Trading", "Metales del Norte SA", "unknown", "MX", "2304",
     15, [("7606123035", "CN", "NA_", "CN", "21000", "65100")]),
    ("Gulf Coast Metals LLC", "Primary Metals FZE", "unknown", "AE", "5301",
     22, [("7601103000", "NA_", "NA_", "AE", "16000", "46400")]),
]
# The same filer's steel licenses (steel's line fields: HTS, country of melt and pour, kg, US$).
STEEL_SHIPMENTS = [
    ("Gulf Coast Metals LLC", "POSCO International", "POSCO Pohang Works", "KR", "5301",
     14, [("7208101500", "KR", "48000", "38400"), ("7209160040", "KR", "12000", "11400")]),
    ("Great Lakes Tube Supply", "Tenaris Tamsa", "Tubos de Acero de México", "MX", "2304",
     20, [("7304191020", "MX", "22000", "30800")]),
    # Rolled in Vietnam from slab melted and poured in China.
    ("Midwest Building Steel Inc.", "Hoa Phat Steel JSC", "Hoa Phat Dung Quat", "VN", "1303",
     33, [("7213913011", "CN", "36000", "23400")]),
]


def _seed_demo_licenses(filer: User) -> int:
    """A few licenses through the licensing service itself, once (then one modified, one cancelled)."""
    if db.session.scalar(select(License.id).where(License.company_id == filer.company_id).limit(1)):
        return 0
    suppress = app_config_suppress(True)
    numbers = []
    try:
        numbers += _issue_demo(filer, ALUMINUM, DEMO_SHIPMENTS)
        _issue_demo(filer, STEEL, STEEL_SHIPMENTS)
        modification = licensing.start_modification(numbers[0], filer)
        data = licensing.header_form_data(numbers[0])
        licensing.save_draft_header(modification, {**data, "entry_number": "ABC-1234567-6", "certified": "y"})
        licensing.submit_draft(modification.id, filer)
        licensing.cancel_license(numbers[2], filer)
        officer = db.session.scalar(select(User).where(User.email == DEMO_OFFICER[0]))
        licensing.mark_action_required(
            numbers[-1], officer, "HTS 7601.10.30.00 is unalloyed primary aluminum: please give the "
            "country where it was produced, or confirm why it is not applicable.")
    finally:
        app_config_suppress(suppress)
    return len(numbers) + len(STEEL_SHIPMENTS)


def _issue_demo(filer: User, product: Product, shipments) -> list[License]:
    today = application_date()
    numbers = []
    for importer, exporter, maker, origin, port, days, lines in shipments:
        draft = licensing.start_draft(filer, product.key)
        import_date = today + timedelta(days=days)
        licensing.save_draft_header(draft, {
            "entry_type": "consumption", "importer_name": importer, "exporter_name": exporter,
            "manufacturer_name": maker, "origin_country": origin, "export_country": origin,
            "port_code": port, "export_date": (import_date - timedelta(days=14)).isoformat(),
            "import_date": import_date.isoformat(), "certified": "y"})
        for values in lines:
            problems = licensing.save_draft_line(draft, dict(zip(product.line_field_names, values)))
            if problems:
                raise DemoError(f"demo line {values[0]}: {problems}")
        numbers.append(licensing.submit_draft(draft.id, filer))
    return numbers


def app_config_suppress(value: bool) -> bool:
    """Set MAIL_SUPPRESS_SEND (the demo's confirmation mails are not printed); return the old value."""
    old = current_app.config.get("MAIL_SUPPRESS_SEND", False)
    current_app.config["MAIL_SUPPRESS_SEND"] = value
    return old


MARKET = [  # category-typical HTS numbers, US$/kg, and the countries that ship them
    ("7601103000", 3.1, ["CA", "AE", "IN", "BH", "RU"]),
    ("7601209095", 3.0, ["CA", "AE", "AU", "NO"]),
    ("7604291010", 4.6, ["CN", "MX", "VN", "TR"]),
    ("7606123035", 3.6, ["CN", "DE", "KR", "BH", "TR"]),
    ("7607191000", 4.4, ["CN", "KR", "TR", "DE"]),
    ("7605110000", 3.4, ["CA", "IN", "AE"]),
    ("7608100030", 7.5, ["CN", "KR", "MX"]),
]


# Steel: HTS number, US$/kg, and (country of origin, country of melt and pour) pairs.
STEEL_MARKET = [
    ("7208101500", 0.8, [("KR", "KR"), ("JP", "JP"), ("BR", "BR"), ("VN", "CN")]),
    ("7209160040", 0.95, [("KR", "KR"), ("CA", "CA"), ("TW", "TW")]),
    ("7210490091", 1.1, [("CA", "CA"), ("MX", "MX"), ("VN", "CN")]),
    ("7214200000", 0.7, [("MX", "MX"), ("TR", "TR"), ("DZ", "DZ")]),
    ("7219330045", 3.2, [("TW", "TW"), ("KR", "KR"), ("DE", "DE")]),
    ("7304191020", 1.4, [("MX", "MX"), ("AR", "AR"), ("KR", "KR")]),
    ("7306305010", 1.2, [("CA", "CA"), ("MX", "MX"), ("TR", "TR")]),
]


def _seed_demo_market() -> int:
    """Eight more demo importers with licenses over the last 14 months, so the public monitor
    has figures (and some withheld ones) to show. Issued through the licensing service."""
    rng = random.Random(2026)  # noqa: S311 - demo data from a fixed seed: reproducible, not secret
    today = application_date()
    catalogue = {hts for hts, _, _ in MARKET if hts in ALUMINUM.catalogue().items}
    total = 0
    for n in range(1, 9):
        email = f"importer{n}@demo.example.com"
        user, _ = upsert_verified_user(email, DEMO_FILER[1], "filer", "Demo", f"Importer {n}")
        if user.company is None:
            user.company = Company(
                ein=f"12-34567{n:02d}", name=f"Demo Importer {n} Inc.", company_type="importer",
                street=f"{100 + n} Harbor Way", city="Baltimore", state="MD", zip_code="21230",
                phone=f"410-555-01{n:02d}", contact_first_name="Demo",
                contact_last_name=f"Importer {n}", email=email)
        db.session.commit()
        by_date: dict = {}
        for _ in range(30 + 5 * n):
            hts, price, origins = MARKET[rng.randrange(len(MARKET))]
            if hts not in catalogue:
                continue
            origin = origins[(n + rng.randrange(2)) % len(origins)]
            imported = today - timedelta(days=rng.randrange(0, 420))
            kg = Decimal(rng.randrange(2000, 40000))
            # A surge: one importer's foil from one country jumps in the latest month.
            if n == 3 and imported >= today.replace(day=1) and hts == "7607191000":
                kg *= 6
            usd = (kg * Decimal(str(round(price * rng.uniform(0.85, 1.15), 2)))).quantize(Decimal("0.01"))
            line = ALUMINUM.LineDraft(hts, origin, "NA_", origin, kg, usd)
            draft = rules.LicenseDraft(
                entry_type="consumption", importer_name=f"Demo Importer {n} Inc.",
                exporter_name=f"Exporter {origin} {n}", manufacturer_name="unknown",
                origin_country=origin, export_country=origin, port_code="1303",
                export_date=imported - timedelta(days=12), import_date=imported, lines=[line])
            by_date.setdefault((imported - timedelta(days=20), ALUMINUM.key), []).append(draft)
        for _ in range(10 + 4 * n):  # steel: the demo importers feed the steel monitor too
            hts, price, places = STEEL_MARKET[rng.randrange(len(STEEL_MARKET))]
            origin, melted = places[(n + rng.randrange(2)) % len(places)]
            imported = today - timedelta(days=rng.randrange(0, 420))
            kg = Decimal(rng.randrange(10000, 200000))
            usd = (kg * Decimal(str(round(price * rng.uniform(0.85, 1.15), 2)))).quantize(Decimal("0.01"))
            draft = rules.LicenseDraft(
                product=STEEL.key, entry_type="consumption", importer_name=f"Demo Importer {n} Inc.",
                exporter_name=f"Steel Exporter {origin} {n}", manufacturer_name="unknown",
                origin_country=origin, export_country=origin, port_code="5301",
                export_date=imported - timedelta(days=20), import_date=imported,
                lines=[STEEL.LineDraft(hts, melted, kg, usd)])
            by_date.setdefault((imported - timedelta(days=25), STEEL.key), []).append(draft)
        for (applied, _product), drafts in sorted(by_date.items()):  # one product at a time
            total += len(licensing.issue_licenses(user, drafts, on=min(applied, today),
                                                  note="Demo data."))
    return total
