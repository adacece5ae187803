"""Counts that answer a time window: live events by the weeks their interval starts and ends in.

Migration 0004 counts events by the week they start in, which answers "how many events" only
without a window. An event overlaps the window [S, E] when it starts on or before E and ends on or
after S; counted per pair (first week, last week), every pair whose weeks lie wholly on the right
side of both bounds is answered by its count, and only the events starting in the window's last
week or ending in its first week (when the window cuts through that week) need their rows: a few
days of starts and of ends, found through the date indexes. Each event is counted once, whatever
its length, so a year-long event costs one row, not one per week it spans.

``event_span_counts`` holds every live event by status, category and confidence (for
numberMatched and the density strip); ``event_cell_span_counts`` holds, as 0004's cell counts do,
only events smaller than a grid cell (360/1024 degrees), per cell, with the sums of their centres
(for clusters); larger ones are counted from the rows. Triggers keep both in step with every write,
in the writer's transaction. An index on (status, last_day) of live events finds the ends, and
partial indexes hold the pairs more than eight weeks apart, so that a window reads the others as
one range of first weeks.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CELL = 360.0 / 1024  # must equal timeline.store.aggregates.BASE_CELL and migration 0004's CELL
KEY = ("category_slug", "confidence", "status")
SHORT_WEEKS = 8  # must equal timeline.store.queries.SHORT_WEEKS

# Migration 0004's week numbers (weeks from Monday 1969-12-29), of either date column.
_SQLITE_WEEK = "CAST((julianday({p}{day}) - 2440587.5 + 700003) / 7 AS INTEGER) - 100000"
_PG_WEEK = "floor((({p}{day} - DATE '1970-01-01') + 3) / 7.0)::integer"
_SQLITE_CX = "CAST((({p}min_lon + {p}max_lon) / 2 + 180) / {cell} AS INTEGER)"
_SQLITE_CY = "CAST((({p}min_lat + {p}max_lat) / 2 + 90) / {cell} AS INTEGER)"
_PG_CX = "floor((({p}min_lon + {p}max_lon) / 2 + 180) / {cell})::integer"
_PG_CY = "floor((({p}min_lat + {p}max_lat) / 2 + 90) / {cell})::integer"
_SMALL = "({p}max_lon - {p}min_lon) < {cell} AND ({p}max_lat - {p}min_lat) < {cell}"

WATCHED = (
    "deleted_at, status, category_slug, confidence, first_day, last_day, min_lon, max_lon, min_lat, max_lat"
)
SQLITE_TRIGGERS = ("events_span_counts_insert", "events_span_counts_delete", "events_span_counts_update")


def expressions(dialect: str, prefix: str) -> dict[str, str]:
    """The bucket of an event: its first and last week, its cell, whether it is small, its centre."""
    week = _SQLITE_WEEK if dialect == "sqlite" else _PG_WEEK
    cx, cy = (_SQLITE_CX, _SQLITE_CY) if dialect == "sqlite" else (_PG_CX, _PG_CY)
    cell = repr(CELL)
    return {
        "fw": week.format(p=prefix, day="first_day"),
        "lw": week.format(p=prefix, day="last_day"),
        "cx": cx.format(p=prefix, cell=cell),
        "cy": cy.format(p=prefix, cell=cell),
        "small": _SMALL.format(p=prefix, cell=cell),
        "lon": f"({prefix}min_lon + {prefix}max_lon) / 2",
        "lat": f"({prefix}min_lat + {prefix}max_lat) / 2",
        "keys": ", ".join(f"{prefix}{k}" for k in KEY),
        "match": " AND ".join(f"{k} = {prefix}{k}" for k in KEY),
    }


def _statements(dialect: str, prefix: str, sign: str) -> list[str]:
    """Add (+) or remove (-) one event's contribution to both tables, only if it is live."""
    e = expressions(dialect, prefix)
    live = f"{prefix}deleted_at IS NULL"
    keys = ", ".join(KEY)
    if sign == "+":
        return [
            f"INSERT INTO event_span_counts (first_week, last_week, {keys}, n) "
            f"SELECT {e['fw']}, {e['lw']}, {e['keys']}, 1 WHERE {live} "
            f"ON CONFLICT (first_week, last_week, {keys}) DO UPDATE SET n = event_span_counts.n + 1",
            "INSERT INTO event_cell_span_counts "
            f"(first_week, last_week, cx, cy, {keys}, n, sum_lon, sum_lat) "
            f"SELECT {e['fw']}, {e['lw']}, {e['cx']}, {e['cy']}, {e['keys']}, 1, {e['lon']}, {e['lat']} "
            f"WHERE {live} AND {e['small']} "
            f"ON CONFLICT (first_week, last_week, cx, cy, {keys}) DO UPDATE SET "
            "n = event_cell_span_counts.n + 1, "
            "sum_lon = event_cell_span_counts.sum_lon + excluded.sum_lon, "
            "sum_lat = event_cell_span_counts.sum_lat + excluded.sum_lat",
        ]
    return [
        f"UPDATE event_span_counts SET n = n - 1 "
        f"WHERE first_week = {e['fw']} AND last_week = {e['lw']} AND {e['match']} AND {live}",
        f"UPDATE event_cell_span_counts SET n = n - 1, sum_lon = sum_lon - {e['lon']}, "
        f"sum_lat = sum_lat - {e['lat']} WHERE first_week = {e['fw']} AND last_week = {e['lw']} "
        f"AND cx = {e['cx']} AND cy = {e['cy']} AND {e['match']} AND {live} AND {e['small']}",
    ]


