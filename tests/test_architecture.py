"""Tests that guard the architecture: every route declares who may use it and answers each role
accordingly (after GOV.UK Notify's permission tests, walking app.url_map), no module imports from
a higher layer, no status literal outside aimweb/enums.py, no test module imports another."""
from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import pytest
from factories import seed_world
from helpers import csrf_token, signed_in_as, url_for_rule

from aimweb import enums
from aimweb.web.access import LEVELS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aimweb"

# ----- 1. every route declares its access, and each role gets the right answer ------------------


def test_every_endpoint_declares_its_access_level(app):
    undeclared = sorted(endpoint for endpoint, view in app.view_functions.items()
                        if getattr(view, "access", None) not in LEVELS)
    assert not undeclared, (f"{undeclared}: mark each view with a decorator from aimweb/web/access.py "
                            "(public, signed_in, member_required, filer_required, company_admin_required, "
                            "officer_required, admin_required)")


@pytest.fixture
def world(query):
    return query(seed_world)


def rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def answer(client, app, rule, values, token):
    url = url_for_rule(app, rule, values)
    if "GET" in rule.methods:
        method, response = "GET", client.get(url)
    else:
        method, response = "POST", client.post(url, data={"csrf_token": token})
    # Read to the end and closed: an export streams from a server-side cursor until then.
    response.get_data()
    response.close()
    return method, url, response


def _signed_in_check(response) -> bool:
    return response.status_code == 302 and "/signin" in response.headers["Location"]


def _internal_check(response) -> str | None:
    """A machines-only route (the metrics) is "not found" to people, signed in or not."""
    return None if response.status_code == 404 else "answered without the scraper's token"


def _api_key_check(response) -> str | None:
    """The JSON API answers only an API key: without one (a session cookie is not one), 401 as
    problem details."""
    if response.status_code == 401 and response.content_type == "application/problem+json":
        return None
    return "answered without an API key"


def _walk(app, world, client, token, judge, email=None):
    wrong = []
    # A saved search is its user's own: each walks with one of theirs.
    values = {**world["own"], "search_id": world["searches"].get(email, world["own"]["search_id"])}
    for rule in rules(app):
        level = app.view_functions[rule.endpoint].access
        method, url, response = answer(client, app, rule, values, token)
        problem = judge(level, method, response)
        if problem:
            wrong.append(f"{method} {url} ({level}): {response.status_code} {problem}")
    return wrong


def test_anonymous_is_sent_to_sign_in_from_every_protected_route(app, client, world):
    token = csrf_token(client, "/signin")

    def judge(level, method, response):
        if level == "public":
            return None if response.status_code < 500 and response.status_code not in (401, 403) else "refused"
        if level == "internal":
            return _internal_check(response)
        if level == "api-key":
            return _api_key_check(response)
        return None if _signed_in_check(response) else "not sent to sign-in"

    assert _walk(app, world, client, token, judge) == []


COMPANY = {"member", "filer", "company-admin"}


@pytest.mark.parametrize(("email", "home", "refused_levels"), [
    # the company's administrator: every company page, no Commerce page
    ("filer@example.com", "/licenses/", {"officer", "admin"}),
    # a filer (company role) files, but does not manage the company's people
    ("colleague@example.com", "/licenses/", {"company-admin", "officer", "admin"}),
    # a viewer reads, prints and exports: nothing that files, changes or manages
    ("viewer@example.com", "/licenses/", {"filer", "company-admin", "officer", "admin"}),
    # an officer gets officer pages, not a company's
    ("officer@example.com", "/review/", COMPANY | {"admin"}),
    # a platform administrator: officer pages and the accounts page, not a company's
    ("admin@example.com", "/review/", COMPANY),
])
def test_each_role_gets_its_pages_and_is_refused_the_others(app, world, email, home, refused_levels):
    client = signed_in_as(app, email)
    token = csrf_token(client, home)

    def judge(level, method, response):
        status = response.status_code
        if level == "internal":
            return _internal_check(response)
        if level == "api-key":
            return _api_key_check(response)
        if level in refused_levels:
            return None if status == 403 else f"a {level} page answered {email}"
        if method == "GET":
            return None if status < 400 else "refused"
        return None if status < 500 and status not in (401, 403) else "refused"

    assert _walk(app, world, client, token, judge, email) == []


