"""The sign-in audit's rows belong to a company (what its administrator reads)

Revision ID: c5e8a1d7f304
Revises: 29d09eae368b
Create Date: 2026-12-02 06:10:00

Existing rows take the company, as it is now, of the administrator who acted (an invitation, a role
change, a removal, a suspension by the company), else of their user: the best that can be known of
the past.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c5e8a1d7f304'
down_revision = '29d09eae368b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_account_event_company_id_company', 'company', ['company_id'], ['id'])
        batch_op.create_index('ix_account_event_company_at', ['company_id', 'at'], unique=False)
    # The administrator's company first (their invitations, role changes, removals and
    # suspensions concern it, even for a user who left it since), else the user's (Commerce's
    # actions, sign-ins).
    op.execute(
        'UPDATE account_event SET company_id = COALESCE('
        '(SELECT actor.company_id FROM "user" AS actor WHERE actor.id = account_event.actor_id), '
        '(SELECT "user".company_id FROM "user" WHERE "user".id = account_event.user_id)) '
        'WHERE company_id IS NULL')


def downgrade():
    with op.batch_alter_table('account_event', schema=None) as batch_op:
        batch_op.drop_index('ix_account_event_company_at')
        batch_op.drop_constraint('fk_account_event_company_id_company', type_='foreignkey')
        batch_op.drop_column('company_id')
