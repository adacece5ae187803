"""Each event's Feature as JSON text, for fast exports (filled as events are written).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feature_cache",
        sa.Column("event_pk", sa.Integer(), nullable=False),
        sa.Column("json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["event_pk"], ["events.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_pk"),
    )


def downgrade():
    op.drop_table("feature_cache")
