"""The deleted events, apart: a partial index of their keys.

A text search's ``numberMatched`` counts the full-text index's hits and takes away those of hidden
events (deleted ones, and drafts for a public reader), so that a common word's tens of thousands of
hits need no row lookup each for their status and deletion mark (timeline/store/search.py,
``count_text_hits``). Drafts are found through migration 0004's ``ix_events_live``; deleted events
had no index of their own, and are few, so this one is small and cheap to keep.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_events_deleted ON events (pk) WHERE deleted_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_events_deleted")