def fill_statements(dialect: str, rows: str) -> list[str]:
    """Add the events ``rows`` selects (a FROM … WHERE clause over events) to both tables."""
    e = expressions(dialect, "")
    keys = ", ".join(KEY)
    # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT (its documented rule).
    return [
        f"INSERT INTO event_span_counts (first_week, last_week, {keys}, n) SELECT * FROM ("
        f"SELECT {e['fw']} AS fw, {e['lw']} AS lw, {keys}, count(*) AS n {rows} AND deleted_at IS NULL "
        f"GROUP BY 1, 2, {keys}) AS added WHERE true "
        f"ON CONFLICT (first_week, last_week, {keys}) DO UPDATE SET n = event_span_counts.n + excluded.n",
        f"INSERT INTO event_cell_span_counts (first_week, last_week, cx, cy, {keys}, n, sum_lon, sum_lat) "
        f"SELECT * FROM (SELECT {e['fw']} AS fw, {e['lw']} AS lw, {e['cx']} AS cx, {e['cy']} AS cy, "
        f"{keys}, count(*) AS n, sum({e['lon']}) AS sum_lon, sum({e['lat']}) AS sum_lat "
        f"{rows} AND deleted_at IS NULL AND {e['small']} GROUP BY 1, 2, 3, 4, {keys}) AS added WHERE true "
        f"ON CONFLICT (first_week, last_week, cx, cy, {keys}) DO UPDATE SET "
        "n = event_cell_span_counts.n + excluded.n, "
        "sum_lon = event_cell_span_counts.sum_lon + excluded.sum_lon, "
        "sum_lat = event_cell_span_counts.sum_lat + excluded.sum_lat",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "event_span_counts",
        sa.Column("first_week", sa.Integer(), nullable=False),
        sa.Column("last_week", sa.Integer(), nullable=False),
        *(sa.Column(k, sa.String(64), nullable=False) for k in KEY),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("first_week", "last_week", *KEY),
    )
    op.create_table(
        "event_cell_span_counts",
        sa.Column("first_week", sa.Integer(), nullable=False),
        sa.Column("last_week", sa.Integer(), nullable=False),
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        *(sa.Column(k, sa.String(64), nullable=False) for k in KEY),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_lon", sa.Float(), nullable=False),
        sa.Column("sum_lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("first_week", "last_week", "cx", "cy", *KEY),
    )
    op.execute("CREATE INDEX ix_events_live_ends ON events (status, last_day) WHERE deleted_at IS NULL")
    # The long pairs, apart: a window reads the short ones as a range of weeks before it, these here.
    for table in ("event_span_counts", "event_cell_span_counts"):
        op.execute(
            f"CREATE INDEX ix_{table}_long ON {table} (last_week, first_week) "
            f"WHERE last_week - first_week > {SHORT_WEEKS}"
        )
    if dialect == "sqlite":
        add_new, drop_old = _statements(dialect, "new.", "+"), _statements(dialect, "old.", "-")
        op.execute(
            f"CREATE TRIGGER events_span_counts_insert AFTER INSERT ON events BEGIN {'; '.join(add_new)}; END"
        )
        op.execute(
            "CREATE TRIGGER events_span_counts_delete AFTER DELETE ON events "
            f"BEGIN {'; '.join(drop_old)}; END"
        )
        op.execute(
            f"CREATE TRIGGER events_span_counts_update AFTER UPDATE OF {WATCHED} ON events "
            f"BEGIN {'; '.join(drop_old + add_new)}; END"
        )
    else:
        add_new, drop_old = _statements(dialect, "NEW.", "+"), _statements(dialect, "OLD.", "-")
        op.execute(
            "CREATE FUNCTION events_span_counts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {'; '.join(drop_old)}; END IF; "
            f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {'; '.join(add_new)}; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER events_span_counts AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_span_counts()"
        )
    for statement in fill_statements(dialect, "FROM events WHERE true"):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_span_counts ON events")
        op.execute("DROP FUNCTION IF EXISTS events_span_counts()")
    op.execute("DROP INDEX IF EXISTS ix_events_live_ends")
    op.drop_table("event_cell_span_counts")
    op.drop_table("event_span_counts")
