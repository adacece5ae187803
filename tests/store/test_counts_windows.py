"""Any time window is answered from the span counts (migration 0012) exactly as from the rows.

The oracle is the row scan the app used before: the same filter through ``conditions`` (the
R*Tree on SQLite, the GiST-indexed day range on PostgreSQL). Events of every length are mixed
(one day, ranges of days crossing weeks, months, years), windows are random (cut weeks at either
end, Mondays and Sundays, open at one end), and the counts are checked again after random edits,
re-datings, moves, deletes and restores, which the triggers must follow.
"""

import io
import json
import math
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from helpers import feature, square
from sqlalchemy import func, select

from geodata.geometry import BBox
from timeline.domain import editing
from timeline.domain.features import parse_feature
from timeline.domain.importing import import_stream
from timeline.store import aggregates, queries
from timeline.store.db import db
from timeline.store.filters import EventFilter, PageKey
from timeline.store.models import Event, EventCellSpanCount, EventSpanCount, User

N = 140
FIRST = date(2023, 11, 1)


def _dates(rng: random.Random) -> dict[str, object]:
    day = FIRST + timedelta(days=rng.randrange(500))
    kind = rng.random()
    if kind < 0.5:
        return {"start": day.isoformat(), "end": None, "date_precision": "day"}
    if kind < 0.8:
        end = day + timedelta(days=rng.choice([1, 3, 6, 7, 13, 30]))
        return {"start": day.isoformat(), "end": end.isoformat(), "date_precision": "day"}
    if kind < 0.95:
        return {"start": f"{day.year}-{day.month:02d}", "end": None, "date_precision": "month"}
    return {"start": str(day.year), "end": None, "date_precision": "year"}


def _geometry(rng: random.Random) -> tuple[float, float, dict[str, object] | None]:
    lon, lat = rng.uniform(30, 40), rng.uniform(48, 54)
    kind = rng.random()
    if kind < 0.1:
        return lon, lat, square(lon, lat, rng.choice([0.01, 0.5, 3.0]))  # small and large areas
    if kind < 0.15:
        return lon, lat, {"type": "LineString", "coordinates": [[lon, lat], [lon + rng.uniform(0, 2), lat]]}
    return lon, lat, None


