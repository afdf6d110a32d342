"""monitor per product: the product of every figure, change mark and refresh; the lookup index
leads with it; room for steel's dimension names and category keys

Revision ID: 9c4e1f7a2b85
Revises: a8d2c6e4f013
Create Date: 2026-12-02 02:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c4e1f7a2b85'
down_revision = 'a8d2c6e4f013'
branch_labels = None
depends_on = None

TABLES = ('monitor_cell', 'monitor_change', 'monitor_refresh')


def upgrade():
    # The figures, marks and refreshes there are all aluminum's (the monitor counted nothing else).
    for table in TABLES:
        op.add_column(table, sa.Column('product', sa.String(length=20), server_default='aluminum',
                                       nullable=False))
    op.drop_index('ix_monitor_cell_lookup', table_name='monitor_cell')
    op.create_index('ix_monitor_cell_lookup', 'monitor_cell',
                    ['product', 'dimension', 'category', 'origin', 'period'], unique=False)
    # SQLite neither enforces a VARCHAR's length nor alters a column's type without copying the table.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('monitor_cell', 'dimension', type_=sa.String(length=16),
                        existing_type=sa.String(length=10))
        op.alter_column('monitor_cell', 'key', type_=sa.String(length=80),
                        existing_type=sa.String(length=60))


def downgrade():
    op.execute("DELETE FROM monitor_cell WHERE product <> 'aluminum'")
    op.execute("DELETE FROM monitor_change WHERE product <> 'aluminum'")
    op.execute("DELETE FROM monitor_refresh WHERE product <> 'aluminum'")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('monitor_cell', 'key', type_=sa.String(length=60),
                        existing_type=sa.String(length=80))
        op.alter_column('monitor_cell', 'dimension', type_=sa.String(length=10),
                        existing_type=sa.String(length=16))
    op.drop_index('ix_monitor_cell_lookup', table_name='monitor_cell')
    op.create_index('ix_monitor_cell_lookup', 'monitor_cell', ['dimension', 'category', 'origin', 'period'],
                    unique=False)
    for table in reversed(TABLES):
        op.drop_column(table, 'product')
