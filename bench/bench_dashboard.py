"""Benchmark of the License Dashboard at a national program's size (issue 4, point 8).

Seeds 2,000 companies (a filer each) and 1,000,000 issued licenses with ~2 product lines each,
then signs in as the largest company's filer and times, through the test client:

  (1) GET /licenses/                                   the first dashboard page
  (2) GET /licenses/?status=submitted&import_from=…&import_to=…   status + date-of-import filter
  (3) GET /licenses/?q=<license number>                free-text search by license number
  (4) GET /licenses/export.xlsx?created_from=…         export of ~10,000 licenses (and .csv)
  (5) GET /licenses/?branch=<id>                       filtered by branch (issue 17)
  (6) GET /licenses/?filed_by=<id>                     filtered by the user who filed

Targets on SQLite: (1), (2), (5) and (6) p95 < 50 ms, (3) p95 < 20 ms, (4) < 5 s.

Branches and filers (issue 17): on the seed (fresh or kept, once: bench_seed key "branches"), the
largest company gets 3 branches and 3 more users, and its licenses are spread over them by id,
deterministically: license id % 8 = 0, 1, 2 are filed for branch 1, 2, 3 (6,250 each, the rest for
the company itself), and id % 5 = 0, 1, 2 were filed by user 1, 2, 3 (10,000 each, the rest by
the company's first filer). The figures are printed with the EXPLAIN lines of those requests.

The data: license ids follow creation time (as in production: filed over time, the companies
interleaved), created_at spread over the two years before the seed; company 1 ("Bench Large
Aluminum Imports") has 50,000 licenses, companies 2-5 20,000, 6-50 5,000, the other 1,950 ~330.
Statuses: 85 % submitted, 8 % corrected, 4 % cancelled, 3 % action required; 1-3 product lines
(2 on average) with HTS numbers of the packaged catalogue; numbers "A" + 4 + MMYY, unique by
construction. Company 1 also has 5 drafts. The schema is built by the migrations; the secondary
indexes are dropped during the bulk load and recreated from their own DDL afterwards.

The seeded database is kept and reused when complete (SQLite: bench/out/dashboard-1m.sqlite3;
PostgreSQL: the database named in AIMWEB_BENCH_DATABASE_URI, whose public schema is recreated when
it holds no complete seed). Pass --reseed to start over.

--steel-share 0.5 (issue 15, point 9): the same generator with that share of the licenses steel
(drawn per license from a stream of its own): numbers "S" + 4 characters of the service's alphabet
+ MMYY, lines from the steel catalogue with a country of melt and pour, the countries, exporters
and mills of steel, steel unit values. It is a different seed, kept apart: the file
bench/out/dashboard-1m-half-steel.sqlite3 (dashboard-1m-steel-NN for another share), and on
PostgreSQL the database must be one of its own (e.g. bench_steel): its bench_seed records the share,
and a database holding a seed of another share is refused, never wiped. With a share, the
dashboard is also measured with the Product filter (?product=steel).

Run: .venv/bin/python bench/bench_dashboard.py [rounds] [--reseed] [--profile] [--proposed-indexes]
                                                [--steel-share 0.5]
     (rounds: 50; --proposed-indexes tries the recommended index change for the run, see below)
     AIMWEB_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dash \
         .venv/bin/python bench/bench_dashboard.py
"""
from __future__ import annotations

import csv
import io
import os
import random
import re
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from aimweb import create_app, licensing, rules  # noqa: E402
from aimweb.extensions import db  # noqa: E402
from aimweb.models import utcnow  # noqa: E402
from aimweb.products.steel import STEEL  # noqa: E402
from aimweb.reference.hts import packaged_catalogue  # noqa: E402
from aimweb.reference.ports import all_ports  # noqa: E402
from aimweb.security import hash_password  # noqa: E402

SEED_VERSION = "1"
LICENSES = 1_000_000
COMPANIES = 2_000
LARGE = 1  # the company measured: 50,000 licenses
PASSWORD = "Bench-Password-9"
SQLITE_FILE = ROOT / "bench" / "out" / "dashboard-1m.sqlite3"
NUMBER_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BATCH = 50_000
EXPORT_LICENSES = 10_000
FORBIDDEN_DATABASES = {"test", "mainpg", "postgres", "template0", "template1"}

COUNTRIES = ["CA", "CN", "AE", "IN", "MX", "BH", "NO", "IS", "AU", "DE", "TR", "VN", "KR", "BR",
             "ZA", "QA", "SA", "MY", "ID", "TH", "JP", "IT", "ES", "FR", "GB", "NL", "AR", "OM"]
