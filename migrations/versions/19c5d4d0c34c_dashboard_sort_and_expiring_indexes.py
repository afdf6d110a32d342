"""dashboard sort and expiring indexes: each order of the list is paged by (column, id) from an
index (company_id, column[, id]); "Expiring within 7 days" reads (company_id, valid_through)

Revision ID: 19c5d4d0c34c
Revises: f3d51b7a2c60
Create Date: 2026-12-02 01:47:47.822189

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '19c5d4d0c34c'
down_revision = 'f3d51b7a2c60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_license_company_import_id', 'license', ['company_id', 'import_date', 'id'], unique=False)
    op.create_index('ix_license_company_number', 'license', ['company_id', 'number'], unique=False)
    op.create_index('ix_license_company_status_id', 'license', ['company_id', 'status', 'id'], unique=False)
    op.create_index('ix_license_company_valid_through', 'license', ['company_id', 'valid_through'], unique=False)


def downgrade():
    op.drop_index('ix_license_company_valid_through', table_name='license')
    op.drop_index('ix_license_company_status_id', table_name='license')
    op.drop_index('ix_license_company_number', table_name='license')
    op.drop_index('ix_license_company_import_id', table_name='license')
