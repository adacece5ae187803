"""The visitor's page as a newsroom would publish it: the timeline across the whole width under the
map, filters in a panel that folds, a light base map that loads its detail only where the story is,
an honest density strip, coincident events spread apart, an embed that fits its frame, an event
page that shows its surroundings, and what search engines read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import THE_MAP, centre_map_on, wait_for_the_map
from playwright.sync_api import expect
from visitor_fixtures import box, features, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


def test_on_a_desktop_the_timeline_runs_the_whole_width_under_the_map(browser, server):
    page, recorder = open_page(browser, 1440, 900)
    page.goto(server.url + "/")
    expect(page.locator("#vis-timeline .vis-item").first).to_be_visible()
    map_pane, timeline = box(page, ".map-pane"), box(page, ".timeline-pane")
    assert timeline["y"] >= map_pane["y"] + map_pane["height"] - 1, "the timeline is not under the map"
    assert timeline["x"] <= 1 and timeline["width"] >= 1440 - 2, f"only {timeline['width']} px wide"
    assert box(page, "#vis-timeline")["width"] >= 1440 - 40
    assert timeline["y"] + timeline["height"] <= 900, "the timeline runs off the screen"
    # Filters and legend: a compact panel beside the map, open on a wide screen, and it folds.
    panel = page.locator("details#filter-panel")
    expect(panel).to_have_attribute("open", "")
    expect(page.locator("#category-list input").first).to_be_visible()
    side = box(page, ".side")
    assert side["width"] <= 400 and side["y"] < timeline["y"]
    panel.locator("summary").click()
    expect(page.locator("#category-list input").first).to_be_hidden()
    panel.locator("summary").click()
    expect(page.locator("#category-list input").first).to_be_visible()
    # Details open in a drawer over the map, not in the timeline's strip.
    first = features(server)[0]
    page.locator(f'#timeline button[data-id="{first["id"]}"]').click()
    expect(page.locator("#details h2")).to_have_text(first["properties"]["title"])
    drawer = box(page, "#details")
    assert drawer["y"] + drawer["height"] <= map_pane["y"] + map_pane["height"] + 1
    assert map_pane["x"] <= drawer["x"] < map_pane["x"] + map_pane["width"]
    page.context.close()
    assert recorder.errors == []


def test_on_a_phone_map_timeline_and_filters_fit_one_screen_under_a_one_line_top_bar(browser, server):
    page, recorder = open_page(browser, 390, 844)
    page.goto(server.url + "/")
    expect(page.locator("#vis-timeline .vis-item").first).to_be_visible()
    topbar = box(page, ".topbar")
    assert topbar["height"] <= 44, f"the top bar is {topbar['height']} px tall: more than one line"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    map_pane, timeline = box(page, ".map-pane"), box(page, "#vis-timeline")
    assert map_pane["y"] <= topbar["y"] + topbar["height"] + 1, "the map does not come first"
    assert map_pane["height"] >= 300
    assert timeline["y"] >= map_pane["y"] + map_pane["height"] - 1
    # Without scrolling: the timeline's first lane and the filters' switch are on the first screen.
    assert timeline["y"] + 120 <= 844, f"the timeline starts at {timeline['y']} px"
    summary = page.locator("#filter-panel summary")
    expect(summary).to_be_in_viewport(ratio=1)
    summary.click()
    expect(page.locator("#category-list input").first).to_be_visible()
    page.context.close()
    assert recorder.errors == []


def test_the_base_map_is_light_for_the_world_and_detailed_only_where_the_story_is(browser, server):
    page, recorder = open_page(browser, 1280, 800)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/static/basemap/" in r.url else None)
    names = lambda: sorted(url.split("/static/basemap/")[1].split("?")[0] for url in seen)  # noqa: E731
    page.goto(server.url + "/?map=3/30.0/-30.0")  # the Atlantic: nothing of the story in view
    page.locator(".leaflet-basemap-pane path").first.wait_for(state="attached")
    wait_for_the_map(page)
    page.wait_for_timeout(500)
    assert names() == ["countries.geojson"], names()
    # Fingerprinted, so the browser may keep it for a year; and light.
    assert "?v=" in seen[0]
    world_bytes = len(page.request.get(seen[0]).body())
    assert world_bytes < 200_000, f"the world's boundaries are {world_bytes} bytes"
    # Over the story's region, closer in, the detailed boundaries come too.
    centre_map_on(page, 35.3, 51.4, 7)
    page.wait_for_function("() => document.querySelectorAll('.leaflet-basemap-pane path').length > 20")
    assert names() == ["admin1.geojson", "countries.geojson", "region-countries.geojson"], names()
    total = sum(len(page.request.get(url).body()) for url in seen)
    assert total < 520_000, f"the whole base map is {total} bytes uncompressed"
    page.context.close()
    assert recorder.errors == []


def week_counts(page):
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#density rect.density-bar')]"
        ".map(r => [r.dataset.week, Number(r.dataset.count)]))"
    )


def test_the_density_strip_spreads_uncertain_dates_over_their_period_and_has_an_axis(browser, server):
    page, recorder = open_page(browser, 1440, 900)
    story = features(server)
    yearly = [f for f in story if f["properties"]["date_precision"] == "year"]
    assert yearly, "the demo story has an event known only to the year"
    page.goto(server.url + "/")
    expect(page.locator("#timeline .timeline-item")).to_have_count(len(story))
    page.locator("#density rect.density-bar").first.wait_for(state="attached")
    counts = week_counts(page)
    # "2023–2024" weighs on every week of those years, not on the week it starts in alone.
    mid_2023 = [w for w in counts if "2023-05-01" <= w <= "2023-07-31"]
    assert len(mid_2023) >= 12, f"no weight in mid-2023: {sorted(counts)[:20]}"
    assert counts.get("2022-12-26", 0) < 0.5, "the year's whole weight sits in its first week"
    # The weights add up to the events shown.
    assert sum(counts.values()) == pytest.approx(len(story), abs=0.05)
    # An axis with dates and a visible label say what the bars are.
    ticks = page.evaluate(
        "() => [...document.querySelectorAll('#density .density-axis text')].map(t => t.textContent)"
    )
    assert len(ticks) >= 3 and any("2024" in t for t in ticks), ticks
    expect(page.locator(".density-label")).to_have_text("Events per week")
    expect(page.locator(".density-label")).to_be_visible()
    page.context.close()
    assert recorder.errors == []


def test_three_events_at_one_position_are_spread_apart_and_each_can_be_clicked(browser, server):
    story = features(server)
    by_position: dict[tuple[float, ...], list[dict]] = {}
    for f in story:
        if f["geometry"]["type"] == "Point":
            by_position.setdefault(tuple(f["geometry"]["coordinates"]), []).append(f)
    position, shared = next((p, fs) for p, fs in by_position.items() if len(fs) == 3)
    page, recorder = open_page(browser, 1280, 800)
    page.goto(server.url + "/")
    expect(page.locator("#timeline .timeline-item")).to_have_count(len(story))
    x, y = centre_map_on(page, position[0], position[1], 8)
    wait_for_the_map(page)
    page.wait_for_function(
        "([x, y]) => document.elementFromPoint(x, y)?.classList.contains('event-feature')", arg=[x, y]
    )
    page.mouse.click(x, y)
    expect(page.locator("#details h2")).to_be_visible()
    # Each of the three now has a place of its own on the map.
    spots = page.evaluate(
        f"""ids => {{
            const map = {THE_MAP};
            const found = {{}};
            map.eachLayer(l => {{
                if (!l.feature || !ids.includes(l.feature.id) || !l.getLatLng) return;
                const p = map.latLngToContainerPoint(l.getLatLng());
                const r = map.getContainer().getBoundingClientRect();
                found[l.feature.id] = [r.left + p.x, r.top + p.y];
            }});
            return found;
        }}""",
        [f["id"] for f in shared],
    )
    assert len(spots) == 3
    points = list(spots.values())
    for i, a in enumerate(points):
        for b in points[i + 1 :]:
            assert abs(a[0] - b[0]) + abs(a[1] - b[1]) >= 15, f"still on top of each other: {spots}"
    for event in shared:
        sx, sy = spots[event["id"]]
        page.mouse.click(sx, sy)
        expect(page.locator("#details h2")).to_have_text(event["properties"]["title"])
    page.context.close()
    assert recorder.errors == []


@pytest.mark.parametrize(("width", "height"), [(800, 600), (390, 844)])
def test_the_embed_shows_map_and_timeline_together_in_its_frame(browser, server, width, height):
    page, recorder = open_page(browser, width, height)
    page.goto(server.url + "/embed")
    expect(page.locator("#vis-timeline .vis-item").first).to_be_visible()
    assert page.evaluate("() => window.scrollY") == 0
    map_pane, timeline = box(page, ".map-pane"), box(page, "#vis-timeline")
    assert map_pane["y"] >= 0 and map_pane["height"] >= 140, map_pane
    assert timeline["y"] >= map_pane["y"] + map_pane["height"] - 1
    assert timeline["y"] + 100 <= height, f"the timeline starts at {timeline['y']} px of {height}"
    expect(page.locator("#vis-timeline .vis-item").first).to_be_in_viewport()
    page.context.close()
    assert recorder.errors == []


def test_an_event_page_frames_its_event_with_the_places_around_it(browser, server):
    point = next(f for f in features(server) if f["geometry"]["type"] == "Point")
    page, recorder = open_page(browser, 1280, 800)
    page.goto(f"{server.url}/events/{point['id']}")
    page.locator(".event-map .leaflet-basemap-pane path").first.wait_for(state="attached")
    view = page.evaluate(
        f"() => {{ const m = {THE_MAP}; const b = m.getBounds();"
        f" return {{ zoom: m.getZoom(), wide: b.getEast() - b.getWest() }}; }}"
    )
    assert view["zoom"] <= 7, f"the event page's map is at zoom {view['zoom']}"
    assert view["wide"] >= 3, f"the map is only {view['wide']:.2f}° wide"
    page.context.close()
    assert recorder.errors == []


@pytest.mark.parametrize("path", ["/", "event"])
def test_pages_have_a_meta_description(browser, server, path):
    if path == "event":
        path = f"/events/{features(server)[0]['id']}"
    page, _ = open_page(browser)
    page.goto(server.url + path)
    description = page.locator("meta[name=description]")
    expect(description).to_have_count(1)
    assert len(description.get_attribute("content") or "") >= 50
    page.context.close()


def test_the_readme_screenshots_are_taken_from_the_real_page(server, tmp_path):
    script = str(ROOT / "tools" / "screenshots.py")
    done = subprocess.run(
        [sys.executable, script, "--base", server.url, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    import struct

    for name, width in (("screenshot.png", 1440), ("screenshot-phone.png", 390)):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (width, 900 if width == 1440 else 844)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/screenshot.png" in readme and "docs/screenshot-phone.png" in readme
