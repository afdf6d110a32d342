"""upload_batch: the entry type of the uploaded file (consumption or foreign trade zone admission)

Revision ID: b3f7e1c9a5d2
Revises: 9c4e1f7a2b85
Create Date: 2026-12-02 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3f7e1c9a5d2'
down_revision = '9c4e1f7a2b85'
branch_labels = None
depends_on = None


def upgrade():
    # Every batch before this one issued consumption licenses.
    op.add_column('upload_batch', sa.Column('entry_type', sa.String(length=12), server_default='consumption',
                                            nullable=False))


def downgrade():
    op.drop_column('upload_batch', 'entry_type')
