"""Full-text search: ``q`` as an index lookup on each backend, its ranking, and refilling the index.

``q`` is what a visitor typed. It never reaches the database as query syntax (an unbalanced quote or
``NEAR(`` must be a search like any other, not an error): it is split into words by
:mod:`timeline.store.folding`, the very words the index holds, each word is quoted, and an event
matches when every word begins one of its words, in its title, description, place, actors or the
outlets of its sources. ``kurs sud`` finds "Kursk: Sudzha"; ``STRASSE`` finds "Straße", and
"Hauptstraße" only through ``haupt``, since a word is matched from its start. A ``q`` without any
word (only punctuation) matches nothing.

Both backends index an event's own words and its sources' outlets apart (migration 0009 says why),
so each word is looked up in both, and an event matches when each word is in one or the other:

- SQLite: the FTS5 tables ``event_search`` (rowid ``events.pk``) and ``source_search`` (rowid
  ``sources.pk``), asked ``"word"*``. Their prefix indexes answer two- and three-letter prefixes.
- PostgreSQL: the GIN-indexed tsvectors ``events.search`` and ``sources.search`` (kept by
  triggers, migration 0016; written in bulk by timeline/store/bulk.py), asked ``'word':*``. Like
  ``events.geom`` they are not in the models: :data:`EVENT_SEARCH` and :data:`SOURCE_SEARCH` name
  them.

Ranking (``sort=relevance`` on the list): the more of the query's words an event's title holds, the
higher it ranks; ties keep timeline order. Both backends compute exactly this (FTS5's column filter;
weight A, which only title words carry in the tsvector), so they rank the same events the same way;
FTS5's bm25 and PostgreSQL's ts_rank would each order them differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnClause,
    ColumnElement,
    Integer,
    Select,
    and_,
    cast,
    column,
    false,
    func,
    intersect,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from timeline.store.db import DbSession
from timeline.store.folding import search_words
from timeline.store.models import STATUSES, Event, Source

# PostgreSQL only: the words of an event and of a source (see the module docstring).
EVENT_SEARCH: ColumnClause[Any] = literal_column("events.search")
SOURCE_SEARCH: ColumnClause[Any] = literal_column("sources.search")
# Only the first few words of a query count towards its rank: each is one more index lookup.
MAX_RANKED_WORDS = 10
# rebuild_search_index works through explicit keys in chunks of this many (bound parameters).
REBUILD_CHUNK = 500
# Migration 0006's upsert: the data version moves on.
BUMP_DATA_VERSION = (
    "INSERT INTO data_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = data_version.version + 1"
)

_event_index = table(
    "event_search", column("rowid"), column("event_search"), column("title"), column("description"),
    column("place"), column("actors"),
)  # fmt: skip
_source_index = table("source_search", column("rowid"), column("source_search"), column("outlet"))
_event_fields = [_event_index.c[name] for name in ("title", "description", "place", "actors")]
_events = table("events", column("pk"), column("title"))
_sources = table("sources", column("pk"), column("event_pk"), column("outlet"))


def query_words(text: str) -> list[str]:
    """The distinct words of a query, in the order typed."""
    return list(dict.fromkeys(search_words(text)))


def text_condition(text: str, dialect: str, *, drives: bool | None = None) -> ColumnElement[bool]:
    """Every word of ``text`` begins a word of the event or of one of its outlets.

    ``drives`` says which index leads, when the query module knows how many hits there are
    (:func:`matches_at_most`), since neither database does: SQLite knows nothing of what a MATCH
    will give, and PostgreSQL guesses 2% of the rows for any prefix, rare or common.

    - ``True``: the hits are found first, in the full-text indexes alone (few of them), and the rest
      of the statement works on those.
    - ``False``: another index leads (the date index in timeline order for a page, the viewport's
      for a box), and each event it gives is checked for the words (many hits meet a page soon).
      SQLite reads the words FTS5 stores for the event (by rowid) and looks for `` word`` in them,
      the same test, since they are stored folded and one space apart.
    - ``None``: the hits of each word are read from the indexes, and the database puts them to use
      as it sees fit (counts and aggregates, which read every hit anyway). On SQLite, which leads is
      then chosen by which of the events' columns the query module leaves indexable.
    """
    words = query_words(text)
    if not words:
        return false()
    if drives is False:
        return and_(*(_holds(word, dialect) for word in words))
    if drives and dialect != "sqlite":
        every_word: Any = _hits(words[0], dialect)
        if len(words) > 1:
            every_word = intersect(every_word, *(_hits(word, dialect) for word in words[1:]))
        hits = every_word.cte("text_hits").prefix_with("MATERIALIZED")
        return Event.pk.in_(select(hits.c[0]))
    return and_(*(Event.pk.in_(_hits(word, dialect)) for word in words))


def title_hits(text: str, dialect: str) -> ColumnElement[int]:
    """How many of the query's first MAX_RANKED_WORDS words begin a word of the event's title."""
    words = query_words(text)[:MAX_RANKED_WORDS]
    if not words:
        return literal(0, Integer)
    hits: list[ColumnElement[bool]]
    if dialect == "sqlite":
        hits = [Event.pk.in_(_fts_rowids(_event_index, _fts5_query(word, "title"))) for word in words]
    else:
        hits = [_matches(EVENT_SEARCH, _tsquery(word, weight="A")) for word in words]
    total: ColumnElement[int] = cast(hits[0], Integer)
    for hit in hits[1:]:
        total = total + cast(hit, Integer)
    return total


def matches_at_most(session: DbSession, text: str, cap: int) -> bool:
    """Whether at most about ``cap`` events hold every word of ``text``: how the query module
    chooses a plan, which neither database can (see :func:`text_condition`).

    An event with every word holds the rarest, in its own words or an outlet's, so the hits of the
    rarest word bound the answer. They are counted in the indexes alone (drafts and deleted events
    included) and never beyond ``cap + 1`` in each, so this costs little whatever the words.
    """
    dialect = session.get_bind().dialect.name
    words = query_words(text)
    for word in words:
        found = 0
        own, outlets = _own_and_outlet_hits(word, dialect)
        for hits in (own, outlets):
            capped = select(func.count()).select_from(hits.limit(cap + 1).subquery())
            through_index = hits is outlets and dialect == "postgresql"
            with _index_scan(session) if through_index else nullcontext():
                found += session.scalar(capped) or 0
            if found > cap:
                break  # the other index need not be asked
        if found <= cap:
            return True
    return not words


@contextmanager
def _index_scan(session: DbSession) -> Iterator[None]:
    """PostgreSQL: the statements inside read the sources through their GIN index, not a table scan.

    The outlets are a few names repeated (a newsroom cites the same dozen), so the statistics give
    every word not among them the rarest name's frequency, and for ``LIMIT cap + 1`` the planner
    then expects the scan to stop early: a word no outlet holds read all 1.6 million sources (210 ms
    at a million events) instead of answering from the index in a millisecond. Through the index an
    outlet's name costs at most a bitmap of its sources (50 ms for one seventh of them). Restored
    after, for the rest of the transaction.
    """
    before = session.scalar(text("SELECT current_setting('enable_seqscan')"))
    session.execute(text("SELECT set_config('enable_seqscan', 'off', true)"))
    try:
        yield
    finally:
        session.execute(text("SELECT set_config('enable_seqscan', :before, true)"), {"before": before})


def count_text_hits(session: DbSession, text: str, *, include_drafts: bool) -> int | None:
    """How many live (and, unless ``include_drafts``, published) events hold every word of ``text``,
    counted in the full-text indexes; None on PostgreSQL, where the caller counts the rows.

    The hits come from the indexes alone: for one word, the events with it in their own words and
    those with it only in an outlet; for several, the events each word finds there, intersected.
    The hidden events, deleted ones (migration 0015's index) and drafts (migration 0004's index of
    live events), are few: they are gathered once and the hits among them left out. A common
    word's tens of thousands of hits then need no row lookup each for their status and deletion
    mark, which is what counting them through their rows costs (150 ms for 46,000 hits at 100,000
    events, and ten times that at a million).
    """
    words = query_words(text)
    if session.get_bind().dialect.name != "sqlite":
        return None
    if not words:
        return 0
    hits: Any
    if len(words) == 1:
        query = _fts5_query(words[0])
        own = _fts_rowids(_event_index, query)
        # An event with the word in an outlet and in its own words is one hit, an own one.
        outlet_only = select(Source.event_pk).where(
            Source.pk.in_(_fts_rowids(_source_index, query)), Source.event_pk.not_in(own)
        )
        hits = union_all(own, outlet_only)
    else:
        # SQLite takes no parenthesized compound inside another: each word's hits are a subquery.
        each = [_hits(word, "sqlite").subquery() for word in words]
        hits = intersect(*(select(sub.c[0]) for sub in each))
    # Each condition is that of a partial index, which SQLite then reads: ix_events_deleted
    # (migration 0015) and ix_events_live (0004).
    hidden: Any = select(Event.pk).where(Event.deleted_at.is_not(None))
    if not include_drafts:
        hidden_statuses = [s for s in STATUSES if s != "published"]
        drafts = select(Event.pk).where(Event.deleted_at.is_(None), Event.status.in_(hidden_statuses))
        hidden = union_all(hidden, drafts)
    found = hits.subquery()
    shown = select(func.count()).select_from(found).where(found.c[0].not_in(hidden))
    return int(session.scalar(shown) or 0)


def rebuild_search_index(session: DbSession, pks: Iterable[int] | None = None) -> int:
    """Index these events (all events, without ``pks``) afresh, with their sources.

    Nothing written needs it: on SQLite the triggers of migration 0009 keep the index in step with
    every INSERT, UPDATE and DELETE of events and sources, however they are written (the ORM, Core,
    INSERT … SELECT, plain SQL), and on PostgreSQL by the triggers of migration 0016. It is for rows
    that reached SQLite without the triggers, for a PostgreSQL server whose unaccent rules changed
    (a major upgrade: the stored words were folded by the old ones), and as a repair; an SQLite entry
    whose event no longer exists goes too. Runs in the caller's transaction (commit it, or use
    :func:`timeline.store.db.writing`); returns how many events were indexed.
    """
    dialect = session.get_bind().dialect.name
    # Answers change, so cached ones must go: the data version the response caches key on moves,
    # as migration 0006's triggers move it for writes to events (which SQLite's rebuild does not make).
    session.execute(text(BUMP_DATA_VERSION))
    if pks is None:
        return _rebuild(session, dialect, None)
    keys = sorted(set(pks))
    return sum(
        _rebuild(session, dialect, keys[i : i + REBUILD_CHUNK]) for i in range(0, len(keys), REBUILD_CHUNK)
    )


# ---------------------------------------------------------------------------- SQL


def _fts5_query(word: str, column: str | None = None) -> str:
    """FTS5 syntax for "a word beginning with ``word``": a quoted string, no operator inside."""
    quoted = '"' + word.replace('"', '""') + '"*'
    return f"{{{column}}} : {quoted}" if column else quoted


def _tsquery(word: str, weight: str = "") -> str:
    """tsquery syntax for the same (``weight`` A: in the title)."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" + weight


