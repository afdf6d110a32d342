"""Dashboard search: filters read from the URL, checked, and turned into one query."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from time import monotonic
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import Integer, Select, bindparam, false, func, literal_column, null, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from .. import products
from ..enums import Action, LicenseKind, LicenseStatus, allows
from ..extensions import db
from ..inputs import UnreadableDate, license_number_spellings, parse_date, record_id
from ..models import Branch, Company, License, LicenseEvent, ProductLine, SavedSearch, User
from ..rules import normalize_entry_number

FILTER_NAMES = ("status", "created_from", "created_to", "import_from", "import_to", "q",
                "created_within", "import_within", "quick", "product", "license_type", "branch", "filed_by")
# How the list is shown, not which licenses: kept in the URL and by saved searches like the filters.
VIEW_NAMES = ("sort", "order", "size")
# The Status filter's choices, in the vocabulary's order: every status of a license with a number.
SEARCHABLE_STATUSES = {s.value: s.label for s in LicenseStatus if s in LicenseStatus.NUMBERED}
FILTER_LABELS = {"status": "Status", "created_from": "Creation Date From", "created_to": "Creation Date To",
                 "import_from": "Date of Import From", "import_to": "Date of Import To", "q": "Search text",
                 "created_within": "Creation Date", "import_within": "Date of Import", "quick": "Show",
                 "product": "Product", "license_type": "License type", "branch": "Branch", "filed_by": "Filed by"}
# The Branch filter's value for the licenses filed for the company itself (no branch).
COMPANY_ITSELF = "company"
# The Product filter's choices and the license kinds, from the products and the kinds there are.
PRODUCT_NAMES = {p.key: p.name for p in products.PRODUCTS.values()}
LICENSE_KINDS = {kind.value: kind.label for kind in LicenseKind}
# The dashboard's view selector (the guide's "select the Aluminum Standard License view"): every
# license, or one product's licenses of one kind. A view is its product and kind ("steel-standard");
# choosing one sets the Product and License type filters, which the URL and saved searches keep.
LICENSE_VIEWS = {"": "All licenses", **{f"{key}-{kind}": f"{name} {label}" for key, name in PRODUCT_NAMES.items()
                                        for kind, label in LICENSE_KINDS.items()}}
PAGE_SIZE = 25
PAGE_SIZES = (25, 100, 250)
# The columns the list can be sorted by (each with the license id after it: the keyset of a page
# is (column, id), served by an index (company_id, column[, id])), and the order each starts in.
SORTS = {"created": License.created_at, "import": License.import_date, "number": License.number,
         "status": License.status}
SORT_LABELS = {"created": "Created", "import": "Date of Import", "number": "License Number", "status": "Status"}
FIRST_ORDER = {"created": "desc", "import": "desc", "number": "asc", "status": "asc"}
# Quick filters: one click each. Drafts are listed on their own (they have no number).
QUICK_FILTERS = {LicenseStatus.ACTION_REQUIRED.value: LicenseStatus.ACTION_REQUIRED.label,
                 "expiring": "Expiring within 7 days", "drafts": "Drafts"}
EXPIRING_DAYS = 7
# Periods counted from the program's date when the search runs ("last-30": the 30 days before
# today and today; "next-7": today and the 7 days after), so a saved search stays relative.
PERIODS = {"created_within": {"last-7": "Last 7 days", "last-30": "Last 30 days", "last-90": "Last 90 days",
                              "last-365": "Last 365 days"},
           "import_within": {"last-30": "Last 30 days", "last-7": "Last 7 days", "next-7": "Next 7 days",
                             "next-30": "Next 30 days"}}
PERIOD = re.compile(r"^(last|next)-(\d{1,4})$")
MAX_PERIOD_DAYS = 3660


@dataclass
class Filters:
    status: str = ""
    created_from: date | None = None
    created_to: date | None = None
    import_from: date | None = None
    import_to: date | None = None
    q: str = ""
    quick: str = ""
    product: str = ""
    license_type: str = ""
    branch: str = ""   # COMPANY_ITSELF, or a branch id (aimweb/branches.py)
    filed_by: str = ""  # the id of the user who filed (License.created_by_id)
    sort: str = "created"
    order: str = "desc"
    size: int = PAGE_SIZE
    today: date | None = None  # the program date the periods and "expiring" were counted from
    raw: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any(self.raw.get(name) for name in FILTER_NAMES)

    @property
    def active_count(self) -> int:
        """The filters set (besides a quick filter), for the "Search & Filter (2 active)" button;
        the license kind is set by the view selector only, shown outside Search & Filter."""
        return sum(1 for name in FILTER_NAMES if name not in ("quick", "license_type") and self.raw.get(name))

    @property
    def drafts(self) -> bool:
        return self.quick == "drafts"

    def query_string(self, **extra) -> str:
        values = {k: v for k, v in self.raw.items() if v}
        values.update({k: v for k, v in extra.items() if v})
        return urlencode(values)

    def next_order(self, sort: str) -> str:
        """The order a click on the column `sort` gives: the other way round when the list is
        sorted by it, else that column's first order."""
        return ("asc" if self.order == "desc" else "desc") if sort == self.sort else FIRST_ORDER[sort]

    def sorted_by(self, sort: str) -> str:
        """The query string of this search sorted by `sort` (next_order), from page 1."""
        values = {k: v for k, v in self.raw.items() if v and k not in ("sort", "order")}
        return urlencode({**values, "sort": sort, "order": self.next_order(sort)})

    def with_size(self, size: int) -> str:
        return urlencode({**{k: v for k, v in self.raw.items() if v and k != "size"}, "size": size})

    def with_quick(self, quick: str) -> str:
        """The current view (product and kind), sort and page size with only the quick filter
        `quick` (no other filter)."""
        return urlencode({**{k: v for k, v in self.raw.items() if v and k in KEPT_BY_QUICK}, "quick": quick})

    @property
    def view(self) -> str:
        """The view selector's value for the product and kind shown ("" for every license)."""
        return f"{self.product}-{self.license_type}" if self.product or self.license_type else ""

    @property
    def view_label(self) -> str:
        """What the view selector says is shown: a view's name, or the product or kind alone."""
        if self.view in LICENSE_VIEWS:
            return LICENSE_VIEWS[self.view]
        if self.product:
            return f"{PRODUCT_NAMES[self.product]} licenses"
        return f"{LICENSE_KINDS[self.license_type]}s"

    def without_view(self) -> dict[str, str]:
        """The search's values other than its product and kind (what the view selector keeps)."""
        return {k: v for k, v in self.raw.items() if v and k not in ("product", "license_type")}


