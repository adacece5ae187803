"""axe-core (through axe-playwright-python) finds no critical and no serious accessibility problem
on any page: the map with and without a selection, an event page, the embed, login, the editor
(new, edit, and a form shown again with errors), history, the dashboard, trash and the admin pages,
in English and German, and the map at phone size."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from visitor_fixtures import features, log_in, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

BLOCKING = ("critical", "serious")


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


@pytest.fixture(scope="module")
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


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


def blocking_violations(axe: Any, page: Any) -> list[str]:
    """What axe rates critical or serious on the page as it is now, one line per rule."""
    found = axe.run(page).response["violations"]
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


def settle_map(page: Any) -> None:
    """Wait until the map page has drawn its events, timeline and list."""
    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")
    page.locator("#vis-timeline .vis-item").first.wait_for(state="attached")


def visitor_pages(server: Any) -> list[tuple[str, str]]:
    first = features(server)[0]["id"]
    return [("/", "map"), (f"/?sel={first}", "selection"), ("/embed", "map"),
            (f"/embed?sel={first}", "selection"), (f"/events/{first}", "page"), ("/login", "page"),
            ("/events/no-such-event", "page")]  # fmt: skip


def test_visitor_pages_have_no_serious_accessibility_problems(axe, visitor, server):
    problems = {}
    for path, kind in visitor_pages(server):
        visitor.goto(server.url + path)
        if kind in ("map", "selection"):
            settle_map(visitor)
        if kind == "selection":
            expect(visitor.locator("#details h2")).to_be_visible()
        problems[path] = blocking_violations(axe, visitor)
    assert problems == {path: [] for path, _ in visitor_pages(server)}


def test_the_german_map_and_event_page_have_no_serious_accessibility_problems(axe, browser, server):
    page, recorder = open_page(browser)
    first = features(server)[0]["id"]
    page.goto(server.url + "/")
    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    problems = {}
    for path in ("/", f"/?sel={first}", f"/events/{first}"):
        page.goto(server.url + path)
        if path != f"/events/{first}":
            settle_map(page)
        problems[path] = blocking_violations(axe, page)
    page.context.close()
    assert problems == {path: [] for path in problems}
    assert recorder.errors == []


def test_the_map_at_phone_size_has_no_serious_accessibility_problems(axe, browser, server):
    page, recorder = open_page(browser, 390, 844)
    page.goto(server.url + f"/?sel={features(server)[-1]['id']}")
    settle_map(page)
    expect(page.locator("#details h2")).to_be_visible()
    assert blocking_violations(axe, page) == []
    page.context.close()
    assert recorder.errors == []


def editor_pages(server: Any) -> list[str]:
    edit = f"/edit/events/{features(server)[0]['id']}"
    return ["/edit/", "/edit/events/new", edit, f"{edit}/history", "/edit/trash", "/admin/users",
            "/admin/categories", "/admin/audit"]  # fmt: skip


def test_editor_and_admin_pages_have_no_serious_accessibility_problems(axe, chief, server):
    problems = {}
    for path in editor_pages(server):
        chief.goto(server.url + path)
        if path.startswith("/edit/events/") and "history" not in path:
            chief.locator(".leaflet-pm-toolbar").first.wait_for()
        problems[path] = blocking_violations(axe, chief)
    assert problems == {path: [] for path in editor_pages(server)}


def test_the_event_form_shown_again_with_errors_has_no_serious_accessibility_problems(axe, chief, server):
    chief.goto(server.url + "/edit/events/new")
    chief.locator(".leaflet-pm-toolbar").first.wait_for()
    chief.click("#event-form button[type=submit]")
    expect(chief.locator(".form-error")).to_be_visible()
    expect(chief.locator(".field-error").first).to_be_visible()
    chief.locator(".leaflet-pm-toolbar").first.wait_for()
    assert blocking_violations(axe, chief) == []
