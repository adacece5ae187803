"""Set-based writes for bulk imports: a staging table, then a few statements instead of a million.

An import row by row through the ORM costs milliseconds per event: each one is several INSERTs,
and every INSERT into ``events`` fires triggers that update the R*Tree, the two count tables and
the data version one row at a time (migrations 0001, 0004, 0006). Here checked events are first
staged in temporary tables (executemany on SQLite, ``COPY`` on PostgreSQL), and only then written
with one ``INSERT … SELECT`` per table, all inside the caller's write transaction: a rollback, or a
process killed at any point, leaves nothing behind, temporary tables included.

For a bulk load the per-row triggers are suspended for the length of those statements and their
work is done once, set-based. That includes the search index: each event's words are folded in
Python as it is staged and written with one statement, instead of by a trigger per row (calling the
Python folding on SQLite, or the PL/pgSQL folding, five times slower, on PostgreSQL). On SQLite the
triggers are dropped and recreated from their own stored SQL (SQLite's DDL is transactional, so
other connections never see them missing); on PostgreSQL they are disabled and enabled again
(``ALTER TABLE … DISABLE TRIGGER`` takes a SHARE ROW EXCLUSIVE lock: readers go on; writers wait, as
they wait for the write lock anyway). Only triggers this module knows how to replace are touched;
any other trigger stays in force and does its work row by row, so a new derived table is never
silently left out. The statements that replace them use the migrations' own expressions, and
tests/domain/test_bulk_import.py checks that the result is what the triggers make.

The store knows nothing of features: the domain (timeline/domain/importing.py) decides what a
row holds and hands over plain values; this module decides how each backend stores them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import BindParameter, DateTime, Integer, String, bindparam, text
from sqlalchemy.engine import Connection

from timeline.store.db import DbSession
from timeline.store.folding import search_text
from timeline.store.maintenance import pack_rtree

# The event columns a staged row carries, in order (the other columns are the same for every new
# event: timestamps, version 1, no author, not deleted).
EVENT_COLUMNS = (
    "id", "title", "description", "lang", "start_date", "end_date", "date_precision", "first_day",
    "last_day", "geometry", "geometry_type", "min_lon", "min_lat", "max_lon", "max_lat", "place",
    "category_slug", "actors", "confidence", "status", "external_id", "attributes", "region_code",
    "region_name", "country_code", "country_name",
)  # fmt: skip
_DATE_COLUMNS = {EVENT_COLUMNS.index("first_day"), EVENT_COLUMNS.index("last_day")}
_JSON = {"actors", "attributes"}
_JSON_COLUMNS = [EVENT_COLUMNS.index(name) for name in sorted(_JSON)]
_WORDS_OF = [EVENT_COLUMNS.index(name) for name in ("title", "description", "place", "actors")]
SOURCE_COLUMNS = ("position", "url", "outlet", "title", "published")

# Fewer new events than this are written with the triggers in force: suspending them costs DDL
# (and, on SQLite, makes every other connection reread the schema), which only pays for many rows.
BULK_MIN_ROWS = 500

_REAL = {"min_lon", "min_lat", "max_lon", "max_lat"}
# Where each backend keeps a connection's temporary tables; named, so that creating or dropping
# one can never touch a real table of the same name.
_TEMP = {"sqlite": "temp", "postgresql": "pg_temp"}


@dataclass(frozen=True)
class StagedEvent:
    """One checked feature: its index in the file, the event's columns, and what is derived from it.

    ``values`` follows :data:`EVENT_COLUMNS` (dates as :class:`date`, actors as a list);
    ``feature`` is the JSON text the feature cache holds; ``snapshot`` and ``changes`` are the
    revision's, as Python values; ``sources`` are (position, url, outlet, title, published).
    """

    index: int
    values: tuple[Any, ...]
    feature: str
    snapshot: dict[str, Any]
    changes: dict[str, Any]
    sources: Sequence[tuple[int, str | None, str, str, str | None]]


@dataclass(frozen=True)
class AuditFields:
    """Who the audit entries of an import name (what ``timeline.domain.audit.record`` would write)."""

    user_id: int | None
    username: str
    action: str
    remote_addr: str


@dataclass(frozen=True)
class Existing:
    """A staged row whose id is already an event's: the domain updates it through the ORM."""

    index: int
    event_id: str
    snapshot: dict[str, Any]


