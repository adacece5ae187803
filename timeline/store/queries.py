"""The one module that turns filters into SQL.

Every reader of events (map API, exports, later the OGC API) describes what it wants as an
:class:`EventFilter` and gets its statement here, so a visibility rule such as "anonymous visitors
see published events only" is written once.

On SQLite a viewport or time window is answered through the ``event_rtree`` R*Tree (lon, lat and
day; created by the migrations) instead of a table scan. The R*Tree stores 32-bit floats rounded
outwards, so its answer is a superset and the exact comparisons on the table's own columns follow.

On PostgreSQL the database does the spatial work: ``events.geom`` (PostGIS, SRID 4326, computed
from the GeoJSON by migration 0003 and GiST-indexed) is tested with ST_Intersects against the box,
and a time window is also an overlap test (``&&``) on the GiST-indexed range of the event's days.
``geom`` is not in the models (SQLite has no such column): refer to it as :data:`EVENT_GEOM`, and only
when the dialect is ``postgresql``. Text search (``q``) is a lookup in each backend's full-text index
(:mod:`timeline.store.search`: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL), of the same
words on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, TypeAlias

from sqlalchemy import (
    Boolean,
    ColumnClause,
    ColumnElement,
    Date,
    LargeBinary,
    Select,
    String,
    and_,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    type_coerce,
)

from geodata.geometry import BBox
from timeline.store import search
from timeline.store.db import DbSession
from timeline.store.filters import FILTER_FIELDS, EventFilter
from timeline.store.models import Category, Event, EventSpanCount, EventWeekCount, FeatureCache
from timeline.store.region_filter import region_conditions

EPOCH = date(1970, 1, 1)

# A statement whose columns vary (a page of events, or of their keys, and maybe a count beside them).
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"  # a string: only the type checker reads it

_rtree = table(
    "event_rtree",
    column("id"),
    column("min_lon"),
    column("max_lon"),
    column("min_lat"),
    column("max_lat"),
    column("min_day"),
    column("max_day"),
)


# PostgreSQL only: the PostGIS geometry of an event (see the module docstring).
EVENT_GEOM: ColumnClause[Any] = literal_column("events.geom")
SRID = 4326


# ---------------------------------------------------------------------------- SQL


def conditions(
    f: EventFilter, dialect: str, storage_order: bool = False, text_drives: bool | None = None
) -> list[ColumnElement[bool]]:
    """The WHERE clause for ``f``, for lists, counts and aggregates alike.

    ``storage_order``: the statement reads in primary-key order (an export), so on SQLite it should
    walk the table front to back. ``text_drives`` (with ``q``): whether the events the full-text
    index finds are fetched first (the fastest way to few of them) or another index leads, each
    event checked against the words (the way to a page of many, or to few events in a viewport);
    see :func:`filtered_events`. Unless told, SQLite starts from the index's hits and PostgreSQL's
    planner chooses.
    """
    boxes = _boxes(f.bbox) if f.bbox else []
    use_rtree = dialect == "sqlite" and bool(boxes or f.start or f.end)
    # With the R*Tree in play, the plan must start from its hits and fetch events by rowid. Left to
    # itself, SQLite prefers the (status, first_day) index and walks every event before the window's
    # end (10x slower at a million events), so the other columns are made unindexable (`col || ''`).
    # The same holds for the full-text index's hits, which SQLite cannot count in advance. Without
    # either, a read in storage order is fastest as a plain scan of the table: through the status
    # index SQLite hops through the table and then sorts a million keys (4x slower).
    text_first = bool(f.text) and (dialect == "sqlite" if text_drives is None else text_drives)
    text_plan = text_first if dialect == "sqlite" else text_drives
    col = unindexed if dialect == "sqlite" and (use_rtree or storage_order or text_first) else _as_is
    conds: list[ColumnElement[bool]] = [Event.deleted_at.is_(None)]
    conds += key_conditions(f, col(Event.status), col(Event.category_slug), col(Event.confidence))
    if use_rtree:
        conds.append(Event.pk.in_(_rtree_candidates(boxes, f.start, f.end)))
    if dialect == "postgresql" and (f.start or f.end):
        conds.append(_days_overlap(f.start, f.end))
    if boxes and dialect == "postgresql":
        conds.append(or_(*(_st_intersects(b) for b in boxes)))
    elif boxes:
        conds.append(or_(*(_box_condition(b) for b in boxes)))
    # An event overlaps the window when it starts before the window ends and ends after it starts.
    # PostgreSQL has said so already, as a range overlap its GiST indexes answer; the same test in
    # plain comparisons would only tempt its planner into adding a date index to the bitmap. So has
    # SQLite's R*Tree, exactly: its days are whole numbers, which its 32-bit floats hold without
    # rounding (migration 0001), so repeating the test on every row it found would be wasted work.
    exact_days = dialect == "postgresql" or use_rtree
    if f.end and not exact_days:
        conds.append(Event.first_day <= f.end)
    if f.start and not exact_days:
        conds.append(Event.last_day >= f.start)
    if f.text:
        conds.append(_text_condition(f.text, dialect, text_plan))
    conds += f.where
    conds += region_conditions(f)
    return conds


def _as_is(expr: Any) -> Any:
    return expr


def unindexed(expr: Any) -> Any:
    """The same value, in a form SQLite cannot answer from an index (dates compare as ISO text)."""
    return cast(expr, String).concat("")


def _text_condition(text: str, dialect: str, drives: bool | None) -> ColumnElement[bool]:
    """Every word of ``text`` begins a word of the event: a lookup in the backend's full-text index."""
    if dialect in ("sqlite", "postgresql"):
        return search.text_condition(text, dialect, drives=drives)
    return like_text_condition(text, dialect)


