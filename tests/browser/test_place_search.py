"""Places found by name: the visitor's "find a place" box flies the map there, and the editor's
place box sets the event's point and place name; both are keyboard-operable comboboxes. Clicking
the editor's map proposes the nearest place's name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import THE_MAP
from playwright.sync_api import expect
from visitor_fixtures import log_in, open_page, story_server  # noqa: F401

from geodata.gazetteer import ensure_index, haversine_km

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

PYONGYANG = (125.7625, 39.0339)
SUDZHA = (35.271, 51.191)


@pytest.fixture(scope="module")
def server(story_server, request):  # noqa: F811  (the shared server, with the test index)
    index = ensure_index(Path(request.config.cache.mkdir("gazetteer")) / "gazetteer.sqlite")
    story_server.app.config["GAZETTEER_PATH"] = str(index)
    return story_server


def choose_with_keyboard(page, box, typed: str, wanted: str) -> None:
    """Type into a place combobox, walk down its options with the arrow key to ``wanted``, Enter."""
    box.click()
    box.press_sequentially(typed, delay=30)
    listbox = page.locator("#" + box.get_attribute("aria-controls"))
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option").first).to_be_visible()
    options = listbox.get_by_role("option").all_inner_texts()
    assert any(wanted in o for o in options), options
    for _ in range(len(options)):
        box.press("ArrowDown")
        active = page.locator("#" + box.get_attribute("aria-activedescendant"))
        expect(active).to_have_attribute("aria-selected", "true")
        if wanted in active.inner_text():
            break
    box.press("Enter")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()


def test_find_a_place_flies_the_map_there(browser, server):
    page, recorder = open_page(browser, 1280, 800)
    page.goto(server.url + "/")
    box = page.get_by_role("combobox", name="Find a place")
    expect(box).to_be_visible()
    # Escape closes the options without choosing; the map stays where it was.
    box.click()
    box.press_sequentially("Sudzh", delay=30)
    expect(box).to_have_attribute("aria-expanded", "true")
    before = page.evaluate(f"() => {THE_MAP}.getZoom()")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    assert page.evaluate(f"() => {THE_MAP}.getZoom()") == before
    box.fill("")
    choose_with_keyboard(page, box, "Sudzh", "Sudzha")
    expect(box).to_have_value("Sudzha")
    page.wait_for_function(f"() => {THE_MAP}.getZoom() >= 11")
    page.wait_for_timeout(1200)  # the fly-to animation ends
    centre = page.evaluate(f"() => {{ const c = {THE_MAP}.getCenter(); return [c.lng, c.lat]; }}")
    assert haversine_km(*SUDZHA, *centre) < 5
    # A name the gazetteer does not know says so.
    box.fill("")
    box.press_sequentially("Qqxzzv", delay=20)
    expect(page.locator(".place-options-empty")).to_have_text(re.compile("No place"))
    assert not recorder.errors


def test_the_editor_place_box_sets_the_point_and_name_and_saves_them(browser, server):
    page, recorder = open_page(browser, 1280, 900)
    log_in(page, server.url)
    page.goto(server.url + "/edit/events/new")
    page.wait_for_selector("#editor-map.leaflet-container .leaflet-control-zoom")
    box = page.get_by_role("combobox", name="Place name")
    choose_with_keyboard(page, box, "Pjöng", "Pyongyang")
    expect(box).to_have_value(re.compile("Pyongyang"))
    chosen = (float(page.input_value("#lon")), float(page.input_value("#lat")))
    assert haversine_km(*PYONGYANG, *chosen) < 5
    page.fill("input[name=title]", "Treaty signed in Pyongyang")
    page.fill("input[name=start]", "2024-06-19")
    page.click("#event-form button[type=submit]")
    page.wait_for_selector(".flashes")
    event_id = page.url.rstrip("/").split("/")[-1]
    saved = page.request.get(f"{server.url}/api/events/{event_id}").json()
    assert saved["geometry"]["type"] == "Point"
    assert haversine_km(*PYONGYANG, *saved["geometry"]["coordinates"]) < 5
    assert "Pyongyang" in saved["properties"]["place"]
    assert not recorder.errors


def test_clicking_the_editor_map_proposes_the_nearest_place(browser, server):
    page, recorder = open_page(browser, 1280, 900)
    log_in(page, server.url)
    page.goto(server.url + "/edit/events/new")
    page.wait_for_selector("#editor-map.leaflet-container .leaflet-control-zoom")
    box = page.get_by_role("combobox", name="Place name")
    choose_with_keyboard(page, box, "Sudzh", "Sudzha")  # the map flies to Sudzha
    page.wait_for_timeout(1200)  # the fly-to animation ends
    box.fill("")
    frame = page.locator("#editor-map").bounding_box()
    page.mouse.click(frame["x"] + frame["width"] / 2 + 30, frame["y"] + frame["height"] / 2 + 30)
    expect(box).to_have_value(re.compile("Sudzha"))
    expect(page.locator("#place-proposal")).to_contain_text(re.compile(r"Nearest place: Sudzha.* km\)"))
    # A name the editor typed is not overwritten: the proposal is offered as a button instead.
    box.fill("Near the border crossing")
    page.mouse.click(frame["x"] + frame["width"] / 2 - 40, frame["y"] + frame["height"] / 2 + 40)
    use = page.get_by_role("button", name="Use this name")
    expect(use).to_be_visible()
    expect(box).to_have_value("Near the border crossing")
    use.click()
    expect(box).to_have_value(re.compile("Sudzha"))
    assert not recorder.errors


def test_the_editor_maps_proposal_speaks_german(browser, server):
    page, recorder = open_page(browser, 1280, 900)
    log_in(page, server.url)
    page.set_extra_http_headers({"Accept-Language": "de"})
    page.goto(server.url + "/edit/events/new")
    page.wait_for_selector("#editor-map.leaflet-container .leaflet-control-zoom")
    box = page.get_by_role("combobox", name="Ortsname")
    choose_with_keyboard(page, box, "Sudzh", "Oblast Kursk")
    page.wait_for_timeout(1200)
    box.fill("Am Grenzübergang")
    frame = page.locator("#editor-map").bounding_box()
    page.mouse.click(frame["x"] + frame["width"] / 2 + 30, frame["y"] + frame["height"] / 2 + 30)
    expect(page.locator("#place-proposal")).to_contain_text("Nächster Ort: ")
    expect(page.get_by_role("button", name="Diesen Namen verwenden")).to_be_visible()
    box.fill("Xqzzyx")
    expect(page.get_by_text("Kein Ort dieses Namens bekannt")).to_be_visible()
    assert not recorder.errors
