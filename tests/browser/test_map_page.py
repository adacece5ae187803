"""The map page in a real browser: features on the map, items in the timeline, selection both ways."""

from __future__ import annotations

import json
import re

import pytest
from helpers import THE_MAP, XSS_PAYLOADS, click_feature_at, feature, in_view_count, only_local, page_config
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BASEMAP_PATH = ".leaflet-basemap-pane path"


def test_map_shows_every_event_and_the_timeline_lists_them(live_server, page, demo):
    page, recorder = page
    page.goto(live_server.url + "/")
    # The timeline lists every event of the story, in date order, list and vis-timeline alike.
    expect(page.locator("#timeline .timeline-item")).to_have_count(len(demo))
    expect(page.locator("#vis-timeline .vis-item:is(.vis-point, .vis-range)")).to_have_count(len(demo))
    titles = page.locator("#timeline .title").all_inner_texts()
    assert titles == [f["properties"]["title"] for f in demo]
    # The map draws the events in its view; the count is the list's: every event, with no filter.
    in_view = in_view_count(page, live_server)
    assert 0 < in_view < len(demo)  # the story's far-away events (Pyongyang, Moscow) are off the home view
    expect(page.locator("path.event-feature")).to_have_count(in_view)
    expect(page.locator("#status")).to_have_text(f"{len(demo)} of {len(demo)} events")
    # The bundled boundaries are drawn, since no tiles are configured.
    page.locator(BASEMAP_PATH).first.wait_for(state="attached")
    assert only_local(recorder.requests) == []
    assert recorder.dialogs == [] and recorder.errors == []


def test_clicking_an_item_opens_its_details(live_server, page, demo):
    page, recorder = page
    page.goto(live_server.url + "/")
    ranged = next(f for f in demo if f["properties"]["end"] and f["properties"]["sources"])
    item = page.locator(f'#timeline button[data-id="{ranged["id"]}"]')
    item.click()
    details = page.locator("#details")
    expect(details).to_be_visible()
    props = ranged["properties"]
    expect(details.locator("h2")).to_have_text(props["title"])
    assert details.locator("h2").get_attribute("lang") == props["lang"]
    assert "–" in details.locator("dd time").inner_text()  # a range is shown as a range
    assert props["place"] in details.inner_text()
    assert props["confidence"] in details.inner_text()
    links = details.locator(".sources a")
    linked = [s for s in props["sources"] if s["url"]]
    assert links.count() == len(linked)
    for i, source in enumerate(linked):
        assert links.nth(i).get_attribute("href") == source["url"]
    expect(item).to_have_attribute("aria-pressed", "true")
    # The event is opened on the map too: labelled, and brought into view.
    expect(page.locator(".leaflet-tooltip")).to_have_text(props["title"])
    page.wait_for_function(
        f"""id => {{
            const map = {THE_MAP};
            let hit = false;
            map.eachLayer(l => {{
                if (!l.feature || l.feature.id !== id) return;
                const view = map.getBounds();
                hit = l.getLatLng ? view.contains(l.getLatLng()) : view.intersects(l.getBounds());
            }});
            return hit;
        }}""",
        arg=ranged["id"],
    )
    assert recorder.dialogs == []


def test_a_click_while_the_page_is_still_loading_is_kept(live_server, page, demo):
    """A visitor who picks an event before the first view has finished loading keeps that choice.

    The map's own feature request is held back until after the click, so the page's start-up
    finishes after the visitor has chosen (as it does on a slow connection).
    """
    page, recorder = page
    held: list = []

    def hold_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/events?bbox=*", hold_first)
    page.goto(live_server.url + "/")
    chosen = demo[0]
    title = chosen["properties"]["title"]
    page.locator(f'#timeline button[data-id="{chosen["id"]}"]').click()
    expect(page.locator("#details h2")).to_have_text(title)
    assert held, "the map's feature request should have been held back"
    assert "sel=" not in page.url  # the address is written once the view has been restored
    held[0].continue_()
    # Start-up has finished when it writes the visitor's choice into the address (ready to share).
    expect(page).to_have_url(re.compile(rf"[?&]sel={re.escape(chosen['id'])}(&|$)"))
    expect(page.locator("#status")).to_contain_text(" of ")
    assert page.locator("#details h2").inner_text() == title
    assert page.locator("#details").is_visible()
    assert recorder.dialogs == [] and recorder.errors == []


