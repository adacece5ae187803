"""Both backends answer every filter alike: the same events for the same question.

SQLite filters through its R*Tree and a Python geometry test; PostgreSQL through PostGIS and GiST
indexes (see timeline/queries.py). Here both are checked against one plain-Python oracle on a few
hundred seeded random questions, over points, lines and polygons with holes, near the antimeridian
too, and dates at day, month and year precision.
"""

from __future__ import annotations

import random
import re
from datetime import date
from typing import Any

import pytest
from helpers import feature
from werkzeug.datastructures import MultiDict

from geodata.dates import parse_partial_date
from geodata.geometry import geometry_intersects_box
from timeline.store.db import db
from timeline.store.queries import filtered_events
from timeline.web.params import parse_filters


def _geometry(rng: random.Random) -> dict[str, Any]:
    lon = rng.choice([rng.uniform(-179, 179), rng.uniform(177, 179.5), rng.uniform(-179.5, -177)])
    lat = rng.uniform(-60, 60)
    size = rng.choice([0.2, 1.0, 3.0])
    kind = rng.choice(["Point", "LineString", "Polygon", "holed"])
    if kind == "Point":
        return {"type": "Point", "coordinates": [round(lon, 4), round(lat, 4)]}
    x0, y0 = max(-180.0, lon - size), lat
    x1, y1 = min(180.0, lon + size), lat + size
    if kind == "LineString":  # an L: its box is much larger than the line
        return {"type": "LineString", "coordinates": [[x0, y0], [x1, y0], [x1, y1]]}
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [ring]}
    dx, dy = (x1 - x0) / 4, (y1 - y0) / 4
    hole = [
        [x0 + dx, y0 + dy],
        [x0 + dx, y1 - dy],
        [x1 - dx, y1 - dy],
        [x1 - dx, y0 + dy],
        [x0 + dx, y0 + dy],
    ]
    return {"type": "Polygon", "coordinates": [ring, hole]}


def _date(rng: random.Random) -> tuple[str, str | None]:
    year = rng.randint(2020, 2024)
    month = rng.randint(1, 12)
    start = rng.choice([f"{year}", f"{year}-{month:02d}", f"{year}-{month:02d}-{rng.randint(1, 28):02d}"])
    end = None
    if rng.random() < 0.3 and len(start) == 10:
        end = f"{year + 1}-{month:02d}-{rng.randint(1, 28):02d}"
    return start, end


def _box(rng: random.Random) -> str:
    if rng.random() < 0.2:  # across the antimeridian
        return f"{rng.uniform(170, 179.9):.3f},{rng.uniform(-60, 0):.3f},{rng.uniform(-179.9, -170):.3f},60"
    x, y = rng.uniform(-180, 175), rng.uniform(-60, 55)
    w, h = rng.choice([0.5, 2.0, 10.0, 60.0]), rng.choice([0.5, 2.0, 10.0, 40.0])
    return f"{x:.3f},{y:.3f},{min(180, x + w):.3f},{min(90, y + h):.3f}"


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _expected(events: dict[str, dict[str, Any]], args: dict[str, str]) -> list[str]:
    """The plain-Python answer: exact shape against the box(es), day intervals against the window."""
    f = parse_filters(MultiDict(args), max_limit=None)
    boxes = []
    if f.bbox:  # RFC 7946 5.2: minLon > maxLon crosses the antimeridian
        x0, y0, x1, y1 = f.bbox.as_list()
        boxes = [(x0, y0, x1, y1)] if x0 <= x1 else [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)]
    hits = []
    for event_id, ev in events.items():
        if boxes and not any(geometry_intersects_box(ev["geometry"], b) for b in boxes):
            continue
        if f.end and ev["first_day"] > f.end:
            continue
        if f.start and ev["last_day"] < f.start:
            continue
        if f.text and not all(any(w.startswith(q) for w in _words(ev["title"])) for q in _words(f.text)):
            continue  # every word of q begins a word of the title
        hits.append(event_id)
    return sorted(hits)


@pytest.fixture
def random_story(load) -> dict[str, dict[str, Any]]:
    rng = random.Random(20241111)
    events: dict[str, dict[str, Any]] = {}
    features = []
    for i in range(150):
        geometry = _geometry(rng)
        start, end = _date(rng)
        title = rng.choice(["Angriff auf die Straße nach Sudscha", "Бои в Судже", "Convoy", "ΣΥΝΟΡΑ"])
        features.append(feature(f"r{i}", geometry=geometry, start=start, end=end, title=title,
                                date_precision={4: "year", 7: "month", 10: "day"}[len(start)]))  # fmt: skip
        first: date = parse_partial_date(start).first_day
        last: date = parse_partial_date(end or start).last_day
        events[f"r{i}"] = {"geometry": geometry, "first_day": first, "last_day": last, "title": title}
    load(*features)
    return events


def test_every_filter_gives_the_oracles_answer(app, client, random_story):
    rng = random.Random(7)
    questions = []
    for _ in range(120):
        args: dict[str, str] = {}
        if rng.random() < 0.8:
            args["bbox"] = _box(rng)
        if rng.random() < 0.5:
            args["start"] = rng.choice(["2021", "2022-06", "2023-02-14"])
        if rng.random() < 0.5:
            args["end"] = rng.choice(["2022", "2023-03", "2024-12-31"])
        if "start" in args and "end" in args and args["start"] > args["end"]:
            args["start"], args["end"] = args["end"], args["start"]
        if rng.random() < 0.15:
            args["q"] = rng.choice(["STRASSE", "судже", "συνορα", "convoy"])
        questions.append(args)
    # Boxes inside a shape's own box that miss the shape (an L's empty corner, a polygon's hole):
    # only an exact test leaves them out.
    for ev in random_story.values():
        geometry = ev["geometry"]
        if geometry["type"] == "LineString":
            (x0, y0), _, (x1, y1) = geometry["coordinates"]
            box = (x0, y0 + (y1 - y0) * 0.6, x0 + (x1 - x0) * 0.3, y1)
        elif geometry["type"] == "Polygon" and len(geometry["coordinates"]) == 2:  # with a hole
            xs = [p[0] for p in geometry["coordinates"][1]]
            ys = [p[1] for p in geometry["coordinates"][1]]
            cx, cy = sum(xs[:4]) / 4, sum(ys[:4]) / 4
            box = (cx - 0.01, cy - 0.01, cx + 0.01, cy + 0.01)
        else:
            continue
        questions.append({"bbox": ",".join(f"{v:.6f}" for v in box)})
    matched = 0
    for args in questions:
        body = client.get("/api/events", query_string={**args, "limit": 10000}).get_json()
        got = sorted(f["id"] for f in body["features"])
        assert got == _expected(random_story, args), args
        assert body["numberMatched"] == len(got)
        matched += bool(got)
    assert matched > 40  # the questions are not all trivially empty


def test_each_backend_uses_its_own_spatial_machinery(app, backend):
    with app.app_context():
        f = parse_filters(MultiDict({"bbox": "34,50,37,52", "start": "2024-10", "q": "x"}))
        sql = str(filtered_events(db.session, f).compile(db.engine))
    if backend == "sqlite":
        assert "event_rtree" in sql and "tl_intersects" in sql and "ST_Intersects" not in sql
    else:
        assert "ST_Intersects(events.geom, ST_MakeEnvelope(" in sql and "event_rtree" not in sql
        assert "daterange(events.first_day, events.last_day" in sql
    if backend == "sqlite":  # q: the full-text index of each backend (migration 0009)
        assert "event_search" in sql and "source_search" in sql
    else:
        assert "events.search" in sql and "sources.search" in sql
