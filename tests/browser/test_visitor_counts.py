"""One truth on screen: the list, the timeline's window and the "N of M" count show the same events
(those the API has for the time window and filters), a filter with no box ticked shows nothing and
says so, an empty search says so, and a window that ends before it starts is named, not ignored."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect
from visitor_fixtures import features, open_page, story_server  # noqa: F401

pytestmark = pytest.mark.browser

LIST_ITEMS = "#timeline .timeline-item"
EMPTY = "#timeline .empty-state"
# Timeline items a visitor sees in the window: spans that reach into it, points (days) inside it.
TIMELINE_ITEMS_IN_WINDOW = """() => {
    const panel = document.querySelector('#vis-timeline .vis-panel.vis-center').getBoundingClientRect();
    let seen = 0;
    for (const item of document.querySelectorAll('#vis-timeline .vis-item')) {
        const box = item.getBoundingClientRect();
        if (item.classList.contains('vis-range')) {
            if (box.right > panel.left + 0.5 && box.left < panel.right - 0.5) seen += 1;
        } else if (item.classList.contains('vis-dot')) {
            const x = (box.left + box.right) / 2;
            if (x >= panel.left && x <= panel.right) seen += 1;
        }
    }
    return seen;
}"""


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


@pytest.fixture(scope="module")
def visitor(browser, server):
    page, recorder = open_page(browser, 1440, 900)
    yield page
    page.context.close()
    assert recorder.errors == []


def settle(page):
    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")


def api_count(server, query: dict[str, list[str] | str]) -> int:
    """How many events the API has for these filters: the truth the page must show."""
    with server.app.test_client() as client:
        answer: int = client.get(f"/api/events?{urlencode(query, doseq=True)}").get_json()["numberMatched"]
        return answer


def untick_all(page, selector: str) -> None:
    boxes = page.locator(selector)
    for i in range(boxes.count()):
        boxes.nth(i).uncheck()


def test_no_category_ticked_shows_no_event_and_says_why(visitor, server):
    total = len(features(server))
    visitor.goto(server.url + "/")
    settle(visitor)
    expect(visitor.locator(LIST_ITEMS)).to_have_count(total)
    untick_all(visitor, "#category-list input")
    expect(visitor.locator(EMPTY)).to_have_text(re.compile("No category is ticked"))
    expect(visitor.locator(LIST_ITEMS)).to_have_count(0)
    expect(visitor.locator("#status")).to_have_text(f"0 of {total} events")
    settle(visitor)
    expect(visitor.locator("path.event-feature")).to_have_count(0)
    expect(visitor.locator("#vis-timeline .vis-item")).to_have_count(0)
    # The address keeps it: reloading still shows nothing, with every box unticked.
    visitor.reload()
    settle(visitor)
    expect(visitor.locator(EMPTY)).to_be_visible()
    assert visitor.locator("#category-list input:checked").count() == 0
    # Ticking one category back shows exactly its events.
    visitor.locator("#category-list input[value=diplomacy]").check()
    wanted = api_count(server, {"category": "diplomacy"})
    expect(visitor.locator("#status")).to_have_text(f"{wanted} of {total} events")
    expect(visitor.locator(LIST_ITEMS)).to_have_count(wanted)


def test_no_confidence_level_ticked_shows_no_event_and_says_why(visitor, server):
    total = len(features(server))
    visitor.goto(server.url + "/")
    settle(visitor)
    untick_all(visitor, "input[name=confidence]")
    expect(visitor.locator(EMPTY)).to_have_text(re.compile("No confidence level is ticked"))
    expect(visitor.locator(LIST_ITEMS)).to_have_count(0)
    expect(visitor.locator("#status")).to_have_text(f"0 of {total} events")
    settle(visitor)
    expect(visitor.locator("path.event-feature")).to_have_count(0)


def test_a_search_that_finds_nothing_says_so(visitor, server):
    visitor.goto(server.url + "/")
    settle(visitor)
    visitor.fill("#search", "zzyzx-no-such-word")
    expect(visitor.locator(EMPTY)).to_have_text("No events match these filters in this period.")
    expect(visitor.locator("#status")).to_have_text(re.compile("^0 of "))


def test_a_window_ending_before_it_starts_is_named_and_not_applied(visitor, server):
    total = len(features(server))
    visitor.goto(server.url + "/")
    settle(visitor)
    error = visitor.locator("#window-error")
    expect(error).to_be_hidden()
    visitor.fill("#window-start", "2024-10-01")
    visitor.fill("#window-end", "2024-09-01")
    expect(error).to_be_visible()
    expect(error).to_have_text("The end date is before the start date")
    expect(visitor.locator("#window-end")).to_have_attribute("aria-invalid", "true")
    # The page says so instead of showing a window it did not apply.
    after_start = api_count(server, {"start": "2024-10-01"})
    expect(visitor.locator("#status")).to_have_text(f"{after_start} of {total} events")
    visitor.fill("#window-end", "2024-10-31")
    expect(error).to_be_hidden()
    expect(visitor.locator("#window-end")).not_to_have_attribute("aria-invalid", "true")


# Five views: their address, and the same filters as API parameters.
COMBINATIONS = [
    ({}, {}),
    ({"start": "2024-08-10", "end": "2024-10-15"}, {"start": "2024-08-10", "end": "2024-10-15"}),
    ({"cat": "offensive,deployment,diplomacy"}, {"category": ["offensive", "deployment", "diplomacy"]}),
    ({"conf": "reported", "start": "2024-09-15"}, {"confidence": "reported", "start": "2024-09-15"}),
    ({"q": "Kursk", "end": "2024-10-20"}, {"q": "Kursk", "end": "2024-10-20"}),
]


# A link with a selection shows the same period as without one (the timeline does not jump to it).
WITH_SELECTION = ({"sel": "kursk-2024-ukrainian-held-area"}, {})


@pytest.mark.parametrize(
    "address, query",
    [*COMBINATIONS, WITH_SELECTION],
    ids=["all", "window", "categories", "confidence", "search", "selection"],
)
def test_list_timeline_and_count_show_the_same_events(visitor, server, address, query):
    total = len(features(server))
    wanted = api_count(server, query)
    visitor.goto(f"{server.url}/?{urlencode(address)}")
    settle(visitor)
    expect(visitor.locator("#status")).to_have_text(f"{wanted} of {total} events")
    expect(visitor.locator(LIST_ITEMS)).to_have_count(wanted)
    if "sel" in address:
        expect(visitor.locator("#details h2")).to_be_visible()
    # The timeline comes after the list (it is loaded once the events are on screen).
    expect(visitor.locator("#vis-timeline")).not_to_have_class(re.compile(r"\btimeline-pending\b"))
    assert visitor.evaluate(TIMELINE_ITEMS_IN_WINDOW) == wanted
    if query.get("start") or query.get("end"):
        # The typed window shows in From and To, and the timeline's window is that window.
        assert visitor.input_value("#window-start") == query.get("start", "")
        assert visitor.input_value("#window-end") == query.get("end", "")
