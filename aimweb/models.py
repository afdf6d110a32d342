"""Database models: accounts, companies, one-time codes and licenses."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, func
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .clock import utcnow
from .enums import (
    AccountEventKind,
    Action,
    CompanyRole,
    EventKind,
    LicenseKind,
    LicenseStatus,
    MailStatus,
    PartyKind,
    ReviewState,
    SignInOutcome,
    UploadStatus,
    allows,
)
from .extensions import db


class Word(TypeDecorator):
    """A vocabulary (aimweb.enums) stored as its plain string: rows read back as enum members,
    so `lic.status.label` works; the column stays a VARCHAR (the values never changed)."""

    impl = String
    cache_ok = True

    def __init__(self, vocabulary: type, length: int):
        super().__init__(length)
        self.vocabulary = vocabulary
        # A dict look-up, not an Enum call, per row read: the export reads tens of thousands.
        self._members = {member.value: member for member in vocabulary}

    def process_bind_param(self, value, dialect):
        return None if value is None else self.vocabulary(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self._members[value]


ROLES = ("filer", "officer", "admin")


class Company(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ein: Mapped[str | None] = mapped_column(String(10), unique=True)
    cbp_importer_number: Mapped[str | None] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company_type: Mapped[str] = mapped_column(String(40))
    street: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    zip_code: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(String(12))
    fax: Mapped[str | None] = mapped_column(String(12))
    contact_first_name: Mapped[str] = mapped_column(String(100))
    contact_last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    alternate_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="company")


class Branch(db.Model):
    """A branch or office of a company (19 CFR 361.102: one account, several users and branches),
    kept by its administrator on the Branches page (aimweb/branches.py). A license is filed for the
    company itself or for one branch (License.branch_id). Never deleted: an archived branch is no
    longer offered, and the licenses filed for it keep it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    zip_code: Mapped[str] = mapped_column(String(10))
    # A short mark the company gives the branch (an office code, "TX-01"), shown after its name.
    suffix: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_branch_company_name", "company_id", "name"),)

    @property
    def label(self) -> str:
        """The name as licenses show it: "North Plant (TX-01)"."""
        return f"{self.name} ({self.suffix})" if self.suffix else self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


