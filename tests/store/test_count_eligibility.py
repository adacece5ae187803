"""Whether the count tables may answer is decided in one place, for every reader of them."""

from dataclasses import replace
from datetime import date

import pytest
from helpers import feature
from sqlalchemy import event

from geodata.geometry import parse_bbox
from timeline.store import aggregates, queries
from timeline.store.db import db
from timeline.store.filters import FILTER_FIELDS, EventFilter, PageKey
from timeline.store.models import Event

# A value that restricts, for every field of a filter the count tables are not keyed by. A field
# added to EventFilter without one here fails the first test: decide whether counts can answer it.
RESTRICTING = {
    "bbox": parse_bbox([30.0, 50.0, 31.0, 51.0]),
    "start": date(2024, 8, 1),
    "end": date(2024, 8, 31),
    "text": "Sudzha",
    "where": (Event.place == "Sudzha",),
    "regions": ["RU-KRS"],
    "countries": ["RU"],
}
COUNT_TABLES = ("event_week_counts", "event_cell_counts")


def test_every_filter_field_is_a_count_key_or_keeps_the_counts_out():
    assert set(RESTRICTING) == FILTER_FIELDS - queries.COUNT_KEYS
    assert queries.answerable_from_counts(EventFilter())
    assert queries.answerable_from_counts(EventFilter(categories=["diplomacy"], include_drafts=True))
    # Paging chooses rows of the answer, not which events count.
    key = PageKey(date(2024, 1, 1), date(2024, 1, 1), "ev-1")
    assert queries.answerable_from_counts(EventFilter(limit=5, offset=10, after=key))
    for name, value in RESTRICTING.items():
        assert not queries.answerable_from_counts(replace(EventFilter(), **{name: value})), name


@pytest.fixture
def tables_read(app):
    """The count tables named by the statements the app runs during the test."""
    seen: set[str] = set()

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.update(t for t in COUNT_TABLES if t in statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def readers(session, f):
    """Every answer the count tables can give, with the same answer from the rows beside it."""
    return {
        "count": queries.count_events(session, f),
        "clusters": sorted(
            (c.count, round(c.lon, 6), round(c.lat, 6)) for c in aggregates.clusters(session, f, 5)
        ),
        "weeks": aggregates.weekly_counts(session, f),
    }


def test_the_one_rule_sends_every_reader_to_the_counts_or_to_the_rows(app, load, tables_read, monkeypatch):
    load(
        feature("a", start="2024-08-06", category="offensive"),
        feature("b", start="2024-10", date_precision="month", lon=36.19, lat=51.73, category="diplomacy"),
        feature("c", start="2024", date_precision="year", lon=30.5, lat=50.45, confidence="claimed"),
    )
    with app.app_context():
        f = EventFilter(limit=None)
        from_counts = readers(db.session, f)
        assert tables_read == set(COUNT_TABLES)

        # Refused by the rule, every reader counts the rows instead, and gets the same answers.
        tables_read.clear()
        monkeypatch.setattr(queries, "answerable_from_counts", lambda f: False)
        monkeypatch.setattr(aggregates, "answerable_from_counts", lambda f: False)
        assert readers(db.session, f) == from_counts
        assert tables_read == set()
        assert from_counts["count"] == 3
