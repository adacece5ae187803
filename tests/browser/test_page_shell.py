"""The map page's shell as a visitor on a slow phone meets it: the timeline arrives after the events
(its box already at its height, so nothing moves when it comes) and works from the keyboard once it
is there; the marker-grouping plugin comes only for a view with many points; the filters' long
German labels wrap inside their panel; and a signed-in editor's top bar on a phone is one line, its
links behind one named button, every one of them reachable by keyboard; and the editors' tables fit a
phone as one card per row."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import feature
from playwright.sync_api import expect
from visitor_fixtures import box, features, log_in, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

TIMELINE_BUNDLE = "**/static/vendor/timeline/timeline.js*"
ITEMS = "#vis-timeline .item-title[data-id]"
PHONE = (390, 844)
GERMAN_VIEWPORT_LABEL = "Zeitleiste: nur Ereignisse im Kartenausschnitt"
# One line of the bar's text: its line height, or the brand's own box where that is "normal".
LINE_HEIGHT = "(a) => parseFloat(getComputedStyle(a).lineHeight) || a.getBoundingClientRect().height"
VERTICAL_PADDING = (
    "(b) => { const s = getComputedStyle(b); return parseFloat(s.paddingTop) + parseFloat(s.paddingBottom); }"
)


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


def test_the_timeline_comes_after_the_events_keeps_its_box_and_works_by_keyboard(browser, server):
    page, recorder = open_page(browser, *PHONE)
    held: list[Any] = []
    page.route(TIMELINE_BUNDLE, lambda route: held.append(route))  # answered below, when we say
    page.goto(server.url + "/")
    story = features(server)
    # The events are listed and counted while the timeline's code has not even arrived.
    expect(page.locator("#timeline button.item")).to_have_count(len(story))
    expect(page.locator("#status")).to_contain_text(str(len(story)))
    expect(page.locator(ITEMS)).to_have_count(0)
    waiting = box(page, "#vis-timeline")
    assert waiting["height"] >= 150, f"the timeline's place is {waiting['height']} px tall before it comes"
    for _ in range(50):  # the page asks for it once the list is painted and the browser idle
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page never asked for the timeline"
    for route in held:
        route.continue_()
    page.unroute(TIMELINE_BUNDLE)
    expect(page.locator(ITEMS)).to_have_count(len(story))
    drawn = box(page, "#vis-timeline")
    assert (drawn["y"], drawn["height"]) == (waiting["y"], waiting["height"]), "the timeline moved as it came"
    # From the keyboard: the items are one tab stop, arrows walk them, Enter opens one.
    page.locator("#all-time").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('#vis-timeline .item-title')"):
            break
    first = page.evaluate("() => document.activeElement.dataset.id")
    assert first, "Tab does not reach the timeline's items"
    page.keyboard.press("ArrowRight")
    second = page.evaluate("() => document.activeElement.dataset.id")
    assert second and second != first
    page.keyboard.press("Enter")
    chosen = next(f for f in story if f["id"] == second)
    expect(page.locator("#details h2")).to_have_text(chosen["properties"]["title"])
    page.context.close()
    assert recorder.errors == []


CLUSTER_PLUGIN = "leaflet.markercluster.js"


def test_many_points_are_grouped_by_a_plugin_that_a_small_story_never_loads(live_server, page):
    from timeline.domain.importing import import_collection
    from timeline.store.db import db

    page, recorder = page
    spots = [(35.2, 51.3), (35.9, 51.6), (34.8, 50.9)]  # many events at a few places, in the first view
    crowd = [
        feature(
            f"crowd-{i:03d}",
            lon=spots[i % 3][0],
            lat=spots[i % 3][1],
            title=f"Event {i:03d}",
            start="2024-09-01",
        )
        for i in range(240)
    ]
    small = [feature("lone-1", lon=35.2, lat=51.3, title="Lone event", start="2024-09-01")]
    with live_server.app.app_context():
        import_collection(db.session, {"type": "FeatureCollection", "features": small})
    page.goto(live_server.url + "/")
    expect(page.locator("#timeline .timeline-item")).to_have_count(1)
    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")
    assert not [url for url in recorder.requests if CLUSTER_PLUGIN in url]
    with live_server.app.app_context():
        import_collection(db.session, {"type": "FeatureCollection", "features": crowd})
    page.reload()
    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")
    groups = page.locator(".leaflet-marker-icon.marker-cluster")
    expect(groups.first).to_be_visible()
    # Its stylesheets came with it: a group is a coloured disc showing how many it holds.
    assert groups.first.evaluate("(g) => getComputedStyle(g).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
    counts = [int(text) for text in groups.all_inner_texts()]
    assert sum(counts) <= len(crowd) + len(small) and max(counts) > 1
    assert recorder.errors == []


@pytest.mark.parametrize("width,height", [(1280, 800), PHONE])
def test_the_filters_long_german_label_wraps_inside_its_panel(browser, server, width, height):
    page, recorder = open_page(browser, width, height)
    page.context.add_cookies([{"name": "lang", "value": "de", "url": server.url}])
    page.goto(server.url + "/")
    panel = page.locator("#filter-panel")
    if not panel.evaluate("(details) => details.open"):
        panel.locator("summary").click()
    label = page.locator("label", has=page.locator("#viewport-only"))
    expect(label).to_have_text(GERMAN_VIEWPORT_LABEL)
    label.scroll_into_view_if_needed()
    inside, outside = label.bounding_box(), panel.bounding_box()
    assert inside and outside
    assert inside["x"] >= outside["x"] and inside["x"] + inside["width"] <= outside["x"] + outside["width"], (
        f"the label runs from {inside['x']} to {inside['x'] + inside['width']} px, "
        f"the panel from {outside['x']} to {outside['x'] + outside['width']} px"
    )
    # The tick box and its words stay together: the box is on the label's first line.
    tick = page.locator("#viewport-only").bounding_box()
    assert tick and tick["y"] < inside["y"] + inside["height"] / 2
    page.context.close()
    assert recorder.errors == []


@pytest.mark.parametrize("path", ["/", "/edit/places"])
def test_a_signed_in_top_bar_on_a_phone_is_one_line_with_every_link_a_keypress_away(browser, server, path):
    page, recorder = open_page(browser, *PHONE)
    log_in(page, server.url)
    page.goto(server.url + path)
    bar = page.locator(".topbar")
    brand_line = page.locator(".topbar .brand").evaluate(LINE_HEIGHT)
    height = box(page, ".topbar")["height"]
    padding = bar.evaluate(VERTICAL_PADDING)
    assert height - padding < 2 * brand_line, f"the bar is {height} px tall for {brand_line} px lines"
    assert bar.evaluate("(b) => b.scrollWidth <= b.clientWidth"), "the bar's contents run past its edge"
    # The links of the bar, as the server wrote them (hidden until the menu opens).
    links = page.locator("nav.account a, nav.account button")
    names = links.evaluate_all("(ls) => ls.map((l) => l.textContent.trim())")
    assert len(names) >= 4 and all(names), names
    toggle = page.get_by_role("button", name="Account")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    # By keyboard alone: Tab to the menu's button, open it, and Tab through every link.
    page.locator(".topbar .brand").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('account-toggle')"):
            break
    else:
        pytest.fail("Tab does not reach the account menu's button")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    reached = [page.evaluate("() => document.activeElement.textContent.trim()")]
    for _ in names[1:]:
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.textContent.trim()"))
    assert reached == names
    for link in links.all():
        expect(link).to_be_visible()
        assert link.evaluate("(l) => l.closest('nav').getAttribute('aria-label')") == "Account"
    # Escape closes it and gives focus back to its button.
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(links.first).to_be_hidden()
    page.context.close()
    assert recorder.errors == []


@pytest.mark.parametrize("path", ["/edit/", "/admin/users", "/edit/places"])
def test_the_editors_tables_fit_a_phone_one_card_per_row_each_value_named(browser, server, path):
    page, recorder = open_page(browser, *PHONE)
    log_in(page, server.url)
    page.goto(server.url + path)
    table = page.locator("table.grid.stack").first
    expect(table).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways"
    )
    rows = table.locator("tbody tr")
    first = rows.first.bounding_box()
    assert first and first["width"] <= PHONE[0]
    named = table.locator("td[data-label]")
    if named.count():  # an empty list has no values to name
        label = named.first.evaluate("(td) => getComputedStyle(td, '::before').content")
        assert label == f'"{named.first.get_attribute("data-label")}: "'
        cells = rows.first.locator("td").evaluate_all("(cs) => cs.map((c) => c.getBoundingClientRect().left)")
        assert len(set(round(x) for x in cells)) == 1, "the row's values are not stacked"
    page.context.close()
    assert recorder.errors == []


@pytest.mark.parametrize(("width", "lang", "folded"), [(1280, "de", True), (1600, "en", False)])
def test_a_signed_in_top_bar_on_a_laptop_is_one_line_folding_only_what_does_not_fit(
    browser, server, width, lang, folded
):
    page, recorder = open_page(browser, width, 800)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server.url}])
    log_in(page, server.url)
    page.goto(server.url + "/")
    bar = page.locator(".topbar")
    brand_line = page.locator(".topbar .brand").evaluate(LINE_HEIGHT)
    height = box(page, ".topbar")["height"] - bar.evaluate(VERTICAL_PADDING)
    assert height < 2 * brand_line, f"the bar is {height} px tall for {brand_line} px lines"
    toggle = page.locator(".account-toggle")
    logout = page.locator("nav.account button, nav.account a").last
    if folded:
        expect(toggle).to_be_visible()
        expect(logout).to_be_hidden()
        toggle.click()
        expect(logout).to_be_visible()
    else:
        expect(toggle).to_be_hidden()
        expect(logout).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 800})  # narrowed: it folds
    expect(toggle).to_be_visible()
    page.context.close()
    assert recorder.errors == []


def test_a_selected_events_title_on_the_map_stays_inside_the_map_on_a_phone(browser, server):
    page, recorder = open_page(browser, *PHONE)
    page.goto(server.url + "/")
    points = [f for f in features(server) if f["geometry"]["type"] == "Point"]
    longest = max(points, key=lambda f: len(f["properties"]["title"]))
    page.locator(f'#timeline button[data-id="{longest["id"]}"]').click()
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_have_count(1)
    expect(tooltip).to_have_text(longest["properties"]["title"])
    shown, pane = tooltip.bounding_box(), box(page, ".map-pane")
    assert shown, "the title is not on screen"
    assert pane["x"] - 1 <= shown["x"] and shown["x"] + shown["width"] <= pane["x"] + pane["width"] + 1
    page.context.close()
    assert recorder.errors == []


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """The area two on-screen boxes share."""
    width = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(0.0, width) * max(0.0, height)


@pytest.mark.parametrize("width,height", [(1440, 900), PHONE])
def test_a_selected_events_title_on_the_map_opens_away_from_its_details(browser, server, width, height):
    """The details cover the map's right side (a drawer) or its bottom (a sheet on a phone): the
    selected event's title beside it opens on the other side, not under them."""
    page, recorder = open_page(browser, width, height)
    page.goto(server.url + "/?sel=kursk-2024-ukrainian-held-area")
    expect(page.locator("#details h2")).to_contain_text("Ukrainian-held area")
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_have_count(1)
    page.wait_for_timeout(400)  # the map's move to frame the event, after which the title is placed
    shown = tooltip.bounding_box()
    assert shown, "the title is not on screen"
    assert _overlap(shown, box(page, "#details")) == 0
    page.context.close()
    assert recorder.errors == []