def _fts_rowids(index: Any, expression: str) -> Select[Any]:
    """The rowids an FTS5 table finds for a query in its own syntax."""
    match = index.c[index.name].op("MATCH", return_type=Boolean)
    return select(index.c.rowid).where(match(expression))


def _matches(vector: ColumnElement[Any], query: str) -> ColumnElement[bool]:
    """``vector @@ query``. The query is cast, not parsed by to_tsquery: its words are final."""
    return vector.op("@@", return_type=Boolean)(cast(literal(query), TSQUERY))


def _own_and_outlet_hits(word: str, dialect: str) -> tuple[Select[Any], Select[Any]]:
    """The pks of the events with ``word`` in their own words, and of those with it in an outlet."""
    if dialect == "sqlite":
        query = _fts5_query(word)
        own = _fts_rowids(_event_index, query)
        return own, select(Source.event_pk).where(Source.pk.in_(_fts_rowids(_source_index, query)))
    query = _tsquery(word)
    return select(Event.pk).where(_matches(EVENT_SEARCH, query)), select(Source.event_pk).where(
        _matches(SOURCE_SEARCH, query)
    )


def _hits(word: str, dialect: str) -> Any:
    """Both, as one set of event pks."""
    return union_all(*_own_and_outlet_hits(word, dialect))


