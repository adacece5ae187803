"""(d, e3, e4) What the map page weighs and whether the browser stays responsive while it is used.

(d) counts the bytes of the page and of everything it loads, our own files and API answers against
the vendor and basemap files; (e3) is what a first visit downloads, the way app.js asks for it,
against the issue's 300 KB budget; (e4) drags the timeline across its width in Chromium and
reports the longest main-thread task against the 200 ms budget. They do not depend on the
database, so they run once, on SQLite. The page's assets are found the same way for all three
(:func:`page_assets`), so they speak of the same files.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from .instrument import HOME_BBOX
from .measure import Row, warn

CHROMIUM = "/usr/bin/chromium"


def is_vendor(url: str) -> bool:
    """Third-party files the page loads (cacheable for long): Leaflet, vis-timeline, the basemap."""
    return "/vendor/" in url or "/basemap/" in url


def page_assets(html: str) -> list[str]:
    """Same-origin URLs the browser loads for a page: its scripts and stylesheets, not <a> links."""
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    return [m.group(1) for t in tags if (m := re.search(r'(?:src|href)="(/[^/"][^"]*)"', t))]


def sizes(client: FlaskClient, urls: list[str], section: str) -> dict[str, int]:
    """Bytes of each URL's answer; one that is not a 200 is left out with a warning."""
    found: dict[str, int] = {}
    for url in dict.fromkeys(urls):
        response = client.get(url)
        if response.status_code != 200:  # e.g. vendor files not built: `make assets`
            warn(f"{section}: GET {url} answered {response.status_code}; left out of the page weight")
        else:
            found[url] = len(response.get_data())
        response.close()
    return found


def bench_page_weight(app: Flask) -> tuple[list[Row], list[tuple[str, int]]]:
    """(d) bytes of the page and of what it loads: our own files and API calls vs vendor + basemap."""
    client = app.test_client()
    page = client.get("/")
    html = page.get_data(as_text=True)
    config = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', html, re.S)
    if page.status_code != 200 or not config:
        warn(f"d: GET / answered {page.status_code} without the page-config block; page weight skipped")
        return [], []
    settings = json.loads(config.group(1))["urls"]
    urls = page_assets(html)
    basemap_js = (Path(__file__).resolve().parent.parent / "static/js/shared/basemap.js").read_text()
    urls += [settings["categories"], settings["events"] + "?limit=1000"]
    names = dict.fromkeys(re.findall(r'"([\w-]+\.geojson)"', basemap_js))
    urls += [settings["basemap"] + name for name in names]
    found = {"GET / (HTML)": len(html.encode()), **sizes(client, urls, "d")}
    theirs = [(u, s) for u, s in found.items() if is_vendor(u)]
    vendor_total = sum(s for _, s in theirs)
    ours = [(u, s) for u, s in found.items() if not is_vendor(u)]
    rows = [Row(f"d {url} — vs vendor+basemap total", size, vendor_total, "bytes") for url, size in ours]
    rows.append(
        Row(
            "d our same-origin total — vs vendor+basemap total",
            sum(s for _, s in ours),
            vendor_total,
            "bytes",
        )
    )
    return rows, theirs


def first_load_bytes(app: Flask) -> tuple[int, int, dict[str, int]]:
    """What a first visit to / fetches, the way app.js does it: ours vs vendor and basemap files."""
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    api = [
        "/api/categories",
        "/api/density",
        f"/api/clusters?zoom=7&bbox={HOME_BBOX}",
        "/api/clusters?zoom=0",
    ]
    basemap = ["/static/basemap/admin1.geojson", "/static/basemap/countries.geojson"]
    found = {"GET /": len(html.encode()), **sizes(client, [*page_assets(html), *api, *basemap], "e3")}
    # The map draws events one by one, and the timeline lists them, only when few enough: at this
    # scale neither does on a first visit (app.js: MAP_LIMIT, TIMELINE_LIMIT).
    cells = client.get(f"/api/clusters?zoom=7&bbox={HOME_BBOX}").get_json()["numberMatched"]
    if cells <= 500:
        response = client.get(f"/api/events?bbox={HOME_BBOX}&limit=500&view=summary")
        found["/api/events?…&view=summary"] = len(response.get_data())
    vendor = sum(s for u, s in found.items() if is_vendor(u))
    ours = sum(s for u, s in found.items() if not is_vendor(u))
    return ours, vendor, found


def first_visit_rows(app: Flask) -> list[Row]:
    """(e3) the first visit's own bytes against the 300 KB goal and the cacheable vendor files."""
    ours, vendor, _ = first_load_bytes(app)
    return [
        Row(
            "e3 first visit to /, our bytes (HTML, app.js, CSS, API calls) — vs the 300 KB goal",
            ours,
            300_000,
            "bytes",
        ),
        Row("e3 same — vs the cacheable vendor and basemap files", ours, vendor, "bytes"),
    ]


def drag_rows(app: Flask, artefact: Path) -> list[Row]:
    """(e4) the longest task while dragging, against the budget and the longest while loading."""
    drag = drag_long_tasks(app, artefact)
    if drag is None:
        warn("e4: no Chromium/Playwright; the drag responsiveness figure was skipped")
        return []
    longest, at_load, over_50 = drag
    return [
        Row(
            "e4 longest main-thread task while dragging the timeline across its width twice "
            f"({over_50} tasks over 50 ms) — vs the 200 ms budget",
            longest,
            200.0,
        ),
        Row("e4 same — vs the longest task while the page loaded", longest, at_load),
    ]


def drag_long_tasks(app: Flask, artefact: Path) -> tuple[float, float, int] | None:
    """Drag the timeline across its whole width in Chromium; the longest main-thread task (ms).

    Returns (longest task while dragging, longest task while the page loaded, tasks over 50 ms), or
    None when Chromium or Playwright is missing. A screenshot of the end state goes to ``artefact``.
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
            assert box is not None, "the timeline has no box"
            y = box["y"] + min(40, box["height"] / 2)
            for start, end in ((0.95, 0.05), (0.05, 0.95)):
                page.mouse.move(box["x"] + box["width"] * start, y)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] * end, y, steps=40)
                page.mouse.up()
                page.wait_for_timeout(1500)  # the map and strip refresh after the drag
            tasks = page.evaluate("window.__long")
            artefact.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(artefact))
            browser.close()
    finally:
        server.shutdown()
    return max(tasks, default=0.0), at_load, sum(1 for t in tasks if t > 50)
