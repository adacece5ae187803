"""Events, their sources and categories; on SQLite an R*Tree over place and time.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Days are counted from 1970-01-01 so they fit the R*Tree's 32-bit floats exactly.
_DAY = "CAST(julianday({col}) - 2440587.5 AS INTEGER)"
_RTREE_ROW = (
    "new.pk, new.min_lon, new.max_lon, new.min_lat, new.max_lat, "
    + _DAY.format(col="new.first_day")
    + ", "
    + _DAY.format(col="new.last_day")
)


def upgrade():
    op.create_table(
        "categories",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.create_table(
        "events",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=35), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=False),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.Column("date_precision", sa.String(length=5), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("geometry_type", sa.String(length=20), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("category_slug", sa.String(length=64), nullable=False),
        sa.Column("actors", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["category_slug"], ["categories.slug"]),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_events_category_slug", "events", ["category_slug"])
    op.create_index("ix_events_first_day", "events", ["first_day"])
    op.create_index("ix_events_last_day", "events", ["last_day"])
    op.create_index("ix_events_status_first_day", "events", ["status", "first_day"])
    op.create_table(
        "sources",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("outlet", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("published", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["event_pk"], ["events.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
    )
    op.create_index("ix_sources_event_pk", "sources", ["event_pk"])

    if op.get_bind().dialect.name == "sqlite":
        # A 3-D R*Tree (lon, lat, day) kept in step by triggers: a viewport-and-time query reads
        # only the rows near the window instead of scanning the table.
        op.execute(
            "CREATE VIRTUAL TABLE event_rtree USING rtree("
            "id, min_lon, max_lon, min_lat, max_lat, min_day, max_day)"
        )
        op.execute(
            "CREATE TRIGGER events_rtree_insert AFTER INSERT ON events BEGIN "
            f"INSERT INTO event_rtree VALUES ({_RTREE_ROW}); END"
        )
        op.execute(
            "CREATE TRIGGER events_rtree_update AFTER UPDATE OF "
            "min_lon, max_lon, min_lat, max_lat, first_day, last_day ON events BEGIN "
            f"INSERT OR REPLACE INTO event_rtree VALUES ({_RTREE_ROW}); END"
        )
        op.execute(
            "CREATE TRIGGER events_rtree_delete AFTER DELETE ON events BEGIN "
            "DELETE FROM event_rtree WHERE id = old.pk; END"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("events_rtree_insert", "events_rtree_update", "events_rtree_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS event_rtree")
    op.drop_index("ix_sources_event_pk", table_name="sources")
    op.drop_table("sources")
    for index in (
        "ix_events_status_first_day",
        "ix_events_last_day",
        "ix_events_first_day",
        "ix_events_category_slug",
    ):
        op.drop_index(index, table_name="events")
    op.drop_table("events")
    op.drop_table("categories")