def _holds(word: str, dialect: str) -> ColumnElement[bool]:
    """The event's own words or an outlet's include one beginning with ``word``, tested on the row."""
    if dialect != "sqlite":
        query = _tsquery(word)
        # coalesce(): a form the GIN index cannot answer, so the planner keeps to the leading index.
        # The outlets' test stays indexable: the planner may look the event's sources up by key or,
        # along the date index, gather every source with the word once (from its GIN index).
        own = _matches(func.coalesce(EVENT_SEARCH, cast(literal(""), TSVECTOR)), query)
        outlet = _matches(SOURCE_SEARCH, query)
        return or_(own, select(1).where(Source.event_pk == Event.pk, outlet).exists())
    start = " " + word  # the stored words are one space apart, so a word starts after a space
    stored: ColumnElement[str] = literal(" ")
    for field in _event_fields:
        stored = stored.concat(func.coalesce(field, "")).concat(" ")
    own_row = select(1).where(_event_index.c.rowid == Event.pk, func.instr(stored, start) > 0)
    outlet_text = literal(" ").concat(func.coalesce(_source_index.c.outlet, ""))
    outlet_row = select(1).where(
        Source.event_pk == Event.pk, _source_index.c.rowid == Source.pk, func.instr(outlet_text, start) > 0
    )
    return or_(own_row.exists(), outlet_row.exists())


