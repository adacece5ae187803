"""PostgreSQL: the search vectors become plain columns kept by triggers, so a bulk import can fill them.

Migration 0009 made ``events.search`` and ``sources.search`` generated columns: PostgreSQL computes
every event's words itself, through ``tl_event_words`` (``tl_casefold``, ``unaccent`` and a regular
expression over the word separators, all in PL/pgSQL). On a description of the benchmark's length
(about 900 characters) that is some 300 µs an event, two thirds of what an imported event costs the
server (bench/RESULTS.md), and a generated column cannot be given its value by the writer.

Now each is an ordinary column (``DROP EXPRESSION`` keeps the values already computed) and a BEFORE
trigger computes it with the same functions for every row written as before, however it is written
(ORM, COPY, plain SQL): ``events_search`` on INSERT and UPDATE OF title, description, place, actors
or search, ``sources_search`` on INSERT and UPDATE OF outlet or search. A BEFORE trigger overrides
whatever value a statement gives, so the column still cannot drift from the text while the trigger
is in force.

The bulk import (timeline/store/bulk.py) disables both for its few set-based statements and writes
the vectors from words it folded in Python (``timeline.store.folding.search_text``, which
tests/store/test_search_folding.py holds equal to ``tl_search_words`` for every code point), about
50 µs an event instead of 300; tests/domain/test_bulk_import.py compares the result with the
triggers' own. SQLite is untouched: its FTS5 triggers already call the Python folding.

The downgrade turns both back into generated columns (which rewrites the tables) and drops the
triggers.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# What migration 0009 generated each column from; the triggers compute the same from the new row.
_WORDS = {
    "events": "tl_event_words(NEW.title, NEW.description, NEW.place, NEW.actors)",
    "sources": "tl_search_lexemes(tl_search_words(NEW.outlet), '2')",
}
# The column itself too: a statement that writes a vector gets the one its text makes.
_WATCHED = {"events": "title, description, place, actors, search", "sources": "outlet, search"}
_GENERATED = {
    "events": "tl_event_words(title, description, place, actors)",
    "sources": "tl_search_lexemes(tl_search_words(outlet), '2')",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, words in _WORDS.items():
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search DROP EXPRESSION")
        op.execute(
            f"CREATE FUNCTION tl_{table}_search() RETURNS trigger LANGUAGE plpgsql AS $search$ "
            f"BEGIN NEW.search := {words}; RETURN NEW; END $search$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_search BEFORE INSERT OR UPDATE OF {_WATCHED[table]} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION tl_{table}_search()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, words in _GENERATED.items():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_search ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS tl_{table}_search()")
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search")
        op.execute(f"ALTER TABLE {table} DROP COLUMN search")
        op.execute(f"ALTER TABLE {table} ADD COLUMN search tsvector GENERATED ALWAYS AS ({words}) STORED")
        op.execute(f"CREATE INDEX ix_{table}_search ON {table} USING gin (search)")
