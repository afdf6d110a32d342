"""product_line: the steel product's own field (country of melt and pour); categories up to 80
characters (the longest Section 232 steel category has 73)

Revision ID: f3d51b7a2c60
Revises: d5f1a8c3e702
Create Date: 2026-12-02 02:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3d51b7a2c60'
down_revision = "d5f1a8c3e702"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('product_line', sa.Column('melt_pour_country', sa.String(length=3), nullable=True))
    # SQLite neither enforces a VARCHAR's length nor alters a column's type without copying the table.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('product_line', 'category', type_=sa.String(length=80),
                        existing_type=sa.String(length=60))
        op.alter_column('monitor_cell', 'category', type_=sa.String(length=80),
                        existing_type=sa.String(length=60))


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('monitor_cell', 'category', type_=sa.String(length=60),
                        existing_type=sa.String(length=80))
        op.alter_column('product_line', 'category', type_=sa.String(length=60),
                        existing_type=sa.String(length=80))
    op.drop_column('product_line', 'melt_pour_country')