EXPORTERS = [f"{a} {b}" for a in ("Northern", "Pacific", "Gulf", "Atlas", "Nordic", "Andes", "Delta",
                                  "Orient", "Sahara", "Baltic") for b in ("Rolling Mills Inc.",
                                                                         "Extrusions Ltd", "Metals SA",
                                                                         "Aluminium GmbH")]
MANUFACTURERS = [f"{a} {b}" for a in ("Alouette", "Rio", "Emirates", "Vedanta", "Hydro", "Alba",
                                      "Kaiser", "Hindalco") for b in ("Smelting", "Aluminium", "Casting")]
# Steel (--steel-share): the countries the United States imports steel mill products from, about
# as often as they ship (Canada, Mexico, Brazil, Korea, Japan, Germany first), and where steel
# shipped from them was melted and poured: mostly the same country; else a substrate mill's.
STEEL_COUNTRIES = (["CA"] * 6 + ["MX"] * 5 + ["BR"] * 5 + ["KR"] * 4 + ["JP"] * 3 + ["DE"] * 3
                   + ["VN", "VN", "TW", "TW", "TR", "TR", "NL", "NL", "IN", "IN"]
                   + ["CN", "IT", "SE", "AT", "ES", "GB", "FR", "AE", "MY", "TH", "ID", "AR", "ZA",
                      "AU", "FI", "BE", "CR"])
MELT_POUR_ELSEWHERE = ["CN", "KR", "JP", "IN", "BR", "TW", "RU", "DE"]
STEEL_EXPORTERS = [f"{a} {b}" for a in ("Northern", "Pacific", "Gulf", "Atlas", "Nordic", "Andes",
                                        "Delta", "Orient", "Rhine", "Baltic")
                   for b in ("Steel Trading Inc.", "Tube Ltd", "Acero SA", "Stahl GmbH")]
STEEL_MILLS = [f"{a} {b}" for a in ("Dofasco", "Ternium", "Gerdau", "Posco", "Nippon", "Thyssen",
                                    "Hoa Phat", "Tata") for b in ("Steel", "Flat Products", "Pipe")]
INSERT_COLUMNS = {
    "company": ("id", "ein", "name", "company_type", "street", "city", "state", "zip_code", "phone",
                "contact_first_name", "contact_last_name", "email", "created_at", "updated_at"),
    "user": ("id", "email", "display_name", "first_name", "last_name", "password_hash", "role",
             "company_id", "session_version", "email_verified_at", "created_at"),
    "license": ("id", "number", "status", "company_id", "created_by_id", "license_type", "product",
                "entry_number", "entry_type", "importer_name", "exporter_name", "manufacturer_name",
                "origin_country", "export_country", "port_code", "export_date", "import_date",
                "certified_at", "issued_at", "valid_from", "valid_through", "version", "form_data",
                "created_at", "updated_at"),
    "product_line": ("id", "license_id", "position", "hts_number", "description", "category",
                     "smelt_largest", "smelt_second", "cast_country", "melt_pour_country", "quantity_kg",
                     "customs_value_usd", "unit_value"),
}


def seed_file(steel_share: float) -> Path:
    """The SQLite file of the seed with that share of steel licenses (none: the aluminum seed)."""
    if not steel_share:
        return SQLITE_FILE
    name = "half-steel" if steel_share == 0.5 else f"steel-{round(steel_share * 100):02d}"
    return SQLITE_FILE.with_name(f"dashboard-1m-{name}.sqlite3")


def share_text(steel_share: float) -> str:
    """How the seed's meta records the share ("0" for the aluminum seed, which records none)."""
    return f"{steel_share:g}"


def steel_share_argument(argv: list[str]) -> float:
    """--steel-share X (0 <= X <= 1) from a script's arguments; 0 without it."""
    if "--steel-share" not in argv:
        return 0.0
    at = argv.index("--steel-share")
    share = float(argv[at + 1]) if at + 1 < len(argv) else -1.0
    if not 0 <= share <= 1:
        sys.exit("--steel-share takes the share of steel licenses, from 0 to 1 (e.g. 0.5)")
    return share


def positional_arguments(argv: list[str]) -> list[str]:
    """A script's arguments other than the --options and the value of --steel-share."""
    return [a for i, a in enumerate(argv) if not a.startswith("--")
            and not (i and argv[i - 1] == "--steel-share")]


# ----- figures ------------------------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def report(label: str, samples: list[float], target: float | None = None) -> str:
    out = (f"{label:<44} median {ms(statistics.median(samples))}  p95 {ms(p95(samples))}"
           f"  max {ms(max(samples))}  ({len(samples)} requests)")
    if target is not None:
        out += f"  {'ok' if p95(samples) < target else 'TARGET MISSED'} (p95 < {target * 1000:g} ms)"
    return out


