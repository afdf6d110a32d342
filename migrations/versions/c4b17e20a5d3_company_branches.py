"""company branches: a branch table (from the company form's one branch), licenses filed for a
branch, and the dashboard's Branch and Filed by indexes (issue 17)

Revision ID: c4b17e20a5d3
Revises: c3a9e7d51f20
Create Date: 2026-12-02 06:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4b17e20a5d3'
down_revision = 'c3a9e7d51f20'
branch_labels = None
depends_on = None

BRANCH_COLUMNS = (("branch_name", 200), ("branch_street", 200), ("branch_city", 100), ("branch_state", 2),
                  ("branch_zip", 10))


def upgrade():
    op.create_table('branch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('zip_code', sa.String(length=10), nullable=False),
    sa.Column('suffix', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_branch_company_id_company')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branch'))
    )
    op.create_index('ix_branch_company_name', 'branch', ['company_id', 'name'], unique=False)
    # The company form's one branch becomes the company's first branch (its address was required
    # with a name; a row without a name recorded no branch).
    op.execute("INSERT INTO branch (company_id, name, street, city, state, zip_code, created_at) "
               "SELECT id, branch_name, COALESCE(branch_street, ''), COALESCE(branch_city, ''), "
               "COALESCE(branch_state, ''), COALESCE(branch_zip, ''), COALESCE(updated_at, created_at) "
               "FROM company WHERE branch_name IS NOT NULL AND branch_name <> '' ORDER BY id")
    # Dropped in place (SQLite 3.35+ drops a plain column): a batch copy of "company" would trip
    # the foreign keys of every table pointing at it.
    for name, _length in BRANCH_COLUMNS:
        op.execute(f"ALTER TABLE company DROP COLUMN {name}")
    op.add_column('license', sa.Column('branch_id', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":  # SQLite cannot add a constraint to a table
        op.create_foreign_key(op.f('fk_license_branch_id_branch'), 'license', 'branch', ['branch_id'], ['id'])
    op.create_index('ix_license_branch_created', 'license', ['branch_id', 'created_at', 'status', 'company_id'],
                    unique=False)
    op.create_index('ix_license_filer_created', 'license', ['created_by_id', 'created_at', 'status', 'company_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_license_filer_created', table_name='license')
    op.drop_index('ix_license_branch_created', table_name='license')
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('fk_license_branch_id_branch'), 'license', type_='foreignkey')
    op.drop_column('license', 'branch_id')
    for name, length in BRANCH_COLUMNS:
        op.add_column('company', sa.Column(name, sa.String(length=length), nullable=True))
    # Back to one branch per company: its first (the others are lost on the way down).
    for name, column in (("branch_name", "name"), ("branch_street", "street"), ("branch_city", "city"),
                         ("branch_state", "state"), ("branch_zip", "zip_code")):
        # The names are the constants above, never input.
        op.execute(f"UPDATE company SET {name} = (SELECT b.{column} FROM branch b "  # noqa: S608
                   "WHERE b.company_id = company.id ORDER BY b.id LIMIT 1)")
    op.drop_index('ix_branch_company_name', table_name='branch')
    op.drop_table('branch')