def like_text_condition(text: str, dialect: str) -> ColumnElement[bool]:
    """What ``q`` was before the full-text index: a case-folded substring of title, description or
    place (LIKE wildcards literal), read from every row. The benchmark's baseline and the tests'
    oracle; no query of the app uses it on SQLite or PostgreSQL."""
    columns = (Event.title, Event.description, Event.place)
    if dialect in ("sqlite", "postgresql"):
        pattern = "%" + _escape_like(text.casefold()) + "%"
        return or_(*(func.tl_casefold(col).like(pattern, escape="\\") for col in columns))
    pattern = "%" + _escape_like(text) + "%"
    return or_(*(col.ilike(pattern, escape="\\") for col in columns))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _boxes(bbox: BBox) -> list[tuple[float, float, float, float]]:
    """A box crossing the antimeridian (minLon > maxLon, RFC 7946 5.2) is searched as two boxes."""
    if bbox.min_lon <= bbox.max_lon:
        return [(bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat)]
    return [
        (bbox.min_lon, bbox.min_lat, 180.0, bbox.max_lat),
        (-180.0, bbox.min_lat, bbox.max_lon, bbox.max_lat),
    ]


def _box_condition(box: tuple[float, float, float, float]) -> ColumnElement[bool]:
    min_lon, min_lat, max_lon, max_lat = box
    overlaps = and_(
        Event.max_lon >= min_lon, Event.min_lon <= max_lon, Event.max_lat >= min_lat, Event.min_lat <= max_lat
    )
    # A point inside the box is a hit, and so is any geometry whose own box lies inside it; only a
    # line or area that straddles the box's edge needs the exact test (a Python call per row).
    inside = and_(
        Event.min_lon >= min_lon, Event.max_lon <= max_lon, Event.min_lat >= min_lat, Event.max_lat <= max_lat
    )
    exact = or_(Event.geometry_type == "Point", inside, func.tl_intersects(Event.geometry, *box) == 1)
    return and_(overlaps, exact)


def _st_intersects(box: tuple[float, float, float, float]) -> ColumnElement[bool]:
    """PostGIS's exact test against the box; its bounding-box step (&&) uses the GiST index."""
    return func.ST_Intersects(EVENT_GEOM, func.ST_MakeEnvelope(*box, SRID), type_=Boolean)


def _days_overlap(start: date | None, end: date | None) -> ColumnElement[bool]:
    """The event's days overlap the window, in the form the GiST index on that range answers.

    A missing bound is NULL, which a range reads as unbounded. It is the whole time condition on
    PostgreSQL (SQLite compares first_day/last_day; tests/test_backends.py holds both to one oracle).
    """
    days = func.daterange(Event.first_day, Event.last_day, "[]")
    window = func.daterange(cast(start, Date), cast(end, Date), "[]")
    return days.op("&&")(window)


