"""PostgreSQL: one GiST index over place and days together, for the published events visitors see.

A viewport-and-month query had PostgreSQL combine three indexes (geometry, last day, day range) into
a bitmap and fetch thousands of scattered rows: about 100 ms at a million events. One index over
(geom, daterange) answers "in this box and these days" in a single descent and finds exactly the
matching rows (about 1 ms there). Partial, like the visitors' queries it serves; editors' queries
(drafts included) keep using the separate indexes. Nothing on SQLite, whose R*Tree already indexes
place and days together.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_events_geom_days ON events "
        "USING gist (geom, daterange(first_day, last_day, '[]')) "
        "WHERE deleted_at IS NULL AND status = 'published'"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_events_geom_days")