# ----- the data -----------------------------------------------------------------------------------

def company_sizes() -> list[int]:
    sizes = [50_000] + [20_000] * 4 + [5_000] * 45
    rest = COMPANIES - len(sizes)
    base, extra = divmod(LICENSES - sum(sizes), rest)
    sizes += [base + (1 if i < extra else 0) for i in range(rest)]
    assert len(sizes) == COMPANIES and sum(sizes) == LICENSES
    return sizes


def stamp(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text, so string comparisons in queries hold."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def company_rows(now: datetime):
    for cid in range(1, COMPANIES + 1):
        name = "Bench Large Aluminum Imports LLC" if cid == LARGE else f"Bench Importer {cid:04d} Inc."
        yield (cid, f"{10 + cid // 10_000_000:02d}-{cid:07d}", name, "importer",
               f"{100 + cid} Commerce Street", "Houston", "TX", "77002", "281-555-0134", "Bench",
               f"Filer{cid}", f"filer{cid}@bench.example.com", now, now)


def user_rows(now: datetime, password_hash: str):
    for cid in range(1, COMPANIES + 1):
        yield (cid, f"filer{cid}@bench.example.com", f"Filer {cid}", "Bench", f"Filer{cid}",
               password_hash, "filer", cid, 1, now, now)


def license_number(letter: str, alphabet: str, n: int, mmyy: str) -> str:
    """The n-th number of the month for that letter: a bijection of 0..len(alphabet)^4-1 (7919 is
    prime to 36^4 and 28^4), so unique within the month by construction."""
    base = len(alphabet)
    body = (n * 7919 + 12345) % base ** 4
    chars = ""
    for _ in range(4):
        body, digit = divmod(body, base)
        chars = alphabet[digit] + chars
    return f"{letter}{chars}{mmyy}"


def license_and_line_rows(end: datetime, steel_share: float = 0.0):
    """(license rows, product line rows) in batches, in creation order; deterministic. With a
    steel share, each license is steel or not by a stream of its own, so the aluminum seed (share
    0) is the same as before steel."""
    rng = random.Random(20261125)
    product_rng = random.Random(20261202)
    start = end - timedelta(days=730)
    span = (end - start).total_seconds()
    owners = [cid for cid, size in enumerate(company_sizes(), start=1) for _ in range(size)]
    rng.shuffle(owners)
    offsets = sorted(rng.random() * span for _ in range(LICENSES))
    catalogue = list(packaged_catalogue().values())
    steel_catalogue = list(packaged_catalogue(STEEL.catalogue.packaged_file).values())
    ports = sorted(all_ports())[:60]
    statuses = ["submitted"] * 85 + ["corrected"] * 8 + ["cancelled"] * 4 + ["action_required"] * 3
    per_month: dict[tuple[str, str], int] = {}
    line_id = 0
    licenses, lines = [], []
    for license_id, (owner, offset) in enumerate(zip(owners, offsets), start=1):
        steel = steel_share > 0 and product_rng.random() < steel_share
        # The aluminum seed's numbers keep their first alphabet; steel's are the service's.
        letter, alphabet, countries = (("S", licensing.NUMBER_ALPHABET, STEEL_COUNTRIES) if steel
                                       else ("A", NUMBER_ALPHABET, COUNTRIES))
        created = start + timedelta(seconds=offset)
        day = created.date()
        mmyy = f"{day:%m%y}"
        n = per_month.get((letter, mmyy), 0)
        per_month[letter, mmyy] = n + 1
        entry_type = "ftz" if rng.random() < 0.05 else "consumption"
        valid_from, valid_through = rules.validity(day, entry_type)
        status = rng.choice(statuses)
        origin = rng.choice(countries)
        licenses.append((
            license_id, license_number(letter, alphabet, n, mmyy), status, owner, owner, "standard",
            "steel" if steel else "aluminum",
            f"{owner % 900 + 100:03d}-{license_id % 10_000_000:07d}-{license_id % 10}", entry_type,
            "Bench Large Aluminum Imports LLC" if owner == LARGE else f"Bench Importer {owner:04d} Inc.",
            rng.choice(STEEL_EXPORTERS if steel else EXPORTERS), rng.choice(STEEL_MILLS if steel else MANUFACTURERS),
            origin, origin if rng.random() < 0.8 else rng.choice(countries), rng.choice(ports),
            day + timedelta(days=rng.randint(3, 20)), day + timedelta(days=rng.randint(21, 60)),
            created, created, valid_from, valid_through, 3 if status == "corrected" else 2, None,
            created, created,
        ))
        for position in range(rng.choice((1, 2, 2, 3))):
            item = rng.choice(steel_catalogue if steel else catalogue)
            kg = Decimal(rng.randint(10_000, 5_000_000)) / 100
            # US$ per kg: aluminum 2.50-9.00, steel mill products 0.60-3.00.
            usd = (kg * Decimal(rng.randint(60, 300) if steel else rng.randint(250, 900)) / 100
                   ).quantize(Decimal("0.01"))
            line_id += 1
            if steel:  # the country of melt and pour: mostly the origin, else a substrate mill's
                own = ("", "", "", origin if rng.random() < 0.85 else rng.choice(MELT_POUR_ELSEWHERE))
            else:
                own = (rng.choice(COUNTRIES), rng.choice(COUNTRIES + ["NA_"]), rng.choice(COUNTRIES), None)
            lines.append((line_id, license_id, position, item.hts10, item.description, item.category,
                          *own, kg, usd, rules.unit_value(kg, usd)))
        if len(licenses) == BATCH:
            yield licenses, lines
            licenses, lines = [], []
    if licenses:
        yield licenses, lines


def draft_rows(end: datetime):
    for i in range(5):
        at = end - timedelta(hours=i + 1)
        yield (LICENSES + 1 + i, None, "draft", LARGE, LARGE, "standard", "aluminum", None,
               "consumption", "", "", "", "", "", "", None, None, None, None, None, None, 1, "{}",
               at, at)


# ----- the seed -----------------------------------------------------------------------------------

def seeded(conn) -> dict | None:
    try:
        rows = conn.execute(text("SELECT key, value FROM bench_seed")).all()
    except Exception:  # noqa: BLE001 - no marker table (the error differs by driver): not seeded (or not completely)
        conn.rollback()
        return None
    meta = dict(rows)
    return meta if meta.get("version") == SEED_VERSION and meta.get("complete") == "yes" else None


def secondary_indexes(conn, dialect: str) -> list[tuple[str, str]]:
    if dialect == "sqlite":
        return [tuple(r) for r in conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('license', 'product_line')"))]
    return [tuple(r) for r in conn.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename IN ('license', 'product_line') "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"))]


