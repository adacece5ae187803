"""The counts the database keeps (migration 0004) always agree with counting the rows."""

import random
from datetime import date, timedelta

import pytest
from helpers import feature, square
from sqlalchemy import func, select

from timeline.domain import editing
from timeline.domain.features import parse_feature
from timeline.store import aggregates
from timeline.store.db import db
from timeline.store.filters import EventFilter
from timeline.store.models import Event, User
from timeline.store.queries import EPOCH, conditions, count_events


def random_story(seed: int, n: int = 120):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lon, lat = rng.uniform(-20, 60), rng.uniform(30, 60)
        kind = rng.random()
        geometry = None
        if kind < 0.1:
            geometry = square(lon, lat, rng.choice([0.01, 0.5, 3.0]))  # small and large areas
        elif kind < 0.15:
            geometry = {
                "type": "LineString",
                "coordinates": [[lon, lat], [lon + rng.uniform(0, 2), lat + 0.01]],
            }
        out.append(feature(
            f"r{i}", lon=lon, lat=lat, geometry=geometry,
            start=f"{rng.choice([2023, 2024])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            category=rng.choice(["offensive", "deployment", "diplomacy"]),
            confidence=rng.choice(["confirmed", "reported", "claimed"]),
            status=rng.choice(["published", "published", "draft"]),
        ))  # fmt: skip
    return out


FILTERS = (
    EventFilter(limit=None),
    EventFilter(limit=None, include_drafts=True),
    EventFilter(limit=None, categories=["diplomacy"], confidences=["reported", "claimed"]),
)