KEPT_BY_QUICK = (*VIEW_NAMES, "product", "license_type")


def _period(value: str, today: date) -> tuple[date, date] | None:
    match = PERIOD.match(value)
    if not match or not 1 <= int(match[2]) <= MAX_PERIOD_DAYS:
        return None
    days = timedelta(days=int(match[2]))
    return (today - days, today) if match[1] == "last" else (today, today + days)


@dataclass(frozen=True)
class Choices:
    """The company's branches and users the Branch and Filed by filters offer (id -> label)."""
    branches: dict[str, str]
    users: dict[str, str]


# PostgreSQL plans each run of a statement with parameters for its values (config.py,
# DATABASE_PLAN_CACHE_MODE: a plan for an average company was 7 times slower for a large one), but
# one without parameters once per connection. So what a search compares with is written into the
# dashboard's statements: the company, the user, statuses, products, types, branches, users,
# dates, a page's size and offset, all checked values (numbers, dates and this app's vocabularies,
# never text a person typed: a license or entry number and a name stay parameters). The first page
# of a company's licenses is then planned once, not at every request; on SQLite (no statistics of
# values) nothing changes but the statement's text.
def _fixed(name: str, type_=None):
    return bindparam(name, type_=type_, literal_execute=True)


def _status_in(statuses) -> ColumnElement:
    return License.status.in_([literal_column(f"'{s.value}'") for s in sorted(statuses, key=lambda s: s.value)])


def filter_choices(company_id: int) -> Choices:
    """The Branch and Filed by filters' choices: the company's branches (archived ones too: their
    licenses stay) and its users, each by name."""
    found = db.session.connection().execute(_CHOICES, {"company_id": company_id}).all()
    branches = sorted(((str(i), f"{name} ({suffix})" if suffix else name, archived) for kind, i, name, suffix, archived
                       in found if kind == "b"), key=lambda b: (b[2], b[1].lower()))
    users = sorted(((str(i), name) for kind, i, name, _s, _a in found if kind == "u"), key=lambda u: u[1].lower())
    return Choices({i: label + (" (archived)" if archived else "") for i, label, archived in branches}, dict(users))