def _rtree_candidates(
    boxes: list[tuple[float, float, float, float]], start: date | None, end: date | None
) -> Select[Any]:
    r = _rtree.c
    day_conds = []
    if end:
        day_conds.append(r.min_day <= (end - EPOCH).days)
    if start:
        day_conds.append(r.max_day >= (start - EPOCH).days)
    box_conds = [
        and_(r.max_lon >= b[0], r.min_lon <= b[2], r.max_lat >= b[1], r.min_lat <= b[3]) for b in boxes
    ]
    where = and_(*day_conds, or_(*box_conds)) if box_conds else and_(*day_conds)
    return select(r.id).where(where)


Box: TypeAlias = tuple[float, float, float, float]  # west, south, east, north


def viewport_conditions(f: EventFilter, dialect: str, near: list[Box]) -> list[ColumnElement[bool]]:
    """The conditions of ``f`` (a viewport, maybe a window, count keys), with the spatial index
    asked only for the events whose box meets one of the ``near`` boxes (parts of the viewport).

    For the clusters of a viewport whose inner cells come from the counts: only the events near its
    edges are read, each still tested exactly against the whole viewport.
    """
    if f.bbox is None or f.text or f.where or f.regions or f.countries:
        raise ValueError("a viewport and count keys only")
    boxes = _boxes(f.bbox)
    col = unindexed if dialect == "sqlite" else _as_is
    conds: list[ColumnElement[bool]] = [Event.deleted_at.is_(None)]
    conds += key_conditions(f, col(Event.status), col(Event.category_slug), col(Event.confidence))
    if dialect == "sqlite":
        conds.append(Event.pk.in_(_rtree_candidates(near, f.start, f.end)))  # its days are exact
        conds.append(or_(*(_box_condition(b) for b in boxes)))
        return conds
    if dialect == "postgresql":
        envelopes = (func.ST_MakeEnvelope(*b, SRID) for b in near)
        conds.append(or_(*(EVENT_GEOM.op("&&")(e) for e in envelopes)))
        conds.append(or_(*(_st_intersects(b) for b in boxes)))
        if f.start or f.end:
            conds.append(_days_overlap(f.start, f.end))
        return conds
    return conditions(f, dialect)


def exact_viewport_conditions(f: EventFilter, dialect: str) -> list[ColumnElement[bool]]:
    """The viewport of ``f`` as an exact test on each row, for rows another index finds."""
    if f.bbox is None:
        return []
    boxes = _boxes(f.bbox)
    if dialect == "postgresql":
        return [or_(*(_st_intersects(b) for b in boxes))]
    return [or_(*(_box_condition(b) for b in boxes))]


def without_idle_window(session: DbSession, f: EventFilter) -> EventFilter:
    """``f`` without its time window when every stored event lies inside that window.

    Such a window filters nothing, yet asked as a window it sends SQLite through its R*Tree over
    every event: at a million events the clusters took 8.9 s and the timeline's page 1.9 s, where
    the same questions without a window take milliseconds from the count tables and the date index.
    The timeline asks exactly that when a visitor drags back to the whole period.

    The test is exact. An event overlaps [start, end] when first_day <= end and last_day >= start,
    which every event does when start <= the earliest first_day and end >= the latest last_day of
    all rows (deleted and draft ones included, so the bound holds for every reader). It costs two
    index seeks. Within one transaction both statements see the same rows; on PostgreSQL, where
    each statement of a read sees the latest commits, a write landing between the two could be
    counted, the same latitude a page and its separate count already have there.
    """
    if f.start is None and f.end is None:
        return f
    first = select(func.min(Event.first_day)).scalar_subquery()  # one aggregate each: an index seek
    last = select(func.max(Event.last_day)).scalar_subquery()
    earliest, latest = session.execute(select(first, last)).one()
    if earliest is None:
        return f
    if (f.start is None or f.start <= earliest) and (f.end is None or f.end >= latest):
        return replace(f, start=None, end=None)
    return f


