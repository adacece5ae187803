"""The stored story: events, their sources and the categories they are drawn in.

An event keeps its dates twice on purpose: as written (``start``/``end`` at ``date_precision``, which
is what people read and what exports carry) and as the interval of days they cover
(``first_day``/``last_day``, which is what time filters compare). Its geometry is stored as the
normalised GeoJSON text together with its bounding box, which the SQLite R*Tree (see migrations)
indexes along with the day interval.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timeline.store.db import Model

CONFIDENCES = ("confirmed", "reported", "claimed")
STATUSES = ("draft", "published")
ROLES = ("editor", "admin")


def utcnow() -> datetime:
    """Timestamps are always UTC."""
    return datetime.now(UTC)


class Category(Model):
    """How an event is classed and coloured; slugs are what features and filters carry."""

    __tablename__ = "categories"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    colour: Mapped[str] = mapped_column(String(7))
    # The label in other languages ({"de": "Verluste"}); ``label`` is the base one, for exports and
    # for every language without its own.
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")

    def label_in(self, lang: str | None) -> str:
        """The label in ``lang`` ("de", "de-AT") if it has one, else the base label."""
        labels = self.labels or {}
        if lang:
            for key in (lang, lang.split("-")[0].lower()):
                if (found := labels.get(key)) and isinstance(found, str):
                    return found
        return self.label


class Event(Model):
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
    # The event's id in the dataset it was imported from ("acled:UKR12345"), so a newer file of that
    # dataset updates it instead of adding a twin; unique among events that have one.
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Facts of the source dataset without a field of their own (ACLED's fatalities, geo_precision,
    # admin names ...), a flat object of short values, kept so an export can give them back.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # Where the event lies, worked out on save from the gazetteer (timeline.domain.regions): the
    # first-level region (ISO 3166-2 "RU-KRS" and "Kursk Oblast", or an ACLED file's admin1) and
    # the country (ISO alpha-2 "RU" and its name). NULL when unknown (no index, or at sea).
    region_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    region_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    country_code: Mapped[str | None] = mapped_column(String(2), nullable=True, index=True)
    country_name: Mapped[str | None] = mapped_column(String(100), nullable=True)

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_events_author_id_users"), nullable=True
    )
    # Once the public has seen an event, the change feed must tell mirrors when it goes away again;
    # a draft that was never published must not appear there at all.
    was_published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    category: Mapped[Category] = relationship()
    author: Mapped[User | None] = relationship()
    sources: Mapped[list[Source]] = relationship(
        back_populates="event", order_by="Source.position", cascade="all, delete-orphan", lazy="selectin"
    )

    # SQLAlchemy bumps ``version`` on every UPDATE and refuses a stale one: the basis of 409s.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        Index("ix_events_status_first_day", "status", "first_day"),
        Index("ix_events_external_id", "external_id", unique=True),
    )


class Source(Model):
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


class User(Model):
    """Someone who edits: an editor adds and corrects events, an admin also publishes and manages."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A deactivated user keeps their name in history and the audit log, but can do nothing.
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Bumped to end every session of this user at once (logout everywhere, password change).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


class UserSession(Model):
    """One login: the signed cookie names it, and it counts only while this row says it is open.

    A cookie alone cannot be taken back; this row can. Logging out ends it, so a copy of the cookie
    made before is worthless; "log out everywhere", a deactivation or a password change end all of
    a user's rows; the idle and absolute lifetimes are checked against its timestamps. Every
    process and host reads the same rows, so an ended session is ended everywhere at once.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", name="fk_user_sessions_user_id_users"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class IdempotencyKey(Model):
    """The first answer to a write sent with an ``Idempotency-Key``, kept to answer its retries.

    Written in the same transaction as the write itself, so a retry after a lost answer either
    finds the key (the write happened: the same answer again) or does not (it did not: it is done
    now); it never writes twice.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", name="fk_idempotency_keys_user_id_users"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # What was asked (method, path and a digest of the body): the same key with another request
    # is a client error, not a retry.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Model):
    """A personal API token: only its hash is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship()


class Revision(Model):
    """One saved change to an event: who, when, what, and the event as it stood afterwards.

    The snapshot makes any revision restorable; ``changes`` (field -> [old, new]) makes the history
    readable without recomputing diffs. The id doubles as the change feed's cursor.
    """

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = mapped_column(ForeignKey("events.pk"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changes: Mapped[dict[str, list[object]]] = mapped_column(JSON, default=dict)
    snapshot: Mapped[dict[str, object]] = mapped_column(JSON)
    # Whether the event was publicly visible after this change (the change feed's filter).
    public: Mapped[bool] = mapped_column(Boolean, default=False)

    event: Mapped[Event] = relationship()
    user: Mapped[User | None] = relationship()


class AuditEntry(Model):
    """Who did what, when and from where: logins, failures, edits, publishing, token use."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    username: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