_CHOICES = union_all(
    select(literal_column("'b'"), Branch.id, Branch.name, Branch.suffix, Branch.archived_at.is_not(None))
    .where(Branch.company_id == _fixed("company_id")),
    select(literal_column("'u'"), User.id, (User.first_name + literal_column("' '") + User.last_name), null(), false())
    .where(User.company_id == _fixed("company_id")))


def parse_filters(args, today: date, company: Choices | None = None) -> Filters:
    """The search in `args` (a URL's or a form's values), checked; periods and "expiring" are
    counted from `today` (the program's date). With the `company`'s choices, a branch or user must be one of
    the company's (else a message at the field); without, only its form is checked (a branch or
    user of another company finds nothing: every search is within the company)."""
    # Only the names present are read: a MultiDict's get() of a missing name raises and catches a
    # KeyError inside, 16 of them on a page with no filter.
    raw = {name: (args.get(name) or "").strip()[:100] if name in args else ""
           for name in (*FILTER_NAMES, *VIEW_NAMES)}
    if "view" in args:
        # The view selector: its product and kind replace the filters' (an unknown view is none).
        product, _, kind = (args.get("view") or "").strip()[:100].partition("-")
        if (not product or product in PRODUCT_NAMES) and (not kind or kind in LICENSE_KINDS):
            raw.update(product=product, license_type=kind)
    f = Filters(raw=raw, q=raw["q"], today=today)
    # Each message is keyed by the field that corrects it: the kind is chosen with the View.
    for name, choices, field_name, message in (
            ("product", PRODUCT_NAMES, "product", "Choose a product from the list."),
            ("license_type", LICENSE_KINDS, "view", "Choose a view from the list (an unknown license type).")):
        if raw[name] in choices:
            setattr(f, name, raw[name])
        elif raw[name]:
            f.errors[field_name] = message
    for name, offered, message in (
            ("branch", company and company.branches, "Choose a branch from the list."),
            ("filed_by", company and company.users, "Choose a user of your company from the list.")):
        value = raw[name]
        if not value:
            continue
        well_formed = value == COMPANY_ITSELF if name == "branch" and not value.isdigit() else (
            record_id(value) is not None)
        if well_formed and (offered is None or value in offered or value == COMPANY_ITSELF):
            setattr(f, name, value)
        else:
            f.errors[name] = message
    if raw["status"]:
        if raw["status"] in SEARCHABLE_STATUSES:
            f.status = raw["status"]
        else:
            f.errors["status"] = "Choose a status from the list."
    if raw["quick"]:
        if raw["quick"] in QUICK_FILTERS:
            f.quick = raw["quick"]
        else:
            raw["quick"] = ""  # an unknown quick filter is no filter (a link from an older page)
    # How the list is shown: anything unknown is the default, never an error.
    f.sort = raw["sort"] if raw["sort"] in SORTS else "created"
    f.order = raw["order"] if raw["order"] in ("asc", "desc") else FIRST_ORDER[f.sort]
    f.size = int(raw["size"]) if raw["size"] in {str(n) for n in PAGE_SIZES} else PAGE_SIZE
    raw.update(sort=f.sort if raw["sort"] else "", order=f.order if raw["order"] else "",
               size=str(f.size) if raw["size"] else "")
    labels = {"created": "Creation Date", "import": "Date of Import"}
    for prefix, label in labels.items():
        for end in ("from", "to"):
            name = f"{prefix}_{end}"
            if raw[name]:
                try:
                    setattr(f, name, parse_date(raw[name]))
                except UnreadableDate as error:
                    f.errors[name] = f"{label} {end}: {error}"
        within = f"{prefix}_within"
        if raw[within]:
            period = _period(raw[within], today)
            if period is None:
                f.errors[within] = f"{label}: choose a period from the list."
            elif raw[f"{prefix}_from"] or raw[f"{prefix}_to"]:
                f.errors[within] = f"{label}: choose a period or dates, not both."
            else:
                setattr(f, f"{prefix}_from", period[0])
                setattr(f, f"{prefix}_to", period[1])
        start, stop = getattr(f, f"{prefix}_from"), getattr(f, f"{prefix}_to")
        if start and stop and stop < start:
            f.errors[f"{prefix}_to"] = f"{label}: “To” must be on or after “From”."
    return f


