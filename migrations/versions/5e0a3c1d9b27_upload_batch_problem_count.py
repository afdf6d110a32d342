"""upload batch: the count of problems (only the first ones are kept)

Revision ID: 5e0a3c1d9b27
Revises: 1914c2b28c83
Create Date: 2026-12-01 19:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e0a3c1d9b27'
down_revision = '1914c2b28c83'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('upload_batch', sa.Column('problem_count', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    op.drop_column('upload_batch', 'problem_count')
