"""(e1, e2, e5) The map's clusters and the density strip at scale, on either database.

The page asks ``/api/clusters`` for its view and ``/api/density`` for its strip; both are answered
from counts the database's triggers maintain. Each figure stands beside the same counts computed
from the rows in the same run (what the endpoints did before the count tables), and beside the
issue's 50 ms goal. What the page itself weighs and how it responds in a browser is ``bench.page``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from timeline.store import aggregates
from timeline.store.db import db
from timeline.store.filters import EventFilter
from timeline.store.queries import conditions
from timeline.web.params import parse_filters

from .backends import app_session
from .measure import Row, median_p95, repeat

# The page's home view (zoom 7 around Kursk) as a 1280×800 browser shows it.
HOME_BBOX = "30.0,49.2,40.8,53.5"
# A window around the benchmark's whole period (bench.dataset: 2024-2025), as the page sends it.
WHOLE_PERIOD = {"start": "2023-12-31", "end": "2026-01-04"}
# The statements whose plans the PostGIS section shows beside (a)'s.
PLANNED_URLS = (f"/api/clusters?zoom=7&bbox={HOME_BBOX}", "/api/density")


def bench_instrument(app: Flask) -> list[Row]:
    """e1, e2 and e5, each beside the same answer counted from the rows."""
    client = app.test_client()
    default = repeat(lambda: client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}"), 30)
    with app.app_context():
        f = parse_filters(MultiDict({"bbox": HOME_BBOX}))
        dialect = db.engine.dialect.name
        from_rows = repeat(
            lambda: aggregates._clusters_from_rows(app_session(), conditions(f, dialect), 7), 5, budget_s=60
        )
        density_rows = repeat(_density_from_rows, 5, budget_s=60)
        # e5: the whole period asked as a window (what the page asks after a drag back to it),
        # counted from the rows as it was before such a window was recognised as filtering nothing.
        whole = parse_filters(MultiDict({"bbox": HOME_BBOX, **WHOLE_PERIOD}))
        whole_rows = repeat(
            lambda: aggregates._clusters_from_rows(app_session(), conditions(whole, dialect), 7),
            3,
            budget_s=60,
        )
    density = repeat(lambda: client.get("/api/density"), 30)
    window = "&".join(f"{k}={v}" for k, v in WHOLE_PERIOD.items())
    whole_view = repeat(lambda: client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}&{window}"), 30)
    answer = client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}&{window}").get_json()
    body = client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}").get_json()
    same = "same events" if answer["numberMatched"] == body["numberMatched"] else "DIFFERENT COUNTS"
    return [
        Row(
            f"e1 GET /api/clusters, default view (zoom 7, {len(body['features'])} cells, "
            f"{body['numberMatched']:,} events), median — vs counting the rows (n={len(from_rows)})",
            median_p95(default)[0],
            median_p95(from_rows)[0],
        ),
        Row("e1 same, p95 — vs the 50 ms goal", median_p95(default)[1], 50.0),
        Row(
            "e2 GET /api/density (all events per week), median — vs counting the rows "
            f"(n={len(density_rows)})",
            median_p95(density)[0],
            median_p95(density_rows)[0],
        ),
        Row(
            f"e5 GET /api/clusters, the whole period as a window ({same} as e1), median — vs that "
            f"window counted from the rows (n={len(whole_rows)})",
            median_p95(whole_view)[0],
            median_p95(whole_rows)[0],
        ),
    ]


def _density_from_rows() -> Any:
    """Events per week of every published event, counted from the rows (e2's baseline)."""
    dialect = db.engine.dialect.name
    week = aggregates._week_expression(dialect)
    stmt = select(week, func.count()).where(*conditions(EventFilter(limit=None), dialect)).group_by(week)
    return db.session.execute(stmt).all()