LICENSE_NUMBER = re.compile(rf"^[{''.join(p.number_letter for p in products.PRODUCTS.values())}][A-Z0-9]{{4}}\d{{4}}$")


def license_query(company_id: int, f: Filters, ids: list[int] | None = None) -> Select:
    """The company's issued licenses matching the filters (and, when given, among `ids`), in the
    search's order.

    Served by the indexes (company_id, created_at), (company_id, status, created_at) and
    (company_id, import_date); a license or entry number is looked up exactly by its own index.
    "Has a number" is said with the status (LicenseStatus.NUMBERED: drafts and applied
    modification drafts are the only licenses without one) because the status is in those indexes
    and the number is not: the count of a
    company's 50,000 licenses then reads the (company_id, status, created_at) index alone instead
    of 50,000 table rows (bench/bench_dashboard.py: 110 ms -> 7 ms on SQLite).
    """
    values = filter_values(company_id, f)
    if ids is not None:
        values["ids"] = ids
    return (select(License).where(*_conditions(frozenset(values)))
            .order_by(*order_by(f.sort, f.order)).params(values))


def order_by(sort: str, order: str) -> tuple:
    column = SORTS[sort]
    return (column.desc(), License.id.desc()) if order == "desc" else (column.asc(), License.id.asc())


def filter_values(company_id: int, f: Filters) -> dict:
    """The values the search's statement is run with, by name; which names there are decides the
    statement's shape (see _conditions)."""
    values: dict = {"company_id": company_id}
    if f.status:
        values["status"] = f.status
    if f.product:
        values["product"] = f.product
    if f.license_type:
        values["license_type"] = f.license_type
    if f.branch == COMPANY_ITSELF:
        values["no_branch"] = None  # the name alone says "IS NULL" (no parameter of its own)
    elif f.branch:
        values["branch_id"] = int(f.branch)
    if f.filed_by:
        values["filed_by"] = int(f.filed_by)
    if f.quick == LicenseStatus.ACTION_REQUIRED:
        values["quick_status"] = LicenseStatus.ACTION_REQUIRED.value
    elif f.quick == "expiring" and f.today is not None:
        values["expiring_from"] = f.today
        values["expiring_to"] = f.today + timedelta(days=EXPIRING_DAYS)
    if f.created_from:
        values["created_from"] = datetime.combine(f.created_from, time.min)
    if f.created_to:
        values["created_to"] = datetime.combine(f.created_to + timedelta(days=1), time.min)
    if f.import_from:
        values["import_from"] = f.import_from
    if f.import_to:
        values["import_to"] = f.import_to
    if f.q:
        # A license number (look-alikes typed for one another: inputs.license_number_spellings) or
        # a customs entry number exactly; otherwise also a part of a name.
        number = f.q.strip().upper()
        spellings = license_number_spellings(f.q)
        if spellings:
            values["numbers"] = list(spellings)
        else:
            values["number"] = number
        entry = normalize_entry_number(f.q)
        if entry:
            values["entry"] = entry
        if not (LICENSE_NUMBER.match(number) or entry):
            values["name_like"] = "%" + f.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return values


