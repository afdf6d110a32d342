"""The status vocabularies: license status, review state, upload status, audit event kinds,
sign-in outcomes and mail status.

StrEnums, so a member equals the string stored in the database (no data migration) and binds as
that string; each member's label comes from the one map below, and the named groups say which
statuses an action or a page takes. Nothing else in the code spells a status as a literal
(tests/test_enums.py reads the source to keep it so). No Flask, no database: the base layer.
"""
from __future__ import annotations

from enum import Enum, StrEnum


class Vocabulary(StrEnum):
    """A stored word with the label the user reads."""

    @property
    def label(self) -> str:
        return LABELS[type(self)][self]


class LicenseStatus(Vocabulary):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CORRECTED = "corrected"
    ACTION_REQUIRED = "action_required"
    CANCELLED = "cancelled"
    # A "Modify License" draft once submitted: its content moved to the license it corrected.
    APPLIED = "applied"


class LicenseKind(Vocabulary):
    """What kind of license (License.license_type): one per entry, or the reusable low-value one
    (19 CFR 361.103(f), 360.103(f))."""

    STANDARD = "standard"
    LOW_VALUE = "low_value"

    @property
    def number_mark(self) -> str:
        """What follows the product's letter in the number: a low-value license's AL…/SL… never
        reads like a standard one's (whose 4 random characters never hold an L)."""
        return NUMBER_MARKS[self]


class ReviewState(Vocabulary):
    """Where a license stands in the officers' queue (None: nothing to review)."""

    FLAGGED = "flagged"      # an automatic check fired
    WAITING = "waiting"      # marked Action Required: waiting for the filer
    ANSWERED = "answered"    # the filer corrected (or confirmed) a license marked Action Required
    CLEARED = "cleared"      # an officer closed the review ("Close Review": no action needed)


class UploadStatus(Vocabulary):
    QUEUED = "queued"        # waiting for a worker of the job queue (aimweb/jobs.py)
    CHECKING = "checking"
    VERIFYING = "verifying"  # Check File: checked like an upload, nothing issued
    CHECKED = "checked"      # Check File found no problem; Upload File issues it
    REJECTED = "rejected"
    CONFIRM = "confirm"      # the same file was issued before: the filer must confirm
    ISSUING = "issuing"
    ISSUED = "issued"
    FAILED = "failed"


class EventKind(Vocabulary):
    """What a LicenseEvent (the audit trail) records."""

    ISSUED = "issued"
    CORRECTED = "corrected"
    CANCELLED = "cancelled"
    ACTION_REQUIRED = "action_required"
    CLEARED = "cleared"

    @property
    def filer_label(self) -> str:
        """The wording of the license page's history (the audit trail uses `label`)."""
        return FILER_EVENT_LABELS[self]


class AccountEventKind(Vocabulary):
    """What an AccountEvent (the sign-in audit) records."""

    SIGNED_UP = "signed_up"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED = "locked"
    SIGNED_OUT = "signed_out"
    RESET_REQUESTED = "reset_requested"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an event kind, not a password
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event kind, not a password
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    # The company's people (aimweb/members.py) and My account.
    INVITED = "invited"
    INVITATION_WITHDRAWN = "invitation_withdrawn"
    JOINED = "joined_company"
    ROLE_CHANGED = "role_changed"
    REMOVED = "removed_from_company"
    SIGNED_OUT_ALL = "signed_out_all"
    NAME_CHANGED = "name_changed"


class CompanyRole(Vocabulary):
    """What a user may do in their company's account (19 CFR 361.102: several users per company).
    Separate from User.role, the platform role (filer, officer, admin). Stored with a prefix so the
    words never read as the platform's."""

    ADMINISTRATOR = "company_admin"   # invites, changes roles, suspends and removes; also files
    FILER = "company_filer"           # applies for, modifies, cancels and duplicates licenses
    VIEWER = "company_viewer"         # reads: dashboard, license pages, PDF, export


class PartyKind(Vocabulary):
    """What a saved party of a company's address book is (aimweb/addressbook.py): one of the three
    parties a license names. Stored with a prefix so the words never read as a company type."""

    IMPORTER = "party_importer"
    EXPORTER = "party_exporter"
    MANUFACTURER = "party_manufacturer"

    @property
    def field(self) -> str:
        """The license header field it fills (aimweb/products/base.py)."""
        return f"{self.slug}_name"

    @property
    def slug(self) -> str:
        """The short word of URLs and form values."""
        return self.value.removeprefix("party_")

    @property
    def plural(self) -> str:
        return PARTY_PLURALS[self]

    @classmethod
    def of_field(cls, name: str) -> PartyKind | None:
        return next((kind for kind in cls if kind.field == name), None)

    @classmethod
    def of_slug(cls, slug: str) -> PartyKind | None:
        return next((kind for kind in cls if kind.slug == slug), None)


