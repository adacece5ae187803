"""Counts kept up to date by the database: events per grid cell and per week.

The map's whole-extent view and the density strip count every live event; at a million events a
GROUP BY over the table takes half a second. These two tables hold the counts instead, per
category, confidence and status, and triggers change them in the same transaction as the event,
so they are never stale, whichever process wrote. Cells are 360/1024 degrees (a quarter tile at
zoom 8) and hold only events smaller than a cell; larger ones are counted from the table, through
a partial index. A partial index also lets a plain count of live events read only that index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CELL = 360.0 / 1024  # must equal timeline.aggregates.BASE_CELL
KEY = ("category_slug", "confidence", "status")

# The same expressions in SQLite and PostgreSQL (the column prefix is NEW./OLD./events.).
_SQLITE_WEEK = "CAST((julianday({p}first_day) - 2440587.5 + 700003) / 7 AS INTEGER) - 100000"
_PG_WEEK = "floor((({p}first_day - DATE '1970-01-01') + 3) / 7.0)::integer"
_CX = "CAST((({p}min_lon + {p}max_lon) / 2 + 180) / {cell} AS INTEGER)"
_CY = "CAST((({p}min_lat + {p}max_lat) / 2 + 90) / {cell} AS INTEGER)"
_SMALL = "({p}max_lon - {p}min_lon) < {cell} AND ({p}max_lat - {p}min_lat) < {cell}"
_PG_CX = "floor((({p}min_lon + {p}max_lon) / 2 + 180) / {cell})::integer"
_PG_CY = "floor((({p}min_lat + {p}max_lat) / 2 + 90) / {cell})::integer"


def _expr(template: str, prefix: str) -> str:
    return template.format(p=prefix, cell=repr(CELL))


def _statements(dialect: str, prefix: str, sign: str, live: str) -> list[str]:
    """Add (+) or remove (-) one event's contribution, only if it is live."""
    week = _expr(_SQLITE_WEEK if dialect == "sqlite" else _PG_WEEK, prefix)
    cx = _expr(_CX if dialect == "sqlite" else _PG_CX, prefix)
    cy = _expr(_CY if dialect == "sqlite" else _PG_CY, prefix)
    small = _expr(_SMALL, prefix)
    keys = ", ".join(f"{prefix}{k}" for k in KEY)
    lon = f"({prefix}min_lon + {prefix}max_lon) / 2"
    lat = f"({prefix}min_lat + {prefix}max_lat) / 2"
    key_match = " AND ".join(f"{k} = {prefix}{k}" for k in KEY)
    if sign == "+":
        return [
            f"INSERT INTO event_week_counts (week, {', '.join(KEY)}, n) "
            f"SELECT {week}, {keys}, 1 WHERE {live} "
            f"ON CONFLICT (week, {', '.join(KEY)}) DO UPDATE SET n = event_week_counts.n + 1",
            f"INSERT INTO event_cell_counts (cx, cy, {', '.join(KEY)}, n, sum_lon, sum_lat) "
            f"SELECT {cx}, {cy}, {keys}, 1, {lon}, {lat} WHERE {live} AND {small} "
            f"ON CONFLICT (cx, cy, {', '.join(KEY)}) DO UPDATE SET n = event_cell_counts.n + 1, "
            "sum_lon = event_cell_counts.sum_lon + excluded.sum_lon, "
            "sum_lat = event_cell_counts.sum_lat + excluded.sum_lat",
        ]
    return [
        f"UPDATE event_week_counts SET n = n - 1 WHERE week = {week} AND {key_match} AND {live}",
        f"UPDATE event_cell_counts SET n = n - 1, sum_lon = sum_lon - {lon}, sum_lat = sum_lat - {lat} "
        f"WHERE cx = {cx} AND cy = {cy} AND {key_match} AND {live} AND {small}",
    ]


WATCHED = "deleted_at, status, category_slug, confidence, first_day, min_lon, max_lon, min_lat, max_lat"


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "event_week_counts",
        sa.Column("week", sa.Integer(), nullable=False),
        *(sa.Column(k, sa.String(64), nullable=False) for k in KEY),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", *KEY),
    )
    op.create_table(
        "event_cell_counts",
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        *(sa.Column(k, sa.String(64), nullable=False) for k in KEY),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_lon", sa.Float(), nullable=False),
        sa.Column("sum_lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("cx", "cy", *KEY),
    )
    large = f"deleted_at IS NULL AND NOT ({_expr(_SMALL, '')})"
    op.execute(f"CREATE INDEX ix_events_large ON events (pk) WHERE {large}")
    op.execute(
        "CREATE INDEX ix_events_live ON events (status, first_day, last_day, id) WHERE deleted_at IS NULL"
    )

    if dialect == "sqlite":
        add_new = _statements(dialect, "new.", "+", "new.deleted_at IS NULL")
        drop_old = _statements(dialect, "old.", "-", "old.deleted_at IS NULL")
        op.execute(
            f"CREATE TRIGGER events_counts_insert AFTER INSERT ON events BEGIN {'; '.join(add_new)}; END"
        )
        op.execute(
            f"CREATE TRIGGER events_counts_delete AFTER DELETE ON events BEGIN {'; '.join(drop_old)}; END"
        )
        op.execute(
            f"CREATE TRIGGER events_counts_update AFTER UPDATE OF {WATCHED} ON events "
            f"BEGIN {'; '.join(drop_old + add_new)}; END"
        )
    else:
        add_new = _statements(dialect, "NEW.", "+", "NEW.deleted_at IS NULL")
        drop_old = _statements(dialect, "OLD.", "-", "OLD.deleted_at IS NULL")
        op.execute(
            "CREATE FUNCTION events_counts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {'; '.join(drop_old)}; END IF; "
            f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {'; '.join(add_new)}; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER events_counts AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_counts()"
        )

    # Count what is already there.
    week = _expr(_SQLITE_WEEK if dialect == "sqlite" else _PG_WEEK, "")
    cx = _expr(_CX if dialect == "sqlite" else _PG_CX, "")
    cy = _expr(_CY if dialect == "sqlite" else _PG_CY, "")
    keys = ", ".join(KEY)
    op.execute(
        f"INSERT INTO event_week_counts (week, {keys}, n) SELECT {week}, {keys}, count(*) FROM events "
        f"WHERE deleted_at IS NULL GROUP BY 1, {keys}"
    )
    op.execute(
        f"INSERT INTO event_cell_counts (cx, cy, {keys}, n, sum_lon, sum_lat) "
        f"SELECT {cx}, {cy}, {keys}, count(*), sum((min_lon + max_lon) / 2), sum((min_lat + max_lat) / 2) "
        f"FROM events WHERE deleted_at IS NULL AND {_expr(_SMALL, '')} GROUP BY 1, 2, {keys}"
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("events_counts_insert", "events_counts_delete", "events_counts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_counts ON events")
        op.execute("DROP FUNCTION IF EXISTS events_counts()")
    op.execute("DROP INDEX IF EXISTS ix_events_live")
    op.execute("DROP INDEX IF EXISTS ix_events_large")
    op.drop_table("event_cell_counts")
    op.drop_table("event_week_counts")
