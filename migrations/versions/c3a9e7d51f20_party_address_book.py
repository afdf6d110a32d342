"""The broker's address book: a company's saved importers, exporters and manufacturers

Revision ID: c3a9e7d51f20
Revises: c5e8a1d7f304
Create Date: 2026-12-02 06:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3a9e7d51f20'
down_revision = 'c5e8a1d7f304'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('importer_number', sa.String(length=12), nullable=True),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_party_company_id_company')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_party_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party'))
    )
    op.create_index('uq_party_company_kind_key', 'party', ['company_id', 'kind', 'name_key'], unique=True)


def downgrade():
    op.drop_index('uq_party_company_kind_key', table_name='party')
    op.drop_table('party')