def test_month_precision_is_shown_as_a_month(live_server, page, demo):
    page, _ = page
    page.goto(live_server.url + "/")
    monthly = next(
        f for f in demo if f["properties"]["date_precision"] == "month" and not f["properties"]["end"]
    )
    when = page.locator(f'#timeline button[data-id="{monthly["id"]}"] time').inner_text()
    year, _month = monthly["properties"]["start"].split("-")[:2]
    assert year in when
    assert not any(ch.isdigit() for ch in when.replace(year, "")), when  # no day number for a month


def test_clicking_a_map_feature_highlights_its_timeline_item(live_server, page, demo):
    page, _ = page
    page.goto(live_server.url + "/")
    page.wait_for_selector("#timeline .timeline-item")
    coords = [tuple(f["geometry"]["coordinates"]) for f in demo]
    point = next(
        f
        for f in demo
        if f["geometry"]["type"] == "Point" and coords.count(tuple(f["geometry"]["coordinates"])) == 1
    )
    # Click the marker where Leaflet put it on screen.
    click_feature_at(page, *point["geometry"]["coordinates"], 12)
    item = page.locator(f'#timeline .timeline-item:has(button[data-id="{point["id"]}"])')
    expect(item.locator("button")).to_have_attribute("aria-pressed", "true")
    expect(item).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("#details h2")).to_have_text(point["properties"]["title"])


def test_hostile_text_stays_inert_everywhere(live_server, page):
    """SECURITY.md payloads in every text field: shown as text, never run."""
    from timeline.domain.importing import import_collection

    features = []
    for i, payload in enumerate(XSS_PAYLOADS):
        features.append(
            feature(
                f"xss-{i}",
                lon=35 + i / 10,
                title=payload,
                description=payload,
                place=payload,
                actors=[payload],
                lang="en",
                sources=[
                    {
                        "url": "https://example.org/?q=" + str(i),
                        "outlet": payload,
                        "title": payload,
                        "published": "2024-11",
                    }
                ],
            )
        )
    with live_server.app.app_context():
        from timeline.store.db import db

        import_collection(db.session, {"type": "FeatureCollection", "features": features})
    page, recorder = page
    page.goto(live_server.url + "/")
    page.wait_for_selector("#timeline .timeline-item")
    for i, payload in enumerate(XSS_PAYLOADS):
        page.locator(f'#timeline button[data-id="xss-{i}"]').click()
        expect(page.locator("#details h2")).to_have_text(payload)
        expect(page.locator("#details .description")).to_contain_text(payload)
    # The selected event's tooltip is open; hovering another opens its own, built from a text node.
    expect(page.locator(".leaflet-tooltip")).to_have_count(1)
    page.locator("path.event-feature").first.hover()
    tooltips = page.locator(".leaflet-tooltip")
    expect(tooltips).to_have_count(2)
    assert set(tooltips.all_text_contents()) <= set(XSS_PAYLOADS)
    # No payload became an element, so none can run later either (an <img>'s onerror, an <svg>'s onload).
    parts = ("#details", "#timeline", ".leaflet-tooltip")
    hostile = ", ".join(f"{part} {tag}" for part in parts for tag in ("img", "svg"))
    expect(page.locator(hostile)).to_have_count(0)
    assert recorder.dialogs == []
    assert recorder.errors == []
    assert only_local(recorder.requests) == []
    assert json.dumps(recorder.requests).count("example.org") == 0


