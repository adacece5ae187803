"""A data version that every write moves on, so any process can tell whether its cached answers
still hold.

Response caches (timeline/infra/response_cache.py) key each cached answer, and each ETag, on this number.
Triggers move it in the same transaction as the change, whichever process or tool made it (the app,
an import, a bulk load in SQL), so a cache never serves what another process has since changed.
On PostgreSQL the triggers run once per statement; SQLite has only row triggers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Everything a read answer is made from: events, their sources, and categories (labels, colours).
TABLES = ("events", "sources", "categories")
# An upsert, so a table emptied by hand (TRUNCATE) starts counting again instead of staying still.
BUMP = (
    "INSERT INTO data_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = data_version.version + 1"
)


def upgrade():
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_data_version_single_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_data_version_{action.lower()} AFTER {action} ON {table} "
                    f"BEGIN {BUMP}; END"
                )
        return
    op.execute(
        "CREATE FUNCTION tl_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tl_bump_data_version()"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{action}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tl_bump_data_version()")
    op.drop_table("data_version")
