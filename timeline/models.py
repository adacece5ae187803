"""The stored story: events, their sources and the categories they are drawn in.

An event keeps its dates twice on purpose: as written (``start``/``end`` at ``date_precision``, which
is what people read and what exports carry) and as the interval of days they cover
(``first_day``/``last_day``, which is what time filters compare). Its geometry is stored as the
normalised GeoJSON text together with its bounding box, which the SQLite R*Tree (see migrations)
indexes along with the day interval.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db

CONFIDENCES = ("confirmed", "reported", "claimed")
STATUSES = ("draft", "published")


def utcnow() -> datetime:
    """Timestamps are always UTC."""
    return datetime.now(UTC)


class Category(db.Model):
    """How an event is classed and coloured; slugs are what features and filters carry."""

    __tablename__ = "categories"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    colour: Mapped[str] = mapped_column(String(7))


class Event(db.Model):
    """One dated, placed thing that happened."""

    __tablename__ = "events"

    # Integer key for the R*Tree (which only indexes integers); ``id`` is the public, stable name.
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(35), default="en")

    start: Mapped[str] = mapped_column("start_date", String(10))
    end: Mapped[str | None] = mapped_column("end_date", String(10), nullable=True)
    date_precision: Mapped[str] = mapped_column(String(5))
    first_day: Mapped[date] = mapped_column(Date, index=True)
    last_day: Mapped[date] = mapped_column(Date, index=True)

    geometry: Mapped[str] = mapped_column(Text)
    geometry_type: Mapped[str] = mapped_column(String(20))
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)

    place: Mapped[str] = mapped_column(String(300), default="")
    category_slug: Mapped[str] = mapped_column(ForeignKey("categories.slug"), index=True)
    actors: Mapped[list[str]] = mapped_column(JSON, default=list)
    confidence: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer)

    category: Mapped[Category] = relationship()
    sources: Mapped[list[Source]] = relationship(
        back_populates="event", order_by="Source.position", cascade="all, delete-orphan", lazy="selectin"
    )

    # SQLAlchemy bumps ``version`` on every UPDATE and refuses a stale one: the basis of 409s.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (Index("ix_events_status_first_day", "status", "first_day"),)


class Source(db.Model):
    """Where a fact about an event comes from; an event cites any number, in order."""

    __tablename__ = "sources"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = mapped_column(ForeignKey("events.pk", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    outlet: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    published: Mapped[str | None] = mapped_column(String(10), nullable=True)

    event: Mapped[Event] = relationship(back_populates="sources")
