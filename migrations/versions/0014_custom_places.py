"""Custom places: villages editors add to the gazetteer, with their folded names and revisions.

``custom_places`` holds each place (its name, alternate names, point, where the point comes from,
optionally a kind, a country and a region code) with a version that every change moves on (stale
saves are refused, as for events) and a deletion mark. ``custom_place_names`` holds every name
folded as the gazetteer folds names, the key place search looks up; ``custom_place_revisions``
holds each change (who, when, what, and the place afterwards).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_places",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("alternate_names", sa.JSON(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "author_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_custom_places_author_id_users"),
            nullable=True,
        ),
    )
    op.create_index("ix_custom_places_lat_lon", "custom_places", ["lat", "lon"])
    op.create_table(
        "custom_place_names",
        sa.Column(
            "place_id",
            sa.Integer(),
            sa.ForeignKey("custom_places.id", name="fk_custom_place_names_place_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("folded", sa.String(200), primary_key=True),
    )
    op.create_index("ix_custom_place_names_folded", "custom_place_names", ["folded"])
    op.create_table(
        "custom_place_revisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "place_id",
            sa.Integer(),
            sa.ForeignKey("custom_places.id", name="fk_custom_place_revisions_place_id"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_custom_place_revisions_user_id_users"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
    )
    op.create_index("ix_custom_place_revisions_place_id", "custom_place_revisions", ["place_id"])


def downgrade() -> None:
    op.drop_index("ix_custom_place_revisions_place_id", table_name="custom_place_revisions")
    op.drop_table("custom_place_revisions")
    op.drop_index("ix_custom_place_names_folded", table_name="custom_place_names")
    op.drop_table("custom_place_names")
    op.drop_index("ix_custom_places_lat_lon", table_name="custom_places")
    op.drop_table("custom_places")
