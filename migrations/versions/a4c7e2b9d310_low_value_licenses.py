"""Low-value licenses: the covered HTS numbers of a license, and its uses (license_use)

Revision ID: a4c7e2b9d310
Revises: e2b7d4f1a9c3
Create Date: 2026-12-02 02:40:00

License.license_type already exists (every row says "standard"); a low-value license says
"low_value" there. Nothing else changes for existing rows.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a4c7e2b9d310'
down_revision = 'e2b7d4f1a9c3'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('license', sa.Column('covered_hts', sa.JSON(), nullable=True))
    op.create_table(
        'license_use',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('license_id', sa.Integer(), nullable=False),
        sa.Column('entry_number', sa.String(length=13), nullable=False),
        sa.Column('entry_date', sa.Date(), nullable=False),
        sa.Column('value_usd', sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['license_id'], ['license.id'], name=op.f('fk_license_use_license_id_license')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_license_use_recorded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_license_use')),
    )
    op.create_index('ux_license_use_entry', 'license_use', ['license_id', 'entry_number'], unique=True)


def downgrade():
    op.drop_index('ux_license_use_entry', table_name='license_use')
    op.drop_table('license_use')
    op.drop_column('license', 'covered_hts')