class EventWeekCount(Model):
    """Live events per week (Monday-based, counted from 1970-01-01) by category, confidence, status.

    Kept by database triggers (migration 0004), never written by the app: see timeline/store/aggregates.py.
    """

    __tablename__ = "event_week_counts"

    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    confidence: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class EventCellCount(Model):
    """Live events smaller than a cell, per grid cell of 360/1024 degrees (kept by triggers)."""

    __tablename__ = "event_cell_counts"

    cx: Mapped[int] = mapped_column(Integer, primary_key=True)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    confidence: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    sum_lon: Mapped[float] = mapped_column(Float)
    sum_lat: Mapped[float] = mapped_column(Float)


class EventSpanCount(Model):
    """Live events per (first week, last week) of their interval, by category, confidence, status.

    Kept by database triggers (migration 0012), never written by the app: a time window's count is
    read from these (see timeline/store/aggregates.py), only the window's cut weeks from the rows.
    """

    __tablename__ = "event_span_counts"
    __table_args__ = (
        Index(
            "ix_event_span_counts_long",
            "last_week",
            "first_week",
            sqlite_where=text("last_week - first_week > 8"),
            postgresql_where=text("last_week - first_week > 8"),
        ),
    )

    first_week: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_week: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    confidence: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class EventCellSpanCount(Model):
    """Live events smaller than a cell per grid cell and (first week, last week) (migration 0012)."""

    __tablename__ = "event_cell_span_counts"
    __table_args__ = (
        Index(
            "ix_event_cell_span_counts_long",
            "last_week",
            "first_week",
            sqlite_where=text("last_week - first_week > 8"),
            postgresql_where=text("last_week - first_week > 8"),
        ),
    )

    first_week: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_week: Mapped[int] = mapped_column(Integer, primary_key=True)
    cx: Mapped[int] = mapped_column(Integer, primary_key=True)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    confidence: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    sum_lon: Mapped[float] = mapped_column(Float)
    sum_lat: Mapped[float] = mapped_column(Float)


# The last days of live events, in order (migration 0012): the events a time window's first week
# holds of those that end in it are found here, as those that start in its last week are found
# through migration 0004's ix_events_live.
ix_events_live_ends = Index(
    "ix_events_live_ends",
    Event.status,
    Event.last_day,
    sqlite_where=Event.deleted_at.is_(None),
    postgresql_where=Event.deleted_at.is_(None),
)


# The keys of deleted events (migration 0015): a text search's count takes away the hits among
# them without looking up every hit's row (timeline/store/search.py, count_text_hits).
ix_events_deleted = Index(
    "ix_events_deleted",
    Event.pk,
    sqlite_where=Event.deleted_at.is_not(None),
    postgresql_where=Event.deleted_at.is_not(None),
)


class FeatureCache(Model):
    """Each event's Feature as JSON text, written with every revision (timeline/domain/revisions.py).

    Exports stream these strings instead of building a million ORM objects; an event without a
    row here (written before the cache existed) is mapped on the fly, so the cache can lag, never lie.
    """

    __tablename__ = "feature_cache"

    event_pk: Mapped[int] = mapped_column(ForeignKey("events.pk", ondelete="CASCADE"), primary_key=True)
    json: Mapped[str] = mapped_column(Text)


class DataVersion(Model):
    """One row whose ``version`` every write to events, sources or categories moves on.

    Moved by database triggers (migration 0006), never by the app; response caches and ETags key
    on it (timeline/infra/response_cache.py), so no process serves an answer another has made stale.
    """

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="ck_data_version_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
