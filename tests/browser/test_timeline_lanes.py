"""The timeline shows every event of its window (one lane per category, scrolling when the lanes
do not fit, and a vertical drag scrolls without changing the time filter), names each item in a
tooltip, draws day events as points, highlights a chosen month span, and Play works from the
landing view: it rewinds, steps with visible progress, and pauses."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from visitor_fixtures import features, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

CENTRE = "#vis-timeline .vis-panel.vis-center"
SCROLLER = "#vis-timeline"


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


def items_in_sight(page) -> set[str]:
    """The ids of the timeline items whose box lies in the timeline's visible band, top to bottom."""
    return set(
        page.evaluate(
            """(sel) => {
              const box = document.getElementById('vis-timeline').getBoundingClientRect();
              const centre = document.querySelector(sel).getBoundingClientRect();
              const band = { top: box.top, bottom: box.bottom, left: centre.left, right: centre.right };
              return [...document.querySelectorAll('#vis-timeline .vis-item .item-title[data-id]')]
                .filter((t) => { const r = t.closest('.vis-item').getBoundingClientRect();
                  return r.height > 0 && r.top >= band.top - 1 && r.bottom <= band.bottom + 1
                    && r.right > band.left && r.left < band.right; })
                .map((t) => t.dataset.id);
            }""",
            CENTRE,
        )
    )


def landing(browser, server):
    page, recorder = open_page(browser, 1440, 900)
    page.goto(server.url + "/")
    expect(page.locator("#vis-timeline .vis-item").first).to_be_visible()
    expect(page.locator("#vis-timeline .vis-label").first).to_be_visible()
    return page, recorder


def test_every_event_of_the_window_can_be_scrolled_into_sight_in_category_lanes(browser, server):
    page, recorder = landing(browser, server)
    story = features(server)
    lanes = page.locator("#vis-timeline .vis-label").all_inner_texts()
    assert len(lanes) == len({f["properties"]["category"] for f in story})
    scroller = page.locator(SCROLLER)
    assert scroller.evaluate("s => getComputedStyle(s).overflowY") in ("scroll", "auto")
    height, client = scroller.evaluate("s => [s.scrollHeight, s.clientHeight]")
    assert height > client, "the lanes fit: nothing to test"
    seen: set[str] = set()
    for top in range(0, height + client, max(40, client // 2)):
        scroller.evaluate(f"s => {{ s.scrollTop = {top}; s.dispatchEvent(new Event('scroll')); }}")
        page.wait_for_timeout(80)
        seen |= items_in_sight(page)
    assert seen == {f["id"] for f in story}
    assert not recorder.errors


def test_a_vertical_drag_scrolls_the_lanes_without_changing_the_time_window(browser, server):
    page, recorder = landing(browser, server)
    centre = page.locator(CENTRE).bounding_box()
    frame = page.locator(SCROLLER).bounding_box()  # the part of the lanes in sight
    first = page.locator("#vis-timeline .vis-item").first
    left_before = first.bounding_box()["x"]
    x, y = centre["x"] + centre["width"] * 0.4, frame["y"] + frame["height"] * 0.8
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + step * 0.8, y - step * 12)
    page.mouse.up()
    page.wait_for_timeout(400)
    assert page.locator(SCROLLER).evaluate("s => s.scrollTop") > 0, "the drag did not scroll"
    assert page.input_value("#window-start") == "" and page.input_value("#window-end") == ""
    assert "start=" not in page.url and "end=" not in page.url
    page.locator(SCROLLER).evaluate("s => { s.scrollTop = 0; s.dispatchEvent(new Event('scroll')); }")
    page.wait_for_timeout(100)
    assert abs(first.bounding_box()["x"] - left_before) < 2
    # A sideways drag still chooses a new window (so the check above could have failed).
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x - step * 15, y + step * 0.5)
    page.mouse.up()
    expect(page.locator("#window-start")).not_to_have_value("")
    assert not recorder.errors


def test_day_events_are_points_and_every_title_has_a_tooltip(browser, server):
    page, recorder = landing(browser, server)
    titles = page.locator("#vis-timeline .item-title[data-id]")
    expect(titles.first).to_be_visible()
    by_id = {f["id"]: f["properties"] for f in features(server)}
    for title in titles.all():
        props = by_id[title.get_attribute("data-id")]
        assert props["title"] in (title.get_attribute("title") or "")
        classes = title.evaluate("t => t.closest('.vis-item').className").split()
        kind = "vis-point" if props["date_precision"] == "day" and not props["end"] else "vis-range"
        assert kind in classes, (props["title"], classes)
    assert page.locator("#vis-timeline .vis-item.vis-box").count() == 0
    assert not recorder.errors


def test_a_chosen_month_span_is_highlighted_on_the_timeline(browser, server):
    page, recorder = landing(browser, server)
    month = next(
        f for f in features(server) if f["properties"]["date_precision"] == "month" and f["properties"]["end"]
    )
    item = page.locator(f'#vis-timeline .vis-item:has(.item-title[data-id="{month["id"]}"])')
    look = "i => { const s = getComputedStyle(i); return [s.backgroundImage, s.boxShadow, s.borderStyle]; }"
    before = item.evaluate(look)
    page.locator(f'#timeline button[data-id="{month["id"]}"]').click()
    expect(item).to_have_class(re.compile("vis-selected"))
    after = item.evaluate(look)
    assert after[0] != before[0], "the selected span keeps the plain hatching"
    assert after[1] != "none" and after[2].startswith("solid")
    assert "repeating-linear-gradient" in after[0]  # still hatched: an uncertain date stays visibly so
    assert not recorder.errors


def test_play_from_the_landing_view_rewinds_steps_with_progress_and_pauses(browser, server):
    page, recorder = landing(browser, server)
    play = page.locator("#play")
    progress = page.locator("#play-progress")
    expect(progress).to_be_hidden()
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(progress).to_be_visible()
    # Rewound: the window now starts where the story starts (February 2022), not where it ended.
    expect(page.locator("#window-start")).to_have_value(re.compile(r"^2022-0[12]-"))
    first_value = int(progress.get_attribute("value"))
    page.wait_for_function("v => +document.getElementById('play-progress').value > v", arg=first_value)
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    paused_at = (page.input_value("#window-start"), progress.get_attribute("value"))
    page.wait_for_timeout(1600)
    assert (page.input_value("#window-start"), progress.get_attribute("value")) == paused_at
    assert not recorder.errors