def _rebuild(session: DbSession, dialect: str, keys: list[int] | None) -> int:
    """Index these events (or all) afresh: what migration 0009's triggers do, for many rows at once."""
    if dialect != "sqlite":  # migration 0016's triggers compute the words again when the text is written
        update = _events.update().values(title=_events.c.title)
        sources = _sources.update().values(outlet=_sources.c.outlet)
        if keys is not None:
            update = update.where(_events.c.pk.in_(keys))
            sources = sources.where(_sources.c.event_pk.in_(keys))
        session.execute(sources)
        return int(getattr(session.execute(update), "rowcount", 0) or 0)
    their_sources = select(Source.pk)
    events = select(Event.pk)
    if keys is not None:
        their_sources = their_sources.where(Source.event_pk.in_(keys))
        events = events.where(Event.pk.in_(keys))
    forget_events, forget_sources = _event_index.delete(), _source_index.delete()
    if keys is not None:
        forget_events = forget_events.where(_event_index.c.rowid.in_(keys))
        forget_sources = forget_sources.where(_source_index.c.rowid.in_(their_sources))
    session.execute(forget_events)
    session.execute(forget_sources)
    outlets = select(Source.pk, func.tl_search_text(Source.outlet)).where(Source.pk.in_(their_sources))
    source_columns = [_source_index.c.rowid, _source_index.c.outlet]
    session.execute(_source_index.insert().from_select(source_columns, outlets))
    value: ColumnClause[str] = literal_column("value")  # of json_each: one actor
    actors = select(func.group_concat(value, " ")).select_from(func.json_each(Event.actors))
    rows = select(
        Event.pk,
        *(func.tl_search_text(c) for c in (Event.title, Event.description, Event.place)),
        func.tl_search_text(actors.scalar_subquery()),
    ).where(Event.pk.in_(events))
    event_columns = [_event_index.c.rowid, *_event_fields]
    inserted = session.execute(_event_index.insert().from_select(event_columns, rows))
    return int(getattr(inserted, "rowcount", 0) or 0)
