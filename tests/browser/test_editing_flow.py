"""Editors in a real browser: an admin adds an editor, the editor places and saves a draft by
clicking the map, the admin publishes it, and an anonymous visitor then sees it on the map."""

from __future__ import annotations

import pytest
from helpers import GOOD_PASSWORD, only_local, save_screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def log_in(page, base, username, password=GOOD_PASSWORD):
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stacked button[type=submit]")


def test_admin_adds_editor_who_drafts_an_event_that_the_admin_publishes(live_server, browser):
    base = live_server.url
    runner = live_server.app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    made = runner.invoke(args=["users", "create", "chief", "--role", "admin", "--password-stdin"],
                         input=GOOD_PASSWORD + "\n")  # fmt: skip
    assert made.exit_code == 0, made.output

    requests: list[str] = []
    dialogs: list[str] = []

    def new_page(context):
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        return page

    # The admin creates an editor account.
    admin_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = new_page(admin_ctx)
    log_in(admin, base, "chief")
    admin.goto(base + "/admin/users")
    admin.fill("#new-user input[name=username]", "reporter")
    admin.select_option("#new-user select[name=role]", "editor")
    admin.fill("#new-user input[name=password]", "a much longer passphrase 2024")
    admin.click("#new-user button[type=submit]")
    admin.wait_for_selector("tr[data-user=reporter]")

    # The editor logs in, clicks the map to place the event, fills the form and saves a draft.
    editor_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    editor = new_page(editor_ctx)
    log_in(editor, base, "reporter", "a much longer passphrase 2024")
    editor.goto(base + "/edit/events/new")
    editor.wait_for_selector("#editor-map.leaflet-container .leaflet-control-zoom")
    box = editor.locator("#editor-map").bounding_box()
    editor.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert editor.input_value("#lon") != "" and editor.input_value("#lat") != ""
    placed_lon = float(editor.input_value("#lon"))
    editor.fill("input[name=title]", "Drone strike reported near Sudzha")
    editor.fill("input[name=place]", "Sudzha")
    editor.fill("input[name=start]", "2024-11-12")
    editor.select_option("select[name=category]", "offensive")
    editor.fill("textarea[name=description]", "Local channels report a strike.")
    editor.click("#add-source")
    urls = editor.locator("input[name=source_url]")
    assert urls.count() == 2
    urls.nth(0).fill("https://example.org/report")
    editor.locator("input[name=source_outlet]").nth(0).fill("Example News")
    editor.locator(".remove-source").nth(1).click()
    assert editor.locator("input[name=source_url]").count() == 1
    save_screenshot(editor, "editor-form-filled")
    editor.click("#event-form button[type=submit]")
    editor.wait_for_selector(".flashes")
    assert "as a draft" in editor.locator(".flashes").inner_text()
    event_url = editor.url
    assert "/edit/events/ev-" in event_url

    # Not yet public.
    with live_server.app.test_client() as anonymous:
        titles = [
            f["properties"]["title"] for f in anonymous.get("/api/events?limit=1000").get_json()["features"]
        ]
        assert "Drone strike reported near Sudzha" not in titles

    # The admin publishes it.
    admin.goto(event_url)
    admin.click('.admin-actions button:text-is("Publish")')
    admin.wait_for_selector(".flashes")
    assert "Published" in admin.locator(".flashes").inner_text()

    # An anonymous visitor sees it on the map and in the timeline.
    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    visitor = new_page(visitor_ctx)
    visitor.goto(base + "/")
    visitor.wait_for_selector("#timeline .timeline-item")
    item = visitor.locator("#timeline .title", has_text="Drone strike reported near Sudzha")
    assert item.count() == 1
    item.click()
    expect(visitor.locator("#details h2")).to_have_text("Drone strike reported near Sudzha")
    expect(visitor.locator("#details .sources a")).to_have_attribute("href", "https://example.org/report")
    with live_server.app.test_client() as anonymous:
        features = anonymous.get("/api/events?limit=1000").get_json()["features"]
        mine = next(f for f in features if f["properties"]["title"] == "Drone strike reported near Sudzha")
        assert mine["geometry"]["type"] == "Point"
        assert abs(mine["geometry"]["coordinates"][0] - placed_lon) < 1e-4
    assert dialogs == []
    assert only_local(requests) == []
    for ctx in (admin_ctx, editor_ctx, visitor_ctx):
        ctx.close()