class SignInOutcome(Vocabulary):
    """How an AccountEvent ended."""

    OK = "ok"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an outcome, not a password
    LOCKED = "locked"
    SUSPENDED = "suspended"
    FROM_ONE_ADDRESS = "from_one_address"
    FROM_EVERYWHERE = "from_everywhere"
    REQUESTED = "requested"


class MailStatus(Vocabulary):
    """Where a mail stands in the outbox (aimweb/outbox.py)."""

    PENDING = "pending"
    SENDING = "sending"      # claimed by a deliverer (a claim that ran out is tried again)
    SENT = "sent"
    FAILED = "failed"        # refused by the relay, or out of attempts


class Health(Vocabulary):
    """What GET /healthz and GET /readyz answer a load balancer (aimweb/ops)."""

    OK = "ok"
    UNAVAILABLE = "unavailable"


# The two entry types a license may be for (19 CFR 361.103(c)(1)): stored code -> label.
ENTRY_TYPES = {"consumption": "Consumption", "ftz": "Foreign trade zone admission"}


class Action(Enum):
    """What may be done to a license; ALLOWED_FROM says from which statuses."""

    EDIT_DRAFT = "edit_draft"
    SUBMIT = "submit"
    MODIFY = "modify"
    CANCEL = "cancel"
    DUPLICATE = "duplicate"
    MARK_ACTION_REQUIRED = "mark_action_required"
    CLEAR = "clear"
    RECORD_USE = "record_use"   # a low-value license quoted on one more entry


# The one label map: every member of every vocabulary (tests/test_enums.py checks none is missing).
LABELS: dict[type[Vocabulary], dict[Vocabulary, str]] = {
    LicenseStatus: {
        LicenseStatus.DRAFT: "Draft",
        LicenseStatus.SUBMITTED: "Submitted",
        LicenseStatus.CORRECTED: "Corrected",
        LicenseStatus.ACTION_REQUIRED: "Action Required",
        LicenseStatus.CANCELLED: "Cancelled",
        LicenseStatus.APPLIED: "Applied to the license",
    },
    LicenseKind: {
        LicenseKind.STANDARD: "Standard License",
        LicenseKind.LOW_VALUE: "Low-Value License",
    },
    ReviewState: {
        ReviewState.FLAGGED: "Flagged",
        ReviewState.WAITING: "Waiting for filer",
        ReviewState.ANSWERED: "Answered",
        ReviewState.CLEARED: "Review closed",
    },
    UploadStatus: {
        UploadStatus.QUEUED: "Waiting to be checked",
        UploadStatus.CHECKING: "Being checked",
        UploadStatus.VERIFYING: "Being checked (Check File)",
        UploadStatus.CHECKED: "Checked: no problem, nothing issued",
        UploadStatus.REJECTED: "Not accepted",
        UploadStatus.CONFIRM: "Waiting for your confirmation",
        UploadStatus.ISSUING: "Being checked",
        UploadStatus.ISSUED: "Licenses issued",
        UploadStatus.FAILED: "Interrupted: nothing issued",
    },
    EventKind: {
        EventKind.ISSUED: "Submitted",
        EventKind.CORRECTED: "Corrected (by the filer)",
        EventKind.CANCELLED: "Cancelled",
        EventKind.ACTION_REQUIRED: "Marked Action Required",
        EventKind.CLEARED: "Review closed",
    },
    AccountEventKind: {
        AccountEventKind.SIGNED_UP: "Account created",
        AccountEventKind.SIGN_IN: "Signed in",
        AccountEventKind.SIGN_IN_FAILED: "Sign-in refused",
        AccountEventKind.LOCKED: "Sign-in paused",
        AccountEventKind.SIGNED_OUT: "Signed out",
        AccountEventKind.RESET_REQUESTED: "Reset code asked for",
        AccountEventKind.PASSWORD_RESET: "Password reset",
        AccountEventKind.PASSWORD_CHANGED: "Password changed",
        AccountEventKind.SUSPENDED: "Suspended",
        AccountEventKind.REINSTATED: "Reinstated",
        AccountEventKind.INVITED: "Invited to the company",
        AccountEventKind.INVITATION_WITHDRAWN: "Invitation withdrawn",
        AccountEventKind.JOINED: "Joined the company",
        AccountEventKind.ROLE_CHANGED: "Company role changed",
        AccountEventKind.REMOVED: "Removed from the company",
        AccountEventKind.SIGNED_OUT_ALL: "Signed out everywhere",
        AccountEventKind.NAME_CHANGED: "Name changed",
    },
    CompanyRole: {
        CompanyRole.ADMINISTRATOR: "Company administrator",
        CompanyRole.FILER: "Filer",
        CompanyRole.VIEWER: "Viewer",
    },
    PartyKind: {
        PartyKind.IMPORTER: "Importer",
        PartyKind.EXPORTER: "Exporter",
        PartyKind.MANUFACTURER: "Manufacturer",
    },
    SignInOutcome: {
        SignInOutcome.OK: "Done",
        SignInOutcome.WRONG_PASSWORD: "Wrong email or password",
        SignInOutcome.LOCKED: "Paused: too many failures",
        SignInOutcome.SUSPENDED: "Account suspended",
        SignInOutcome.FROM_ONE_ADDRESS: "From one client address",
        SignInOutcome.FROM_EVERYWHERE: "From all addresses (account cap)",
        SignInOutcome.REQUESTED: "Asked for",
    },
    MailStatus: {
        MailStatus.PENDING: "Waiting to be sent",
        MailStatus.SENDING: "Being sent",
        MailStatus.SENT: "Sent",
        MailStatus.FAILED: "Could not be sent",
    },
    Health: {
        Health.OK: "Ready",
        Health.UNAVAILABLE: "Not ready",
    },
}
PARTY_PLURALS = {PartyKind.IMPORTER: "Importers", PartyKind.EXPORTER: "Exporters",
                 PartyKind.MANUFACTURER: "Manufacturers"}