PAGE_KEY_COLUMNS = (Event.pk, Event.first_day, Event.last_day, Event.id)
# How a list is ordered: timeline order (first day, last day, id; what keyset paging follows), or,
# with ``q``, by how many of its words the title holds, ties in timeline order (search.title_hits).
ORDERS = ("time", "relevance")
# With q: up to this many hits in the full-text index, a page is read from them (fetched by key and
# sorted); beyond, along another index (dates, or the place and days of a viewport), each event
# checked against the words, which then meets a page's worth early. Either costs a few milliseconds
# at the border, at a million events.
TEXT_DRIVES_UP_TO = 2_000


def counted_page(
    session: DbSession, f: EventFilter, *, keys_only: bool = False, order: str = "time"
) -> AnySelect:
    """The page with ``count(*) OVER ()`` beside each row: the one statement of :func:`page_and_count`."""
    page: AnySelect = filtered_events(session, f, order=order)
    if keys_only:
        page = page.with_only_columns(*PAGE_KEY_COLUMNS)
    return page.add_columns(func.count().over())


def page_and_count(
    session: DbSession, f: EventFilter, *, keys_only: bool = False, order: str = "time"
) -> tuple[list[Any], int]:
    """A page of events (or, with ``keys_only``, rows of pk, first_day, last_day, id) and how many
    match in all.

    With a place or time filter, both come from one query (``count(*) OVER ()``): the rows the
    indexes find are read once, not once for the page and again for the count, which halves a
    viewport request. Without one, the page stops after ``limit`` rows of a date index while the
    count reads only a narrow index, so two queries are cheaper there. A page past the last match
    has no row to carry the count, so then it is counted on its own.

    The page is always found as keys, and whole events are loaded by key for those rows only: the
    window function holds every match until it has counted them, so a page of whole rows held
    and sorted every matching event's text (700 ms instead of 100 for a viewport of 40,000 events).
    """
    rows, matched = _page_keys_and_count(session, f, order)
    if keys_only:
        return rows, matched
    by_pk = {event.pk: event for event in events_by_pks(session, [row[0] for row in rows])}
    return [by_pk[row[0]] for row in rows], matched


def _page_keys(session: DbSession, f: EventFilter, order: str, *, walk_dates: bool = False) -> AnySelect:
    page: AnySelect = filtered_events(session, f, order=order, walk_dates=walk_dates)
    return page.with_only_columns(*PAGE_KEY_COLUMNS)


def _page_keys_and_count(session: DbSession, f: EventFilter, order: str) -> tuple[list[Any], int]:
    """:func:`page_and_count`'s rows of keys and its count."""
    f = without_idle_window(session, f)
    if order == "time" and (wide := wide_viewport_count(session, f)) is not None:
        # A wide viewport: counted from its inner cells, and its page read along the date index
        # (most events are in it, so a page of them comes early), each row tested against the box.
        return list(session.execute(_page_keys(session, f, order, walk_dates=True))), wide
    if answerable_from_span_counts(f) and order == "time":
        # A time window alone: the count comes from the span counts, so the page need not read every
        # match to count them, and a wide window is walked along the date index (see walks_dates).
        matched = count_events(session, f)
        page = _page_keys(session, f, order, walk_dates=matched >= WALK_DATES_FROM)
        return list(session.execute(page)), matched
    page = _page_keys(session, f, order)
    if f.after or not (f.bbox or f.start or f.end):  # a keyset page's rows are not all the matches
        return list(session.execute(page)), count_events(session, f)
    rows = session.execute(page.add_columns(func.count().over())).all()  # counted_page's statement
    if rows:
        return [row[:4] for row in rows], int(rows[0][-1])
    return [], count_events(session, f) if f.offset else 0


def wide_viewport_count(session: DbSession, f: EventFilter) -> int | None:
    """How many events a wide viewport (maybe with a window) holds, from the counts of the cells
    inside it and the rows near its edges (``aggregates.inner_cells``); None for any other filter."""
    from timeline.store import aggregates  # it builds on this module

    if f.bbox is None or not aggregates.answerable_from_viewport_counts(f):
        return None
    inner = aggregates.inner_cells_worth_it(f.bbox)
    if inner is None:
        return None
    whole = replace(f, limit=None, offset=0, after=None)
    cells = aggregates._clusters_of_viewport(session, whole, aggregates.BASE_ZOOM, inner)
    return sum(c.count for c in cells)


