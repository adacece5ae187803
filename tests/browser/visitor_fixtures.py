"""One live server with the demo story and an admin, shared by a whole test module.

The visitor-page tests (accessibility, the keyboard, axe, counts, the details panel) only read the
story, so they share one server and one database per module instead of migrating and loading the
demo for each test. Import the fixtures into a test module with
``from visitor_fixtures import story_server, visitor  # noqa: F401``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import GOOD_PASSWORD
from werkzeug.serving import make_server

from timeline import create_app
from timeline.store.db import db

ADMIN = "chief"
EXPECT_TIMEOUT_MS = 15_000  # as in conftest.py: a first load on a busy 2-core machine can be slow


@dataclass
class LiveServer:
    url: str
    app: Any


@dataclass
class PageRecorder:
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def story_server(migrated_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on its own database with the demo story and an admin account, served over HTTP."""
    url = migrated_template.create(tmp_path_factory.mktemp("story"), "story")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "story",
                      "TILE_URL": "", "ARGON2_MEMORY_KIB": 1024, "ARGON2_TIME_COST": 1})  # fmt: skip
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    made = runner.invoke(
        args=["users", "create", ADMIN, "--role", "admin", "--password-stdin"], input=GOOD_PASSWORD + "\n"
    )
    assert made.exit_code == 0, made.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()
    migrated_template.drop(url)


def features(server: LiveServer, query: str = "") -> list[dict[str, Any]]:
    """The published events the API gives for a query, in timeline order."""
    with server.app.test_client() as client:
        answer: list[dict[str, Any]] = client.get(f"/api/events?limit=1000{query}").get_json()["features"]
        return answer


def open_page(browser: Any, width: int = 1280, height: int = 800) -> tuple[Any, PageRecorder]:
    """A new browser page (own context) that records errors, as the shared ``page`` fixture does."""
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    recorder = PageRecorder()
    page.on("pageerror", lambda e: recorder.errors.append(str(e)))
    # A script error, or the browser refusing part of our own page under its CSP, is a broken page
    # (a 404 page visited on purpose also logs an error, which is not one).
    page.on(
        "console",
        lambda m: (
            recorder.errors.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    return page, recorder


def log_in(page: Any, base: str, username: str = ADMIN, password: str = GOOD_PASSWORD) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def box(page: Any, selector: str) -> dict[str, float]:
    """Where ``selector`` is on screen (x, y, width, height); failing when it is not shown."""
    found = page.locator(selector).bounding_box()
    assert found, f"{selector} is not on screen"
    return found
