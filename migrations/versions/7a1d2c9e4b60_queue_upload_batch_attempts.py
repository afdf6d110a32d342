"""job queue: upload batches count the jobs that claimed them (the claim itself); the sweep's index

Revision ID: 7a1d2c9e4b60
Revises: 5c1e9a2d7f3b
Create Date: 2026-12-01 22:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7a1d2c9e4b60'
down_revision = "b7e2c4a91d05"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('upload_batch', sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_upload_batch_status_heartbeat', 'upload_batch', ['status', 'heartbeat_at'], unique=False)


def downgrade():
    op.drop_index('ix_upload_batch_status_heartbeat', table_name='upload_batch')
    op.drop_column('upload_batch', 'attempts')