def filtered_events(
    session: DbSession, f: EventFilter, *, order: str = "time", walk_dates: bool = False
) -> Select[Event]:
    """The statement for the events a filter selects, in timeline order (or by ``relevance`` to ``q``,
    see :data:`ORDERS`), paged.

    With ``q``, the plan is chosen here (:func:`text_plan`), which neither database can do itself.
    ``walk_dates`` (a time window and count keys only, in timeline order): read along the date
    index instead of collecting the window's events and sorting them (:func:`date_walk_conditions`).
    """
    if order == "relevance" and f.after:
        raise ValueError("keyset paging (after) follows timeline order; page a ranking by offset")
    f = without_idle_window(session, f)
    dialect = session.get_bind().dialect.name
    text_drives = text_plan(session, f, order) if f.text else None
    timeline_order = (Event.first_day, Event.last_day, Event.id)
    ranks = (search.title_hits(f.text, dialect).desc(),) if order == "relevance" and f.text else ()
    walk = walk_dates and order == "time" and (answerable_from_span_counts(f) or _viewport_walkable(f))
    where = date_walk_conditions(session, f) if walk else conditions(f, dialect, text_drives=text_drives)
    stmt = select(Event).where(*where).order_by(*ranks, *timeline_order)
    if f.after:
        key = f.after
        stmt = stmt.where(
            tuple_(Event.first_day, Event.last_day, Event.id)
            > tuple_(literal(key.first_day, Date), literal(key.last_day, Date), literal(key.id, String))
        )
    if f.offset:
        stmt = stmt.offset(f.offset)
    if f.limit is not None:
        stmt = stmt.limit(f.limit)
    return stmt


def text_plan(session: DbSession, f: EventFilter, order: str = "time") -> bool:
    """Whether the full-text index's hits lead the page of ``f`` (a ``q``), or another index leads
    and each event it gives is checked for the words (``text_drives`` of :func:`conditions`).

    Two capped counts, each about a millisecond, decide. With a viewport or a time window holding
    at most TEXT_DRIVES_UP_TO events, those are checked (they cost a few microseconds each, whatever
    the words). Otherwise the hits lead when they are at most as many: walking the date index for a
    word no event holds reads every event, and fetching a common word's hundreds of thousands of
    hits to sort them for one page, or to keep the few in a viewport, takes longer still. A ranking
    reads every hit, unless the view's events are few.
    """
    if f.bbox or f.start or f.end:
        nearby = select(Event.pk).where(*conditions(replace(f, text=None), session.get_bind().dialect.name))
        capped = nearby.limit(TEXT_DRIVES_UP_TO + 1).subquery()
        if (session.scalar(select(func.count()).select_from(capped)) or 0) <= TEXT_DRIVES_UP_TO:
            return False
    if order == "relevance":
        return True
    return search.matches_at_most(session, f.text or "", TEXT_DRIVES_UP_TO)


def count_events(session: DbSession, f: EventFilter) -> int:
    """How many events the filter matches, ignoring paging (``numberMatched``).

    Without a place, time or text filter the answer is a sum over the per-week counts the database
    keeps in step with every write (migration 0004): a few thousand rows instead of every event
    (0.1 ms instead of 60–120 ms at a million events). With a time window (and no place or text),
    it is a sum over the span counts of migration 0012 plus the rows of the weeks the window cuts
    (:func:`split_window`).
    """
    f = without_idle_window(session, f)
    if f.text and answerable_from_text_index(f):
        found = search.count_text_hits(session, f.text, include_drafts=f.include_drafts)
        if found is not None:
            return found
    if answerable_from_counts(f):
        w = EventWeekCount
        total = session.scalar(select(func.coalesce(func.sum(w.n), 0)).where(*count_key_conditions(w, f)))
        return int(total or 0)  # never NULL (coalesce); the "or" is for the type checker
    if answerable_from_span_counts(f):
        split = split_window(f.start, f.end)
        s = EventSpanCount
        total = 0
        for pairs in split.pair_condition_sets(s):
            whole = select(func.coalesce(func.sum(s.n), 0)).where(*count_key_conditions(s, f), *pairs)
            total += int(session.scalar(whole) or 0)
        if split.rows is not None:
            cut = select(func.count()).select_from(Event).where(*cut_week_conditions(f, split))
            total += int(session.scalar(cut) or 0)
        return total
    stmt = select(func.count()).select_from(Event).where(*conditions(f, session.get_bind().dialect.name))
    return session.scalar(stmt) or 0


