"""account events, suspension, spent codes, throttle window

Revision ID: e9b8e7a65dd4
Revises: 1ab70f146c7f
Create Date: 2026-12-01 18:46:37.226327

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e9b8e7a65dd4'
down_revision = '1ab70f146c7f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('client_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_account_event_actor_id_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_account_event_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_event'))
    )
    op.create_index('ix_account_event_at', 'account_event', ['at'], unique=False)
    op.create_index('ix_account_event_email_at', 'account_event', ['email', 'at'], unique=False)
    op.create_index('ix_account_event_user_at', 'account_event', ['user_id', 'at'], unique=False)
    op.add_column('one_time_code', sa.Column('spent_at', sa.DateTime(), nullable=True))
    op.add_column('sign_in_throttle', sa.Column('window_started_at', sa.DateTime(), nullable=True))
    op.add_column('sign_in_throttle', sa.Column('account_key', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_sign_in_throttle_account_key'), 'sign_in_throttle', ['account_key'], unique=False)
    op.add_column('user', sa.Column('suspended_at', sa.DateTime(), nullable=True))
    op.add_column('user', sa.Column('suspended_reason', sa.String(length=500), nullable=True))


def downgrade():
    op.drop_column('user', 'suspended_reason')
    op.drop_column('user', 'suspended_at')
    op.drop_index(op.f('ix_sign_in_throttle_account_key'), table_name='sign_in_throttle')
    op.drop_column('sign_in_throttle', 'account_key')
    op.drop_column('sign_in_throttle', 'window_started_at')
    op.drop_column('one_time_code', 'spent_at')
    op.drop_index('ix_account_event_user_at', table_name='account_event')
    op.drop_index('ix_account_event_email_at', table_name='account_event')
    op.drop_index('ix_account_event_at', table_name='account_event')
    op.drop_table('account_event')
