"""Every map names its places (from the offline gazetteer), in the interface language, without
overlapping names, under the events and out of reach of the keyboard and screen readers; and every
map credits GeoNames and Natural Earth with a neutral Leaflet prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import THE_MAP
from playwright.sync_api import expect
from visitor_fixtures import features, log_in, open_page, story_server  # noqa: F401

from geodata.gazetteer import ensure_index

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

LABELS = ".leaflet-placeLabels-pane .place-label"


@pytest.fixture(scope="module")
def server(story_server, request):  # noqa: F811  (the shared server, with the test index)
    index = ensure_index(Path(request.config.cache.mkdir("gazetteer")) / "gazetteer.sqlite")
    story_server.app.config["GAZETTEER_PATH"] = str(index)
    return story_server


def labels_of(page, scope: str = "") -> list[str]:
    return page.locator(f"{scope} {LABELS}".strip()).all_inner_texts()


def boxes_overlap(page, scope: str = "") -> list[tuple[str, str]]:
    return page.evaluate(
        """(sel) => {
          const boxes = [...document.querySelectorAll(sel)]
            .map((n) => [n.textContent, n.getBoundingClientRect()]);
          const clashes = [];
          boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
            const hit = p.left < q.right && p.right > q.left && p.top < q.bottom && p.bottom > q.top;
            if (hit) clashes.push([a, b]);
          }));
          return clashes;
        }""",
        f"{scope} {LABELS}".strip(),
    )


def assert_credited(page, scope: str = "") -> None:
    credit = page.locator(f"{scope} .leaflet-control-attribution".strip()).first
    expect(credit).to_contain_text("GeoNames")
    expect(credit).to_contain_text("CC BY 4.0")
    expect(credit).to_contain_text("Natural Earth")
    assert credit.locator("svg").count() == 0, "Leaflet's prefix still shows a flag"


@pytest.mark.parametrize(("lang", "region"), [("en", "Kursk Oblast"), ("de", "Oblast Kursk")])
def test_the_main_map_names_kursk_at_the_default_view(browser, server, lang, region):
    page, recorder = open_page(browser, 1280, 800)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server.url}])
    page.goto(server.url + "/")
    kursk = page.locator(LABELS, has_text="Kursk").first
    expect(kursk).to_be_visible()
    expect(page.locator(LABELS).filter(has_text="Kursk").filter(has_not_text="Oblast")).to_have_count(1)
    names = labels_of(page)
    assert {"Kursk", "Belgorod", "Sumy"} <= set(names), names
    assert boxes_overlap(page) == []
    # Names are scenery: under the events, not clickable, not in the tab order, hidden from readers.
    pane = page.locator(".leaflet-placeLabels-pane")
    assert pane.get_attribute("aria-hidden") == "true"
    assert pane.evaluate("p => getComputedStyle(p).pointerEvents") == "none"
    assert int(pane.evaluate("p => getComputedStyle(p).zIndex")) < int(
        page.locator(".leaflet-overlay-pane").evaluate("p => getComputedStyle(p).zIndex")
    )
    assert page.locator(f"{LABELS}[tabindex], {LABELS} a, {LABELS} button").count() == 0
    assert_credited(page)
    credit, find = {"en": ("Place names:", "Find a place"), "de": ("Ortsnamen:", "Ort suchen")}[lang]
    expect(page.locator("footer.attribution")).to_contain_text(credit)
    expect(page.get_by_role("combobox", name=find)).to_be_visible()
    # Zoomed in, the small towns of the story are named too.
    page.evaluate(f"() => {THE_MAP}.setView([51.2, 35.27], 11)")
    expect(page.locator(LABELS, has_text="Sudzha")).to_be_visible()
    assert boxes_overlap(page) == []
    assert not recorder.errors


def test_the_embed_and_an_event_page_name_places_and_credit_them(browser, server):
    page, recorder = open_page(browser, 1280, 800)
    page.goto(server.url + "/embed")
    expect(page.locator(LABELS, has_text="Kursk").first).to_be_visible()
    assert_credited(page)
    event = features(server)[0]
    page.goto(server.url + f"/events/{event['id']}")
    expect(page.locator(LABELS).first).to_be_visible()
    assert_credited(page, ".event-map")
    assert page.locator(".leaflet-control-scale").count() == 1
    assert not recorder.errors


def test_the_editor_and_history_maps_name_places_and_credit_them(browser, server):
    page, recorder = open_page(browser, 1280, 800)
    log_in(page, server.url)
    page.goto(server.url + "/edit/events/new")
    expect(page.locator(f"#editor-map {LABELS}", has_text="Kursk").first).to_be_visible()
    assert_credited(page, "#editor-map")
    event = features(server)[0]
    page.goto(server.url + f"/edit/events/{event['id']}/history")
    history_map = page.locator(".diff-map").first
    expect(history_map.locator(LABELS).first).to_be_visible()
    assert_credited(page, ".diff-map")
    assert not recorder.errors


def test_scale_bars_are_metric_only(browser, server):
    page, recorder = open_page(browser, 1280, 800)
    for path in ("/", "/embed", f"/events/{features(server)[0]['id']}"):
        page.goto(server.url + path)
        scale = page.locator(".leaflet-control-scale")
        expect(scale.locator(".leaflet-control-scale-line")).to_have_count(1)
        expect(scale).to_contain_text("km")
        assert "mi" not in scale.inner_text() and "ft" not in scale.inner_text(), path
    log_in(page, server.url)
    page.goto(server.url + "/edit/events/new")
    scale = page.locator("#editor-map .leaflet-control-scale")
    expect(scale).to_contain_text("km")
    expect(scale.locator(".leaflet-control-scale-line")).to_have_count(1)
    assert not recorder.errors
