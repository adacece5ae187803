"""An editor pastes the seed article in a real browser, reads the proposals, corrects one, accepts
it and lands on a draft of it in the editor; nothing else was saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import GOOD_PASSWORD, SEED_NAME, save_screenshot, seed_article
from playwright.sync_api import expect
from sqlalchemy import func, select

from geodata.gazetteer import ensure_index
from timeline.store.db import db
from timeline.store.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

SEED = seed_article() or Path("/nonexistent") / SEED_NAME


def test_an_editor_turns_a_sentence_of_the_article_into_a_draft(live_server, page, request) -> None:
    if not SEED.exists():
        pytest.skip(f"the seed article is not at {SEED}")
    index = ensure_index(Path(request.config.cache.mkdir("gazetteer")) / "gazetteer.sqlite")
    live_server.app.config["GAZETTEER_PATH"] = str(index)
    command = ["users", "create", "reporter", "--role", "editor", "--password-stdin"]
    made = live_server.app.test_cli_runner().invoke(args=command, input=GOOD_PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    browser_page, recorder = page
    base = live_server.url
    browser_page.goto(base + "/login")
    browser_page.fill("input[name=username]", "reporter")
    browser_page.fill("input[name=password]", GOOD_PASSWORD)
    browser_page.click("form.stacked button[type=submit]")

    browser_page.goto(base + "/edit/articles")
    browser_page.get_by_label("Article text").fill(SEED.read_text(encoding="utf-8"))
    browser_page.get_by_label("Published").fill("2024-11-11")
    browser_page.get_by_label("Outlet").fill("Example News")
    browser_page.get_by_label("URL").fill("https://example.org/kursk")
    browser_page.get_by_role("button", name="Propose events").click()

    signed = browser_page.locator("li.proposal", has_text="bei einem Besuch in Pjöngjang")
    expect(signed).to_have_count(1)
    expect(signed.get_by_label("Start")).to_have_value("2024-06")
    expect(signed.get_by_label("Place name")).to_have_value("Pjöngjang, Nordkorea")
    signed.scroll_into_view_if_needed()
    save_screenshot(browser_page, "article-proposals")
    signed.get_by_label("Title").fill("Putin und Kim unterzeichnen den Beistandspakt")
    signed.get_by_role("button", name="Accept as draft").click()

    signed = browser_page.locator("li.proposal", has_text="bei einem Besuch in Pjöngjang")
    link = signed.get_by_role("link", name="Edit “Putin und Kim unterzeichnen den Beistandspakt”")
    expect(link).to_be_visible()
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1
    link.click()
    title = "Putin und Kim unterzeichnen den Beistandspakt"
    expect(browser_page.locator("input[name=title]")).to_have_value(title)
    expect(browser_page.locator("input[name=start]")).to_have_value("2024-06")
    assert all(url.startswith(base) for url in recorder.requests if url.startswith("http"))