def test_another_company_s_objects_are_not_found(app, world):
    """Every company route with a license, draft, upload, saved search, user, invitation, branch or party in its
    path answers 404 for another company's (GET and POST alike: nothing of theirs is read or changed)."""
    client = signed_in_as(app, "filer@example.com")
    token = csrf_token(client, "/licenses/")
    owned = {"number", "draft_id", "batch_id", "search_id", "member_id", "invitation_id", "key_id", "party_id",
             "branch_id"}
    wrong = []
    for rule in rules(app):
        if app.view_functions[rule.endpoint].access not in COMPANY or not owned & rule.arguments:
            continue
        values = {**world["own"], **{k: world["other"][k] for k in owned | {"issued_batch_id"}}}
        method, url, response = answer(client, app, rule, values, token)
        if response.status_code != 404:
            wrong.append(f"{method} {url}: {response.status_code}")
    assert wrong == []


# ----- 2. layers ---------------------------------------------------------------------------------

# From the README's architecture, top to bottom: a module imports only its own layer and those below.
# A module is placed by its longest listed prefix; a new package or module must be placed here.
LAYER_ORDER = ("base", "pure", "services", "web", "app")
LAYERS = {
    "aimweb": "app", "aimweb.cli": "app", "aimweb.reference.cli": "app",
    # web: the blueprints, what they share, the error pages
    "aimweb.web": "web", "aimweb.errors": "web", "aimweb.auth": "web", "aimweb.account": "web",
    "aimweb.licenses": "web", "aimweb.bulk": "web", "aimweb.review": "web", "aimweb.main": "web",
    "aimweb.admin": "web", "aimweb.monitor": "web", "aimweb.ops": "web", "aimweb.api": "web",
    # services: transactions, mail, the monitor's pre-computed figures (also made by `flask` commands)
    "aimweb.licensing": "services", "aimweb.screening": "services", "aimweb.accounts": "services",
    "aimweb.mailer": "services", "aimweb.outbox": "services", "aimweb.demo": "services",
    "aimweb.members": "services", "aimweb.branches": "services", "aimweb.archive": "services",
    "aimweb.jobs": "services", "aimweb.apikeys": "services", "aimweb.addressbook": "services",
    "aimweb.monitor.aggregates": "services", "aimweb.monitor.disclosure": "services",
    # pure: decisions on values
    "aimweb.rules": "pure", "aimweb.checks": "pure", "aimweb.inputs": "pure",
    "aimweb.products": "pure", "aimweb.parties": "pure", "aimweb.identifiers": "pure",
    # base
    "aimweb.models": "base", "aimweb.reference": "base", "aimweb.clock": "base", "aimweb.config": "base",
    "aimweb.extensions": "base", "aimweb.security": "base", "aimweb.enums": "base",
    "aimweb.formatting": "base",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    candidates = [name for name in LAYERS if module == name or module.startswith(name + ".")]
    return LAYERS[max(candidates, key=len)] if candidates else None


def imports_of(path: Path) -> set[str]:
    """Every aimweb module `path` imports, at the top or inside a function."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "aimweb"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "aimweb":
                continue
            if node.module is None:  # from . import views: the submodules themselves
                found |= {f"{target}.{alias.name}" for alias in node.names}
            else:
                found.add(target)
    return found


def python_modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_placed_in_a_layer():
    unplaced = [module_name(p) for p in python_modules() if layer_of(module_name(p)) is None]
    assert unplaced == [], "place these in LAYERS (tests/test_architecture.py), after the README"


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for path in python_modules():
        module = module_name(path)
        mine = LAYER_ORDER.index(layer_of(module) or "app")
        for target in imports_of(path):
            theirs = layer_of(target)
            if theirs is not None and LAYER_ORDER.index(theirs) > mine:
                upward.append(f"{module} ({LAYER_ORDER[mine]}) imports {target} ({theirs})")
    assert upward == []


def test_the_layer_check_sees_relative_and_function_level_imports(monkeypatch):
    """The check above can fail: a base module importing a blueprint inside a function is seen."""
    fake = PACKAGE / "clock.py"
    source = "def f():\n    from .licenses import views\n    import aimweb.licensing\n"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert imports_of(fake) == {"aimweb.licenses", "aimweb.licensing"}
    assert layer_of("aimweb.clock") == "base" and layer_of("aimweb.licenses.views") == "web"


# ----- 3. status literals live in aimweb/enums.py -----------------------------------------------

# Every vocabulary of aimweb.enums (license, review, upload, audit, sign-in, mail).
VOCABULARIES = tuple(v for v in vars(enums).values()
                     if isinstance(v, type) and issubclass(v, enums.Vocabulary) and v is not enums.Vocabulary)
WORDS = frozenset(member.value for vocabulary in VOCABULARIES for member in vocabulary)

# A word of the vocabulary used for something else: (file, word, the call it is an argument of).
NOT_A_STATUS = {
    # The mail template's name (templates/email/action_required.*), not the status.
    ("aimweb/licensing.py", "action_required", "_mail"): "mail template name",
    ("aimweb/auth/views.py", "password_changed", "send_email"): "mail template name",
    ("aimweb/account/me.py", "password_changed", "send_email"): "mail template name",
}


def _call_name(node: ast.Call) -> str:
    func_ = node.func
    return func_.attr if isinstance(func_, ast.Attribute) else getattr(func_, "id", "")


def python_literals(source: str, path: str = "<test>") -> list[tuple[int, str]]:
    """(line, word) of every string constant that is a word of the vocabularies."""
    tree = ast.parse(source)
    allowed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Constant) and (path, arg.value, _call_name(node)) in NOT_A_STATUS:
                    allowed.add(id(arg))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value in WORDS and id(node) not in allowed]


TEMPLATE_WORD = re.compile(r"""['"](""" + "|".join(sorted(WORDS)) + r""")['"]""")


def template_literals(source: str) -> list[tuple[int, str]]:
    return [(number, m.group(1)) for number, line in enumerate(source.splitlines(), 1)
            for m in TEMPLATE_WORD.finditer(line)]


def test_the_source_scan_finds_a_status_literal():
    """The rule the next test applies catches the ways a status used to be written."""
    assert python_literals('if lic.status != "cancelled":\n    x = ("checking", "issuing")\n') == [
        (1, "cancelled"), (2, "checking"), (2, "issuing")]
    assert python_literals('query.where(LicenseEvent.kind == "corrected")') == [(1, "corrected")]
    assert template_literals("{% if lic.review_state == 'answered' %}\n{{ x }}\n"
                             "{% if b.status == \"issued\" %}") == [(1, "answered"), (3, "issued")]
    # An allowed use is allowed only where it is listed.
    assert python_literals('_mail(lic, u, "s", "action_required")', "aimweb/licensing.py") == []
    assert python_literals('_mail(lic, u, "s", "action_required")', "aimweb/other.py") == [
        (1, "action_required")]


def test_no_status_literal_outside_the_enum_module():
    found = []
    for path in sorted((ROOT / "aimweb").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "aimweb/enums.py":
            continue
        found += [f"{relative}:{line} {word!r}"
                  for line, word in python_literals(path.read_text(encoding="utf-8"), relative)]
    for path in sorted((ROOT / "aimweb" / "templates").rglob("*")):
        if path.is_file():
            found += [f"{path.relative_to(ROOT).as_posix()}:{line} {word!r}"
                      for line, word in template_literals(path.read_text(encoding="utf-8"))]
    assert found == [], "use the members of aimweb.enums:\n" + "\n".join(found)



# ----- 4. test modules -------------------------------------------------------------------------


def test_no_test_module_imports_another():
    tests = Path(__file__).resolve().parent
    modules = {p.stem for p in tests.rglob("test_*.py")}
    wrong = []
    for path in sorted(tests.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            wrong += [f"{path.relative_to(tests)} imports {n}" for n in names if n.split(".")[-1] in modules]
    assert wrong == [], "move shared helpers to tests/helpers.py or tests/factories.py"


def test_the_migrations_build_the_schema_the_models_declare(app):
    """What `flask db upgrade` built (the suite's schema) is what the models say: no table, column,
    index or constraint only on one side (Alembic's own comparison). SQLite cannot add a
    constraint to an existing table, so two foreign keys added later exist on PostgreSQL only,
    and it stores a VARCHAR of any length, so widened columns are not altered there."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from aimweb.extensions import db

    with app.app_context(), db.engine.connect() as connection, warnings.catch_warnings():
        # SQLAlchemy reads no expression index back from SQLite (ux_branch_open_name): PostgreSQL compares it.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        found = compare_metadata(context, db.metadata)
        dialect = connection.dialect.name
    if dialect == "sqlite":
        flat = [d[0] if isinstance(d, list) else d for d in found]
        found = [d for d in flat if d[0] not in ("add_fk", "modify_type")]
    assert found == []


def test_statements_run_past_the_session_only_read():
    """A request ends with COMMIT when its session saw no write (aimweb/__init__.py,
    _end_reads_with_commit): the session sees flushes and session.execute(), not a statement run
    on its connection directly. So a module that does that can't build a write statement: it
    imports no insert, update, delete or text from SQLAlchemy."""
    readers = [path for path in PACKAGE.rglob("*.py") if ".connection().execute(" in path.read_text()]
    assert readers, "the scan finds the dashboard's reads"
    for path in readers:
        imported = {alias.name for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
                    for alias in node.names}
        assert not imported & {"insert", "update", "delete", "text"}, (path.relative_to(ROOT), imported)
