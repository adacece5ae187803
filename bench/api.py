"""(b) The (a) windows through the read API, with Flask's test client (server time, no network).

What the HTTP layer adds to the query is read against the direct call measured in (a) on the same
windows, and ``numberMatched`` is checked against the counts (a) found. Paging deep into the
collection is read against the first page, and a keyset ``next`` link against the same page by
offset. Runs on either database.
"""

from __future__ import annotations

from functools import partial

from flask import Flask
from sqlalchemy import select

from timeline.store.db import db
from timeline.store.filters import EventFilter, PageKey
from timeline.store.models import Event
from timeline.store.queries import count_events

from .backends import app_session
from .measure import Row, median_p95, repeat, timed, warn, windows


def bench_http(app: Flask, reps: int, direct_median: float, matched: list[int]) -> list[Row]:
    """(b1) the windows by HTTP against (a1)'s direct call; (b2, b3) unfiltered and deep pages."""
    client = app.test_client()
    samples, mismatches = [], 0
    fs = windows(reps)
    for i, f in enumerate([fs[0], *fs]):
        assert f.bbox and f.start
        bbox = ",".join(str(v) for v in f.bbox.as_list())
        url = f"/api/events?bbox={bbox}&start={f.start:%Y-%m}&end={f.start:%Y-%m}&limit=100"
        ms, response = timed(partial(client.get, url))
        assert response.status_code == 200, response.data[:300]
        if i:
            samples.append(ms)
            mismatches += response.json is None or response.json["numberMatched"] != matched[i - 1]
    if mismatches:
        warn(f"{mismatches} API responses had a numberMatched different from count_events in (a)")
    first_page = repeat(lambda: client.get("/api/events?limit=1000"), reps)
    floor = repeat(lambda: client.get("/api/categories"), reps)
    with app.app_context():
        published = count_events(app_session(), EventFilter())
    offset = (published - 1) // 1000 * 1000  # the last page the map's loader asks for
    last_page = repeat(lambda: client.get(f"/api/events?limit=1000&offset={offset}"), reps)
    with app.app_context():  # the key a next link carries to that same page: the event before it
        before = db.session.execute(
            select(Event.first_day, Event.last_day, Event.id)
            .where(Event.deleted_at.is_(None), Event.status == "published")
            .order_by(Event.first_day, Event.last_day, Event.id)
            .offset(offset - 1)
            .limit(1)
        ).one()
    token = PageKey(*before).token()
    by_key = repeat(lambda: client.get(f"/api/events?limit=1000&after={token}"), reps)
    http = median_p95(samples)
    return [
        Row(
            "b1 GET /api/events?bbox&start&end&limit=100, median — vs direct call (a1)",
            http[0],
            direct_median,
        ),
        Row("b1 same, p95 — vs direct call median (a1)", http[1], direct_median),
        Row(
            f"b2 GET /api/events?limit=1000, no filter (n={len(first_page)}) "
            f"— vs GET /api/categories (n={len(floor)})",
            median_p95(first_page)[0],
            median_p95(floor)[0],
        ),
        Row(
            f"b3 GET /api/events?limit=1000&offset={offset:,}, last page (n={len(last_page)}) "
            "— vs first page",
            median_p95(last_page)[0],
            median_p95(first_page)[0],
        ),
        Row(
            f"b3 same last page through its next link (keyset, after=…; n={len(by_key)}) — vs by offset",
            median_p95(by_key)[0],
            median_p95(last_page)[0],
        ),
    ]
