"""The pages for keyboard and screen-reader users: a skip link and an h1 everywhere, a page that can
be zoomed, map shapes that do not trap the keyboard, named drawing tools, and a details panel that
takes focus, closes with Escape or ×, and gives focus back."""

from __future__ import annotations

import re

import pytest
from helpers import THE_MAP
from playwright.sync_api import expect
from visitor_fixtures import features, log_in, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


# Where keyboard focus is, as a short description (for assertion messages too).
FOCUSED = (
    "() => { const a = document.activeElement; return a ? a.tagName + (a.id ? '#' + a.id : '') : null; }"
)
FOCUS_IN_VIEW = """() => {
    const r = document.activeElement.getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
}"""


@pytest.fixture(scope="module")
def visitor(browser, server):
    page, recorder = open_page(browser)
    yield page
    page.context.close()
    assert recorder.errors == []


@pytest.fixture(scope="module")
def chief(browser, server):
    page, recorder = open_page(browser)
    log_in(page, server.url)
    yield page
    page.context.close()
    assert recorder.errors == []


def public_pages(server) -> list[str]:
    first = features(server)[0]
    return ["/", "/embed", f"/events/{first['id']}", "/login", "/events/no-such-event"]


def editor_pages(server) -> list[str]:
    first = features(server)[0]
    edit = f"/edit/events/{first['id']}"
    return ["/edit/", "/edit/events/new", edit, f"{edit}/history", "/edit/trash", "/admin/users",
            "/admin/categories", "/admin/audit"]  # fmt: skip


def assert_skip_link_and_h1(page, path):
    expect(page.locator("h1"), path).to_have_count(1)
    skip = page.locator("a.skip-link")
    expect(skip, path).to_have_count(1)
    assert skip.get_attribute("href") == "#main", path
    expect(page.locator("main#main"), path).to_have_count(1)


def test_every_page_has_a_skip_link_to_its_main_content_and_one_h1(visitor, chief, server):
    for path in public_pages(server):
        visitor.goto(server.url + path)
        assert_skip_link_and_h1(visitor, path)
    for path in editor_pages(server):
        chief.goto(server.url + path)
        assert_skip_link_and_h1(chief, path)
    # The skip link is the first stop of the keyboard, and it moves focus past the top bar.
    visitor.goto(server.url + "/")
    visitor.keyboard.press("Tab")
    expect(visitor.locator("a.skip-link")).to_be_focused()
    expect(visitor.locator("a.skip-link")).to_be_in_viewport()
    visitor.keyboard.press("Enter")
    expect(visitor.locator("main#main")).to_be_focused()


def test_the_map_pages_let_people_zoom_them(visitor, server):
    for path in public_pages(server)[:3]:
        visitor.goto(server.url + path)
        viewports = visitor.locator("meta[name=viewport]")
        expect(viewports).to_have_count(1)
        content = viewports.get_attribute("content").replace(" ", "")
        assert "user-scalable=no" not in content and "maximum-scale=1" not in content, (path, content)


def test_map_shapes_leave_the_keyboard_to_the_event_list(visitor, server):
    visitor.goto(server.url + "/")
    shapes = visitor.locator("path.event-feature")
    shapes.first.wait_for(state="attached")
    assert shapes.count() > 1
    for i in range(shapes.count()):
        assert shapes.nth(i).get_attribute("tabindex") == "-1"
        assert shapes.nth(i).get_attribute("aria-hidden") == "true"
    # Tabbing through the whole page never lands on a map shape, and every event is a named button.
    for _ in range(60):
        visitor.keyboard.press("Tab")
        assert visitor.evaluate("() => document.activeElement.tagName") != "path"
    expect(visitor.locator("#timeline button.item")).to_have_count(len(features(server)))


def test_the_editor_names_its_drawing_tools_and_keeps_the_raw_geometry_hidden(chief, server):
    for path in ("/edit/events/new", f"/edit/events/{features(server)[0]['id']}"):
        chief.goto(server.url + path)
        buttons = chief.locator(".leaflet-buttons-control-button")
        buttons.first.wait_for()
        assert buttons.count() >= 4
        for i in range(buttons.count()):
            name = buttons.nth(i).get_attribute("aria-label")
            assert name and name.strip(), f"tool button {i} on {path} has no name"
        expect(chief.get_by_role("button", name="Draw Polygons")).to_have_count(1)
        expect(chief.locator("textarea#geometry")).to_be_hidden()


def test_details_take_focus_close_with_escape_or_x_and_give_focus_back(visitor, server):
    visitor.goto(server.url + "/")
    late = features(server)[-1]
    button = visitor.locator(f'#timeline button[data-id="{late["id"]}"]')
    details = visitor.locator("#details")

    # Chosen from the list with the keyboard: focus goes to the details' title, in view.
    button.focus()
    visitor.keyboard.press("Enter")
    expect(details).to_be_visible()
    expect(details.locator("h2")).to_be_focused()
    assert visitor.evaluate(FOCUS_IN_VIEW), "focus was left out of view after choosing from the list"

    # Escape closes them and focus is back on the button that opened them, in view.
    visitor.keyboard.press("Escape")
    expect(details).to_be_hidden()
    expect(button).to_be_focused()
    assert visitor.evaluate(FOCUS_IN_VIEW)
    expect(button).to_have_attribute("aria-pressed", "false")

    # The × button does the same.
    visitor.keyboard.press("Enter")
    expect(details.locator("h2")).to_be_focused()
    close = details.get_by_role("button", name="Close details")
    close.focus()
    visitor.keyboard.press("Enter")
    expect(details).to_be_hidden()
    expect(button).to_be_focused()


def test_details_opened_from_the_map_close_with_escape_onto_the_list(visitor, server):
    visitor.goto(server.url + "/")
    shape = visitor.locator("path.event-feature").last
    shape.wait_for(state="attached")
    visitor.evaluate(f"() => {THE_MAP}.invalidateSize()")
    shape.click(force=True)
    details = visitor.locator("#details")
    expect(details).to_be_visible()
    expect(details.locator("h2")).to_be_focused()
    visitor.keyboard.press("Escape")
    expect(details).to_be_hidden()
    # Focus is not lost to the top of the page: it is on that event in the list.
    assert visitor.evaluate(FOCUSED) == "BUTTON", visitor.evaluate(FOCUSED)
    assert visitor.evaluate("() => document.activeElement.closest('#timeline') !== null")


def test_escape_closes_the_details_from_anywhere_but_a_search_field(visitor, server):
    visitor.goto(server.url + "/")
    first = features(server)[0]
    visitor.locator(f'#timeline button[data-id="{first["id"]}"]').click()
    details = visitor.locator("#details")
    expect(details).to_be_visible()
    # Typing in the search field, Escape is the field's (it clears it), not the panel's.
    visitor.locator("#search").focus()
    visitor.keyboard.press("Escape")
    expect(details).to_be_visible()
    # Anywhere else on the page, Escape closes the details.
    visitor.locator("#all-time").focus()
    visitor.keyboard.press("Escape")
    expect(details).to_be_hidden()


def test_the_map_says_what_it_is_when_it_takes_focus(visitor, server):
    visitor.goto(server.url + "/")
    container = visitor.locator(".map-pane .leaflet-container")
    expect(container).to_have_attribute("aria-label", re.compile("Map"))
    assert container.get_attribute("tabindex") == "0"