def bulk_load(raw, dialect: str, table: str, rows) -> None:
    columns = INSERT_COLUMNS[table]
    quoted = f'"{table}"'
    if dialect == "sqlite":
        def convert(value):
            if isinstance(value, datetime):
                return stamp(value)
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, Decimal):
                return float(value)
            return value

        cursor = raw.cursor()
        cursor.executemany(
            f"INSERT INTO {quoted} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            ([convert(v) for v in row] for row in rows))
        cursor.close()
    else:
        with raw.cursor() as cursor, cursor.copy(f"COPY {quoted} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def seed(app, steel_share: float = 0.0) -> dict:
    dialect = db.engine.dialect.name
    started = time.perf_counter()
    end = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    with db.engine.connect() as conn:
        upgrade()
        indexes = secondary_indexes(conn, dialect)
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        conn.execute(text("CREATE TABLE bench_seed (key VARCHAR(40) PRIMARY KEY, value VARCHAR(200))"))
        conn.commit()
    raw = db.engine.raw_connection()
    driver = raw.driver_connection
    if dialect == "sqlite":
        driver.execute("PRAGMA foreign_keys=OFF")
        driver.execute("PRAGMA synchronous=OFF")
        driver.execute("PRAGMA cache_size=-400000")
    try:
        bulk_load(driver, dialect, "company", company_rows(end))
        bulk_load(driver, dialect, "user", user_rows(end, hash_password(PASSWORD)))
        driver.commit()
        done = 0
        for licenses, lines in license_and_line_rows(end, steel_share):
            bulk_load(driver, dialect, "license", licenses)
            bulk_load(driver, dialect, "product_line", lines)
            done += len(licenses)
            if done % 200_000 == 0:
                driver.commit()
                print(f"  … {done:,} licenses ({time.perf_counter() - started:.0f} s)", flush=True)
        bulk_load(driver, dialect, "license", draft_rows(end))
        driver.commit()
        loaded = time.perf_counter() - started
        for _name, ddl in indexes:
            driver.execute(ddl)
        driver.commit()
        if dialect == "postgresql":
            cursor = driver.cursor()
            for table in ("company", "user", "license", "product_line"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                               f"(SELECT max(id) FROM \"{table}\"))")
            driver.commit()
            driver.autocommit = True
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does soon after a bulk load
            driver.autocommit = False
        else:
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            driver.execute("PRAGMA foreign_keys=ON")
            driver.execute("PRAGMA synchronous=FULL")
    finally:
        raw.close()
    meta = {"version": SEED_VERSION, "end": end.isoformat(), "seconds": f"{time.perf_counter() - started:.0f}",
            "load_seconds": f"{loaded:.0f}", "complete": "yes"}
    if steel_share:  # the aluminum seed records no share (and its kept seeds stay valid)
        meta["steel_share"] = share_text(steel_share)
    with db.engine.begin() as conn:
        for key, value in meta.items():
            conn.execute(text("INSERT INTO bench_seed (key, value) VALUES (:k, :v)"), {"k": key, "v": value})
    return meta


BRANCHES = 3  # of the largest company, and as many more users of it (see the docstring)
FILER_EMAILS = [f"filer{LARGE}-{n}@bench.example.com" for n in range(1, BRANCHES + 1)]


def branches_and_filers(conn) -> tuple[list[int], list[int]]:
    """The ids of the largest company's bench branches and of its 3 added filers, in order."""
    branches = list(conn.execute(text("SELECT id FROM branch WHERE company_id = :c AND name LIKE 'Bench Branch %' "
                                      "ORDER BY name"), {"c": LARGE}).scalars())
    filers = [conn.execute(text('SELECT id FROM "user" WHERE email = :e'), {"e": e}).scalar() for e in FILER_EMAILS]
    return branches, filers


def seed_branches() -> None:
    """The largest company's branches and users, and its licenses spread over them (once)."""
    with db.engine.begin() as conn:
        if conn.execute(text("SELECT value FROM bench_seed WHERE key = 'branches'")).scalar() == "yes":
            return
        started, now = time.perf_counter(), stamp(utcnow()) if db.engine.dialect.name == "sqlite" else utcnow()
        password_hash = conn.execute(text('SELECT password_hash FROM "user" WHERE id = :c'), {"c": LARGE}).scalar()
        for n, email in enumerate(FILER_EMAILS, start=1):
            conn.execute(text("INSERT INTO branch (company_id, name, street, city, state, zip_code, suffix, "
                              "created_at) VALUES (:c, :name, :street, 'Houston', 'TX', '77002', :suffix, :now)"),
                         {"c": LARGE, "name": f"Bench Branch {n}", "street": f"{n}00 Smith St",
                          "suffix": f"TX-{n:02d}", "now": now})
            conn.execute(text('INSERT INTO "user" (email, display_name, first_name, last_name, password_hash, '
                              "role, company_id, company_role, session_version, email_verified_at, created_at) "
                              "VALUES (:email, :name, 'Bench', :last, :hash, 'filer', :c, 'company_filer', 1, :now, "
                              ":now)"), {"email": email, "name": f"Bench Filer {n}", "last": f"Filer {n}",
                                         "hash": password_hash, "c": LARGE, "now": now})
        branch_ids, filer_ids = branches_and_filers(conn)
        conn.execute(text(
            "UPDATE license SET branch_id = CASE id % 8 WHEN 0 THEN :b1 WHEN 1 THEN :b2 WHEN 2 THEN :b3 END, "
            "created_by_id = CASE id % 5 WHEN 0 THEN :u1 WHEN 1 THEN :u2 WHEN 2 THEN :u3 ELSE created_by_id END "
            "WHERE company_id = :c AND number IS NOT NULL"),
            {"c": LARGE, **{f"b{n}": b for n, b in enumerate(branch_ids, start=1)},
             **{f"u{n}": u for n, u in enumerate(filer_ids, start=1)}})
        conn.execute(text("INSERT INTO bench_seed (key, value) VALUES ('branches', 'yes')"))
    print(f"Branches: 3 branches and 3 filers of company {LARGE} seeded in {time.perf_counter() - started:.1f} s",
          flush=True)


def vacuum_after_branches() -> None:
    """PostgreSQL: VACUUM ANALYZE once after the branches' UPDATE (also on a seed kept from before
    this step existed). The UPDATE left 50,000 rows' old versions and their pages not all-visible,
    so a count by an index also read the table (thousands of heap fetches a page); autovacuum
    would not come (5 % of the table changed, below its 20 % threshold) until much later, when a
    real portal's steady writes had long since vacuumed it."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect() as conn:
        if conn.execute(text("SELECT value FROM bench_seed WHERE key = 'vacuumed'")).scalar() == "yes":
            return
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE license"))
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO bench_seed (key, value) VALUES ('vacuumed', 'yes')"))
    print(f"VACUUM ANALYZE license after the branches: {time.perf_counter() - started:.1f} s", flush=True)


def prepare_database(reseed: bool, steel_share: float = 0.0) -> tuple[str, dict, bool]:
    uri = os.environ.get("AIMWEB_BENCH_DATABASE_URI")
    sqlite_file = seed_file(steel_share)
    if uri:
        name = make_url(uri).database
        if not uri.startswith("postgresql") or name in FORBIDDEN_DATABASES:
            sys.exit(f"Refusing {uri!r}: use a PostgreSQL database of its own (e.g. bench_dash).")
    else:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{sqlite_file}"
    app = make_app(uri)
    with app.app_context():
        with db.engine.connect() as conn:
            meta = seeded(conn)
        if meta is not None and meta.get("steel_share", "0") != share_text(steel_share):
            # A seed of another share (the aluminum one, most likely) is someone's: never wiped.
            sys.exit(f"Refusing {uri!r}: it holds the seed with a steel share of "
                     f"{meta.get('steel_share', '0')}, not {share_text(steel_share)}; give this "
                     f"share a database of its own (e.g. bench_steel).")
        if reseed:
            meta = None
        if meta is None:
            db.engine.dispose()
            if uri.startswith("sqlite"):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
            else:
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            print(f"Seeding {LICENSES:,} licenses across {COMPANIES:,} companies on "
                  f"{db.engine.dialect.name}"
                  f"{f', {steel_share:.0%} of them steel' if steel_share else ''} …", flush=True)
            meta = seed(app, steel_share)
            seed_branches()
            vacuum_after_branches()
            return uri, meta, True
        upgrade()  # a newer migration applies to the kept database, as in production
        seed_branches()
        vacuum_after_branches()
        return uri, meta, False


def make_app(uri: str):
    return create_app({
        "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": uri, "MAIL_SUPPRESS_SEND": True,
    })


# ----- query plans --------------------------------------------------------------------------------

class Recorder:
    """The SQL statements a request runs, with their parameters, for EXPLAIN."""

    def __init__(self, engine):
        self.engine, self.statements, self.on = engine, [], False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if self.on and ("license" in statement or "product_line" in statement):
            self.statements.append((statement, parameters))


def explain(engine, statements) -> list[str]:
    """One line per distinct query of the request: what it is, how often it ran, its plan."""
    seen: dict[str, list] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            head = " ".join(statement.split())
            kind = ("count" if head.startswith("SELECT count(*) AS count_1 FROM (") else
                    "count (status)" if head.startswith("SELECT count(*)") else
                    "line totals" if head.startswith("SELECT product_line.license_id, count(*)") else
                    "drafts" if "form_data IS NOT NULL" in head else
                    "export" if "JOIN product_line" in head else
                    "page ids" if head.startswith("SELECT license.id FROM") else
                    "page rows" if head.startswith("SELECT license.id, license.number") else
                    "lines of a draft (lazy load)" if head.startswith("SELECT product_line.id") else
                    head[:50])
            if kind in seen:
                seen[kind][0] += 1
                continue
            if engine.dialect.name == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = [row[3] for row in cursor.fetchall()]
            else:
                cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + statement, parameters)
                lines = [row[0] for row in cursor.fetchall()]
                plan = [" ".join(s.replace("->", "").split("(cost=")[0].split())
                        for s in lines if "Scan" in s or "Sort  (" in s or "Incremental Sort" in s]
                plan += [s.strip() for s in lines if s.startswith("Execution Time")]
            seen[kind] = [1, plan]
        raw.rollback()
    finally:
        raw.close()
    return [f"    {kind}{f' (x{n})' if n > 1 else ''}: " + " / ".join(plan)
            for kind, (n, plan) in seen.items()]


# ----- the measures -------------------------------------------------------------------------------

# --proposed-indexes: the index change recommended to the owner of aimweb/models.py and the
# migrations, tried on the kept database for the run and undone afterwards: the date-of-import index
# also carries the status and creation time, so a status/date-of-import filter is counted, and its
# page of ids sorted, from the index alone.
PROPOSED_DROP = ["ix_license_company_import"]
PROPOSED_CREATE = [("CREATE INDEX ix_license_company_import ON license "
                    "(company_id, import_date, status, created_at)")]


def swap_indexes(engine, drop: list[str], create: list[str]) -> list[str]:
    """Drops indexes by name and runs CREATE INDEX statements; returns the DDL that undoes it."""
    with engine.begin() as conn:
        undo = [ddl for name, ddl in secondary_indexes(conn, engine.dialect.name) if name in drop]
        for name in drop:
            conn.execute(text(f'DROP INDEX "{name}"'))
        for ddl in create:
            conn.execute(text(ddl))
        conn.execute(text("ANALYZE license" if engine.dialect.name == "postgresql" else "SELECT 1"))
    return undo


def main(rounds: int, reseed: bool, profile: bool, proposed: bool, steel_share: float = 0.0) -> None:
    setup = time.perf_counter()
    uri, meta, fresh = prepare_database(reseed, steel_share)
    if fresh:
        print(f"Seed: {meta['seconds']} s (bulk load {meta['load_seconds']} s, the rest indexes"
              f"{' and VACUUM ANALYZE' if uri.startswith('postgresql') else ''})")
    else:
        print(f"Seed: reused the complete seed of {meta['end'][:10]} (it took {meta['seconds']} s); "
              f"ready in {time.perf_counter() - setup:.1f} s")
    app = make_app(uri)
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        totals = db.session.execute(text(
            "SELECT (SELECT count(*) FROM license WHERE number IS NOT NULL), "
            "(SELECT count(*) FROM product_line), "
            "(SELECT count(*) FROM license WHERE company_id = :c AND number IS NOT NULL), "
            "(SELECT count(*) FROM license WHERE product = 'steel')"),
            {"c": LARGE}).one()
        newest = db.session.scalar(text(
            "SELECT created_at FROM license WHERE company_id = :c AND number IS NOT NULL "
            "ORDER BY created_at DESC LIMIT 1 OFFSET :n"), {"c": LARGE, "n": EXPORT_LICENSES - 1})
        export_from = (newest if isinstance(newest, datetime) else datetime.fromisoformat(newest)).date()
        rng = random.Random(7)
        numbers = [n for (n,) in db.session.execute(text(
            "SELECT number FROM license WHERE company_id = :c AND number IS NOT NULL "
            "AND id % 97 = 0"), {"c": LARGE})]
        numbers = rng.sample(numbers, min(len(numbers), rounds + 5))
        branch_ids, filer_ids = branches_and_filers(db.session.connection())
        db.session.remove()
    end = date.fromisoformat(meta["end"][:10])
    print(f"{dialect}: {totals[0]:,} issued licenses ({totals[3]:,} steel), {totals[1]:,} product lines; "
          f"measured company {LARGE} has {totals[2]:,} licenses (+5 drafts); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    undo = []
    if proposed:
        undo = swap_indexes(engine, PROPOSED_DROP, PROPOSED_CREATE)
        print("With the proposed index: " + "; ".join(PROPOSED_CREATE))
    try:
        measure(app, engine, rounds, end, numbers, export_from, profile, branch_ids, filer_ids, steel_share)
    finally:
        if proposed:
            swap_indexes(engine, [ddl.split()[2] for ddl in PROPOSED_CREATE], undo)
        engine.dispose()


def measure(app, engine, rounds, end, numbers, export_from, profile, branch_ids, filer_ids,
            steel_share=0.0) -> None:
    client = app.test_client()
    signed_in = client.post("/signin", data={"email": f"filer{LARGE}@bench.example.com",
                                             "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code

    filtered = (f"/licenses/?status=submitted&import_from={end - timedelta(days=60):%Y-%m-%d}"
                f"&import_to={end + timedelta(days=60):%Y-%m-%d}")
    measures = {
        "first": ("(1) first dashboard page", lambda i: "/licenses/", 0.050),
        "filtered": ("(2) status + date of import filter", lambda i: filtered, 0.050),
        "search": ("(3) search by license number", lambda i: f"/licenses/?q={numbers[i].lower()}", 0.020),
        "htmx": ("    the same search made in place (htmx)", lambda i: f"/licenses/?q={numbers[i]}", None),
        "last": ("    last page (2,000) of the first one", lambda i: "/licenses/?page=2000", None),
        # Issue 17: the largest company's licenses of one branch, and of one filer (see seed_branches).
        "branch": ("(5) filtered by branch", lambda i: f"/licenses/?branch={branch_ids[i % BRANCHES]}", 0.050),
        "filer": ("(6) filtered by user (Filed by)", lambda i: f"/licenses/?filed_by={filer_ids[i % BRANCHES]}",
                  0.050),
        "both": ("    branch and user together", lambda i: f"/licenses/?branch={branch_ids[0]}&filed_by={filer_ids[0]}",
                 None),
        # The same, counted on every request (the count kept per process is dropped first): what the
        # first request of a search pays.
        "branch_cold": ("    by branch, counted every time", lambda i: f"/licenses/?branch={branch_ids[i % BRANCHES]}",
                        None),
        "filer_cold": ("    by user, counted every time", lambda i: f"/licenses/?filed_by={filer_ids[i % BRANCHES]}",
                       None),
    }
    if steel_share:  # a mixed seed: the Product filter, alone and with the status + dates filter
        measures["steel"] = ("(7) Product filter: steel", lambda i: "/licenses/?product=steel", 0.050)
        measures["steel_filtered"] = ("(7) steel + status + date of import",
                                      lambda i: f"{filtered}&product=steel", 0.050)
    htmx = {"HX-Request": "true", "HX-Target": "license-results"}
    cpu: dict[str, list[float]] = {}

    def get(url: str, key: str | None = None) -> tuple[float, bytes]:
        if key is None or key.endswith("_cold"):
            app.extensions.pop("dashboard_counts", None)  # the recorded request's plans show the count
        cpu_start, start = time.process_time(), time.perf_counter()
        response = client.get(url, headers=htmx if key == "htmx" else None)
        body = response.get_data()
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, (url, response.status_code)
        if key:
            cpu.setdefault(key, []).append(time.process_time() - cpu_start)
        return elapsed, body

    recorder = Recorder(engine)
    results, plans, shown = {}, {}, {}
    for key, (label, url, target) in measures.items():
        for i in range(5):  # warm up: templates, connection, page cache
            get(url(rounds + i))
        recorder.statements, recorder.on = [], True
        _, body = get(url(0))
        recorder.on = False
        if key in ("first", "filtered", "search", "branch", "filer", "both", "steel", "steel_filtered"):
            plans[key] = recorder.statements
        results_html = body.decode().split('id="license-results"', 1)[-1]
        shown[key] = re.search(r"([\d,]+) licenses?", results_html).group(1)
        if key in ("search", "htmx"):
            assert numbers[0].encode() in body and shown[key] == "1", body[:3000]
        results[key] = [get(url(i), key)[0] for i in range(rounds)]
        print(report(label, results[key], target)
              + f"  [CPU median {ms(statistics.median(cpu[key])).strip()}, p95 {ms(p95(cpu[key])).strip()}]",
              flush=True)

    export_url = f"/licenses/export.%s?created_from={export_from:%Y-%m-%d}"
    exports = {}
    for kind in ("xlsx", "csv"):
        get(export_url % kind)  # warm up
        if kind == "xlsx":
            recorder.statements, recorder.on = [], True
        samples = []
        for _ in range(5):
            elapsed, body = get(export_url % kind, kind)
            recorder.on = False
            samples.append(elapsed)
        if kind == "xlsx":
            plans["export"] = recorder.statements[:1]
            from openpyxl import load_workbook

            sheet = load_workbook(io.BytesIO(body), read_only=True)["Licenses"]
            header, *rows = list(sheet.iter_rows(values_only=True))
            product_rows, exported = len(rows), len({row[0] for row in rows})
            created, value = header.index("Created"), header.index("Customs Value (US$)")
            assert all(isinstance(row[created], datetime) and isinstance(row[value], (int, float)) for row in rows)
        else:
            reader = csv.reader(io.StringIO(body.decode("utf-8-sig")))
            next(reader)
            csv_rows = list(reader)
            assert len(csv_rows) == product_rows and len({r[0] for r in csv_rows}) == exported
        exports[kind] = samples
    print(report(f"(4) export .xlsx, {exported:,} licenses", exports["xlsx"])
          + f"  {'ok' if max(exports['xlsx']) < 5 else 'TARGET MISSED'} (max < 5 s)"
          + f"  [CPU median {ms(statistics.median(cpu['xlsx'])).strip()}]")
    print(report(f"    export .csv, {exported:,} licenses", exports["csv"])
          + f"  [CPU median {ms(statistics.median(cpu['csv'])).strip()}]")
    print(f"    the dashboard counts {shown['first']} licenses; the filter {filtered} counts "
          f"{shown['filtered']}; export created_from={export_from}: {exported:,} licenses, "
          f"{product_rows:,} product rows, {len(body) / 1e6:.1f} MB of CSV; load average now "
          f"{os.getloadavg()[0]:.1f}")

    print("Query plans of the license queries each request runs:")
    labels = {"first": "(1) first page", "filtered": "(2) filtered", "search": "(3) number search",
              "export": "(4) export", "branch": "(5) by branch", "filer": "(6) by user",
              "both": "    by branch and user",
              "steel": "(7) product: steel", "steel_filtered": "(7) steel, filtered"}
    for key, statements in plans.items():
        print(f"  {labels[key]}")
        for line in explain(engine, statements):
            print(line)

    if profile:
        from pyinstrument import Profiler

        for key, (label, url, _) in measures.items():
            profiler = Profiler(interval=0.0005)
            profiler.start()
            for i in range(10):
                get(url(i), key)
            profiler.stop()
            print(f"----- profile of 10 x {label.strip()}")
            print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    args = positional_arguments(sys.argv[1:])
    main(int(args[0]) if args else 50, "--reseed" in sys.argv, "--profile" in sys.argv,
         "--proposed-indexes" in sys.argv, steel_share_argument(sys.argv))
