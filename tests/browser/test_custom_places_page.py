"""The custom places page in a real browser: an editor adds a village by typing its name and source
and clicking the map, finds it at once in the event form's place box, and the pages (list, form,
history) in English and German have no serious accessibility problem."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import save_screenshot
from playwright.sync_api import expect
from visitor_fixtures import log_in, open_page, story_server  # noqa: F401

from geodata.gazetteer import ensure_index

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

NAME = "Zarechnoye Pole"


@pytest.fixture(scope="module")
def server(story_server, request):  # noqa: F811  (the shared server, with the test index)
    cache = getattr(request.config, "cache", None)
    index = ensure_index(Path(cache.mkdir("gazetteer")) / "gazetteer.sqlite") if cache else ensure_index()
    story_server.app.config["GAZETTEER_PATH"] = str(index)
    return story_server


def _add_place_by_clicking(page: Any, base: str) -> tuple[float, float]:
    page.goto(base + "/edit/")
    page.locator("#main").get_by_role("link", name="Custom places").click()  # the dashboard's link
    expect(page.get_by_role("heading", name="Custom places")).to_be_visible()
    page.get_by_role("link", name="Add a place").click()
    page.wait_for_selector("#place-map.leaflet-container .leaflet-control-zoom")
    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_label("Other names and spellings (one per line)").fill("Заречное Поле\nSarechnoje Pole")
    page.get_by_label("Source of the coordinates (a link or a note)").fill("Field survey, August 2024")
    frame = page.locator("#place-map").bounding_box()
    page.mouse.click(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    expect(page.locator("#lon")).not_to_have_value("")
    expect(page.locator("#place-map .leaflet-marker-icon")).to_have_count(1)
    point = (float(page.input_value("#lon")), float(page.input_value("#lat")))
    save_screenshot(page, "custom-place-form")
    page.get_by_role("button", name="Save place").click()
    expect(page.locator(".flashes")).to_contain_text(NAME)
    expect(page.locator("#custom-places")).to_contain_text(NAME)
    save_screenshot(page, "custom-places-list")
    return point


def test_an_editor_adds_a_place_on_the_map_and_finds_it_in_the_event_form(browser, server):
    page, recorder = open_page(browser, 1280, 900)
    log_in(page, server.url)
    lon, lat = _add_place_by_clicking(page, server.url)
    page.goto(server.url + "/edit/events/new")
    page.wait_for_selector("#editor-map.leaflet-container .leaflet-control-zoom")
    box = page.get_by_role("combobox", name="Place name")
    box.click()
    box.press_sequentially("Заречное", delay=30)
    listbox = page.locator("#" + box.get_attribute("aria-controls"))
    expect(listbox.get_by_role("option").first).to_contain_text(NAME)
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value(re.compile(NAME))
    chosen = (float(page.input_value("#lon")), float(page.input_value("#lat")))
    assert chosen == pytest.approx((lon, lat), abs=1e-4)
    assert not recorder.errors
    page.context.close()


def blocking_violations(page: Any) -> list[str]:
    """What axe rates critical or serious on the page as it is now, one line per rule."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in ("critical", "serious")
    ]


def test_the_place_pages_have_no_serious_accessibility_problems(browser, server):
    page, recorder = open_page(browser)
    log_in(page, server.url)
    page.goto(server.url + "/edit/places")
    if not page.locator("#custom-places tr[data-id]").count():
        _add_place_by_clicking(page, server.url)
    place_id = page.locator("#custom-places tr[data-id]").first.get_attribute("data-id")
    paths = [
        "/edit/places",
        "/edit/places/new",
        f"/edit/places/{place_id}",
        f"/edit/places/{place_id}/history",
    ]
    problems: dict[str, list[str]] = {}
    for lang in ("en", "de"):
        page.context.add_cookies([{"name": "lang", "value": lang, "url": server.url}])
        for path in paths:
            page.goto(server.url + path)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            if "/history" not in path and path != "/edit/places":
                page.wait_for_selector("#place-map.leaflet-container .leaflet-control-zoom")
            problems[f"{lang} {path}"] = blocking_violations(page)
    # The form shown again with its errors.
    page.goto(server.url + "/edit/places/new")
    page.get_by_role("button", name=re.compile("Ort speichern|Save place")).click()
    expect(page.locator(".form-error")).to_be_visible()
    problems["errors"] = blocking_violations(page)
    page.context.close()
    assert problems == {key: [] for key in problems}
    assert not recorder.errors
