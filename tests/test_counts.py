"""The counts the database keeps (migration 0004) always agree with counting the rows."""

import random
from datetime import timedelta

import pytest
from helpers import feature, square
from sqlalchemy import func, select

from timeline import aggregates, editing
from timeline.db import db
from timeline.features import parse_feature
from timeline.models import Event, User
from timeline.queries import EPOCH, EventFilter, conditions, count_events


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