class _NotLookedUp(ColumnElement):
    """A column SQLite compares without using an index (`+column`); the column itself elsewhere."""

    inherit_cache = True
    _traverse_internals = (("column", InternalTraversal.dp_clauseelement),)

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(_NotLookedUp)
def _plain_column(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(_NotLookedUp, "sqlite")
def _unindexed_column(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


# The filters that are one column equal to the value of the same name.
_EQUAL_TO = {"status": License.status, "product": License.product, "license_type": License.license_type,
             "branch_id": License.branch_id, "filed_by": License.created_by_id, "quick_status": License.status}


@lru_cache(maxsize=64)
def _conditions(names: frozenset) -> tuple:
    """The WHERE of a search with the values `names` (filter_values), as bound parameters: built
    once per shape of search, not per request (building a statement cost more than running it)."""
    # SQLite's planner took the company's indexes where another is far better, so there the company
    # is compared as an expression it cannot look up (PostgreSQL plans well):
    # - a search by number goes to the number's (and entry's) own index: SQLite otherwise chose the
    #   company's as soon as look-alikes made the number several (1M seed: 4 spellings counted in
    #   178 ms by the company's 50,000 rows, in 0.4 ms by the number index);
    # - a branch's or a user's licenses are read from their own index (models.License): SQLite
    #   walked the whole company for a rare branch.
    unindexed = _looked_up(names) or names & {"branch_id", "filed_by"}
    company = _NotLookedUp(License.company_id) if unindexed else License.company_id
    where = [company == _fixed("company_id"), _status_in(LicenseStatus.NUMBERED)]
    where += [column == _fixed(name) for name, column in _EQUAL_TO.items() if name in names]
    if "no_branch" in names:
        where.append(License.branch_id.is_(None))
    if "expiring_from" in names:  # issued (in force), its last valid day within the next 7 days
        where += [_status_in(LicenseStatus.ISSUED), License.valid_through >= _fixed("expiring_from"),
                  License.valid_through <= _fixed("expiring_to")]
    if "ids" in names:
        where.append(License.id.in_(bindparam("ids", expanding=True)))
    if "created_from" in names:
        where.append(License.created_at >= _fixed("created_from"))
    if "created_to" in names:
        where.append(License.created_at < _fixed("created_to"))
    if "import_from" in names:
        where.append(License.import_date >= _fixed("import_from"))
    if "import_to" in names:
        where.append(License.import_date <= _fixed("import_to"))
    if "number" in names or "numbers" in names:
        match = [License.number.in_(bindparam("numbers", expanding=True)) if "numbers" in names
                 else License.number == bindparam("number")]
        if "entry" in names:
            match.append(License.entry_number == bindparam("entry"))
        if "name_like" in names:
            match += [column.ilike(bindparam("name_like"), escape="\\") for column in
                      (License.importer_name, License.exporter_name, License.manufacturer_name)]
        where.append(or_(*match))
    return tuple(where)


def line_totals(license_ids: list[int]) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Product count, total kg and total US$ of each license on a page, in one query."""
    if not license_ids:
        return {}
    rows = db.session.execute(
        select(ProductLine.license_id, func.count(), func.sum(ProductLine.quantity_kg),
               func.sum(ProductLine.customs_value_usd))
        .where(ProductLine.license_id.in_(license_ids)).group_by(ProductLine.license_id))
    return {row[0]: (row[1], Decimal(row[2] or 0), Decimal(row[3] or 0)) for row in rows}


# ----- the page ------------------------------------------------------------------------------------
# A page is one query returning 25 plain rows with their product totals (no ORM objects: loading
# them was a quarter of the page's time), reached by its neighbours' keys (keyset pagination:
# Previous and Next cost the same on page 2,000 as on page 1) or, for a page named only by its
# number, by an offset from the nearer end. The total comes from a count kept per company and
# search until any license changes (see count_licenses).

@dataclass(slots=True)
class Row:
    """One license as the dashboard lists it."""
    id: int
    number: str
    status: LicenseStatus
    created_at: datetime
    import_date: date | None
    valid_through: date | None
    entry_number: str | None
    importer_name: str
    port_code: str
    product: str
    products: int
    kg: Decimal | None
    usd: Decimal | None
    expired: bool
    kind: LicenseKind = LicenseKind.STANDARD

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def kind_tag(self) -> str:
        """The kind shown beside the number: only a low-value license's (most are standard)."""
        return self.kind.label if self.kind != LicenseKind.STANDARD else ""

    @property
    def product_name(self) -> str:
        return PRODUCT_NAMES.get(self.product, self.product)

    @property
    def can_modify(self) -> bool:
        return allows(self.status, Action.MODIFY, self.kind)

    @property
    def can_cancel(self) -> bool:
        return allows(self.status, Action.CANCEL, self.kind)

    @property
    def can_duplicate(self) -> bool:
        return allows(self.status, Action.DUPLICATE, self.kind)

    @classmethod
    def of(cls, lic: License, today: date) -> Row:
        """The row of one license object (the row redrawn after Cancel)."""
        count, kg, usd = line_totals([lic.id]).get(lic.id, (0, None, None))
        return cls(lic.id, lic.number, lic.status, lic.created_at, lic.import_date, lic.valid_through,
                   lic.entry_number, lic.importer_name, lic.port_code, lic.product, count, kg, usd,
                   lic.is_expired(today), lic.kind)


ROW_COLUMNS = (License.id, License.number, License.status, License.created_at, License.import_date,
               License.valid_through, License.entry_number, License.importer_name, License.port_code,
               License.product, License.license_type)


@lru_cache(maxsize=512)
def _page_statement(names: frozenset, way: str, sort: str, order: str) -> Select:
    """The rows of a page of a search with the values `names`, and their product totals, in one
    statement built once per shape. The list is in (`sort` column, id) `order`; `way`: "first"
    (an offset from its start), "last" (from its end), "after" or "before" (the license `key`);
    then `limit` and `offset`. Each way reads the index (company_id, column[, id]) from a point
    and stops after `limit` rows, so a page far down costs what the first does."""
    column = SORTS[sort]
    forward = order_by(sort, order)
    backward = order_by(sort, "asc" if order == "desc" else "desc")
    where = _conditions(names)
    if way in ("after", "before"):
        # The rows beyond the key in the page's direction, as two index seeks: those sharing the
        # key's value with an id beyond the key's, then those beyond its value; the first `limit`
        # of both. (One condition "(column, id) beyond the key" made SQLite read and drop, one by
        # one, every row sharing the key's value: by status, most of a company's licenses.)
        at = select(column).where(License.id == bindparam("key"),
                                  License.company_id == _fixed("company_id")).scalar_subquery()
        down = (way == "after") == (order == "desc")
        direction = forward if way == "after" else backward
        same = (select(License.id, column.label("k")).where(*where, column == at,
                                                             License.id < bindparam("key") if down
                                                             else License.id > bindparam("key"))
                .order_by(direction[1]).limit(_fixed("limit", Integer)).subquery())
        beyond = (select(License.id, column.label("k")).where(*where, column < at if down else column > at)
                  .order_by(*direction).limit(_fixed("limit", Integer)).subquery())
        both = union_all(select(same), select(beyond)).subquery()
        ids = (select(both.c.id).order_by(*((both.c.k.desc(), both.c.id.desc()) if down
                                           else (both.c.k.asc(), both.c.id.asc())))
               .limit(_fixed("limit", Integer)).offset(_fixed("offset", Integer)).subquery())
    elif _looked_up(names):
        # A search by license or entry number finds a handful of licenses by their own indexes;
        # ordered and limited in the same SELECT, SQLite chose to walk the company's whole list in
        # the sort's index instead (1M seed: 93 ms CPU against 0.5 ms). So: found first, then sorted.
        found = select(License.id, column.label("k")).where(*where).cte("found").prefix_with("MATERIALIZED")
        desc = (order == "desc") == (way == "first")
        ids = (select(found.c.id).order_by(*((found.c.k.desc(), found.c.id.desc()) if desc
                                              else (found.c.k.asc(), found.c.id.asc())))
               .limit(_fixed("limit", Integer)).offset(_fixed("offset", Integer)).subquery())
    else:
        ids = (select(License.id).where(*where).order_by(*(forward if way == "first" else backward))
               .limit(_fixed("limit", Integer)).offset(_fixed("offset", Integer)).subquery())
    return (select(*ROW_COLUMNS, func.count(ProductLine.id), func.sum(ProductLine.quantity_kg),
                   func.sum(ProductLine.customs_value_usd))
            .join(ids, ids.c.id == License.id)
            .outerjoin(ProductLine, ProductLine.license_id == License.id)
            .group_by(License.id).order_by(*forward))


def _looked_up(names: frozenset) -> bool:
    """Whether a search finds its licenses by number (license or entry) alone, not by a name."""
    return bool(names & {"number", "numbers", "entry"}) and "name_like" not in names


def _rows(values: dict, f: Filters, way: str, limit: int, offset: int = 0, key: int | None = None, *,
          today: date) -> list[Row]:
    result = db.session.connection().execute(
        _page_statement(frozenset(values), way, f.sort, f.order),
        {**values, "limit": limit, "offset": offset, "key": key})
    expired = License.expired
    return [Row(id_, number, status, created, imported, valid_through, entry, importer, port, product, lines, kg,
                usd, expired(status, valid_through, today), kind)
            for (id_, number, status, created, imported, valid_through, entry, importer, port, product, kind,
                 lines, kg, usd) in result]


@lru_cache(maxsize=64)
def _count_statement(names: frozenset) -> Select:
    return select(func.count()).select_from(select(License.id).where(*_conditions(names)).subquery())


# PostgreSQL plans a prepared statement once (a "generic plan") only when that plan looks as
# cheap as one made for the values at hand. A constant sent as a parameter (the draft status, a
# page's LIMIT) hides what the statement needs, so it was planned again at every run: planning
# was 0.2 of the header's 0.26 ms and of the drafts' 0.3 ms of server CPU (1M seed). Constants are
# written into these statements instead: their text stays the same, and the plan is made once
# (bench/results/2026-12-02-postgres-prepared.md).
_IS_DRAFT = License.status == literal_column(f"'{LicenseStatus.DRAFT.value}'")

_HEADER = select(
    select(func.max(License.id)).scalar_subquery(),
    select(func.max(LicenseEvent.id)).scalar_subquery(),
    select(Company.name).where(Company.id == _fixed("company_id")).scalar_subquery(),
    select(License.id).where(License.company_id == _fixed("company_id"), _IS_DRAFT,
                             License.form_data.is_not(None)).exists(),
    select(SavedSearch.id).where(SavedSearch.user_id == _fixed("user_id")).exists())


@dataclass(slots=True)
class Header:
    """What the top of the dashboard needs, from one query."""
    stamp: tuple  # says whether any license changed: the newest license id and audit event id
    action_required: int  # the company's licenses marked Action Required
    company_name: str
    has_drafts: bool  # the company has applications not yet submitted (else no query for them)
    has_saved_searches: bool  # the user has saved searches (likewise)


# The count of the company's licenses marked Action Required, as the Status filter counts them
# (kept with the other counts: see count_licenses).
_ACTION_REQUIRED = Filters(status=LicenseStatus.ACTION_REQUIRED.value)


def dashboard_header(company_id: int, user_id: int) -> Header:
    """Every issue and status change writes an audit event, so a new event or license id is a
    change (see count_licenses). The Action Required count is kept like the list's: counted on
    every page, it was most of this statement's time on PostgreSQL (1.1 of 1.2 ms at 1M: a
    busy company's recently changed rows are not index-only)."""
    newest, event, name, drafts, saved = db.session.connection().execute(
        _HEADER, {"company_id": company_id, "user_id": user_id}).one()
    stamp = (newest, event)
    return Header(stamp, count_licenses(company_id, _ACTION_REQUIRED, stamp), name, bool(drafts), bool(saved))


def count_licenses(company_id: int, f: Filters, stamp: tuple) -> int:
    """The number of the company's licenses matching the filters.

    Counting a company's 50,000 licenses was 15 % of every page, for a number that changes only
    when a license does: it is kept per process, company and search, and counted again as soon
    as any license is issued or changes status (`stamp`, from dashboard_header()) and at the latest
    after DASHBOARD_COUNT_CACHE_SECONDS (a long transaction, such as a large upload, can commit
    after a later change has moved the stamp).
    """
    seconds = current_app.config["DASHBOARD_COUNT_CACHE_SECONDS"]
    cache = current_app.extensions.setdefault("dashboard_counts", {})
    values = filter_values(company_id, f)
    # Keyed by the values searched (a period is the dates it stood for today), not the URL: the
    # order and the page size don't change the count.
    key = (company_id, repr(sorted(values.items())))
    now = monotonic()
    kept = cache.get(key)
    if kept and kept[0] == stamp and now - kept[1] < seconds:
        return kept[2]
    count = db.session.connection().scalar(_count_statement(frozenset(values)), values)
    if len(cache) >= COUNT_CACHE_ENTRIES:
        cache.clear()
    cache[key] = (stamp, now, count)
    return count


COUNT_CACHE_ENTRIES = 10_000


@dataclass
class Page:
    rows: list[Row]
    number: int
    count: int
    filters: Filters
    cursor: dict = field(default_factory=dict)  # the key that reached this page, kept in its own link

    @property
    def size(self) -> int:
        return self.filters.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    def href(self, number: int) -> str:
        """The link to a page: the next and the previous by the key of the row next to them, so
        they cost the same everywhere; the others by their number (the first and the last are as
        quick: an offset is counted from the nearer end)."""
        if number == self.number + 1 and self.rows:
            return "?" + self.filters.query_string(page=number, after=self.rows[-1].id)
        if number == self.number - 1 and self.rows and number != 1:
            return "?" + self.filters.query_string(page=number, before=self.rows[0].id)
        return "?" + self.filters.query_string(page=number, **(self.cursor if number == self.number else {}))


def dashboard_page(company_id: int, f: Filters, page: int, stamp: tuple, today: date,
                   after: int | None = None, before: int | None = None) -> Page:
    """Page `page` of the company's licenses matching `f`, in its order and page size: the rows
    after the license `after` or before the license `before` when given (and still the
    company's), else by its number."""
    size = f.size
    count = count_licenses(company_id, f, stamp)
    pages = max(1, -(-count // size))
    page = min(max(page, 1), pages)
    values = filter_values(company_id, f)
    if after or before:
        rows = _rows(values, f, "after" if after else "before", size, key=after or before, today=today)
        if rows:
            return Page(rows, page, count, f, {"after": after} if after else {"before": before})
        # Not a key of this company's list (or nothing beyond it): the page by its number.
    if page <= (pages + 1) // 2:
        rows = _rows(values, f, "first", size, (page - 1) * size, today=today)
    else:  # nearer the end: counted from the end, so the last page is as quick as the first
        rows = _rows(values, f, "last", min(size, count - (page - 1) * size), max(0, count - page * size),
                     today=today)
    return Page(rows, page, count, f)


# The statements every dashboard page runs are built once: building one (and its cache key) cost
# more than running it.
Amended = aliased(License)
_DRAFT_WHERE = (License.company_id == _fixed("company_id"), _IS_DRAFT, License.form_data.is_not(None))
_DRAFTS = (
    select(License.id, License.form_data, License.updated_at, Amended.number.label("amends_number"),
           select(func.count(ProductLine.id)).where(ProductLine.license_id == License.id)
           .scalar_subquery().label("products"))
    .outerjoin(Amended, Amended.id == License.amends_id)
    .where(*_DRAFT_WHERE)
    .order_by(License.updated_at.desc(), License.id.desc())
    .limit(_fixed("limit", Integer))
    .offset(_fixed("offset", Integer)))
_DRAFT_COUNT = select(func.count()).select_from(License).where(*_DRAFT_WHERE)


def recent_drafts(company_id: int, limit: int = 5, offset: int = 0) -> list:
    """The company's latest applications not yet submitted (five, above the list), with their
    product count and the number of the license a modification draft corrects (one query)."""
    return db.session.connection().execute(
        _DRAFTS, {"company_id": company_id, "limit": limit, "offset": offset}).all()


@dataclass
class DraftPage:
    """The "Drafts" quick filter: the applications not yet submitted, latest changed first. A
    company has few (typed by hand: an upload makes none), so they are paged by offset."""
    rows: list
    number: int
    count: int
    filters: Filters

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.filters.size))

    def href(self, number: int) -> str:
        return "?" + self.filters.query_string(page=number)


def drafts_page(company_id: int, f: Filters, page: int) -> DraftPage:
    count = db.session.connection().scalar(_DRAFT_COUNT, {"company_id": company_id})
    page = min(max(page, 1), max(1, -(-count // f.size)))
    return DraftPage(recent_drafts(company_id, f.size, (page - 1) * f.size), page, count, f)


def keyset_rows(company_id: int, f: Filters, today: date, limit: int, after: int | None = None) -> list[Row]:
    """`limit` rows of the search from its start, or after the license `after` (the JSON API's
    cursor): the same statements as the dashboard's Next, so every page costs what the first does.
    A key that is not one of the company's licenses gives no rows."""
    values = filter_values(company_id, f)
    if after is not None:
        return _rows(values, f, "after", limit, key=after, today=today)
    return _rows(values, f, "first", limit, 0, today=today)
