"""Places editors add to the gazetteer: stored in the application database, revisioned like events.

The offline gazetteer (``geodata.gazetteer``) is a read-only file built from packages; a village
missing from every package is added here instead, so every process of a deployment (on SQLite or
PostgreSQL alike) sees it at the next request, without rebuilding anything. Each name and alternate
name is also stored folded (:func:`geodata.place_names.fold`) in ``custom_place_names``, so a
search is an index lookup on the same keys the gazetteer uses, and "Суджа", "Sudzha" and "Sudža"
meet here too.

Kept in a module of its own beside :mod:`timeline.store.models`, on the same declarative base.
The app imports it when it registers its blueprints (``timeline.web.custom_places``), so the
metadata Alembic compares with the migrations (``timeline db check``, the drift test) has it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timeline.store.db import Model
from timeline.store.models import User, utcnow

# Field lengths, shared by the validation (timeline/domain/custom_places.py) and the migration.
NAME_LENGTH = 200
ALTERNATES_MAX = 50
SOURCE_LENGTH = 2000
KIND_LENGTH = 40
REGION_LENGTH = 20


class CustomPlace(Model):
    """A named point an editor added, with where its coordinates come from."""

    __tablename__ = "custom_places"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    alternate_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    # Where the coordinates come from: a URL or a sentence ("surveyed 2024-08", "OSM node 123").
    source: Mapped[str] = mapped_column(Text, default="")
    # What sort of place it is ("village", "hamlet", "checkpoint"), free text, optional.
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH), default="")
    # ISO 3166-1 alpha-2 and the Natural Earth admin-1 code (ISO 3166-2, e.g. RU-KRS), optional:
    # their labels in each language come from the gazetteer.
    country: Mapped[str] = mapped_column(String(2), default="")
    region: Mapped[str] = mapped_column(String(REGION_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_custom_places_author_id_users"), nullable=True
    )

    author: Mapped[User | None] = relationship()
    names: Mapped[list[CustomPlaceName]] = relationship(
        back_populates="place", cascade="all, delete-orphan", lazy="selectin"
    )

    # As for events: SQLAlchemy bumps ``version`` on every UPDATE and refuses a stale one (409s).
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    # Reverse geocoding asks for the places in a small box around a point.
    __table_args__ = (Index("ix_custom_places_lat_lon", "lat", "lon"),)


class CustomPlaceName(Model):
    """One folded name of a custom place (its name and each alternate name): the search key."""

    __tablename__ = "custom_place_names"

    place_id: Mapped[int] = mapped_column(
        ForeignKey("custom_places.id", name="fk_custom_place_names_place_id", ondelete="CASCADE"),
        primary_key=True,
    )
    folded: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)

    place: Mapped[CustomPlace] = relationship(back_populates="names")

    __table_args__ = (Index("ix_custom_place_names_folded", "folded"),)


class CustomPlaceRevision(Model):
    """One saved change to a custom place: who, when, what changed, and the place afterwards."""

    __tablename__ = "custom_place_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    place_id: Mapped[int] = mapped_column(
        ForeignKey("custom_places.id", name="fk_custom_place_revisions_place_id"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_custom_place_revisions_user_id_users"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changes: Mapped[dict[str, list[object]]] = mapped_column(JSON, default=dict)
    snapshot: Mapped[dict[str, object]] = mapped_column(JSON)

    place: Mapped[CustomPlace] = relationship()
    user: Mapped[User | None] = relationship()
