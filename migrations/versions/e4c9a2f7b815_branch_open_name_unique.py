"""Two open branches of a company never share a name and suffix (any case): a partial unique index,
so two administrators saving the same name at the same moment cannot both succeed

Revision ID: e4c9a2f7b815
Revises: d8f2b6c4e913
Create Date: 2026-12-02 09:50:00

Open branches that already share a name and suffix (saved at the same moment before this index)
keep their licenses; all but the oldest get " (2)", " (3)" … after their name, so the
administrator sees them apart on the Branches page and can rename or archive them.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4c9a2f7b815'
down_revision = 'd8f2b6c4e913'
branch_labels = None
depends_on = None

OPEN = sa.text("archived_at IS NULL")


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, company_id, name, suffix FROM branch WHERE archived_at IS NULL ORDER BY id")).all()
    seen: dict[tuple, int] = {}
    for branch_id, company_id, name, suffix in rows:
        key = (company_id, name.lower(), (suffix or "").lower())
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            bind.execute(sa.text("UPDATE branch SET name = :name WHERE id = :id"),
                         {"name": f"{name[:190]} ({seen[key]})", "id": branch_id})
    op.create_index("ux_branch_open_name", "branch",
                    [sa.text("company_id"), sa.text("lower(name)"), sa.text("lower(coalesce(suffix, ''))")],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    op.drop_index("ux_branch_open_name", table_name="branch")
