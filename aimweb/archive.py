"""Rows a company keeps and never deletes once used (branches, address-book parties): archived
(no longer offered) or restored."""
from __future__ import annotations

from .extensions import db
from .models import utcnow


def set_archived(row, archived: bool) -> bool:
    """Archive or restore the row and commit; False when it already was so."""
    if row.is_archived == archived:
        return False
    row.archived_at = utcnow() if archived else None
    db.session.commit()
    return True