def key_conditions(f: EventFilter, status: Any, category: Any, confidence: Any) -> list[Any]:
    """The filter's status, category and confidence conditions on the given columns.

    Events and the count tables carry these three keys alike; writing the conditions once is what
    keeps a count from the tables equal to a count of the rows when a key gains a rule.
    """
    conds = []
    if not f.include_drafts:
        conds.append(status == "published")
    if f.categories:
        conds.append(category.in_(f.categories))
    if f.confidences:
        conds.append(confidence.in_(f.confidences))
    return conds


def count_key_conditions(model: Any, f: EventFilter) -> list[Any]:
    """The filter's key conditions on a trigger-kept count table (its non-empty buckets)."""
    return [model.n > 0, *key_conditions(f, model.status, model.category_slug, model.confidence)]


# The fields of a filter the count tables (migration 0004) are keyed by, besides cell or week.
COUNT_KEYS = frozenset({"include_drafts", "categories", "confidences"})
_UNRESTRICTED = EventFilter()


def answerable_from_counts(f: EventFilter) -> bool:
    """Whether the count tables answer ``f`` exactly: the one place this is decided.

    They count events by status, category and confidence (per grid cell and per week). Any other
    restriction needs the rows: a viewport, a time window, a text search, and any filter added to
    :class:`EventFilter` later, which is refused here until it is made a count key. Paging does
    not change which events are counted.
    """
    return all(getattr(f, name) == getattr(_UNRESTRICTED, name) for name in FILTER_FIELDS - COUNT_KEYS)


def answerable_from_text_index(f: EventFilter) -> bool:
    """Whether a ``q`` is the filter's only restriction beside the status (drafts or not), so that
    the full-text index's hits, less the hidden events among them, are its count."""
    return answerable_from_counts(replace(f, text=None)) and not f.categories and not f.confidences


def answerable_from_span_counts(f: EventFilter) -> bool:
    """Whether the span counts (migration 0012) answer ``f``: a time window, and otherwise only
    what the count tables are keyed by. A window ending before it starts is left to the rows."""
    if f.start is None and f.end is None:
        return False
    if f.start is not None and f.end is not None and f.start > f.end:
        return False
    return answerable_from_counts(replace(f, start=None, end=None))


# Week numbers as migrations 0004 and 0012 count them: week 0 starts on Monday 1969-12-29.
WEEK_ZERO = EPOCH - timedelta(days=3)


def week_of(day: date) -> int:
    """The week number of a day (the triggers' expression, in Python)."""
    return ((day - EPOCH).days + 3) // 7


def week_start(week: int) -> date:
    """The Monday a week number starts on."""
    return WEEK_ZERO + timedelta(days=7 * week)


# Pairs of weeks at most this far apart are "short" (must equal SHORT_WEEKS in migration 0012).
SHORT_WEEKS = 8