# Two open branches of a company never share a name and suffix, whatever their case: the service
# says so at the field (aimweb/branches.py), and this index holds when two administrators save the
# same name at the same moment.
Index("ux_branch_open_name", Branch.company_id, func.lower(Branch.name),
      func.lower(func.coalesce(Branch.suffix, "")), unique=True,
      sqlite_where=Branch.archived_at.is_(None), postgresql_where=Branch.archived_at.is_(None))


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="filer")
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    # Bumped on sign-out-everywhere and password reset: every older session cookie stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    # Set by an administrator (aimweb/accounts.py): no sign-in, and every session ends at once.
    suspended_at: Mapped[datetime | None]
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    # Suspended by the company's administrator (who may lift it), not by Commerce (who alone may).
    suspended_by_company: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # The user's role in their company (aimweb/members.py); None without a company.
    company_role: Mapped[CompanyRole | None] = mapped_column(Word(CompanyRole, 16))

    company: Mapped[Company | None] = relationship(back_populates="users")

    @property
    def member_role(self) -> CompanyRole | None:
        """The company role, None without a company. A company's user from before roles (the one
        who registered it) is its administrator."""
        if self.company_id is None and self.company is None:
            return None
        return self.company_role or CompanyRole.ADMINISTRATOR

    @property
    def can_file(self) -> bool:
        """May apply for, modify, cancel, duplicate and upload licenses for the company."""
        return not self.is_officer and self.member_role in CompanyRole.FILING

    @property
    def is_company_admin(self) -> bool:
        return not self.is_officer and self.member_role == CompanyRole.ADMINISTRATOR

    def get_id(self) -> str:
        # Flask-Login stores this in the session; carrying the version lets a reset end old sessions.
        return f"{self.id}:{self.session_version}"

    @property
    def is_officer(self) -> bool:
        return self.role in ("officer", "admin")

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class OneTimeCode(db.Model):
    """A 6-digit code e-mailed for sign-up or password reset; only its keyed hash is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    # Set when the code was used, replaced by a newer one, or burnt by too many wrong tries.
    consumed_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    # Set when the verified code did its job (account created, password changed): never again.
    spent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_one_time_code_lookup", "purpose", "email", "created_at"),)


class Invitation(db.Model):
    """A company administrator's invitation of a colleague by e-mail (aimweb/members.py): the
    mailed link carries a random token of which only the keyed hash is stored; used once, it
    expires, and a newer invitation to the same address or a withdrawal ends it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    email: Mapped[str] = mapped_column(String(254))
    company_role: Mapped[CompanyRole] = mapped_column(Word(CompanyRole, 16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None]
    withdrawn_at: Mapped[datetime | None]

    company: Mapped[Company] = relationship()
    invited_by: Mapped[User] = relationship()

    __table_args__ = (Index("ix_invitation_company_created", "company_id", "created_at"),)

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.withdrawn_at is None and self.expires_at > now


class SignInThrottle(db.Model):
    """Wrong-password count of one e-mail address (registered or not, so it reveals nothing):
    one row per (address, client address), and one for the address from everywhere (the cap)."""

    email_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The key of the address alone, shared by all its rows: a password reset lifts them all.
    account_key: Mapped[str | None] = mapped_column(String(64), index=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    # Failures older than the window are forgotten: the count starts again.
    window_started_at: Mapped[datetime | None]


class AccountEvent(db.Model):
    """The sign-in audit: one row per sign-in, failure, lock, password change…; never updated.
    The kinds are aimweb.enums.AccountEventKind."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The company the event concerns, as it was then (a removed user's past stays with the company
    # that removed them; an invitation is the inviting company's): what its administrator reads.
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    # As typed (normalised), so failures for unregistered addresses are recorded too.
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[AccountEventKind] = mapped_column(Word(AccountEventKind, 20))
    outcome: Mapped[SignInOutcome] = mapped_column(Word(SignInOutcome, 20))
    client_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # Who did it when not the user (an administrator's suspension), and why.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_account_event_at", "at"),
        Index("ix_account_event_email_at", "email", "at"),
        Index("ix_account_event_user_at", "user_id", "at"),
        Index("ix_account_event_company_at", "company_id", "at"),
    )


class License(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(12), unique=True)
    status: Mapped[LicenseStatus] = mapped_column(Word(LicenseStatus, 20), default=LicenseStatus.DRAFT)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The branch the license is filed for; None: the company itself (aimweb/branches.py).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    license_type: Mapped[LicenseKind] = mapped_column(Word(LicenseKind, 20), default=LicenseKind.STANDARD)
    product: Mapped[str] = mapped_column(String(20), default="aluminum")
    entry_number: Mapped[str | None] = mapped_column(String(13))
    entry_type: Mapped[str] = mapped_column(String(12), default="consumption")
    importer_name: Mapped[str] = mapped_column(String(200), default="")
    exporter_name: Mapped[str] = mapped_column(String(200), default="")
    manufacturer_name: Mapped[str] = mapped_column(String(200), default="")
    origin_country: Mapped[str] = mapped_column(String(3), default="")
    export_country: Mapped[str] = mapped_column(String(3), default="")
    port_code: Mapped[str] = mapped_column(String(4), default="")
    export_date: Mapped[date | None]
    import_date: Mapped[date | None]
    certified_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    valid_from: Mapped[date | None]
    valid_through: Mapped[date | None]
    # Bumped on every change of the license's content; the cached PDF is keyed on it.
    version: Mapped[int] = mapped_column(default=1)
    # A draft keeps what the filer typed in the header, as typed (even a half-written date), so
    # nothing is lost between "Add Products" round trips; cleared when the license is issued.
    form_data: Mapped[dict | None] = mapped_column(JSON)
    # A draft made by "Modify License": submitting it corrects that license, keeping its number.
    # The Excel upload ("Apply for Multiple Licenses") a license was issued from.
    # The license a draft (and then the license it becomes) was copied from by "Duplicate License".
    # No foreign-key constraints on these three: SQLite can only add one with a column, and its
    # reflection then loses the constraint's name, so every later autogenerated migration would
    # try to drop and recreate it. All point at rows the app never deletes.
    amends_id: Mapped[int | None]
    upload_batch_id: Mapped[int | None] = mapped_column(index=True)
    duplicated_from_id: Mapped[int | None]
    # The officers' queue (see ReviewState); the score orders the queue.
    review_state: Mapped[ReviewState | None] = mapped_column(Word(ReviewState, 10))
    review_score: Mapped[int] = mapped_column(default=0)
    officer_message: Mapped[str | None] = mapped_column(Text)
    # A low-value license: the covered HTS numbers (10 digits) it may be quoted for. A low-value
    # license has no product lines (it names no shipment); its uses are LicenseUse rows.
    covered_hts: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company: Mapped[Company] = relationship()
    created_by: Mapped[User] = relationship()
    branch: Mapped[Branch | None] = relationship()
    amends: Mapped[License | None] = relationship(
        primaryjoin="foreign(License.amends_id) == License.id", remote_side="License.id")
    duplicated_from: Mapped[License | None] = relationship(
        primaryjoin="foreign(License.duplicated_from_id) == License.id", remote_side="License.id")
    lines: Mapped[list[ProductLine]] = relationship(
        back_populates="license", order_by="ProductLine.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[LicenseEvent]] = relationship(
        back_populates="license", order_by="LicenseEvent.id"
    )
    uses: Mapped[list[LicenseUse]] = relationship(order_by="(LicenseUse.entry_date, LicenseUse.id)")

    __table_args__ = (
        # The dashboard: a company's licenses newest first, optionally of one status, or by the
        # date of import; the number and the entry number are looked up exactly.
        Index("ix_license_company_created", "company_id", "created_at"),
        Index("ix_license_company_status_created", "company_id", "status", "created_at"),
        # Covers the date-of-import filter with its status and ordering: count and page index-only.
        Index("ix_license_company_import_status", "company_id", "import_date", "status", "created_at"),
        # The monitor rebuilds one product's month of imports (a month of another product costs nothing).
        Index("ix_license_product_import", "product", "import_date"),
        # The dashboard's other orders, each paged by the key (column, id): by date of import, by
        # license number, by status; and the "Expiring within 7 days" quick filter.
        Index("ix_license_company_import_id", "company_id", "import_date", "id"),
        Index("ix_license_company_number", "company_id", "number"),
        Index("ix_license_company_status_id", "company_id", "status", "id"),
        Index("ix_license_company_valid_through", "company_id", "valid_through"),
        # The same orders within one product (the Product filter, the view selector): a page of a
        # company's few steel licenses reads steel entries only, not every aluminum license before
        # them (EXPLAIN, 5,000 licenses, 5 % steel, by number: 9,485 rows read and dropped), and
        # the count reads the status one alone. The license kind is not in them: one kind today.
        Index("ix_license_company_product_created", "company_id", "product", "created_at"),
        Index("ix_license_company_product_import_id", "company_id", "product", "import_date", "id"),
        Index("ix_license_company_product_number", "company_id", "product", "number"),
        Index("ix_license_company_product_status_id", "company_id", "product", "status", "id"),
        Index("ix_license_entry_number", "entry_number"),
        # The dashboard's Branch and Filed by filters (issue 17): a page of a branch's or a user's
        # licenses (newest first) and its count read their entries only, from the index alone. Led
        # by the branch or user (each is one company's), with the company last: SQLite is told not
        # to take the company's own indexes for these searches (licenses.search._conditions), which
        # its planner preferred, walking a 50,000-license company for a rare branch (162 ms; 0.01 ms
        # by this index; bench/bench_dashboard.py).
        Index("ix_license_branch_created", "branch_id", "created_at", "status", "company_id"),
        Index("ix_license_filer_created", "created_by_id", "created_at", "status", "company_id"),
        # The officers' queue, one state at a time, in its order; covers the country, company and
        # product filters, so a filtered page and its bounded count read the index alone.
        Index("ix_license_queue", "review_state", "review_score", "created_at", "id", "origin_country",
              "company_id", "product"),
    )

    # What the dashboard, the license page, the officer panel and the PDF offer or show, decided
    # here (from aimweb.enums) and not in the templates; the licensing service refuses the same.
    @property
    def status_label(self) -> str:
        return self.status.label

    def can(self, action: Action) -> bool:
        return allows(self.status, action, self.license_type)

    @property
    def kind(self) -> LicenseKind:
        return LicenseKind(self.license_type or LicenseKind.STANDARD)

    @property
    def is_low_value(self) -> bool:
        return self.kind == LicenseKind.LOW_VALUE

    @property
    def can_record_use(self) -> bool:
        return self.can(Action.RECORD_USE)

    @property
    def can_modify(self) -> bool:
        return self.can(Action.MODIFY)

    @property
    def can_cancel(self) -> bool:
        return self.can(Action.CANCEL)

    @property
    def can_duplicate(self) -> bool:
        return self.can(Action.DUPLICATE)

    @property
    def is_draft(self) -> bool:
        """Still being filled in: the form, not the license page, shows it."""
        return self.status == LicenseStatus.DRAFT

    @property
    def document_version(self) -> int:
        """The version printed on the license: 1 as first issued, one more per correction.
        (`version` also counts draft edits and officer actions: it only keys the PDF cache.)"""
        return 1 + sum(1 for event in self.events if event.kind == EventKind.CORRECTED)

    @property
    def is_cancelled(self) -> bool:
        return self.status == LicenseStatus.CANCELLED

    @property
    def awaits_filer(self) -> bool:
        """Marked Action Required: Commerce's message is shown until the filer corrects it."""
        return self.status == LicenseStatus.ACTION_REQUIRED

    def is_expired(self, today: date) -> bool:
        return License.expired(self.status, self.valid_through, today)

    @staticmethod
    def expired(status: LicenseStatus, valid_through: date | None, today: date) -> bool:
        """Issued, in force, and past its last valid day (a foreign-trade-zone license has none:
        it never expires; a cancelled one shows as Cancelled only). Static too: the dashboard
        asks it of plain rows."""
        return status in LicenseStatus.ISSUED and valid_through is not None and valid_through < today

    @property
    def total_kg(self) -> Decimal:
        return sum((line.quantity_kg for line in self.lines), Decimal(0))

    @property
    def total_usd(self) -> Decimal:
        return sum((line.customs_value_usd for line in self.lines), Decimal(0))


class ProductLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_product_line_license_category (the license's lines, and the queue's category
    # filter without reading the rows).
    license_id: Mapped[int] = mapped_column(ForeignKey("license.id"))
    position: Mapped[int] = mapped_column(default=0)
    hts_number: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80), default="")
    # The products' own line fields (aimweb/products): a line fills its product's, the others
    # stay empty ("" for aluminum's, which predate steel; NULL for steel's).
    smelt_largest: Mapped[str] = mapped_column(String(3), default="")
    smelt_second: Mapped[str] = mapped_column(String(3), default="")
    cast_country: Mapped[str] = mapped_column(String(3), default="")
    melt_pour_country: Mapped[str | None] = mapped_column(String(3))
    quantity_kg: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    customs_value_usd: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    unit_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    license: Mapped[License] = relationship(back_populates="lines")

    __table_args__ = (Index("ix_product_line_license_category", "license_id", "category"),)


class LicenseUse(db.Model):
    """One entry a low-value license was quoted on (written only by licensing.record_use); kept
    when the license is cancelled."""

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("license.id"))
    entry_number: Mapped[str] = mapped_column(String(13))
    entry_date: Mapped[date]
    value_usd: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Recorded through the JSON API with this key (None: on the license's page).
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))

    recorded_by: Mapped[User] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()

    __table_args__ = (
        # One entry is recorded once per license; the license's uses read by this index.
        Index("ux_license_use_entry", "license_id", "entry_number", unique=True),
    )


