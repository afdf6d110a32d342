"""upload_batch: the product of the uploaded file (aluminum or steel)

Revision ID: a8c2f61d9e47
Revises: 19c5d4d0c34c
Create Date: 2026-12-02 02:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a8c2f61d9e47'
down_revision = '19c5d4d0c34c'
branch_labels = None
depends_on = None


def upgrade():
    # Every batch before this one was an aluminum file.
    op.add_column('upload_batch', sa.Column('product', sa.String(length=20), server_default='aluminum',
                                            nullable=False))


def downgrade():
    op.drop_column('upload_batch', 'product')
