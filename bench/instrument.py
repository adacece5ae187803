"""(e) The map-and-timeline page at scale: the clustered default view, the density strip, what a
first visit downloads, and whether the browser stays responsive while the window is dragged.

Each figure stands beside a baseline measured in the same run: the same counts computed from the
rows instead of the maintained counts, and the 300 KB / 200 ms budgets of the issue.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from timeline import aggregates
from timeline.db import db
from timeline.queries import EventFilter, conditions, parse_filters

# The page's home view (zoom 7 around Kursk) as a 1280×800 browser shows it, and a looser one.
HOME_BBOX = "30.0,49.2,40.8,53.5"
CHROMIUM = "/usr/bin/chromium"


def bench_instrument(
    app: Flask, repeat: Callable[..., list[float]], median: Callable[..., Any], row: Any
) -> list[Any]:
    client = app.test_client()
    rows = []
    default = repeat(lambda: client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}"), 30)
    with app.app_context():
        from werkzeug.datastructures import MultiDict

        f = parse_filters(MultiDict({"bbox": HOME_BBOX}))
        dialect = db.engine.dialect.name
        from_rows = repeat(
            lambda: aggregates._clusters_from_rows(db.session, conditions(f, dialect), 7), 5, budget_s=60
        )
        density_rows = repeat(lambda: _density_from_rows(f), 5, budget_s=60)
        # e5: the whole period asked as a window (what the page asks after a drag back to it),
        # counted from the rows as it was before such a window was recognised as filtering nothing.
        whole = parse_filters(MultiDict({"bbox": HOME_BBOX, **WHOLE_PERIOD}))
        whole_rows = repeat(
            lambda: aggregates._clusters_from_rows(db.session, conditions(whole, dialect), 7), 3, budget_s=60
        )
    density = repeat(lambda: client.get("/api/density"), 30)
    window = "&".join(f"{k}={v}" for k, v in WHOLE_PERIOD.items())
    whole_view = repeat(lambda: client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}&{window}"), 30)
    answer = client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}&{window}").get_json()
    body = client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}").get_json()
    rows.append(row(f"e1 GET /api/clusters, default view (zoom 7, {len(body['features'])} cells, "
                    f"{body['numberMatched']:,} events), median — vs counting the rows (n={len(from_rows)})",
                    median(default)[0], median(from_rows)[0]))  # fmt: skip
    rows.append(row("e1 same, p95 — vs the 50 ms goal", median(default)[1], 50.0))
    rows.append(row(f"e2 GET /api/density (all events per week), median — vs counting the rows "
                    f"(n={len(density_rows)})", median(density)[0], median(density_rows)[0]))  # fmt: skip
    same = "same events" if answer["numberMatched"] == body["numberMatched"] else "DIFFERENT COUNTS"
    rows.append(row(f"e5 GET /api/clusters, the whole period as a window ({same} as e1), median — vs that "
                    f"window counted from the rows (n={len(whole_rows)})",
                    median(whole_view)[0], median(whole_rows)[0]))  # fmt: skip
    return rows


# A window around the benchmark's whole period (generate.py: 2024-2025), as the page sends it.
WHOLE_PERIOD = {"start": "2023-12-31", "end": "2026-01-04"}


def _density_from_rows(f: EventFilter) -> Any:
    from sqlalchemy import func, select

    week = aggregates._week_expression(db.engine.dialect.name)
    unbounded = EventFilter(limit=None)
    stmt = select(week, func.count()).where(*conditions(unbounded, db.engine.dialect.name)).group_by(week)
    return db.session.execute(stmt).all()


def first_load_bytes(app: Flask) -> tuple[int, int, list[tuple[str, int]]]:
    """What a first visit to / fetches, the way app.js does it: ours vs vendor and basemap files."""
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    assets = [m.group(1) for t in tags if (m := re.search(r'(?:src|href)="(/[^/"][^"]*)"', t))]
    api = [
        "/api/categories",
        "/api/density",
        f"/api/clusters?zoom=7&bbox={HOME_BBOX}",
        "/api/clusters?zoom=0",
    ]
    sizes = [("GET /", len(html.encode()))]
    for url in [*assets, *api, "/static/basemap/admin1.geojson", "/static/basemap/countries.geojson"]:
        response = client.get(url)
        sizes.append((url, len(response.get_data())))
        response.close()
    # The map draws events one by one, and the timeline lists them, only when few enough: at this
    # scale neither does on a first visit (app.js: MAP_LIMIT, TIMELINE_LIMIT).
    cells = client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}").get_json()["numberMatched"]
    if cells <= 500:
        response = client.get(f"/api/events?bbox={HOME_BBOX}&limit=500&view=summary")
        sizes.append(("/api/events?…&view=summary", len(response.get_data())))
    vendor = sum(s for u, s in sizes if "/vendor/" in u or "/basemap/" in u)
    ours = sum(s for u, s in sizes if "/vendor/" not in u and "/basemap/" not in u)
    return ours, vendor, sizes


def drag_long_tasks(app: Flask, artefact: Path) -> tuple[float, float, int] | None:
    """Drag the timeline across its whole width in Chromium; the longest main-thread task (ms).

    Returns (longest task while dragging, longest task while the page loaded, tasks over 50 ms), or
    None when Chromium or Playwright is missing.
    """
    if not Path(CHROMIUM).exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    observe = """() => { window.__long = []; new PerformanceObserver(l => l.getEntries().forEach(
        e => window.__long.push(e.duration))).observe({type: 'longtask', buffered: true}); }"""
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_selector("#vis-timeline .vis-center", timeout=60_000)
            page.wait_for_timeout(3000)
            page.evaluate(observe)
            page.wait_for_timeout(200)
            at_load = max(page.evaluate("window.__long"), default=0.0)
            page.evaluate("window.__long = []")
            box = page.locator("#vis-timeline .vis-center").bounding_box()
            y = box["y"] + min(40, box["height"] / 2)
            for start, end in ((0.95, 0.05), (0.05, 0.95)):
                page.mouse.move(box["x"] + box["width"] * start, y)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] * end, y, steps=40)
                page.mouse.up()
                page.wait_for_timeout(1500)  # the map and strip refresh after the drag
            tasks = page.evaluate("window.__long")
            page.screenshot(path=str(artefact))
            browser.close()
    finally:
        server.shutdown()
    return max(tasks, default=0.0), at_load, sum(1 for t in tasks if t > 50)
