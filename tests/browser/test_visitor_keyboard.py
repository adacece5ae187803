"""The timeline from the keyboard alone: its items take focus, the arrow keys walk them in time
order, Enter opens one, + and − zoom; and a walk from page load to an event's sources and back."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from visitor_fixtures import features, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


ITEMS = "#vis-timeline .item-title[data-id]"
FOCUSED_ID = "() => document.activeElement?.dataset?.id || null"
MAX_TABS = 80  # more stops than the page has before its timeline


@pytest.fixture
def visitor(browser, server):
    page, recorder = open_page(browser)
    page.goto(server.url + "/")
    expect(page.locator(ITEMS)).to_have_count(len(features(server)))
    yield page
    page.context.close()
    assert recorder.errors == []


def tab_to_the_timeline(page) -> str:
    """Press Tab from the top of the page until a timeline item has focus; returns its event id."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('#vis-timeline .item-title')"):
            return page.evaluate(FOCUSED_ID)
    raise AssertionError("Tab never reached the timeline")


def test_the_timeline_is_one_tab_stop_whose_arrow_keys_walk_the_story_in_time_order(visitor, server):
    story = features(server)
    # The timeline is one stop: only one of its items is in the tab order.
    assert visitor.locator(f"{ITEMS}[tabindex='0']").count() == 1
    first = tab_to_the_timeline(visitor)
    expect(visitor.locator(f'{ITEMS}[data-id="{first}"]')).to_have_attribute(
        "aria-label", re.compile(".+, .+")
    )
    visitor.keyboard.press("Home")
    walked = [visitor.evaluate(FOCUSED_ID)]
    for _ in range(len(story) - 1):
        visitor.keyboard.press("ArrowRight")
        walked.append(visitor.evaluate(FOCUSED_ID))
    assert len(set(walked)) == len(story)
    starts = {f["id"]: f["properties"]["start"] for f in story}
    assert [starts[i][:4] for i in walked] == sorted(starts[i][:4] for i in walked)  # in time order
    visitor.keyboard.press("ArrowLeft")
    assert visitor.evaluate(FOCUSED_ID) == walked[-2]
    visitor.keyboard.press("End")
    assert visitor.evaluate(FOCUSED_ID) == walked[-1]
    # Tab leaves the timeline rather than visiting each of its items.
    visitor.keyboard.press("Tab")
    assert not visitor.evaluate("() => document.activeElement.matches('#vis-timeline .item-title')")


def test_plus_and_minus_zoom_the_timeline_and_choose_its_window(visitor):
    tab_to_the_timeline(visitor)
    assert visitor.input_value("#window-start") == ""  # the landing view: all time

    def window_days() -> int:
        start, end = visitor.input_value("#window-start"), visitor.input_value("#window-end")
        assert start and end, "the zoomed window is not shown in From and To"
        return (date.fromisoformat(end) - date.fromisoformat(start)).days

    visitor.keyboard.press("+")
    zoomed_in = window_days()
    visitor.keyboard.press("+")
    assert window_days() < zoomed_in
    visitor.keyboard.press("-")
    visitor.keyboard.press("-")
    assert window_days() > zoomed_in


def test_a_keyboard_alone_opens_an_event_from_the_timeline_reads_its_sources_and_comes_back(visitor, server):
    story = features(server)
    with_sources = {f["id"] for f in story if any(s["url"] for s in f["properties"]["sources"])}
    item = tab_to_the_timeline(visitor)
    for _ in range(len(story)):
        if item in with_sources:
            break
        visitor.keyboard.press("ArrowRight")
        item = visitor.evaluate(FOCUSED_ID)
    assert item in with_sources
    visitor.keyboard.press("Enter")
    details = visitor.locator("#details")
    expect(details).to_be_visible()
    expect(details.locator("h2")).to_be_focused()
    wanted = next(f for f in story if f["id"] == item)["properties"]["title"]
    expect(details.locator("h2")).to_have_text(wanted)
    # Tab on to the first source link, inside the details.
    for _ in range(10):
        visitor.keyboard.press("Tab")
        if visitor.evaluate("() => document.activeElement.matches('#details .sources a')"):
            break
    else:
        raise AssertionError("Tab never reached a source of the event")
    expect(details.locator(".sources a").first).to_be_in_viewport()
    # Escape closes the details and puts the keyboard back on the timeline item it came from.
    visitor.keyboard.press("Escape")
    expect(details).to_be_hidden()
    assert visitor.evaluate(FOCUSED_ID) == item
    expect(visitor.locator(f'{ITEMS}[data-id="{item}"]')).to_be_focused()
