"""dashboard by product: each order of the list within one product is paged from an index
(company_id, product, column[, id])

Revision ID: b3d9e5f1c7a2
Revises: a4c7e2b9d310
Create Date: 2026-12-02 03:10:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3d9e5f1c7a2'
down_revision = 'a4c7e2b9d310'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_license_company_product_created', 'license', ['company_id', 'product', 'created_at'],
                    unique=False)
    op.create_index('ix_license_company_product_import_id', 'license', ['company_id', 'product', 'import_date', 'id'],
                    unique=False)
    op.create_index('ix_license_company_product_number', 'license', ['company_id', 'product', 'number'], unique=False)
    op.create_index('ix_license_company_product_status_id', 'license', ['company_id', 'product', 'status', 'id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_license_company_product_status_id', table_name='license')
    op.drop_index('ix_license_company_product_number', table_name='license')
    op.drop_index('ix_license_company_product_import_id', table_name='license')
    op.drop_index('ix_license_company_product_created', table_name='license')
