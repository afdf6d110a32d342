"""monitor cells: withheld decided by the refresh for all views together

Revision ID: 5c1e9a2d7f3b
Revises: 5e0a3c1d9b27
Create Date: 2026-12-01 19:05:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c1e9a2d7f3b'
down_revision = '5e0a3c1d9b27'
branch_labels = None
depends_on = None


def upgrade():
    # A figure no refresh has decided on (those already there) is withheld until the next one.
    op.add_column('monitor_cell', sa.Column('withheld', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    op.drop_column('monitor_cell', 'withheld')
