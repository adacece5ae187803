"""The details of a chosen event open at their top, on the title: as a drawer over the map on a
wide screen, and as a bottom sheet on a phone, where the map stays in view above them."""

from __future__ import annotations

import pytest
from helpers import THE_MAP, click_feature_at
from playwright.sync_api import expect
from visitor_fixtures import box, features, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

DETAILS = "#details"


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


def longest(story):
    """The event with the most to read (its details scroll)."""
    return max(
        story, key=lambda f: len(f["properties"]["description"] or "") + 200 * len(f["properties"]["sources"])
    )


def test_details_open_at_their_top_as_a_drawer_over_the_map(browser, server):
    page, recorder = open_page(browser, 1440, 900)
    story = features(server)
    page.goto(server.url + "/")
    first, second = longest(story), story[0]
    page.locator(f'#timeline button[data-id="{first["id"]}"]').click()
    details = page.locator(DETAILS)
    expect(details.locator("h2")).to_have_text(first["properties"]["title"])
    # The title, date and place are in sight at once: nothing above them is scrolled away.
    expect(details.locator("h2")).to_be_in_viewport(ratio=1)
    expect(details.locator("dl.facts")).to_be_in_viewport()
    assert details.evaluate("d => d.scrollTop") == 0
    # A drawer over the map, not a box below the filters and the timeline.
    panel, map_pane, timeline = box(page, DETAILS), box(page, ".map-pane"), box(page, "#vis-timeline")
    assert panel["y"] < timeline["y"], "the details sit below the timeline"
    assert panel["x"] < map_pane["x"] + map_pane["width"], "the details do not lie over the map"
    assert panel["y"] + panel["height"] <= 900
    assert page.evaluate("() => window.scrollY") == 0
    # Read down the details, then choose another event: its details open at their top again.
    details.evaluate("d => { d.scrollTop = d.scrollHeight; }")
    page.locator(f'#timeline button[data-id="{second["id"]}"]').click()
    expect(details.locator("h2")).to_have_text(second["properties"]["title"])
    assert details.evaluate("d => d.scrollTop") == 0
    expect(details.locator("h2")).to_be_in_viewport(ratio=1)
    # The chosen event on the map is not hidden under the drawer.
    page.locator(f'#timeline button[data-id="{first["id"]}"]').click()
    expect(details.locator("h2")).to_have_text(first["properties"]["title"])
    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")
    page.context.close()
    assert recorder.errors == []


def test_on_a_phone_a_markers_details_open_in_a_sheet_with_the_map_still_in_view(browser, server):
    page, recorder = open_page(browser, 390, 844)
    point = next(
        f for f in features(server) if f["geometry"]["type"] == "Point" and f["properties"]["sources"]
    )
    page.goto(server.url + "/")
    lon, lat = point["geometry"]["coordinates"]
    click_feature_at(page, lon, lat, 9)
    details = page.locator(DETAILS)
    expect(details.locator("h2")).to_have_text(point["properties"]["title"])
    # The page did not jump down to the details: they came up over the bottom of the screen.
    assert page.evaluate("() => window.scrollY") == 0
    expect(details.locator("h2")).to_be_in_viewport(ratio=1)
    sheet, map_pane = box(page, DETAILS), box(page, ".map-pane")
    assert sheet["y"] + sheet["height"] <= 844 + 1 and sheet["y"] > 844 / 3
    visible_map = min(map_pane["y"] + map_pane["height"], sheet["y"]) - max(map_pane["y"], 0)
    assert visible_map >= 200, f"only {visible_map:.0f} px of the map are left in view"
    # The tapped event is in the part of the map the sheet leaves open.
    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")
    marker = page.evaluate(
        f"""id => {{
            const map = {THE_MAP};
            const top = map.getContainer().getBoundingClientRect().top;
            let y = null;
            map.eachLayer(l => {{
                if (!l.feature || l.feature.id !== id || !l.getLatLng) return;
                y = top + map.latLngToContainerPoint(l.getLatLng()).y;
            }});
            return y;
        }}""",
        point["id"],
    )
    assert marker is not None and 0 <= marker < sheet["y"], (marker, sheet)
    # The sheet closes with its × button, leaving the whole map.
    details.get_by_role("button", name="Close details").click()
    expect(details).to_be_hidden()
    page.context.close()
    assert recorder.errors == []