class LicenseEvent(db.Model):
    """The audit trail: one row per thing that happened to a license; never updated or deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("license.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[EventKind] = mapped_column(Word(EventKind, 20))
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[list | None] = mapped_column(JSON)
    # An officer's note to other officers (a "Clear" note): never shown to the filer.
    internal: Mapped[bool] = mapped_column(default=False)
    # What the filer wrote to the officer when answering Action Required with Modify (a correction
    # event; the officer sees it beside the changes, the filer in the license's history).
    reply: Mapped[str | None] = mapped_column(Text)
    # Made through the API with this key (its name is in the note too, so the history reads alone).
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))

    license: Mapped[License] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()

    __table_args__ = (Index("ix_license_event_at", "at"),)


class LicensePdf(db.Model):
    """The rendered PDF of one version of a license: a repeated download doesn't re-render it."""

    license_id: Mapped[int] = mapped_column(
        ForeignKey("license.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True)
    # The PDF prints the status; kept so a status change that forgot to bump the version still shows.
    status: Mapped[LicenseStatus] = mapped_column(Word(LicenseStatus, 20))
    content: Mapped[bytes] = mapped_column(db.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedSearch(db.Model):
    """A dashboard search a user named ("Save This Search"): the filters as a query string."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(600))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UploadBatch(db.Model):
    """One uploaded workbook and what became of it: rejected with its problems, or issued."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # One per rendering of the upload form: a double submit finds the batch of the first.
    form_token: Mapped[str] = mapped_column(String(64), unique=True)
    # The product the filer chose for the file (License.product of every license it issues): its
    # template's columns are the ones read, and a workbook of another product is refused.
    product: Mapped[str] = mapped_column(String(20), default="aluminum", server_default="aluminum")
    # The entry type the filer chose for the file (License.entry_type of every license it issues):
    # the guide's template has no such column, so it is said once per file.
    entry_type: Mapped[str] = mapped_column(String(12), default="consumption", server_default="consumption")
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(db.LargeBinary, deferred=True)
    status: Mapped[UploadStatus] = mapped_column(Word(UploadStatus, 12), default=UploadStatus.CHECKING)
    rows: Mapped[int] = mapped_column(default=0)
    progress: Mapped[int] = mapped_column(default=0)
    license_count: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # The first problems by row and column (at most bulk.jobs.MAX_PROBLEMS_KEPT), and how many
    # there were in all: a file can hold tens of thousands, and the list is read back whole.
    problems: Mapped[list | None] = mapped_column(JSON)
    problem_count: Mapped[int] = mapped_column(default=0, server_default="0")
    result: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moved on as the job works: a job that stopped moving was cut off (nothing was issued).
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # How many jobs have claimed the batch (bulk.jobs.claim); the number is the job's claim: it
    # writes progress and outcome with `UPDATE ... WHERE attempts = <its claim>`, so a job whose
    # batch was taken over (it stalled, was presumed dead, a retry claimed it) writes nothing, not
    # even the Issued status that commits with its licenses.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    user: Mapped[User] = relationship()

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def working(self) -> bool:
        """A job is checking or issuing it (or was: see bulk.jobs.is_stale)."""
        return self.status in UploadStatus.WORKING

    @property
    def issued(self) -> bool:
        return self.status == UploadStatus.ISSUED

    @property
    def rejected(self) -> bool:
        return self.status == UploadStatus.REJECTED

    @property
    def awaits_confirmation(self) -> bool:
        return self.status == UploadStatus.CONFIRM

    @property
    def checked(self) -> bool:
        """Check File found no problem; nothing was issued."""
        return self.status == UploadStatus.CHECKED

    @property
    def issuing(self) -> bool:
        return self.status == UploadStatus.ISSUING

    # The worker's upload sweep looks for working batches that stopped moving, every minute: by
    # this index, never by reading the table (its rows hold the files).
    __table_args__ = (Index("ix_upload_batch_company_sha", "company_id", "sha256"),
                      Index("ix_upload_batch_status_heartbeat", "status", "heartbeat_at"))


class Finding(db.Model):
    """What an automatic check found on a license (the latest run only): the queue's reasons."""

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("license.id"), index=True)
    check: Mapped[str] = mapped_column(String(30))
    severity: Mapped[int] = mapped_column(default=1)  # 1 low, 2 medium, 3 high
    reason: Mapped[str] = mapped_column(Text)
    line_position: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The license's place in the queue, copied here (screening.py keeps it) so that the queue
    # filtered by a check reads one index in the queue's order: the state while it is queued
    # (answered or flagged; None otherwise), its score and creation time.
    queue_state: Mapped[ReviewState | None] = mapped_column(Word(ReviewState, 10))
    queue_score: Mapped[int] = mapped_column(default=0)
    license_created_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_finding_check", "check", "license_id"),
                      Index("ix_finding_queue", "check", "queue_state", "queue_score", "license_created_at",
                            "license_id"))


class HtsUnitValueStat(db.Model):
    """Median and MAD of the unit value of recent licenses per HTS number (`flask review-stats`)."""

    hts_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    sample: Mapped[int]
    median: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    mad: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CompanyHtsMonth(db.Model):
    """Kilograms a company licensed per HTS number and month, kept current by the licensing service
    (issue, modify, cancel): the surge check reads a few rows instead of summing licenses."""

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    hts_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    kg: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=0)


