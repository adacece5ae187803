"""The download menu gives the events on screen: the file a visitor downloads holds exactly the
events the list shows for the time window and filters, in the format chosen."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import pyogrio
import pytest
from playwright.sync_api import expect
from visitor_fixtures import open_page, story_server  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811
    return story_server


def api_ids(server, query):
    with server.app.test_client() as client:
        body = client.get(f"/api/events?{urlencode({**query, 'limit': 10000}, doseq=True)}").get_json()
        return sorted(f["id"] for f in body["features"])


def test_a_download_holds_the_events_on_screen(browser, server, tmp_path):
    page, recorder = open_page(browser, 1440, 900)
    query = {"start": "2024-08-01", "end": "2024-09-30", "cat": "offensive"}
    page.goto(server.url + "/?" + urlencode(query))
    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")
    shown = api_ids(server, {"start": "2024-08-01", "end": "2024-09-30", "category": "offensive"})
    assert shown and len(shown) < len(api_ids(server, {}))
    expect(page.locator("#timeline .timeline-item")).to_have_count(len(shown))
    page.get_by_text("Download", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="GeoPackage").click()
    target = tmp_path / "events.gpkg"
    download.value.save_as(target)
    assert sorted(pyogrio.read_dataframe(target, layer="events")["id"]) == shown
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    text = download.value.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["id"] for r in rows) == shown
    # From the keyboard: Enter on the summary opens the menu, Escape closes it and focus comes back.
    summary = page.locator("#downloads summary")
    summary.focus()
    page.keyboard.press("Escape")  # closes the menu left open above
    expect(page.locator("#downloads ul")).to_be_hidden()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="GeoJSON")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#downloads ul")).to_be_hidden()
    expect(summary).to_be_focused()
    page.context.close()
    assert recorder.errors == []