NUMBER_MARKS = {LicenseKind.STANDARD: "", LicenseKind.LOW_VALUE: "L"}
FILER_EVENT_LABELS: dict[EventKind, str] = {
    EventKind.ISSUED: "Submitted (license issued)",
    EventKind.CORRECTED: "Corrected",
    EventKind.CANCELLED: "Cancelled",
    EventKind.ACTION_REQUIRED: "Action Required (message from Commerce)",
    EventKind.CLEARED: "Reviewed by Commerce: no action needed",
}


# ----- named groups ----------------------------------------------------------------------------
# Set on the classes after they are built: inside the class body they would become members.

# In force: issued and not cancelled. Such a license may be modified, cancelled, sent back.
LicenseStatus.ISSUED = frozenset({LicenseStatus.SUBMITTED, LicenseStatus.CORRECTED,
                                  LicenseStatus.ACTION_REQUIRED})
LicenseStatus.CHANGEABLE = LicenseStatus.ISSUED
# Every license that has a number: what the dashboard lists, searches and exports.
LicenseStatus.NUMBERED = LicenseStatus.ISSUED | {LicenseStatus.CANCELLED}
# The queue, in the order it shows them: answers first (the filer is waiting), then flagged.
ReviewState.QUEUED = (ReviewState.ANSWERED, ReviewState.FLAGGED)
# A job is at work on the file, or will be (queued); one that stopped moving (a killed worker)
# is taken over by the next (see bulk.jobs.claim and sweep). Check File's batch is Verifying
# throughout (queued or at work): its job issues nothing.
UploadStatus.RUNNING = frozenset({UploadStatus.CHECKING, UploadStatus.VERIFYING, UploadStatus.ISSUING})
UploadStatus.WORKING = UploadStatus.RUNNING | {UploadStatus.QUEUED}
# The company roles that may apply for, modify, cancel, duplicate and upload licenses.
CompanyRole.FILING = frozenset({CompanyRole.ADMINISTRATOR, CompanyRole.FILER})
# What an officer did (the audit trail's "officers only" filter).
EventKind.BY_OFFICERS = frozenset({EventKind.ACTION_REQUIRED, EventKind.CLEARED})

ALLOWED_FROM: dict[Action, frozenset[LicenseStatus]] = {
    Action.EDIT_DRAFT: frozenset({LicenseStatus.DRAFT}),
    Action.SUBMIT: frozenset({LicenseStatus.DRAFT}),
    Action.MODIFY: LicenseStatus.CHANGEABLE,
    Action.CANCEL: LicenseStatus.CHANGEABLE,
    Action.DUPLICATE: LicenseStatus.NUMBERED,
    Action.MARK_ACTION_REQUIRED: LicenseStatus.CHANGEABLE,
    Action.CLEAR: LicenseStatus.CHANGEABLE,
    Action.RECORD_USE: LicenseStatus.ISSUED,
}
# What a kind of license never allows, whatever its status. A low-value license is not modified
# (it names no shipment: the filer cancels it and applies again, or renews it by Duplicate), so
# an officer cannot send it back for a correction either (Close Review, or cancel by the filer);
# only a low-value license records uses.
KIND_REFUSES: dict[LicenseKind, frozenset[Action]] = {
    LicenseKind.STANDARD: frozenset({Action.RECORD_USE}),
    LicenseKind.LOW_VALUE: frozenset({Action.MODIFY, Action.MARK_ACTION_REQUIRED}),
}


def allows(status: str, action: Action, kind: str = LicenseKind.STANDARD) -> bool:
    return status in ALLOWED_FROM[action] and action not in KIND_REFUSES[LicenseKind(kind or LicenseKind.STANDARD)]