@dataclass(frozen=True)
class WindowSplit:
    """A time window as the (first week, last week) pairs whose every event overlaps it, and the
    condition for the window's events in the other pairs.

    An event overlaps [start, end] when first_day <= end and last_day >= start. Of a pair, every
    event does when its first week ends by ``end`` and its last week begins on or after ``start``;
    none does when its first week begins after ``end`` or its last week ends before ``start``. Only
    the pairs in between are undecided: those starting in the week that holds ``end`` when the
    window ends before that week's Sunday, and those ending in the week of ``start`` when it starts
    after that week's Monday. Their events are counted from the rows, a few days of first days and
    of last days, each found through a date index. Each event is in exactly one pair, so nothing is
    counted twice.
    """

    first_week_to: int | None  # whole pairs start in this week or before
    last_week_from: int | None  # and end in this week or after
    rows: ColumnElement[bool] | None  # the window's events in the undecided pairs (None: there are none)

    def pair_condition_sets(self, model: Any) -> list[list[ColumnElement[bool]]]:
        """The whole pairs, as disjoint sets of conditions, each one range of an index.

        Tested as one, ``first_week <= x AND last_week >= y`` is a range of neither key: the scan
        reads every pair starting before the window's end. So the pairs are split by length: those
        at most :data:`SHORT_WEEKS` weeks long start at most that many weeks before the window
        (a range of the primary key), and the long ones are a partial index of their own
        (migration 0012), which the condition ``last_week - first_week > SHORT_WEEKS`` selects.
        """
        to, since = self.first_week_to, self.last_week_from
        upto = [model.first_week <= to] if to is not None else []
        if since is None:
            return [upto]
        short = [model.first_week >= since - SHORT_WEEKS, *upto, model.last_week >= since]
        long = [
            # A literal, not a parameter: SQLite uses a partial index only for its very condition.
            model.last_week - model.first_week > literal_column(str(SHORT_WEEKS)),
            model.last_week >= since,
            model.first_week < since - SHORT_WEEKS,
            *upto,
        ]
        return [short, long]


def split_window(start: date | None, end: date | None) -> WindowSplit:
    """The window [start, end] (either bound may be open) as whole pairs and cut weeks' rows."""
    first_week_to = last_week_from = None
    parts: list[ColumnElement[bool]] = []
    if end is not None:
        week = week_of(end)
        cut = end != week_start(week) + timedelta(days=6)
        first_week_to = week - 1 if cut else week
        if cut:  # the events starting in end's week, on or before end
            starts = [Event.first_day >= week_start(week), Event.first_day <= end]
            parts.append(and_(*starts, *([Event.last_day >= start] if start else [])))
    if start is not None:
        week = week_of(start)
        cut = start != week_start(week)
        last_week_from = week + 1 if cut else week
        if cut:  # the events ending in start's week, on or after start
            ends = [Event.last_day >= start, Event.last_day <= week_start(week) + timedelta(days=6)]
            parts.append(and_(*ends, *([Event.first_day <= end] if end else [])))
    return WindowSplit(first_week_to, last_week_from, or_(*parts) if parts else None)


def cut_week_conditions(f: EventFilter, split: WindowSplit) -> list[ColumnElement[bool]]:
    """The conditions for the events of ``f`` in a split's undecided pairs (its ``rows``).

    Category and confidence are made unindexable, so the plan starts from the date indexes of
    live events (migration 0004's on first days, 0012's on last days): a few days of each.
    """
    if split.rows is None:
        raise ValueError("this window cuts no week")
    keys = key_conditions(f, Event.status, unindexed(Event.category_slug), unindexed(Event.confidence))
    return [Event.deleted_at.is_(None), *keys, split.rows]


# From this many events in a window, a page of it is read along the date index (walk_dates).
WALK_DATES_FROM = 2_000


def _viewport_walkable(f: EventFilter) -> bool:
    """A viewport, maybe a window, and count keys: a page the date walk can read."""
    if f.bbox is None or (f.start is not None and f.end is not None and f.start > f.end):
        return False
    return answerable_from_counts(replace(f, bbox=None, start=None, end=None))


def date_walk_conditions(session: DbSession, f: EventFilter) -> list[ColumnElement[bool]]:
    """Conditions for a window's page read in the date index's order, stopping after the page.

    The R*Tree (or GiST index) finds a window's events in no useful order, so a page of a wide
    window collected and sorted every one of them (1.1–1.4 s a page for three months of a million
    events). Along the (status, first_day, last_day, id) index of live events the page is the first
    ``limit`` entries that overlap the window, and a ``next`` link's key is an index seek, so page
    60 costs what page 1 does. The walk starts at the earliest first week of any event still going
    on at the window's start, which the span counts know, rather than at the first event ever.
    """
    s = EventSpanCount
    conds: list[ColumnElement[bool]] = [Event.deleted_at.is_(None)]
    conds += key_conditions(f, Event.status, unindexed(Event.category_slug), unindexed(Event.confidence))
    conds += exact_viewport_conditions(f, session.get_bind().dialect.name)
    if f.end is not None:
        conds.append(Event.first_day <= f.end)
    if f.start is not None:
        conds.append(Event.last_day >= f.start)
        earliest = session.scalar(
            select(func.min(s.first_week)).where(*count_key_conditions(s, f), s.last_week >= week_of(f.start))
        )
        if earliest is not None:
            conds.append(Event.first_day >= week_start(int(earliest)))
    return conds