def test_phone_sized_viewport_stacks_map_and_timeline(live_server, browser, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.wait_for_selector("#timeline .timeline-item")
    map_box = page.locator(".map-pane").bounding_box()
    side_box = page.locator(".side").bounding_box()
    assert side_box["y"] >= map_box["y"] + map_box["height"] - 1  # timeline below the map
    assert map_box["width"] == pytest.approx(390, abs=20)
    context.close()


def test_boundaries_replace_tiles_that_cannot_load(live_server, page, demo):
    """With tiles configured but unreachable, the bundled boundary layer is drawn instead."""
    live_server.app.config["TILE_URL"] = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"  # nothing listens there
    page, recorder = page
    page.goto(live_server.url + "/")
    assert page_config(page)["tiles"] is True
    page.locator(BASEMAP_PATH).first.wait_for(state="attached", timeout=15000)
    assert any("/tiles/" in url for url in recorder.requests)  # it did try the tiles first
    assert only_local(recorder.requests) == []


def test_a_big_storys_window_is_drawn_a_page_at_a_time(live_server, page):
    """Over 200 events: the whole story shows as density only; a window shows its first 100 events
    (a page vis-timeline lays out without holding the page), and says how many there are."""
    from datetime import date, timedelta

    from timeline.domain.importing import import_collection

    features = [
        feature(
            f"big-{i:03d}",
            lon=34.5 + (i % 20) / 10,
            lat=51.0 + (i % 7) / 10,
            title=f"Event {i:03d}",
            start=(date(2024, 1, 1) + timedelta(days=i * 366 // 260)).isoformat(),
        )
        for i in range(260)
    ]
    with live_server.app.app_context():
        from timeline.store.db import db

        import_collection(db.session, {"type": "FeatureCollection", "features": features})
    with live_server.app.test_client() as client:
        in_window = client.get("/api/events?start=2024-03-01&end=2024-08-31&limit=1").get_json()
    assert 100 < in_window["numberMatched"] < 200
    page, recorder = page

    page.goto(live_server.url + "/")
    expect(page.locator("#timeline .muted")).to_contain_text("260")
    expect(page.locator("#timeline .timeline-item")).to_have_count(0)
    expect(page.locator("#vis-timeline .vis-item")).to_have_count(0)

    page.goto(live_server.url + "/?start=2024-03-01&end=2024-08-31")
    expect(page.locator("#timeline .timeline-item")).to_have_count(100)
    expect(page.locator("#vis-timeline .vis-item.vis-point")).to_have_count(100)
    titles = page.locator("#timeline .title").all_inner_texts()
    in_order = [f["properties"] for f in features if f["properties"]["start"] >= "2024-03-01"]
    assert titles == [p["title"] for p in in_order[:100]]
    message = page.locator("#timeline .muted").inner_text()
    assert "100" in message and str(in_window["numberMatched"]) in message
    assert recorder.dialogs == [] and recorder.errors == []


def test_a_timeline_refresh_keeps_the_items_of_events_that_stay(live_server, page, demo):
    """Only new or changed events are laid out again (vis-timeline measures each new item): the
    events still listed after a refresh keep their very items."""
    page, recorder = page
    page.goto(live_server.url + "/")
    items = page.locator("#vis-timeline .vis-item:is(.vis-point, .vis-range)")
    expect(items).to_have_count(len(demo))
    items.evaluate_all("items => items.forEach(e => e.dataset.kept = '1')")
    in_view = in_view_count(page, live_server)
    assert 0 < in_view < len(demo)

    page.locator("#viewport-only").check()

    expect(page.locator("#timeline .timeline-item")).to_have_count(in_view)
    expect(items).to_have_count(in_view)
    kept = items.evaluate_all("items => items.map(e => e.dataset.kept)")
    assert kept == ["1"] * in_view
    assert recorder.dialogs == [] and recorder.errors == []