def story(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(N):
        lon, lat, geometry = _geometry(rng)
        out.append(feature(
            f"w{i}", lon=lon, lat=lat, geometry=geometry, **_dates(rng),
            category=rng.choice(["offensive", "deployment", "diplomacy"]),
            confidence=rng.choice(["confirmed", "reported", "claimed"]),
            status=rng.choice(["published", "published", "draft"]),
        ))  # fmt: skip
    return out


def random_windows(rng: random.Random, n: int) -> list[tuple[date | None, date | None]]:
    windows: list[tuple[date | None, date | None]] = []
    for _ in range(n):
        start = FIRST + timedelta(days=rng.randrange(-30, 560))
        length = rng.choice([0, 1, 5, 6, 7, 13, 30, 31, 90, 365])
        end = start + timedelta(days=length)
        if rng.random() < 0.3:  # align to whole weeks: answered from the counts alone
            start -= timedelta(days=start.weekday())
            end += timedelta(days=6 - end.weekday())
        shape = rng.random()
        windows.append((None, end) if shape < 0.1 else (start, None) if shape < 0.2 else (start, end))
    return windows


def random_filters(rng: random.Random, n: int) -> list[EventFilter]:
    filters = []
    for start, end in random_windows(rng, n):
        keys = rng.choice([
            {}, {"include_drafts": True}, {"categories": ["diplomacy"]},
            {"categories": ["offensive", "deployment"], "confidences": ["claimed"], "include_drafts": True},
        ])  # fmt: skip
        filters.append(EventFilter(start=start, end=end, limit=None, **keys))  # type: ignore[arg-type]
    return filters


def by_cell(found: list[aggregates.Cluster], zoom: int) -> dict[tuple[int, int], tuple[int, float, float]]:
    size = aggregates.cell_size(zoom)
    return {
        (int((c.lon + 180) // size), int((c.lat + 90) // size)): (c.count, round(c.lon, 6), round(c.lat, 6))
        for c in found
    }


def row_ids(f: EventFilter) -> list[str]:
    """The oracle: every matching event's id, in timeline order, from the rows."""
    dialect = db.engine.dialect.name
    stmt = (
        select(Event.id)
        .where(*queries.conditions(f, dialect))
        .order_by(Event.first_day, Event.last_day, Event.id)
    )
    return list(db.session.scalars(stmt))


def assert_windows_agree(app, seed: int) -> int:
    """Every count-based answer equals the row scan, for random windows; returns how many matched."""
    rng = random.Random(seed)
    seen = 0
    with app.app_context():
        dialect = db.engine.dialect.name
        for f in random_filters(rng, 40):
            assert queries.answerable_from_span_counts(f), f
            ids = row_ids(f)
            seen += len(ids)
            assert queries.count_events(db.session, f) == len(ids), f
            rows_weekly = {}
            week = aggregates._week_expression(dialect)
            for w, n in db.session.execute(
                select(week, func.count()).where(*queries.conditions(f, dialect)).group_by(week)
            ):
                rows_weekly[queries.week_start(int(w))] = n
            assert dict(aggregates.weekly_counts(db.session, f)) == rows_weekly, f
            for zoom in (0, 4, 7, aggregates.BASE_ZOOM):
                fast = aggregates._clusters_from_span_counts(db.session, f, zoom)
                slow = aggregates._clusters_from_rows(db.session, queries.conditions(f, dialect), zoom)
                assert by_cell(fast, zoom) == by_cell(slow, zoom), (f, zoom)
                assert sum(c.count for c in fast) == len(ids)
            # Paging by key gives every match once, in timeline order, and numberMatched on each
            # page; so does the walk along the date index that a wide window's pages take.
            for walk in (False, True):
                paged, after = [], None
                while True:
                    page = replace(f, limit=7, after=after)
                    if walk:
                        statement = queries.filtered_events(db.session, page, walk_dates=True)
                        rows = [tuple(r) for r in db.session.execute(statement.with_only_columns(
                            *queries.PAGE_KEY_COLUMNS))]  # fmt: skip
                    else:
                        rows, matched = queries.page_and_count(db.session, page, keys_only=True)
                        assert matched == len(ids), f
                    paged += [r[3] for r in rows]
                    if len(rows) < 7:
                        break
                    after = PageKey(rows[-1][1], rows[-1][2], rows[-1][3])
                assert paged == ids, (f, walk)
    return seen


def edit_randomly(app, users, seed: int) -> None:
    rng = random.Random(seed)
    with app.app_context():
        admin = db.session.get(User, users["admin"]["id"])
        for i in rng.sample(range(N), 40):
            event_id = f"w{i}"
            action = rng.choice(
                ["move", "recategorise", "delete", "publish", "unpublish", "redate", "redate"]
            )
            found = db.session.scalar(select(Event).where(Event.id == event_id))
            if found.deleted_at is not None:
                editing.restore_event(db.session, event_id, admin)
            elif action == "delete":
                editing.delete_event(db.session, event_id, admin)
            elif action in ("publish", "unpublish"):
                status = "published" if action == "publish" else "draft"
                editing.set_status(db.session, event_id, status, admin)
            else:
                raw = {"type": "Feature", "id": event_id, **editing.feature_content(found)}
                if action == "move":
                    lon, lat, geometry = _geometry(rng)
                    raw["geometry"] = geometry or {"type": "Point", "coordinates": [lon, lat]}
                elif action == "recategorise":
                    raw["properties"]["category"] = "diplomacy"
                else:
                    raw["properties"].update(_dates(rng))
                editing.update_event(db.session, event_id, parse_feature(raw), found.version, admin)


@pytest.mark.parametrize("seed", [11, 12])
def test_window_counts_equal_row_scans_after_inserts_edits_deletes_and_restores(app, load, users, seed):
    load(*story(seed))
    assert assert_windows_agree(app, seed) > 0
    edit_randomly(app, users, seed)
    assert assert_windows_agree(app, seed + 100) > 0
    edit_randomly(app, users, seed + 1)  # restores some of the deleted, deletes others
    assert assert_windows_agree(app, seed + 200) > 0


def recount() -> tuple[dict[tuple, int], dict[tuple, tuple[int, float, float]]]:
    """The span counts the tables should hold, worked out in Python from the live events."""
    spans: dict[tuple, int] = {}
    cells: dict[tuple, tuple[int, float, float]] = {}
    for e in db.session.scalars(select(Event).where(Event.deleted_at.is_(None))):
        key = (
            queries.week_of(e.first_day),
            queries.week_of(e.last_day),
            e.category_slug,
            e.confidence,
            e.status,
        )
        spans[key] = spans.get(key, 0) + 1
        size = aggregates.BASE_CELL
        if e.max_lon - e.min_lon < size and e.max_lat - e.min_lat < size:
            lon, lat = (e.min_lon + e.max_lon) / 2, (e.min_lat + e.max_lat) / 2
            cell = (*key[:2], math.floor((lon + 180) / size), math.floor((lat + 90) / size), *key[2:])
            n, x, y = cells.get(cell, (0, 0.0, 0.0))
            cells[cell] = (n + 1, x + lon, y + lat)
    return spans, {k: (n, round(x, 6), round(y, 6)) for k, (n, x, y) in cells.items()}


def stored_counts() -> tuple[dict[tuple, int], dict[tuple, tuple[int, float, float]]]:
    spans = {
        (r.first_week, r.last_week, r.category_slug, r.confidence, r.status): r.n
        for r in db.session.scalars(select(EventSpanCount).where(EventSpanCount.n > 0))
    }
    cells = {
        (r.first_week, r.last_week, r.cx, r.cy, r.category_slug, r.confidence, r.status): (
            r.n, round(r.sum_lon, 6), round(r.sum_lat, 6)
        )
        for r in db.session.scalars(select(EventCellSpanCount).where(EventCellSpanCount.n > 0))
    }  # fmt: skip
    return spans, cells


def test_the_span_counts_hold_every_live_event_once_through_triggers_edits_and_a_bulk_import(
    app, load, users
):
    """The tables themselves, beside their answers: after the row-by-row import and edits (the
    triggers), and after a bulk import (600 events: the triggers suspended, the counts filled
    set-based), each holds one count per live event, in its pair of weeks and cell."""
    load(*story(21))
    edit_randomly(app, users, 21)
    with app.app_context():
        assert stored_counts() == recount()
    many = [dict(f, id=f"bulk{i}") for i, f in enumerate(story(22) * 5)]
    document = json.dumps({"type": "FeatureCollection", "features": many}).encode()
    with app.app_context():
        assert import_stream(db.session, io.BytesIO(document)).created == len(many)
        db.session.remove()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == N + len(many)
        assert stored_counts() == recount()
    assert assert_windows_agree(app, 23) > 0


def random_viewports(rng: random.Random, n: int) -> list[BBox]:
    """Viewports from a few cells to the whole story, some on cell borders, some cutting through."""
    boxes = []
    for _ in range(n):
        width, height = rng.choice([0.5, 1.2, 3.0, 7.0, 12.0]), rng.choice([0.4, 1.0, 2.5, 6.0])
        west, south = rng.uniform(28, 40 - width / 2), rng.uniform(46, 54 - height / 2)
        if rng.random() < 0.3:  # on the base grid's borders
            cell = aggregates.BASE_CELL
            west, south = round((west + 180) / cell) * cell - 180, round((south + 90) / cell) * cell - 90
        boxes.append(BBox(west, south, west + width, south + height))
    return boxes


@pytest.mark.parametrize("seed", [31, 32])
def test_viewport_clusters_from_inner_cells_equal_row_scans(app, load, users, seed):
    """A viewport's clusters (with or without a window, any zoom up to the counts' own) from the
    counts of its inner cells and the rows near its edges equal grouping every matching row."""
    load(*story(seed))
    edit_randomly(app, users, seed)
    rng = random.Random(seed)
    with app.app_context():
        dialect = db.engine.dialect.name
        answered = 0
        for bbox in random_viewports(rng, 25):
            unwindowed = [EventFilter(limit=None), EventFilter(limit=None, include_drafts=True)]
            for f in [*random_filters(rng, 2), *unwindowed]:
                f = replace(f, bbox=bbox)
                inner = aggregates.inner_cells(bbox)
                slow_all = aggregates._clusters_from_rows(db.session, queries.conditions(f, dialect), 7)
                assert sum(c.count for c in aggregates.clusters(db.session, f, 7)) == sum(
                    c.count for c in slow_all
                )
                if inner is None:
                    continue
                answered += 1
                for zoom in (3, 6, aggregates.BASE_ZOOM):
                    fast = aggregates._clusters_of_viewport(db.session, f, zoom, inner)
                    slow = aggregates._clusters_from_rows(db.session, queries.conditions(f, dialect), zoom)
                    assert by_cell(fast, zoom) == by_cell(slow, zoom), (f, zoom)
        assert answered > 20
        # A wide viewport's page and numberMatched (its inner cells counted, its page walked along
        # the date index) equal the rows', page after page.
        wide = BBox(29.0, 47.0, 41.0, 55.5)
        assert aggregates.inner_cells_worth_it(wide) is not None
        for f in [*random_filters(rng, 6), EventFilter(limit=None)]:
            f = replace(f, bbox=wide)
            ids = row_ids(f)
            assert queries.wide_viewport_count(db.session, f) == len(ids)
            paged, after = [], None
            while True:
                rows, matched = queries.page_and_count(
                    db.session, replace(f, limit=9, after=after), keys_only=True
                )
                assert matched == len(ids)
                paged += [r[3] for r in rows]
                if len(rows) < 9:
                    break
                after = PageKey(rows[-1][1], rows[-1][2], rows[-1][3])
            assert paged == ids, f
        # The counts answer a wide viewport; one mostly edge is left to the spatial index.
        assert aggregates.inner_cells_worth_it(BBox(33.9, 49.9, 38.9, 52.3)) is not None
        assert aggregates.inner_cells_worth_it(BBox(34.4, 50.6, 36.6, 51.9)) is None
