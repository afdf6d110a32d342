"""license_event: the filer's reply to the officer when answering Action Required (issue 14, point 9)

Revision ID: d5f1a8c3e702
Revises: c14f0a7d2e91
Create Date: 2026-12-02 01:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5f1a8c3e702'
down_revision = "c14f0a7d2e91"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('license_event', sa.Column('reply', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('license_event', 'reply')