def iter_feature_json(
    session: DbSession, f: EventFilter, batch: int = 2000
) -> Iterator[Sequence[tuple[int, bytes | None]]]:
    """Batches of (pk, cached Feature JSON as UTF-8 bytes, or None) for every matching event, in
    the order they were created.

    Storage order, not timeline order: a whole-database export then reads the table front to back
    instead of hopping through it along a date index (several times faster at a million events).
    The JSON comes as bytes because bytes are what is sent: decoding 1.6 GB of text only to encode
    it again was a third of a million-event export. It is read through SQLAlchemy Core, in batches
    (a server-side cursor on PostgreSQL), since ORM result handling cost another quarter.
    """
    f = without_idle_window(session, f)
    stmt = (
        select(Event.pk, _utf8_bytes(FeatureCache.json, session.get_bind().dialect.name))
        .outerjoin(FeatureCache, FeatureCache.event_pk == Event.pk)
        .where(*conditions(f, session.get_bind().dialect.name, storage_order=True))
        .order_by(Event.pk)
    )
    if f.limit is not None:
        stmt = stmt.limit(f.limit)
    if f.offset:
        stmt = stmt.offset(f.offset)
    connection = session.connection()
    if connection.dialect.name != "sqlite":  # a server-side cursor, read in batches
        result = connection.execution_options(yield_per=batch).execute(stmt)
        yield from result.partitions()
        return
    # SQLite's cursor reads lazily by itself, and these rows need no conversion (an integer and
    # bytes), so they are fetched from the driver's cursor: SQLAlchemy's row handling was a fifth
    # of an export. (No yield_per here: its buffering strategy would have read ahead of the cursor.)
    result = connection.execute(stmt)
    try:
        while rows := result.cursor.fetchmany(batch):
            yield rows
    finally:
        result.close()


def _utf8_bytes(column: Any, dialect: str) -> ColumnElement[bytes]:
    """The text column as its UTF-8 bytes. PostgreSQL needs convert_to: a plain cast to bytea would
    read backslashes in the JSON as escape sequences."""
    if dialect == "postgresql":
        return type_coerce(func.convert_to(column, "UTF8"), LargeBinary)
    return cast(column, LargeBinary)


def cached_feature_json(session: DbSession, pks: list[int]) -> dict[int, bytes]:
    """The cached Feature JSON (UTF-8 bytes) of those of these events that have one."""
    if not pks:
        return {}
    column = _utf8_bytes(FeatureCache.json, session.get_bind().dialect.name)
    rows = session.execute(select(FeatureCache.event_pk, column).where(FeatureCache.event_pk.in_(pks)))
    return {int(pk): data for pk, data in rows}


def events_by_pks(session: DbSession, pks: list[int]) -> list[Event]:
    """Events by internal key (for the rows an export finds without a cached feature)."""
    return list(session.scalars(select(Event).where(Event.pk.in_(pks))))


def unknown_categories(session: DbSession, slugs: list[str]) -> list[str]:
    """Those of ``slugs`` that name no category, in the order given."""
    if not slugs:
        return []
    known = set(session.scalars(select(Category.slug).where(Category.slug.in_(slugs))))
    return [c for c in slugs if c not in known]


def get_event(session: DbSession, event_id: str, *, include_drafts: bool = False) -> Event | None:
    """One event by public id, if the reader may see it."""
    conds = [Event.id == event_id, Event.deleted_at.is_(None)]
    if not include_drafts:
        conds.append(Event.status == "published")
    return session.scalars(select(Event).where(*conds)).first()


def events_by_ids(session: DbSession, ids: Iterable[str]) -> dict[str, Event]:
    """Existing events (deleted ones included) by public id, for importers that update in place."""
    wanted = list(ids)
    found: dict[str, Event] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        found.update({e.id: e for e in session.scalars(select(Event).where(Event.id.in_(chunk)))})
    return found
