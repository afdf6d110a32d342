"""license: the license a duplicate was copied from (issue 14, "duplicated from <number>")

Revision ID: c14f0a7d2e91
Revises: 5c1e9a2d7f3b
Create Date: 2026-12-01 22:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c14f0a7d2e91'
down_revision = "7a1d2c9e4b60"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('license', sa.Column('duplicated_from_id', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('license', 'duplicated_from_id')
