"""A low-value license's use recorded through the JSON API keeps the key's id

Revision ID: d8f2b6c4e913
Revises: c4b17e20a5d3
Create Date: 2026-12-02 07:55:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd8f2b6c4e913'
down_revision = 'c4b17e20a5d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('license_use', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_license_use_api_key_id_api_key', 'api_key', ['api_key_id'], ['id'])


def downgrade():
    with op.batch_alter_table('license_use', schema=None) as batch_op:
        batch_op.drop_constraint('fk_license_use_api_key_id_api_key', type_='foreignkey')
        batch_op.drop_column('api_key_id')
