"""A company's branches (issue 17; 19 CFR 361.102: one account, several users and branches): kept
by its administrator (add, edit, archive, restore), read by its filers and viewers, and the one
check of "filed for": a license is filed for the company itself (no branch) or for one of its own
branches that is not archived. A branch is never deleted: the licenses filed for it keep it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .archive import set_archived
from .extensions import db
from .inputs import record_id
from .models import Branch
from .rules import Problem

FIELD = "branch_id"  # the field a wrong choice is reported on (the form's select, the API's key)


class BranchError(ValueError):
    """Why a change to the branches was refused, in words for the administrator (and its field)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class BranchValues:
    name: str
    street: str
    city: str
    state: str
    zip_code: str
    suffix: str | None = None


def company_branches(company_id: int, archived: bool = True) -> list[Branch]:
    """The company's branches, open ones first, then by name (the archived ones too unless asked)."""
    query = select(Branch).where(Branch.company_id == company_id)
    if not archived:
        query = query.where(Branch.archived_at.is_(None))
    found = db.session.scalars(query).all()
    return sorted(found, key=lambda b: (b.is_archived, b.name.lower(), b.id))


def branch_of(company_id: int, branch_id: int) -> Branch | None:
    """One of the company's branches (another company's is None: "not found")."""
    branch = db.session.get(Branch, branch_id)
    return branch if branch is not None and branch.company_id == company_id else None


def _name_taken(company_id: int, values: BranchValues, branch_id: int | None) -> None:
    """Two open branches of one company never share a name (and suffix): a filer could not tell
    them apart in "Filed for"."""
    for other in company_branches(company_id, archived=False):
        if other.id != branch_id and other.name.lower() == values.name.lower() and \
                (other.suffix or "").lower() == (values.suffix or "").lower():
            raise BranchError("name", f"The company already has a branch named “{other.label}”. "
                                      "Give this one another name or a suffix.")


def _commit(values: BranchValues) -> None:
    """Commit; an open branch of the same name saved meanwhile by another administrator (the
    database's unique index) is refused like the service's own check, with nothing saved."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        label = f"{values.name} ({values.suffix})" if values.suffix else values.name
        raise BranchError("name", f"A branch named “{label}” was just saved by someone else. "
                                  "Give this one another name or a suffix.") from None


def add_branch(company_id: int, values: BranchValues) -> Branch:
    _name_taken(company_id, values, None)
    branch = Branch(company_id=company_id, **vars(values))
    db.session.add(branch)
    _commit(values)
    return branch


def edit_branch(branch: Branch, values: BranchValues) -> Branch:
    """New name, address or suffix: the license pages show it as it is now (a PDF already stored,
    at the license's next version)."""
    if branch.is_archived:
        raise BranchError("name", f"“{branch.label}” is archived: restore it before changing it.")
    _name_taken(branch.company_id, values, branch.id)
    for name, value in vars(values).items():
        setattr(branch, name, value)
    _commit(values)
    return branch


def archive_branch(branch: Branch) -> bool:
    """No longer offered in "Filed for" (the licenses filed for it keep it). False when it already was."""
    return set_archived(branch, True)


def restore_branch(branch: Branch) -> bool:
    if not branch.is_archived:
        return False
    values = BranchValues(branch.name, "", "", "", "", branch.suffix)
    _name_taken(branch.company_id, values, branch.id)
    branch.archived_at = None
    _commit(values)
    return True


# ----- "filed for": the licensing service's check -----------------------------------------------

def filed_for(company_id: int, value, current: int | None = None) -> tuple[int | None, list[Problem]]:
    """The branch a license of the company is filed for, from what the form or the API sent: ""
    or None is the company itself; else the id of one of the company's branches, not archived.
    `current`: the branch the license already has (a modification may keep an archived branch).
    Returns the branch id (None: the company) and the problems (on the field "branch_id")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, []
    branch_id = record_id(value)
    if branch_id is None:
        return None, [Problem(FIELD, "Choose the company or one of its branches from the list.")]
    branch = branch_of(company_id, branch_id)
    if branch is None:
        return None, [Problem(FIELD, "That branch is not one of your company's: choose the company or "
                                     "one of its branches from the list.")]
    if branch.is_archived and branch.id != current:
        return None, [Problem(FIELD, f"The branch “{branch.label}” is archived: choose another branch "
                                     "or the company.")]
    return branch.id, []
