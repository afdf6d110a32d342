"""company roles, invitations, suspension by the company

Revision ID: a7c3e51f9d20
Revises: b3d9e5f1c7a2
Create Date: 2026-12-02 02:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e51f9d20'
down_revision = 'b3d9e5f1c7a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('company_role', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_invitation_company_id_company')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_invitation_invited_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    op.create_index('ix_invitation_company_created', 'invitation', ['company_id', 'created_at'], unique=False)
    op.add_column('user', sa.Column('suspended_by_company', sa.Boolean(), server_default=sa.false(),
                                    nullable=False))
    op.add_column('user', sa.Column('company_role', sa.String(length=16), nullable=True))
    # Until now a company had one user, the one who registered it: its administrator.
    op.execute("UPDATE \"user\" SET company_role = 'company_admin' WHERE company_id IS NOT NULL")


def downgrade():
    op.drop_column('user', 'company_role')
    op.drop_column('user', 'suspended_by_company')
    op.drop_index('ix_invitation_company_created', table_name='invitation')
    op.drop_table('invitation')
