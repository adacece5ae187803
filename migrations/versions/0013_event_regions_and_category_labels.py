"""Events know the region and country they lie in; categories have a label per language.

``events`` gains ``region_code`` (ISO 3166-2 as Natural Earth has it, "RU-KRS"), ``region_name``
("Kursk Oblast", or an imported ACLED file's own ``admin1``), ``country_code`` (ISO 3166-1
alpha-2, "RU") and ``country_name``, so that ``region=`` and ``country=`` filter without a spatial
join. Both codes are indexed. Existing events are filled in here from the offline gazetteer when
its index is present (``make places``); without it they stay NULL, and
``timeline places fill-regions`` fills them in later (the same function, run again). Only the four
new columns are written: the count triggers of 0004/0012 watch other columns, and versions and
revisions are untouched, since the regions are derived, not edited.

``categories`` gains ``labels``, a JSON object of labels by language ({"de": "Verluste"}); the
base ``label`` stays what exports and languages without their own label show. The six demo
categories get their German labels, by slug, unless an admin already gave them one.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

GERMAN = {
    "offensive": "Bodenoperationen",
    "deployment": "Truppenverlegungen",
    "diplomacy": "Diplomatie und Verträge",
    "casualties": "Verluste",
    "arms-supply": "Waffenlieferungen",
    "assessment": "Lageeinschätzungen",
}


def upgrade() -> None:
    op.add_column("events", sa.Column("region_code", sa.String(20), nullable=True))
    op.add_column("events", sa.Column("region_name", sa.String(200), nullable=True))
    op.add_column("events", sa.Column("country_code", sa.String(2), nullable=True))
    op.add_column("events", sa.Column("country_name", sa.String(100), nullable=True))
    op.create_index("ix_events_region_code", "events", ["region_code"])
    op.create_index("ix_events_country_code", "events", ["country_code"])
    op.add_column("categories", sa.Column("labels", sa.JSON(), nullable=False, server_default="{}"))

    connection = op.get_bind()
    for slug, label in GERMAN.items():
        row = connection.execute(
            sa.text("SELECT labels FROM categories WHERE slug = :slug"), {"slug": slug}
        ).first()
        if row is None:
            continue
        labels = json.loads(row[0]) if isinstance(row[0], str) else dict(row[0] or {})
        if labels.get("de"):
            continue
        labels["de"] = label
        connection.execute(
            sa.text("UPDATE categories SET labels = :labels WHERE slug = :slug"),
            {"labels": json.dumps(labels, ensure_ascii=False), "slug": slug},
        )

    if connection.execute(sa.text("SELECT 1 FROM events LIMIT 1")).first() is not None:
        from timeline.domain.regions import fill_regions

        fill_regions(connection)  # no index: 0, and the columns stay NULL until fill-regions runs


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would lose its triggers.
    op.drop_column("categories", "labels")
    op.drop_index("ix_events_country_code", table_name="events")
    op.drop_index("ix_events_region_code", table_name="events")
    op.drop_column("events", "country_name")
    op.drop_column("events", "country_code")
    op.drop_column("events", "region_name")
    op.drop_column("events", "region_code")
