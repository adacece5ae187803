"""Full-text search: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL, filled for the stored events.

``q`` used to be a case-folded LIKE over title, description and place: a scan of every row (19.5 s at
a million events). Now each backend keeps an index of every event's words, from its title,
description, place, actors and the outlets of its sources, and ``q`` is a lookup in it
(timeline/store/search.py). The words are defined once, in timeline/store/folding.py: case folded as
``tl_casefold`` folds (Straße = STRASSE), unaccented by PostgreSQL's unaccent rules, split where
SQLite's unicode61 tokenizer splits. Both backends index exactly those words, so they find the same
events.

SQLite: two FTS5 tables (``unicode61 remove_diacritics 2``, prefix indexes for two and three
letters): ``event_search``, whose rowid is the event's pk, one column per field (``detail=column``:
the title can be told apart, no positions are kept, since no query needs phrases), and
``source_search``, whose rowid is the source's pk, for the outlets (``detail=none``). The outlets
are an index of their own because FTS5 keeps new entries in memory only while rowids grow: an entry
rewritten right after it was added (the event's, for each source saved after it) first writes the
pending entries to disk, a segment per source row for FTS5 to merge later.

Both keep their own copy of the folded text instead of being external-content or contentless
indexes. Those must be told, on every update and delete, exactly the text they once indexed, which
triggers would have to recompute through a Python function (``tl_search_text``): any difference (a
later Python whose casefold knows letters this one does not) would leave stale words in the index
for good, silently. With the text stored, FTS5 removes exactly what it added. The price is that text
once more: about 1 KB per event of the benchmark's data.

Triggers keep both in step inside the writing transaction, however rows are written (ORM, Core,
executemany, INSERT … SELECT, plain SQL):

- events: AFTER INSERT and AFTER UPDATE OF title, description, place, actors write the event's
  entry afresh; AFTER DELETE removes it;
- sources: AFTER INSERT and UPDATE OF outlet write the source's entry, AFTER DELETE removes it (which
  event a source belongs to is read from ``sources`` when searching, so moving one needs nothing).

A soft delete is an UPDATE of ``deleted_at`` and leaves the index alone: the index holds every row,
drafts and deleted ones too, and the filters on ``deleted_at`` and ``status`` stay in SQL. Nothing is
needed after a bulk load. What the triggers cost: a set-based ``INSERT … SELECT`` pays FTS5's own
work, about 40 µs an event of the benchmark's data, and the Python folding, about 80 µs; a statement
that writes one row (the ORM, executemany) pays about 0.3 ms more, since SQLite 3.40's FTS5 writes its
pending entries to disk at every statement's savepoint. ``timeline.store.search.rebuild_search_index``
re-indexes given events, or all, for rows that reached the tables without the triggers, and as a
repair. The triggers call ``tl_search_text``, which the app registers on each of its connections (as
it does ``tl_casefold``): a write to events or sources from a connection without it (the sqlite3
shell) fails with "no such function" rather than leave the index behind.

PostgreSQL: ``events.search`` and ``sources.search``, tsvectors of the same words, each with a GIN
index (``ix_events_search``, ``ix_sources_search``). They are generated columns, like ``geom`` in
0003: computed by the database from the row itself on every write (COPY included), so they cannot
drift from the text and need no trigger. The outlets have a column of their own because a generated
column reads only its own row, and because keeping them in the event's vector took a trigger that
rewrote the event's row after every statement writing its sources: each event written twice, into
every one of its indexes. The words come from ``tl_search_words``: ``tl_casefold``'s
folding (migration 0003), then ``unaccent`` (the extension, created here if missing; it is a
trusted extension, which the database's owner may create), then the split of SQLite, as a regular
expression over the same separators. They become lexemes as they are, as the ``simple``
configuration keeps words (no stemming, no stop words), but without to_tsvector's word parser,
whose rules follow the server's locale and know URLs and host names (under a ``C`` locale
``«Суджа»`` is one word), so its words would not be SQLite's. Title words carry weight A, the others
none of it: ``sort=relevance`` ranks by title words on both backends. Adding the columns rewrites
both tables, computing the words of the rows already there (about 90 µs an event).

The downgrade drops the indexes, their tables, columns, triggers and functions; the unaccent
extension stays (other objects may use it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EVENT_FIELDS = ("title", "description", "place", "actors")
MAX_WORD = 200  # timeline.store.folding.MAX_WORD
# What tl_casefold (0003) changes after lower(), its translate() and replace() characters, but for
# the two that everyday text holds, ß (German) and ς (Greek), which tl_search_words folds itself.
CASEFOLD_BEYOND_LOWER = (
    r"\u00b5\u0149\u017f\u01f0\u0345\u0390\u03b0\u03d0-\u03d1\u03d5-\u03d6\u03f0-\u03f1"
    r"\u03f5\u0587\u13f8-\u13fd\u1c80-\u1c88\u1e96-\u1e9b\u1f50\u1f52\u1f54\u1f56\u1f80-\u1f87"
    r"\u1f90-\u1f97\u1fa0-\u1fa7\u1fb2-\u1fb4\u1fb6-\u1fb7\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fc7\u1fd2-\u1fd3"
    r"\u1fd6-\u1fd7\u1fe2-\u1fe4\u1fe6-\u1fe7\u1ff2-\u1ff4\u1ff6-\u1ff7\uab70-\uabbf\ufb00-\ufb06"
    r"\ufb13-\ufb17"
)
# The separators of timeline/store/folding.py, character for character (a test compares them), in
# escapes that both Python's re and PostgreSQL's regular expressions read.
# fmt: off
SEPARATORS = (
    r"\u0001-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u00a9\u00ab-\u00b1\u00b4\u00b6-\u00b8\u00bb\u00bf"
    r"\u00d7\u00f7\u02c2-\u02c5\u02d2-\u02df\u02e5-\u02eb\u02ed\u02ef-\u02ff\u0305\u030d-\u030e\u0310"
    r"\u0312-\u031a\u031c-\u0322\u0329-\u032c\u032f\u0332-\u036f\u0375\u037e\u0384-\u0385\u0387\u03f6"
    r"\u0482-\u0489\u055a-\u055f\u0589-\u058a\u058f\u0591-\u05c7\u05f3-\u05f4\u0600-\u0604\u0606-"
    r"\u061b\u061e-\u061f\u064b-\u065f\u066a-\u066d\u0670\u06d4\u06d6-\u06e4\u06e7-\u06ed\u06fd-\u06fe"
    r"\u0700-\u070d\u070f\u0711\u0730-\u074a\u07a6-\u07b0\u07eb-\u07f3\u07f6-\u07f9\u0816-\u0819\u081b"
    r"-\u0823\u0825-\u0827\u0829-\u082d\u0830-\u083e\u0859-\u085b\u085e\u08e4-\u08fe\u0900-\u0903"
    r"\u093a-\u093c\u093e-\u094f\u0951-\u0957\u0962-\u0965\u0970\u0981-\u0983\u09bc\u09be-\u09c4\u09c7"
    r"-\u09c8\u09cb-\u09cd\u09d7\u09e2-\u09e3\u09f2-\u09f3\u09fa-\u09fb\u0a01-\u0a03\u0a3c\u0a3e-"
    r"\u0a42\u0a47-\u0a48\u0a4b-\u0a4d\u0a51\u0a70-\u0a71\u0a75\u0a81-\u0a83\u0abc\u0abe-\u0ac5\u0ac7-"
    r"\u0ac9\u0acb-\u0acd\u0ae2-\u0ae3\u0af0-\u0af1\u0b01-\u0b03\u0b3c\u0b3e-\u0b44\u0b47-\u0b48\u0b4b"
    r"-\u0b4d\u0b56-\u0b57\u0b62-\u0b63\u0b70\u0b82\u0bbe-\u0bc2\u0bc6-\u0bc8\u0bca-\u0bcd\u0bd7\u0bf3"
    r"-\u0bfa\u0c01-\u0c03\u0c3e-\u0c44\u0c46-\u0c48\u0c4a-\u0c4d\u0c55-\u0c56\u0c62-\u0c63\u0c7f"
    r"\u0c82-\u0c83\u0cbc\u0cbe-\u0cc4\u0cc6-\u0cc8\u0cca-\u0ccd\u0cd5-\u0cd6\u0ce2-\u0ce3\u0d02-"
    r"\u0d03\u0d3e-\u0d44\u0d46-\u0d48\u0d4a-\u0d4d\u0d57\u0d62-\u0d63\u0d79\u0d82-\u0d83\u0dca\u0dcf-"
    r"\u0dd4\u0dd6\u0dd8-\u0ddf\u0df2-\u0df4\u0e31\u0e34-\u0e3a\u0e3f\u0e47-\u0e4f\u0e5a-\u0e5b\u0eb1"
    r"\u0eb4-\u0eb9\u0ebb-\u0ebc\u0ec8-\u0ecd\u0f01-\u0f1f\u0f34-\u0f3f\u0f71-\u0f87\u0f8d-\u0f97"
    r"\u0f99-\u0fbc\u0fbe-\u0fcc\u0fce-\u0fda\u102b-\u103e\u104a-\u104f\u1056-\u1059\u105e-\u1060"
    r"\u1062-\u1064\u1067-\u106d\u1071-\u1074\u1082-\u108d\u108f\u109a-\u109f\u10fb\u135d-\u1368\u1390"
    r"-\u1399\u1400\u166d-\u166e\u1680\u169b-\u169c\u16eb-\u16ed\u1712-\u1714\u1732-\u1736\u1752-"
    r"\u1753\u1772-\u1773\u17b4-\u17d6\u17d8-\u17db\u17dd\u1800-\u180e\u18a9\u1920-\u192b\u1930-\u193b"
    r"\u1940\u1944-\u1945\u19b0-\u19c0\u19c8-\u19c9\u19de-\u19ff\u1a17-\u1a1b\u1a1e-\u1a1f\u1a55-"
    r"\u1a5e\u1a60-\u1a7c\u1a7f\u1aa0-\u1aa6\u1aa8-\u1aad\u1b00-\u1b04\u1b34-\u1b44\u1b5a-\u1b7c\u1b80"
    r"-\u1b82\u1ba1-\u1bad\u1be6-\u1bf3\u1bfc-\u1bff\u1c24-\u1c37\u1c3b-\u1c3f\u1c7e-\u1c7f\u1cc0-"
    r"\u1cc7\u1cd0-\u1ce8\u1ced\u1cf2-\u1cf4\u1dc0-\u1de6\u1dfc-\u1dff\u1fbd\u1fbf-\u1fc1\u1fcd-\u1fcf"
    r"\u1fdd-\u1fdf\u1fed-\u1fef\u1ffd-\u1ffe\u2000-\u2064\u206a-\u206f\u207a-\u207e\u208a-\u208e"
    r"\u20a0-\u20b9\u20d0-\u20f0\u2100-\u2101\u2103-\u2106\u2108-\u2109\u2114\u2116-\u2118\u211e-"
    r"\u2123\u2125\u2127\u2129\u212e\u213a-\u213b\u2140-\u2144\u214a-\u214d\u214f\u2190-\u23f3\u2400-"
    r"\u2426\u2440-\u244a\u249c-\u24e9\u2500-\u26ff\u2701-\u2775\u2794-\u2b4c\u2b50-\u2b59\u2ce5-"
    r"\u2cea\u2cef-\u2cf1\u2cf9-\u2cfc\u2cfe-\u2cff\u2d70\u2d7f\u2de0-\u2e2e\u2e30-\u2e3b\u2e80-\u2e99"
    r"\u2e9b-\u2ef3\u2f00-\u2fd5\u2ff0-\u2ffb\u3000-\u3004\u3008-\u3020\u302a-\u3030\u3036-\u3037"
    r"\u303d-\u303f\u3099-\u309c\u30a0\u30fb\u3190-\u3191\u3196-\u319f\u31c0-\u31e3\u3200-\u321e\u322a"
    r"-\u3247\u3250\u3260-\u327f\u328a-\u32b0\u32c0-\u32fe\u3300-\u33ff\u4dc0-\u4dff\ua490-\ua4c6"
    r"\ua4fe-\ua4ff\ua60d-\ua60f\ua66f-\ua67e\ua69f\ua6f0-\ua6f7\ua700-\ua716\ua720-\ua721\ua789-"
    r"\ua78a\ua802\ua806\ua80b\ua823-\ua82b\ua836-\ua839\ua874-\ua877\ua880-\ua881\ua8b4-\ua8c4\ua8ce-"
    r"\ua8cf\ua8e0-\ua8f1\ua8f8-\ua8fa\ua926-\ua92f\ua947-\ua953\ua95f\ua980-\ua983\ua9b3-\ua9cd\ua9de"
    r"-\ua9df\uaa29-\uaa36\uaa43\uaa4c-\uaa4d\uaa5c-\uaa5f\uaa77-\uaa79\uaa7b\uaab0\uaab2-\uaab4\uaab7"
    r"-\uaab8\uaabe-\uaabf\uaac1\uaade-\uaadf\uaaeb-\uaaf1\uaaf5-\uaaf6\uabe3-\uabed\ufb1e\ufb29\ufbb2"
    r"-\ufbc1\ufd3e-\ufd3f\ufdfc-\ufdfd\ufe00-\ufe19\ufe20-\ufe26\ufe30-\ufe52\ufe54-\ufe66\ufe68-"
    r"\ufe6b\ufeff\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\uffe0-\uffe6\uffe8-\uffee\ufff9"
    r"-\uffff\U00010100-\U00010102\U00010137-\U0001013f\U00010179-\U00010189\U00010190-\U0001019b"
    r"\U000101d0-\U000101fd\U0001039f\U000103d0\U00010857\U0001091f\U0001093f\U00010a01-\U00010a03"
    r"\U00010a05-\U00010a06\U00010a0c-\U00010a0f\U00010a38-\U00010a3a\U00010a3f\U00010a50-\U00010a58"
    r"\U00010a7f\U00010b39-\U00010b3f\U00011000-\U00011002\U00011038-\U0001104d\U00011080-\U00011082"
    r"\U000110b0-\U000110c1\U00011100-\U00011102\U00011127-\U00011134\U00011140-\U00011143\U00011180-"
    r"\U00011182\U000111b3-\U000111c0\U000111c5-\U000111c8\U000116ab-\U000116b7\U00012470-\U00012473"
    r"\U00016f51-\U00016f7e\U00016f8f-\U00016f92\U0001d000-\U0001d0f5\U0001d100-\U0001d126\U0001d129-"
    r"\U0001d1dd\U0001d200-\U0001d245\U0001d300-\U0001d356\U0001d6c1\U0001d6db\U0001d6fb\U0001d715"
    r"\U0001d735\U0001d74f\U0001d76f\U0001d789\U0001d7a9\U0001d7c3\U0001eef0-\U0001eef1\U0001f000-"
    r"\U0001f02b\U0001f030-\U0001f093\U0001f0a0-\U0001f0ae\U0001f0b1-\U0001f0be\U0001f0c1-\U0001f0cf"
    r"\U0001f0d1-\U0001f0df\U0001f110-\U0001f12e\U0001f130-\U0001f16b\U0001f170-\U0001f19a\U0001f1e6-"
    r"\U0001f202\U0001f210-\U0001f23a\U0001f240-\U0001f248\U0001f250-\U0001f251\U0001f300-\U0001f320"
    r"\U0001f330-\U0001f335\U0001f337-\U0001f37c\U0001f380-\U0001f393\U0001f3a0-\U0001f3c4\U0001f3c6-"
    r"\U0001f3ca\U0001f3e0-\U0001f3f0\U0001f400-\U0001f43e\U0001f440\U0001f442-\U0001f4f7\U0001f4f9-"
    r"\U0001f4fc\U0001f500-\U0001f53d\U0001f540-\U0001f543\U0001f550-\U0001f567\U0001f5fb-\U0001f640"
    r"\U0001f645-\U0001f64f\U0001f680-\U0001f6c5\U0001f700-\U0001f773\U000e0001\U000e0020-\U000e007f"
    r"\U000e0100-\U000e01ef"
)
# fmt: on


def _execute(sql):
    """DDL as written: not through text(), which would take ``':1A'`` for a bind parameter."""
    op.get_bind().exec_driver_sql(sql)


# ---------------------------------------------------------------------------- SQLite

_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"
_SQLITE_TABLES = (
    f"CREATE VIRTUAL TABLE event_search USING fts5({', '.join(EVENT_FIELDS)}, {_TOKENIZE}, detail = column)",
    f"CREATE VIRTUAL TABLE source_search USING fts5(outlet, {_TOKENIZE}, detail = none)",
)
_EVENT_COLUMNS = f"(rowid, {', '.join(EVENT_FIELDS)})"


def _event_values(row):
    """The index row of the event ``row`` (``new`` in a trigger, ``events`` in the fill)."""
    actors = f"(SELECT group_concat(value, ' ') FROM json_each({row}.actors))"
    texts = [f"{row}.title", f"{row}.description", f"{row}.place", actors]
    return f"{row}.pk, " + ", ".join(f"tl_search_text({t})" for t in texts)


# Each writes a row's entry as a delete, then an insert: an INSERT OR REPLACE in a trigger would take
# the conflict policy of the statement that fired it (INSERT OR IGNORE INTO events: a stale entry).
_SQLITE_TRIGGERS = {
    "events_search_insert": "AFTER INSERT ON events BEGIN "
    "DELETE FROM event_search WHERE rowid = new.pk; "
    f"INSERT INTO event_search {_EVENT_COLUMNS} VALUES ({_event_values('new')}); END",
    "events_search_update": "AFTER UPDATE OF title, description, place, actors ON events BEGIN "
    "DELETE FROM event_search WHERE rowid = old.pk; "
    f"INSERT INTO event_search {_EVENT_COLUMNS} VALUES ({_event_values('new')}); END",
    "events_search_delete": "AFTER DELETE ON events BEGIN DELETE FROM event_search WHERE rowid = old.pk; END",
    "sources_search_insert": "AFTER INSERT ON sources BEGIN "
    "DELETE FROM source_search WHERE rowid = new.pk; "
    "INSERT INTO source_search (rowid, outlet) VALUES (new.pk, tl_search_text(new.outlet)); END",
    "sources_search_update": "AFTER UPDATE OF outlet ON sources BEGIN "
    "DELETE FROM source_search WHERE rowid = old.pk; "
    "INSERT INTO source_search (rowid, outlet) VALUES (new.pk, tl_search_text(new.outlet)); END",
    "sources_search_delete": "AFTER DELETE ON sources BEGIN "
    "DELETE FROM source_search WHERE rowid = old.pk; END",
}


def _upgrade_sqlite():
    for sql in _SQLITE_TABLES:
        _execute(sql)
    _execute(f"INSERT INTO event_search {_EVENT_COLUMNS} SELECT {_event_values('events')} FROM events")
    _execute("INSERT INTO source_search (rowid, outlet) SELECT pk, tl_search_text(outlet) FROM sources")
    for table in ("event_search", "source_search"):  # one segment each, not hundreds
        _execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
    for name, body in _SQLITE_TRIGGERS.items():
        _execute(f"CREATE TRIGGER {name} {body}")


# ---------------------------------------------------------------------------- PostgreSQL


def _pg_functions(unaccent, lowered):
    """The functions. ``unaccent``: the extension's schema, named, so no search_path can hide it;
    ``lowered``: how tl_casefold (0003) lowers ``value`` on this server."""
    words = (
        "DECLARE folded text; BEGIN "
        f"folded := {lowered}; "
        f"IF folded ~ '[{CASEFOLD_BEYOND_LOWER}]' THEN folded := tl_casefold(value); "
        "ELSE folded := replace(replace(folded, 'ß', 'ss'), 'ς', 'σ'); END IF; "
        f"folded := translate({unaccent}.unaccent('{unaccent}.unaccent'::regdictionary, folded), "
        "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'); "
        f"RETURN regexp_replace(btrim(regexp_replace(folded, '[{SEPARATORS}]+', ' ', 'g')), "
        f"'([^ ]{{{MAX_WORD}}})[^ ]+', '\\1', 'g'); END"
    )
    lexemes = "'''' || replace(words, ' ', ''':' || label || ' ''') || ''':' || label"
    return [
        # The words of a text, joined by single spaces (timeline.store.folding.search_text). The
        # folding is tl_casefold's, whose translate() costs 250 µs on a description of 850
        # characters: called only for text holding one of its rarer characters (75 µs, not 300).
        "CREATE FUNCTION tl_search_words(value text) RETURNS text LANGUAGE plpgsql IMMUTABLE "
        f"PARALLEL SAFE AS $words$ {words} $words$",
        # Words as lexemes at one position, with a weight ("1A") or none ("2"): written as a tsvector
        # literal, which needs no parser, since no word holds a quote or a backslash (separators).
        "CREATE FUNCTION tl_search_lexemes(words text, label text) RETURNS tsvector LANGUAGE sql "
        "IMMUTABLE PARALLEL SAFE AS $lexemes$ SELECT CASE WHEN coalesce(words, '') = '' "
        f"THEN ''::tsvector ELSE ({lexemes})::tsvector END $lexemes$",
        # An event's words: its title's with weight A, then description, place and actors. PL/pgSQL,
        # the actors gathered by a statement of their own: in one expression with a subquery, the
        # SQL functions within it would be planned again for every row (400 µs an event, not 80).
        "CREATE FUNCTION tl_event_words(title text, description text, place text, actors json) "
        "RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $event$ "
        "DECLARE names text; BEGIN "
        "IF json_typeof(actors) = 'array' THEN "
        "SELECT string_agg(actor, ' ') INTO names FROM json_array_elements_text(actors) AS actor; END IF; "
        "RETURN tl_search_lexemes(tl_search_words(title), '1A') || tl_search_lexemes("
        "tl_search_words(concat_ws(' ', description, place, names)), '2'); END $event$",
    ]


# The generated columns: each table's words, from its own row.
_PG_COLUMNS = {
    "events": "tl_event_words(title, description, place, actors)",
    "sources": "tl_search_lexemes(tl_search_words(outlet), '2')",
}
_PG_FUNCTIONS = (
    "tl_event_words(text, text, text, json)",
    "tl_search_lexemes(text, text)",
    "tl_search_words(text)",
)


def _upgrade_postgresql():
    bind = op.get_bind()
    _execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'unaccent'"
    ).scalar()
    unaccent = bind.dialect.identifier_preparer.quote(schema)
    has_icu = bind.exec_driver_sql("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'").scalar()
    lowered = 'lower(value COLLATE "und-x-icu")' if has_icu else "lower(value)"  # as 0003 decided
    for sql in _pg_functions(unaccent, lowered):
        _execute(sql)
    for table, words in _PG_COLUMNS.items():
        # Adding the column rewrites the table, computing it for every row already there.
        _execute(f"ALTER TABLE {table} ADD COLUMN search tsvector GENERATED ALWAYS AS ({words}) STORED")
        _execute(f"CREATE INDEX ix_{table}_search ON {table} USING gin (search)")
        _execute(f"ANALYZE {table}")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            _execute(f"DROP TRIGGER IF EXISTS {name}")
        _execute("DROP TABLE IF EXISTS source_search")
        _execute("DROP TABLE IF EXISTS event_search")
        return
    for table in _PG_COLUMNS:
        _execute(f"DROP INDEX IF EXISTS ix_{table}_search")
        _execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search")
    for function in _PG_FUNCTIONS:
        _execute(f"DROP FUNCTION IF EXISTS {function}")
