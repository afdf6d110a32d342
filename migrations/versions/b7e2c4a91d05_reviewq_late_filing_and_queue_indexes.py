"""reviewq: the late-filing check replaces "import date passed"; the queue's indexes

The old check put most licenses ever used in the queue. Its findings are removed, each license's
score loses them, and a license they alone had flagged leaves the queue; the next
`flask review-refresh` flags the recent late filings.

The findings carry their license's place in the queue (state while queued, score, creation
time) for the index ix_finding_queue that drives the queue filtered by a check; the license's
queue index ix_license_queue replaces ix_license_review (same leading columns) and also holds
the id, the country of origin and the company the filters read; the product lines' index on the
license id also holds the category (ix_product_line_license_category replaces
ix_product_line_license_id), so the category filter reads no rows.

Revision ID: b7e2c4a91d05
Revises: 5c1e9a2d7f3b
Create Date: 2026-12-01 22:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e2c4a91d05'
down_revision = "7a3c5e9d1b42"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""UPDATE license SET review_score = review_score - (
                       SELECT coalesce(sum(f.severity), 0) FROM finding f
                       WHERE f.license_id = license.id AND f."check" = 'import_passed')
                   WHERE id IN (SELECT o.license_id FROM finding o WHERE o."check" = 'import_passed')""")
    op.execute("""UPDATE license SET review_state = NULL
                   WHERE review_state = 'flagged'
                     AND id IN (SELECT o.license_id FROM finding o WHERE o."check" = 'import_passed')
                     AND NOT EXISTS (
                       SELECT 1 FROM finding f WHERE f.license_id = license.id AND f."check" <> 'import_passed')""")
    op.execute("""DELETE FROM finding WHERE "check" = 'import_passed'""")

    op.add_column('finding', sa.Column('queue_state', sa.String(length=10), nullable=True))
    op.add_column('finding', sa.Column('queue_score', sa.Integer(), server_default='0', nullable=False))
    op.add_column('finding', sa.Column('license_created_at', sa.DateTime(), nullable=True))
    op.execute("""UPDATE finding SET
                    queue_state = (SELECT CASE WHEN l.review_state IN ('answered', 'flagged') THEN l.review_state END
                                   FROM license l WHERE l.id = finding.license_id),
                    queue_score = (SELECT l.review_score FROM license l WHERE l.id = finding.license_id),
                    license_created_at = (SELECT l.created_at FROM license l WHERE l.id = finding.license_id)""")
    op.create_index('ix_finding_queue', 'finding',
                    ['check', 'queue_state', 'queue_score', 'license_created_at', 'license_id'], unique=False)
    op.create_index('ix_license_queue', 'license',
                    ['review_state', 'review_score', 'created_at', 'id', 'origin_country', 'company_id'],
                    unique=False)
    op.drop_index('ix_license_review', table_name='license')
    op.create_index('ix_product_line_license_category', 'product_line', ['license_id', 'category'], unique=False)
    op.drop_index('ix_product_line_license_id', table_name='product_line')


def downgrade():
    # The removed findings are not made up again (the old code's review-refresh would).
    op.create_index('ix_product_line_license_id', 'product_line', ['license_id'], unique=False)
    op.drop_index('ix_product_line_license_category', table_name='product_line')
    op.create_index('ix_license_review', 'license', ['review_state', 'review_score', 'created_at'], unique=False)
    op.drop_index('ix_license_queue', table_name='license')
    op.drop_index('ix_finding_queue', table_name='finding')
    with op.batch_alter_table('finding') as batch:
        batch.drop_column('license_created_at')
        batch.drop_column('queue_score')
        batch.drop_column('queue_state')
