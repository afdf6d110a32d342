"""monitor: months changed since the last refresh, licenses by import date, no company counts on periods

Revision ID: 7a3c5e9d1b42
Revises: 5c1e9a2d7f3b
Create Date: 2026-12-01 22:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7a3c5e9d1b42'
down_revision = '5c1e9a2d7f3b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monitor_change',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('month', sa.String(length=7), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_change')))
    op.create_index('ix_license_import_date', 'license', ['import_date'], unique=False)
    with op.batch_alter_table('monitor_cell') as batch_op:
        batch_op.alter_column('companies', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('top_usd', existing_type=sa.Numeric(precision=18, scale=2), nullable=True)


def downgrade():
    op.execute("DELETE FROM monitor_cell WHERE companies IS NULL OR top_usd IS NULL")
    with op.batch_alter_table('monitor_cell') as batch_op:
        batch_op.alter_column('top_usd', existing_type=sa.Numeric(precision=18, scale=2), nullable=False)
        batch_op.alter_column('companies', existing_type=sa.Integer(), nullable=False)
    op.drop_index('ix_license_import_date', table_name='license')
    op.drop_table('monitor_change')
