"""license: ix_license_queue also holds the product, so the review queue filtered by product (with
or without the country and company) reads the index alone, in the queue's order

Revision ID: a8d2c6e4f013
Revises: a8c2f61d9e47
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a8d2c6e4f013'
down_revision = 'a8c2f61d9e47'
branch_labels = None
depends_on = None

BEFORE = ['review_state', 'review_score', 'created_at', 'id', 'origin_country', 'company_id']


def upgrade():
    op.drop_index('ix_license_queue', table_name='license')
    op.create_index('ix_license_queue', 'license', [*BEFORE, 'product'], unique=False)


def downgrade():
    op.drop_index('ix_license_queue', table_name='license')
    op.create_index('ix_license_queue', 'license', BEFORE, unique=False)