class MonitorCell(db.Model):
    """One published-or-suppressed figure of a product's public monitor (aluminum's AIM monitor,
    steel's SIMA monitor), rebuilt by `flask monitor-refresh`.

    `product` is the License.product the figure counts; `period` is a month ("2026-07") or a period
    total ("13m", "25m", "2025"); `key` is "*" for the total over all keys; `category`/`origin` are
    the filters ("*" when not filtered). With the
    number of distinct filer companies and the largest single company's value, the page applies the
    disclosure rules without ever reading a license.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(20), server_default="aluminum")
    dimension: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(80))
    origin: Mapped[str] = mapped_column(String(3))
    period: Mapped[str] = mapped_column(String(7))
    key: Mapped[str] = mapped_column(String(80))   # a category (steel's longest: 73 characters)
    kg: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    usd: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    # A month's figure: its distinct companies and largest company's value (the disclosure rules);
    # a period's figure has none (NULL): it is published only when all its months are.
    companies: Mapped[int | None]
    top_usd: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    # Decided by the refresh for every view at once (aimweb/monitor/disclosure.py), never per table.
    withheld: Mapped[bool] = mapped_column(default=True, server_default=sa_true())  # undecided: withheld

    __table_args__ = (Index("ix_monitor_cell_lookup", "product", "dimension", "category", "origin", "period"),)


class MonitorChange(db.Model):
    """A month of imports whose monitor figures a license change made stale: written by
    aimweb/licensing.py in the transaction of the change (one row per transaction and month, never
    updated: concurrent submits do not wait on each other), read and deleted by the monitor's refresh,
    which rebuilds those months of that product's monitor only."""

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(20), server_default="aluminum")   # License.product
    month: Mapped[str] = mapped_column(String(7))   # "2026-07", of the license's import date


