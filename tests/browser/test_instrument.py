"""Map and timeline as one instrument, in a real browser: filters, the time window, selection both
ways, permalinks and the back button, the German interface, the embed view, phones."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import THE_MAP, click_feature_at, in_view_count, only_local, save_screenshot, wait_for_the_map
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FEATURES = "path.event-feature"
LIST_ITEMS = "#timeline .timeline-item"


def open_map(page, live_server, query=""):
    """Open the map page and wait until its first view has loaded: list, timeline and map."""
    page.goto(f"{live_server.url}/{query}")
    page.wait_for_selector(LIST_ITEMS)
    wait_for_the_map(page)
    expect(page.locator(FEATURES).first).to_be_attached()
    return page


def in_address(name, value):
    """A pattern for a page URL whose query has name=value."""
    return re.compile(rf"[?&]{re.escape(name)}={re.escape(value)}(&|$)")


def state(page):
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def test_category_filter_changes_markers_items_and_the_count(live_server, page, demo):
    page, recorder = page
    open_map(page, live_server)
    before_map = page.locator(FEATURES).count()
    assert page.locator(LIST_ITEMS).count() == len(demo)
    page.locator("#category-list input[value=offensive]").uncheck()
    offensive = [f for f in demo if f["properties"]["category"] == "offensive"]
    expect(page.locator(LIST_ITEMS)).to_have_count(len(demo) - len(offensive))
    wait_for_the_map(page)
    assert page.locator(FEATURES).count() < before_map
    assert "offensive" not in state(page)["cat"]
    # The count is the list's (every date and place that matches); the map draws those in its view.
    expect(page.locator("#status")).to_have_text(f"{len(demo) - len(offensive)} of {len(demo)} events")
    assert only_local(recorder.requests) == []


def test_dragging_the_time_window_filters_the_map(live_server, page, demo):
    page, recorder = page
    open_map(page, live_server)
    before = page.locator(FEATURES).count()
    # Zoom the timeline in on one end of the story, then drag it: the window is what it shows.
    box = page.locator("#vis-timeline .vis-center").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + 20)
    for _ in range(14):
        page.mouse.wheel(0, -300)  # ctrl-less wheel zooms vis-timeline by default
    # vis-timeline reports a zoom once the wheel has been still for 200 ms: the zoomed window is
    # the visitor's choice, in the address, before the drag starts (else it could land after it).
    expect(page).to_have_url(re.compile(r"[?&]start="))
    zoomed = state(page)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + 22, steps=8)
    page.mouse.up()
    moved = "s => new URLSearchParams(location.search).get('start') !== s"
    page.wait_for_function(moved, arg=zoomed["start"])
    after_state = state(page)
    assert after_state["start"] > zoomed["start"]  # dragged towards the later end
    assert after_state["start"] < after_state["end"]
    assert page.input_value("#window-start") == after_state["start"]
    expected = in_view_count(page, live_server, f"&start={after_state['start']}&end={after_state['end']}")
    expect(page.locator(FEATURES)).to_have_count(expected)
    assert expected != before
    save_screenshot(page, "instrument-window-dragged")
    assert recorder.errors == []


def test_date_inputs_set_the_window(live_server, page, demo):
    page, _ = page
    open_map(page, live_server)
    page.fill("#window-start", "2024-06-01")
    page.fill("#window-end", "2024-06-30")
    page.locator("#window-end").dispatch_event("change")
    expect(page).to_have_url(in_address("end", "2024-06-30"))
    expect(page).to_have_url(in_address("start", "2024-06-01"))
    expected = in_view_count(page, live_server, "&start=2024-06-01&end=2024-06-30")
    everything = in_view_count(page, live_server)
    assert expected < everything
    expect(page.locator(FEATURES)).to_have_count(expected)
    # The count and the list are the window's events, wherever they are (the map shows its part).
    with live_server.app.test_client() as client:
        in_window = client.get("/api/events?start=2024-06-01&end=2024-06-30").get_json()["numberMatched"]
    expect(page.locator("#status")).to_have_text(re.compile(rf"^{in_window} of "))
    expect(page.locator(LIST_ITEMS)).to_have_count(in_window)


def test_clicking_a_marker_selects_its_timeline_item(live_server, page, demo):
    page, _ = page
    open_map(page, live_server)
    target = next(f for f in demo if f["id"] == "kursk-2024-putin-ratification-law")
    lon, lat = target["geometry"]["coordinates"]
    click_feature_at(page, lon, lat, 10)
    expect(page.locator("#vis-timeline .vis-item.vis-selected:is(.vis-point, .vis-range)")).to_have_count(1)
    expect(page.locator("#details h2")).to_have_text(target["properties"]["title"])
    assert state(page)["sel"] == target["id"]


def test_a_permalink_restores_the_view_and_back_goes_back(live_server, page, demo):
    page, recorder = page
    query = (
        "?map=9/51.2000/35.2000&start=2024-08-01&end=2024-11-30&cat=offensive,deployment"
        "&sel=kursk-2024-ukrainian-held-area"
    )
    open_map(page, live_server, query)
    view = page.evaluate(
        f"() => {{ const m = {THE_MAP}; return [m.getZoom(), m.getCenter().lat, m.getCenter().lng]; }}"
    )
    assert view[0] == 9 and abs(view[1] - 51.2) < 1e-3 and abs(view[2] - 35.2) < 1e-3
    assert (
        page.input_value("#window-start") == "2024-08-01" and page.input_value("#window-end") == "2024-11-30"
    )
    assert not page.locator("#category-list input[value=diplomacy]").is_checked()
    assert page.locator("#category-list input[value=offensive]").is_checked()
    expect(page.locator("#details")).to_be_visible()
    expect(page.locator("#details h2")).to_contain_text("Ukrainian-held area")
    assert page.locator("#notice").is_hidden()
    first_url = page.url
    # A new selection is a new history entry; back returns to the permalink's selection.
    page.locator('#timeline button[data-id="kursk-2024-ukrainian-incursion-sudzha"]').click()
    expect(page).to_have_url(in_address("sel", "kursk-2024-ukrainian-incursion-sudzha"))
    expect(page.locator("#details h2")).to_contain_text("cross-border incursion")  # shown first
    page.go_back()
    expect(page).to_have_url(in_address("sel", "kursk-2024-ukrainian-held-area"))
    expect(page.locator("#details h2")).to_contain_text("Ukrainian-held area")
    assert state(page) == {k: v[0] for k, v in parse_qs(urlsplit(first_url).query).items()}
    assert only_local(recorder.requests) == []


def test_a_broken_permalink_opens_the_default_view_with_a_notice(live_server, page, demo):
    page, recorder = page
    open_map(page, live_server, "?map=99/abc/1&start=2024-02-30&cat=no-such-thing")
    notice = page.locator("#notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("could not be restored")
    expect(page.locator(LIST_ITEMS)).to_have_count(len(demo))
    assert recorder.errors == []


def test_the_interface_in_german(live_server, browser, demo):
    context = browser.new_context(locale="de-DE", extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"})
    page = context.new_page()
    open_map(page, live_server)
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("#copy-embed").inner_text() == "Einbettungscode kopieren"
    expect(page.locator("#status")).to_contain_text(" von 18 Ereignissen")
    monthly = next(f for f in demo if f["properties"]["start"] == "2024-10" and not f["properties"]["end"])
    when = page.locator(f'#timeline button[data-id="{monthly["id"]}"] time').inner_text()
    assert when == "Oktober 2024"
    # Each event keeps its own language, whatever the interface's.
    english = next(f for f in demo if f["properties"]["lang"] == "en")
    assert page.locator(f'#timeline button[data-id="{english["id"]}"] .title').get_attribute("lang") == "en"
    # The switcher sticks.
    page.locator("#language-form button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_selector(LIST_ITEMS)
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    save_screenshot(page, "instrument-after-switch")
    context.close()


def test_embed_view_works_without_chrome(live_server, page, demo):
    page, recorder = page
    page.goto(live_server.url + "/embed?map=7/51.4/35.4")
    page.wait_for_selector(LIST_ITEMS)
    assert page.locator(".topbar").count() == 0
    expect(page.locator(LIST_ITEMS)).to_have_count(len(demo))
    href = page.locator("#open-full").get_attribute("href")
    assert href.startswith("/")
    save_screenshot(page, "instrument-embed")
    assert only_local(recorder.requests) == []


def test_copy_embed_code_offers_an_iframe_of_the_current_view(live_server, browser, demo):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    open_map(page, live_server, "?map=8/51.3/35.3&cat=offensive")
    page.locator("#copy-embed").click()
    expect(page.locator("#copied")).not_to_be_empty()
    code = page.evaluate("() => navigator.clipboard.readText()")
    assert code.startswith("<iframe") and "/embed?map=8/51.3" in code and "cat=offensive" in code
    context.close()


def test_phone_sized_viewport(live_server, browser, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    open_map(page, live_server)
    map_box = page.locator(".map-pane").bounding_box()
    timeline_box = page.locator("#vis-timeline").bounding_box()
    assert timeline_box["y"] >= map_box["y"] + map_box["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    save_screenshot(page, "instrument-phone")
    context.close()


def test_timeline_can_be_limited_to_the_map_view(live_server, page, demo):
    page, _ = page
    open_map(page, live_server)
    assert page.locator(LIST_ITEMS).count() == len(demo)
    page.locator("#viewport-only").check()
    in_view = in_view_count(page, live_server)
    expect(page.locator(LIST_ITEMS)).to_have_count(in_view)
    assert in_view < len(demo)
    assert state(page)["vp"] == "1"


def test_play_slides_the_window_through_time(live_server, page, demo):
    page, _ = page
    # A view wide enough to hold an event of June–July 2024 (the default view's map is shorter
    # now that the timeline runs under it).
    open_map(page, live_server, "?start=2024-06-01&end=2024-07-31&map=6/51.4/35.4")
    page.locator("#play").click()
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    sliding = "s => (new URLSearchParams(location.search).get('start') || '') > s"
    page.wait_for_function(sliding, arg="2024-06-01", timeout=10_000)
    page.wait_for_function(sliding, arg=state(page)["start"], timeout=10_000)
    page.locator("#play").click()  # pause
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    # The window keeps its width while it slides.
    from datetime import date

    s, e = state(page)["start"], state(page)["end"]
    assert abs((date.fromisoformat(e) - date.fromisoformat(s)).days - 60) <= 2


def test_event_page_in_the_browser_is_inert_for_hostile_text(live_server, page):
    from helpers import XSS_PAYLOADS, feature

    from timeline.domain.importing import import_collection
    from timeline.store.db import db

    payload = " ".join(XSS_PAYLOADS)
    source = {"url": "https://example.org/", "outlet": payload, "title": payload}
    hostile = feature("xss-page", title=payload, description=payload, place=payload, actors=[payload],
                      sources=[source])  # fmt: skip
    with live_server.app.app_context():
        import_collection(db.session, {"type": "FeatureCollection", "features": [hostile]})
    page, recorder = page
    page.goto(live_server.url + "/events/xss-page")
    page.wait_for_selector(".event-map .leaflet-container")
    expect(page.locator("h1")).to_have_text(payload)
    # No payload became an element, so none can run later either (an <img>'s onerror, an <svg>'s onload).
    expect(page.locator("article img, article svg, article script")).to_have_count(0)
    assert recorder.dialogs == [] and recorder.errors == []
    assert only_local(recorder.requests) == []