def by_cell(found, zoom):
    size = aggregates.cell_size(zoom)
    return {(int((c.lon + 180) // size), int((c.lat + 90) // size)): c.count for c in found}


def assert_counts_agree(app):
    with app.app_context():
        dialect = db.engine.dialect.name
        for f in FILTERS:
            for zoom in range(0, aggregates.BASE_ZOOM + 1):
                fast = aggregates._clusters_from_counts(db.session, f, zoom)
                slow = aggregates._clusters_from_rows(db.session, conditions(f, dialect), zoom)
                assert by_cell(fast, zoom) == by_cell(slow, zoom), (f, zoom)
            weekly = dict(aggregates.weekly_counts(db.session, f))
            week = aggregates._week_expression(dialect)
            rows = db.session.execute(
                select(week, func.count()).where(*conditions(f, dialect)).group_by(week)
            )
            assert weekly == {EPOCH + timedelta(days=int(w) * 7 - 3): n for w, n in rows}
            counted = db.session.scalar(select(func.count()).where(*conditions(f, dialect)))
            assert count_events(db.session, f) == counted, f  # numberMatched from the week counts


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_agree_after_imports_edits_deletes_and_restores(app, load, users, seed):
    load(*random_story(seed))
    assert_counts_agree(app)
    rng = random.Random(seed)
    with app.app_context():
        admin = db.session.get(User, users["admin"]["id"])
        for i in rng.sample(range(120), 25):
            event_id = f"r{i}"
            action = rng.choice(["move", "recategorise", "delete", "publish", "unpublish", "redate"])
            event = db.session.scalar(select(Event).where(Event.id == event_id))
            if event.deleted_at is not None:
                editing.restore_event(db.session, event_id, admin)
                continue
            if action == "delete":
                editing.delete_event(db.session, event_id, admin)
            elif action in ("publish", "unpublish"):
                editing.set_status(
                    db.session, event_id, "published" if action == "publish" else "draft", admin
                )
            else:
                raw = {"type": "Feature", "id": event_id, **editing.feature_content(event)}
                if action == "move":
                    raw["geometry"] = {
                        "type": "Point",
                        "coordinates": [rng.uniform(-20, 60), rng.uniform(30, 60)],
                    }
                elif action == "recategorise":
                    raw["properties"]["category"] = "offensive"
                else:
                    raw["properties"].update(start="2022-03", end=None, date_precision="month")
                editing.update_event(db.session, event_id, parse_feature(raw), event.version, admin)
    assert_counts_agree(app)


def test_whole_extent_view_is_answered_from_the_counts_and_adds_up(app, client, load, monkeypatch):
    load(*random_story(3))
    expected = client.get("/api/events?limit=1&bbox=-180,-90,180,90").get_json()["numberMatched"]
    called = []
    real = aggregates._clusters_from_counts
    monkeypatch.setattr(aggregates, "_clusters_from_counts", lambda *a: called.append(a) or real(*a))
    for bbox in ("-180,-90,180,90", "-25,25,70,65"):
        body = client.get(f"/api/clusters?zoom=5&bbox={bbox}").get_json()
        assert body["numberMatched"] == expected
    assert len(called) == 2
    # A viewport that cuts through the data is counted from the rows, exactly.
    partial = client.get("/api/clusters?zoom=5&bbox=0,40,30,55").get_json()["numberMatched"]
    assert partial == client.get("/api/events?limit=1&bbox=0,40,30,55").get_json()["numberMatched"]
    assert len(called) == 2


def _ids(client, query: str) -> tuple[int, list[str]]:
    body = client.get(f"/api/events?limit=1000&{query}").get_json()
    return body["numberMatched"], [f["id"] for f in body["features"]]


def test_a_window_around_every_event_answers_as_no_window_and_from_the_counts(app, client, load, monkeypatch):
    """Dragging the timeline back to the whole period must not cost a walk over every event, and
    must answer exactly what the unfiltered view does; a window that leaves out one day still filters."""
    load(
        feature("first", start="2024-03-01"),
        feature("ranged", start="2024-05-01", end="2024-09-30", date_precision="day"),
        feature("last", start="2024-11-30"),
        feature("draft", start="2024-06-01", status="draft"),
    )
    everything = _ids(client, "")
    assert everything[0] == 3
    called = []
    real = aggregates._clusters_from_counts
    monkeypatch.setattr(aggregates, "_clusters_from_counts", lambda *a: called.append(a) or real(*a))
    for window in ("start=2024-03-01&end=2024-11-30", "start=2020-01-01", "end=2030-12-31"):
        assert _ids(client, window) == everything, window
        clusters = client.get(f"/api/clusters?zoom=5&{window}").get_json()
        assert clusters["numberMatched"] == 3
        density = client.get(f"/api/density?{window}").get_json()
        assert density == client.get("/api/density").get_json()
    assert len(called) == 3  # each whole-period view came from the trigger-kept cell counts
    # One day short at either end, and the events on that day drop out, from the rows.
    assert _ids(client, "start=2024-03-02&end=2024-11-30") == (2, ["ranged", "last"])
    assert _ids(client, "start=2024-03-01&end=2024-11-29") == (2, ["first", "ranged"])
    assert client.get("/api/clusters?zoom=5&start=2024-03-02").get_json()["numberMatched"] == 2
    assert len(called) == 3
    assert client.get("/export/events.geojson?start=2024-03-01&end=2024-11-30").get_json()["features"]


def test_the_idle_window_test_counts_drafts_and_deleted_events_too(app, load):
    """The window is dropped only when it holds every row, so no reader's answer can change."""
    from timeline.store.queries import without_idle_window

    load(
        feature("published", start="2024-03-01"),
        feature("draft", start="2024-10-01", status="draft"),
        feature("deleted", start="2024-12-31"),
    )
    with app.app_context():
        deleted = Event.__table__.update().where(Event.id == "deleted").values(deleted_at=func.now())
        db.session.execute(deleted)
        db.session.commit()
        day = EPOCH + timedelta(days=19783)  # 2024-03-01
        for end, dropped in (("2024-09-30", False), ("2024-12-30", False), ("2024-12-31", True)):
            window = EventFilter(start=day, end=date.fromisoformat(end))
            result = without_idle_window(db.session, window)
            assert (result.start is None and result.end is None) == dropped, end
            assert result is window or dropped