class MonitorRefresh(db.Model):
    """When a product's monitor figures were rebuilt and up to which license they include."""

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(20), server_default="aluminum")
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)
    included_through: Mapped[datetime | None]
    licenses: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=0)




class OutboxMessage(db.Model):
    """A rendered mail, committed with the change it reports and delivered later (aimweb/outbox.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # pending -> sending (claimed by one deliverer) -> sent, or back to pending for a retry, or
    # failed after MAIL_MAX_ATTEMPTS. A "sending" row whose claim ran out (its worker died) is
    # claimable again.
    status: Mapped[MailStatus] = mapped_column(Word(MailStatus, 10), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)


class ApiKey(db.Model):
    """A key a company's filer made for their software (the JSON API): only its SHA-256 digest is
    kept; it acts as its user, within the user's company, until it expires or is revoked."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the key, shown on the account page so a person can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class IdempotencyRecord(db.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed when the key comes again."""

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("uq_idempotency_record_key", "api_key_id", "key", unique=True),)


class Party(db.Model):
    """A saved party of a company's address book (aimweb/addressbook.py): an importer, exporter or
    manufacturer the company's filers name on license after license. A license keeps its own text
    as filed: nothing here is linked to a license, so changing a party never rewrites one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    kind: Mapped[PartyKind] = mapped_column(Word(PartyKind, 20))
    name: Mapped[str] = mapped_column(String(200))
    # The name without case, spaces, punctuation or accents (aimweb/parties.py): one per kind.
    name_key: Mapped[str] = mapped_column(String(200))
    # An importer of record's CBP importer number or EIN (NN-NNNNNNN or YYDDPP-NNNNN).
    importer_number: Mapped[str | None] = mapped_column(String(12))
    country: Mapped[str | None] = mapped_column(String(3))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None]

    created_by: Mapped[User] = relationship()

    __table_args__ = (Index("uq_party_company_kind_key", "company_id", "kind", "name_key", unique=True),)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