class Staging:
    """Temporary tables of checked rows for one import, in the caller's transaction.

    The tables are dropped by :meth:`close`, at commit (PostgreSQL's ON COMMIT DROP), or with the
    connection.
    """

    def __init__(self, session: DbSession):
        self.session = session
        self.connection: Connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.rows = 0
        serializer = getattr(self.connection.dialect, "_json_serializer", None)
        self._dumps: Callable[[Any], str] = serializer or json.dumps
        self._create()

    # ------------------------------------------------------------------ staging

    def _create(self) -> None:
        pg = self.dialect == "postgresql"
        types = {"first_day": "date", "last_day": "date"} if pg else {}
        real = "double precision" if pg else "REAL"
        json_type = "json" if pg else "TEXT"
        columns = ", ".join(
            f"{c} {types.get(c) or (real if c in _REAL else json_type if c in _JSON else 'TEXT')}"
            for c in EVENT_COLUMNS[1:]
        )
        temp = _TEMP[self.dialect]
        tail = " ON COMMIT DROP" if pg else ""
        self._drop()
        words = ", ".join(f"{name} TEXT" for name in WORD_COLUMNS)
        self._sql(
            f"CREATE TABLE {temp}.import_rows (idx INTEGER PRIMARY KEY, id TEXT NOT NULL, {columns}, "
            f"feature TEXT, snapshot {json_type}, changes {json_type}, pk INTEGER, existing_pk INTEGER, "
            f"{words}){tail}"
        )
        self._sql(
            f"CREATE TABLE {temp}.import_sources (idx INTEGER NOT NULL, position INTEGER NOT NULL, "
            f"url TEXT, outlet TEXT, title TEXT, published TEXT, outlet_words TEXT){tail}"
        )

    def _drop(self) -> None:
        for table in ("import_rows", "import_sources"):
            self._sql(f"DROP TABLE IF EXISTS {_TEMP[self.dialect]}.{table}")

    def close(self) -> None:
        """Drop the staging tables (a dry run's, or before the transaction goes on to other work)."""
        self._drop()

    def _sql(self, sql: str, params: Any = None) -> Any:
        return (
            self.connection.exec_driver_sql(sql, params)
            if params is not None
            else (self.connection.exec_driver_sql(sql))
        )

    def add_ids(self, rows: Sequence[tuple[int, str]]) -> None:
        """Stage (index, id) of checked features once one was bad: all that finding the file's
        repeated ids, the rest of its report, needs."""
        if not rows:
            return
        self.rows += len(rows)
        if self.dialect == "postgresql":
            self._copy("import_rows", ("idx", "id"), rows)
        else:
            self._sql("INSERT INTO import_rows (idx, id) VALUES (?, ?)", list(rows))

    def add(self, batch: Sequence[StagedEvent]) -> None:
        """Stage a batch of checked events and their sources."""
        if not batch:
            return
        self.rows += len(batch)
        dumps = self._dumps
        pg = self.dialect == "postgresql"
        rows = []
        sources: list[tuple[Any, ...]] = []
        for staged in batch:
            values = list(staged.values)
            for i in _JSON_COLUMNS:
                values[i] = dumps(values[i])
            if not pg:
                for i in _DATE_COLUMNS:
                    values[i] = cast(date, values[i]).isoformat()
            words = event_words(*(staged.values[i] for i in _WORDS_OF))
            rows.append(
                (staged.index, *values, staged.feature, dumps(staged.snapshot), dumps(staged.changes), *words)
            )
            sources += [(staged.index, *source, search_text(source[2])) for source in staged.sources]
        columns = ("idx", *EVENT_COLUMNS, "feature", "snapshot", "changes", *WORD_COLUMNS)
        source_columns = ("idx", *SOURCE_COLUMNS, "outlet_words")
        if pg:
            self._copy("import_rows", columns, rows)
            self._copy("import_sources", source_columns, sources)
            return
        marks = ", ".join("?" * len(columns))
        self._sql(f"INSERT INTO import_rows ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608
        if sources:
            marks = ", ".join("?" * len(source_columns))
            self._sql(
                f"INSERT INTO import_sources ({', '.join(source_columns)}) VALUES ({marks})",  # noqa: S608
                sources,
            )

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """PostgreSQL's COPY FROM STDIN into a staging table, on this transaction's connection."""
        if not rows:
            return
        driver = self.connection.connection.driver_connection
        assert driver is not None
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    # ------------------------------------------------------------------ checks over the whole file

    def index_ids(self) -> None:
        """Index the staged ids, once all are in (one sort instead of an index kept up row by row)."""
        self._sql("CREATE INDEX ix_import_rows_id ON import_rows (id)")

    def duplicates(self, limit: int) -> tuple[int, list[tuple[int, str, int]]]:
        """How many staged features repeat an earlier one's id, and the first ``limit`` of them as
        (index, id, index of the first feature with that id), in file order."""
        repeated = (
            "FROM import_rows s JOIN (SELECT id, min(idx) AS first FROM import_rows GROUP BY id "
            "HAVING count(*) > 1) f ON f.id = s.id WHERE s.idx > f.first"
        )
        total = self._sql(f"SELECT count(*) {repeated}").scalar() or 0
        if not total:
            return 0, []
        rows = self._sql(f"SELECT s.idx, s.id, f.first {repeated} ORDER BY s.idx LIMIT {int(limit)}")
        return total, [(int(i), str(event_id), int(first)) for i, event_id, first in rows]

    def external_id_clashes(self, limit: int) -> list[tuple[int, str, str]]:
        """Staged features whose ``external_id`` an earlier feature of the file, or another event,
        already has, as (index, external id, who has it), at most ``limit``, in file order.

        One dataset id names one event: a second holder would make a newer file's update ambiguous
        (and the unique index would refuse it with an error, not a report)."""
        repeated = (
            "SELECT s.idx, s.external_id, f.first FROM import_rows s JOIN (SELECT external_id, "
            "min(idx) AS first FROM import_rows WHERE external_id IS NOT NULL GROUP BY external_id "
            "HAVING count(*) > 1) f ON f.external_id = s.external_id WHERE s.idx > f.first"
        )
        held = (
            "SELECT s.idx, s.external_id, e.id FROM import_rows s JOIN events e "
            "ON e.external_id = s.external_id WHERE e.id <> s.id"
        )
        in_file = self._sql(f"{repeated} LIMIT {int(limit)}").all()
        stored = self._sql(f"{held} LIMIT {int(limit)}").all()
        clashes = [(int(i), str(x), f"feature {int(first)}") for i, x, first in in_file]
        clashes += [(int(i), str(x), f"event {event_id!r}") for i, x, event_id in stored]
        return sorted(clashes)[:limit]

    def mark_existing(self) -> int:
        """Note which staged ids are already events' (those are updates); how many are."""
        if self.dialect == "postgresql":
            self._sql("UPDATE import_rows s SET existing_pk = e.pk FROM events e WHERE e.id = s.id")
        else:
            self._sql("UPDATE import_rows SET existing_pk = e.pk FROM events e WHERE e.id = import_rows.id")
        return int(self._sql("SELECT count(*) FROM import_rows WHERE existing_pk IS NOT NULL").scalar() or 0)

    def drop_unchanged(self, server_managed: Sequence[str]) -> int:
        """Leave out the staged rows that would change nothing; how many there were.

        A row is unchanged when its Feature, less the ``server_managed`` properties (version and
        timestamps), equals its event's cached Feature less the same, and the event is live, with
        the same region (which the Feature does not carry) and no publication to record. Both are
        the same serializer's text (``feature_json``), so the comparison needs no Python: a file
        imported again, as a dataset's monthly refresh is, costs a statement instead of an ORM load
        per event. Rows that fail any test go through the ORM as before, which compares them fully.
        """
        pg = self.dialect == "postgresql"
        if pg:
            paths = " ".join(f"#- '{{properties,{name}}}'" for name in server_managed)
            same = f"(s.feature::jsonb {paths}) = (c.json::jsonb {paths})"
        else:
            paths = ", ".join(f"'$.properties.{name}'" for name in server_managed)
            same = f"json_remove(s.feature, {paths}) = json_remove(c.json, {paths})"
        unchanged = (
            "SELECT s.idx FROM import_rows s JOIN events e ON e.pk = s.existing_pk "  # noqa: S608
            "JOIN feature_cache c ON c.event_pk = s.existing_pk "
            "WHERE e.deleted_at IS NULL AND (e.was_published OR e.status <> 'published') "
            "AND s.region_code IS NOT DISTINCT FROM e.region_code "
            "AND s.country_code IS NOT DISTINCT FROM e.country_code "
            f"AND {same}"
        )
        if not pg:
            unchanged = unchanged.replace("IS NOT DISTINCT FROM", "IS")
        self._sql("DROP TABLE IF EXISTS import_unchanged")
        self._sql(f"CREATE TEMPORARY TABLE import_unchanged AS {unchanged}")
        count = int(self._sql("SELECT count(*) FROM import_unchanged").scalar() or 0)
        if count:
            for table in ("import_rows", "import_sources"):
                self._sql(f"DELETE FROM {table} WHERE idx IN (SELECT idx FROM import_unchanged)")  # noqa: S608
        self._sql("DROP TABLE import_unchanged")
        return count

    def existing(self, batch: int = 1000) -> Iterator[list[Existing]]:
        """The staged rows that update an existing event, in file order, ``batch`` at a time."""
        after = -1
        while True:
            rows = self._sql(
                "SELECT idx, id, snapshot FROM import_rows WHERE existing_pk IS NOT NULL AND idx > "  # noqa: S608
                f"{int(after)} ORDER BY idx LIMIT {int(batch)}"
            ).all()
            if not rows:
                return
            yield [
                Existing(int(i), str(event_id), snap if isinstance(snap, dict) else json.loads(snap))
                for i, event_id, snap in rows
            ]
            after = rows[-1][0]

    # ------------------------------------------------------------------ writing the new events

    def insert_new(self, now: datetime, who: AuditFields) -> int:
        """Write every staged row that is not an existing event's: events, sources, revisions,
        feature cache and audit entries, then the R*Tree, counts and data version in bulk (or
        through the triggers, for fewer than BULK_MIN_ROWS). Returns how many events were made."""
        count = int(self._sql("SELECT count(*) FROM import_rows WHERE existing_pk IS NULL").scalar() or 0)
        if not count:
            return 0
        first = self._reserve_keys(count)
        self._sql(
            "UPDATE import_rows SET pk = n.pk FROM (SELECT idx, "  # noqa: S608
            f"{first - 1} + row_number() OVER (ORDER BY idx) AS pk FROM import_rows "
            "WHERE existing_pk IS NULL) n WHERE import_rows.idx = n.idx"
        )
        bulk = count >= BULK_MIN_ROWS
        suspended = self._suspend_triggers() if bulk else {}
        last = first + count - 1
        self._insert_rows(now, who)
        if "events_search_insert" in suspended:
            self._fill_sqlite_search(first, last)
        self._resume_triggers(suspended)
        if "events_counts" in suspended or "events_counts_insert" in suspended:
            fill_counts(self.connection, first, last)
        if "events_span_counts" in suspended or "events_span_counts_insert" in suspended:
            fill_span_counts(self.connection, first, last)
        if "events_rtree_insert" in suspended:
            pack_rtree(self.session, first_new=first)
        if {"events_data_version_insert", "sources_data_version_insert"} & suspended.keys():
            self._sql(BUMP_DATA_VERSION)
        return count

    def _reserve_keys(self, count: int) -> int:
        """The first of ``count`` consecutive new event keys, taken as the ORM would take them.

        SQLite gives a new row the largest key plus one; PostgreSQL takes keys from the column's
        sequence, which is moved past the block here (every writer holds the write lock, see
        :func:`timeline.store.db.writing`, so no other transaction takes keys in between).
        """
        if self.dialect != "postgresql":
            return int(self._sql("SELECT coalesce(max(pk), 0) + 1 FROM events").scalar() or 1)
        sequence = "pg_get_serial_sequence('events', 'pk')"
        first = int(self._sql(f"SELECT nextval({sequence})").scalar() or 1)
        if count > 1:
            self._sql(f"SELECT setval({sequence}, {first + count - 1})")
        return first

    def _insert_rows(self, now: datetime, who: AuditFields) -> None:
        """The INSERT … SELECT of each table. On PostgreSQL the search vectors are written from the
        words staged beside each row (a search trigger still in force computes the same again); on
        SQLite :meth:`_fill_sqlite_search` writes the FTS5 entries after."""
        columns = ", ".join(EVENT_COLUMNS)
        new = "FROM import_rows WHERE pk IS NOT NULL"
        typed: list[BindParameter[Any]] = [
            bindparam("now", now, type_=DateTime(timezone=True)),
            bindparam("user_id", who.user_id, type_=Integer()),
            bindparam("username", who.username, type_=String()),
            bindparam("action", who.action, type_=String()),
            bindparam("addr", who.remote_addr, type_=String()),
            bindparam("published", "published", type_=String()),
        ]

        def run(sql: str) -> None:
            if self.dialect == "postgresql":  # a NULL parameter has no type there unless it is cast
                sql = sql.replace(":user_id", "CAST(:user_id AS INTEGER)")
            statement = text(sql).bindparams(*[p for p in typed if f":{p.key}" in sql])
            self.connection.execute(statement)

        public = "(status = :published)"
        # Migration 0009's vectors (tl_event_words, tl_search_lexemes) from the words folded in Python.
        pg = self.dialect == "postgresql"
        search, vector = (", search", f", {EVENT_VECTOR}") if pg else ("", "")
        run(
            f"INSERT INTO events (pk, {columns}, created_at, updated_at, deleted_at, version, author_id, "
            f"was_published{search}) SELECT pk, {columns}, :now, :now, NULL, 1, NULL, {public}{vector} "
            f"{new} ORDER BY pk"
        )
        outlet = ", tl_search_lexemes(s.outlet_words, '2')" if pg else ""
        run(
            f"INSERT INTO sources (event_pk, {', '.join(SOURCE_COLUMNS)}{search}) "  # noqa: S608
            f"SELECT r.pk, {', '.join('s.' + c for c in SOURCE_COLUMNS)}{outlet} FROM import_sources s "
            "JOIN import_rows r ON r.idx = s.idx WHERE r.pk IS NOT NULL ORDER BY r.pk, s.position"
        )
        run(
            "INSERT INTO revisions (event_pk, version, action, user_id, created_at, changes, snapshot, "
            f"public) SELECT pk, 1, :action, :user_id, :now, changes, snapshot, {public} {new} ORDER BY pk"
        )
        run(f"INSERT INTO feature_cache (event_pk, json) SELECT pk, feature {new} ORDER BY pk")
        run(
            "INSERT INTO audit_log (at, user_id, username, action, target, detail, remote_addr) "
            f"SELECT :now, :user_id, :username, :action, substr(id, 1, 200), 'version 1', :addr {new} "
            "ORDER BY pk"
        )

    def _fill_sqlite_search(self, first: int, last: int) -> None:
        """The FTS5 entries of the new events (keys ``first``..``last``) and their sources, from the
        staged words: what migration 0009's insert triggers write one row at a time, each through
        the Python function ``tl_search_text``. Entries left under those keys (none, unless rows
        were deleted behind the triggers' back) go first, as the triggers' DELETE does."""
        keys = f"BETWEEN {int(first)} AND {int(last)}"
        self._sql(f"DELETE FROM event_search WHERE rowid {keys}")  # noqa: S608
        self._sql(
            "INSERT INTO event_search (rowid, title, description, place, actors) "  # noqa: S608
            f"SELECT pk, {', '.join(WORD_COLUMNS)} FROM import_rows WHERE pk IS NOT NULL ORDER BY pk"
        )
        # CROSS JOIN keeps this order: each staged source, its row by idx, its stored source through
        # ix_sources_event_pk (the other way round, import_rows.pk has no index to look up).
        new_sources = (
            "FROM import_sources i CROSS JOIN import_rows r CROSS JOIN sources s "
            "WHERE r.idx = i.idx AND r.pk IS NOT NULL AND s.event_pk = r.pk AND s.position = i.position"
        )
        self._sql(f"DELETE FROM source_search WHERE rowid IN (SELECT s.pk {new_sources})")  # noqa: S608
        outlets = f"SELECT s.pk, i.outlet_words {new_sources} ORDER BY s.pk"
        self._sql(f"INSERT INTO source_search (rowid, outlet) {outlets}")

    # ------------------------------------------------------------------ triggers

    def _suspend_triggers(self) -> dict[str, str]:
        """Take the known per-row triggers out for the inserts; name -> how to put each back."""
        if self.dialect == "postgresql":
            suspended: dict[str, str] = {}
            for table, name in PG_SUSPENDED:
                owner = self._sql(
                    "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "  # noqa: S608
                    f"JOIN pg_trigger t ON t.tgrelid = c.oid WHERE c.oid = '{table}'::regclass "
                    f"AND t.tgname = '{name}' AND t.tgenabled <> 'D'"
                ).scalar()
                if not owner:  # no such trigger, or not ours to disable: it stays in force
                    continue
                self._sql(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
                suspended[name] = f"ALTER TABLE {table} ENABLE TRIGGER {name}"
            return suspended
        names = ", ".join(f"'{name}'" for name in SQLITE_SUSPENDED)
        saved = {
            str(name): str(sql)
            for name, sql in self._sql(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"  # noqa: S608
            )
        }
        for name in saved:
            self._sql(f'DROP TRIGGER "{name}"')
        return saved

    def _resume_triggers(self, suspended: dict[str, str]) -> None:
        for sql in suspended.values():
            self._sql(sql)


# SQLite's per-row INSERT triggers whose work insert_new() does in bulk instead.
SQLITE_SUSPENDED = (
    "events_search_insert",
    "sources_search_insert",
    "events_rtree_insert",
    "events_counts_insert",
    "events_span_counts_insert",
    "events_data_version_insert",
    "sources_data_version_insert",
)
# PostgreSQL's count triggers (migrations 0004 and 0012) and search vector triggers (0016), as
# (table, trigger), disabled for a bulk load.
PG_SUSPENDED = (
    ("events", "events_counts"),
    ("events", "events_span_counts"),
    ("events", "events_search"),
    ("sources", "sources_search"),
)
# A staged event's words per field, as :func:`event_words` folds them.
WORD_COLUMNS = ("title_words", "description_words", "place_words", "actors_words")
# tl_event_words (migration 0009) of staged words: the title's with weight A, the rest without
# (the words of concat_ws of the other fields are those of each field, one space apart).
EVENT_VECTOR = (
    "tl_search_lexemes(title_words, '1A') || "
    "tl_search_lexemes(concat_ws(' ', nullif(description_words, ''), nullif(place_words, ''), "
    "nullif(actors_words, '')), '2')"
)


def event_words(
    title: str | None, description: str | None, place: str | None, actors: Any
) -> tuple[str | None, str | None, str | None, str | None]:
    """Each searched field's words as :func:`timeline.store.folding.search_text` folds them: what
    SQLite's search triggers write into the FTS5 columns (the actors one space apart, as their
    ``group_concat`` of ``json_each`` joins them), and what PostgreSQL's ``tl_event_words`` makes
    its vector of."""
    names = [a if isinstance(a, str) else json.dumps(a) for a in actors or () if a is not None]
    actor_text = " ".join(names) if names else None
    return search_text(title), search_text(description), search_text(place), search_text(actor_text)


# Migration 0006's statement: one bump for the whole import instead of one per row.
BUMP_DATA_VERSION = (
    "INSERT INTO data_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = data_version.version + 1"
)

# ---------------------------------------------------------------------------- the count tables

# Migration 0004's expressions (its _SQLITE_WEEK, _PG_WEEK, _CX/_CY, _PG_CX/_PG_CY and _SMALL),
# over the events table's own columns. They must stay the same as the triggers'.
CELL = repr(360.0 / 1024)
_WEEK = {
    "sqlite": "CAST((julianday(first_day) - 2440587.5 + 700003) / 7 AS INTEGER) - 100000",
    "postgresql": "floor(((first_day - DATE '1970-01-01') + 3) / 7.0)::integer",
}
_CX = {
    "sqlite": f"CAST(((min_lon + max_lon) / 2 + 180) / {CELL} AS INTEGER)",
    "postgresql": f"floor(((min_lon + max_lon) / 2 + 180) / {CELL})::integer",
}
_CY = {
    "sqlite": f"CAST(((min_lat + max_lat) / 2 + 90) / {CELL} AS INTEGER)",
    "postgresql": f"floor(((min_lat + max_lat) / 2 + 90) / {CELL})::integer",
}
_SMALL = f"(max_lon - min_lon) < {CELL} AND (max_lat - min_lat) < {CELL}"
_KEY = "category_slug, confidence, status"


def fill_counts(connection: Connection, first: int, last: int) -> None:
    """Add the live events with keys ``first``..``last`` to the week and cell counts, as the
    insert triggers of migration 0004 would have one by one (the sums of longitudes and latitudes
    may differ from the triggers' in the last bits: floating-point sums depend on their order)."""
    dialect = connection.dialect.name
    rows = f"FROM events WHERE pk BETWEEN {int(first)} AND {int(last)} AND deleted_at IS NULL"
    # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT (its documented rule).
    connection.exec_driver_sql(
        f"INSERT INTO event_week_counts (week, {_KEY}, n) SELECT * FROM ("  # noqa: S608
        f"SELECT {_WEEK[dialect]} AS week, {_KEY}, count(*) AS n {rows} GROUP BY 1, {_KEY}) AS added "
        f"WHERE true ON CONFLICT (week, {_KEY}) DO UPDATE SET n = event_week_counts.n + excluded.n"
    )
    connection.exec_driver_sql(
        f"INSERT INTO event_cell_counts (cx, cy, {_KEY}, n, sum_lon, sum_lat) SELECT * FROM ("  # noqa: S608
        f"SELECT {_CX[dialect]} AS cx, {_CY[dialect]} AS cy, {_KEY}, count(*) AS n, "
        f"sum((min_lon + max_lon) / 2) AS sum_lon, sum((min_lat + max_lat) / 2) AS sum_lat "
        f"{rows} AND {_SMALL} GROUP BY 1, 2, {_KEY}) AS added WHERE true "
        f"ON CONFLICT (cx, cy, {_KEY}) DO UPDATE SET n = event_cell_counts.n + excluded.n, "
        "sum_lon = event_cell_counts.sum_lon + excluded.sum_lon, "
        "sum_lat = event_cell_counts.sum_lat + excluded.sum_lat"
    )


# Migration 0012's last week: the week expression over last_day.
_LAST_WEEK = {dialect: week.replace("first_day", "last_day") for dialect, week in _WEEK.items()}


def fill_span_counts(connection: Connection, first: int, last: int) -> None:
    """Add the live events with keys ``first``..``last`` to the span counts (migration 0012), as
    its insert triggers would have one by one (the sums may differ in the last bits, as above)."""
    dialect = connection.dialect.name
    rows = f"FROM events WHERE pk BETWEEN {int(first)} AND {int(last)} AND deleted_at IS NULL"
    weeks = f"{_WEEK[dialect]} AS first_week, {_LAST_WEEK[dialect]} AS last_week"
    connection.exec_driver_sql(
        f"INSERT INTO event_span_counts (first_week, last_week, {_KEY}, n) SELECT * FROM ("  # noqa: S608
        f"SELECT {weeks}, {_KEY}, count(*) AS n {rows} GROUP BY 1, 2, {_KEY}) AS added WHERE true "
        f"ON CONFLICT (first_week, last_week, {_KEY}) DO UPDATE SET n = event_span_counts.n + excluded.n"
    )
    connection.exec_driver_sql(
        "INSERT INTO event_cell_span_counts "  # noqa: S608
        f"(first_week, last_week, cx, cy, {_KEY}, n, sum_lon, sum_lat) SELECT * FROM ("
        f"SELECT {weeks}, {_CX[dialect]} AS cx, {_CY[dialect]} AS cy, {_KEY}, count(*) AS n, "
        f"sum((min_lon + max_lon) / 2) AS sum_lon, sum((min_lat + max_lat) / 2) AS sum_lat "
        f"{rows} AND {_SMALL} GROUP BY 1, 2, 3, 4, {_KEY}) AS added WHERE true "
        f"ON CONFLICT (first_week, last_week, cx, cy, {_KEY}) DO UPDATE SET "
        "n = event_cell_span_counts.n + excluded.n, "
        "sum_lon = event_cell_span_counts.sum_lon + excluded.sum_lon, "
        "sum_lat = event_cell_span_counts.sum_lat + excluded.sum_lat"
    )
