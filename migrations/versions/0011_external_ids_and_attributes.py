"""Events remember their id in the dataset they came from, and that dataset's other facts.

``external_id`` ("acled:UKR12345"), unique where set, lets a newer export of the same dataset update
its events instead of adding twins. ``attributes`` is a flat JSON object of the facts without a field
of their own (ACLED's fatalities, geo_precision and admin names), so that an export gives them back.

Both are added empty: existing events have neither, and their Features (and the feature cache,
which omits both when empty) stay as they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("external_id", sa.String(200), nullable=True))
    op.add_column("events", sa.Column("attributes", sa.JSON(), nullable=False, server_default="{}"))
    op.create_index("ix_events_external_id", "events", ["external_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_events_external_id", table_name="events")
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would lose its triggers.
    op.drop_column("events", "attributes")
    op.drop_column("events", "external_id")
