"""The region filter: a visitor picks a region (or a country) from the places the story's events
lie in, and the list, the "N of M" count and the download links hold only its events; the address
keeps the choice, so a reload or a shared link shows the same, and "All regions" brings back all."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from visitor_fixtures import features, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

LIST_ITEMS = "#timeline .timeline-item"


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811  (the shared server, under a short name)
    return story_server


def settle(page):
    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")


def test_choosing_a_region_shows_only_its_events_and_the_link_keeps_it(browser, server):
    total = len(features(server))
    kursk = [f["properties"]["title"] for f in features(server, "&region=RU-KRS")]
    assert 0 < len(kursk) < total  # the demo story lies in more than one region
    page, recorder = open_page(browser, 1440, 900)
    page.goto(server.url + "/")
    settle(page)
    expect(page.locator(LIST_ITEMS)).to_have_count(total)
    choice = page.get_by_role("combobox", name="Region", exact=True)
    expect(choice).to_have_value("")
    expect(choice.locator("option:checked")).to_have_text("All regions")
    russia = choice.locator("optgroup[label='Russian Federation'] option")
    expect(russia.filter(has_text="Kursk Oblast")).to_have_text(f"Kursk Oblast ({len(kursk)})")
    choice.select_option(label=f"Kursk Oblast ({len(kursk)})")
    settle(page)
    expect(page.locator(LIST_ITEMS)).to_have_count(len(kursk))
    expect(page.locator(f"{LIST_ITEMS} .title")).to_have_text(kursk)
    expect(page.locator("#status")).to_have_text(f"{len(kursk)} of {total} events")
    expect(page).to_have_url(re.compile(r"[?&]region=RU-KRS(&|$)"))
    # The files the Download menu offers hold the same events.
    page.locator("#downloads summary").click()
    for href in page.locator("#downloads a[data-base]").evaluate_all("links => links.map((a) => a.href)"):
        assert "region=RU-KRS" in href, href

    # The permalink: a reload (or the link opened elsewhere) restores the region and its events.
    page.reload()
    settle(page)
    expect(page.get_by_role("combobox", name="Region", exact=True)).to_have_value("region:RU-KRS")
    expect(page.locator(LIST_ITEMS)).to_have_count(len(kursk))
    expect(page.locator("#status")).to_have_text(f"{len(kursk)} of {total} events")

    # A whole country, then every region again.
    ukraine = features(server, "&country=UA")
    page.get_by_role("combobox", name="Region", exact=True).select_option("country:UA")
    settle(page)
    expect(page.locator(LIST_ITEMS)).to_have_count(len(ukraine))
    expect(page).to_have_url(re.compile(r"[?&]country=UA(&|$)"))
    page.get_by_role("combobox", name="Region", exact=True).select_option("")
    settle(page)
    expect(page.locator(LIST_ITEMS)).to_have_count(total)
    assert "region=" not in page.url and "country=" not in page.url
    page.context.close()
    assert recorder.errors == []
