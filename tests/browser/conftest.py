"""A live server on 127.0.0.1 and a headless Debian Chromium driven by Playwright.

Chromium comes from Debian (`/usr/bin/chromium`, installed by .ci/run), never from a download.
Every request the page makes is recorded so tests can prove nothing left 127.0.0.1, and every
dialog is recorded so tests can prove no injected script ran.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import ARTIFACTS, skip_or_fail
from werkzeug.serving import make_server

from timeline import create_app
from timeline.store.db import db

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


@dataclass
class LiveServer:
    url: str
    app: Any


@dataclass
class PageRecorder:
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def live_server(fresh_database: Callable[..., str]) -> Iterator[LiveServer]:
    """The app served over HTTP on a fresh database of the backend under test (see tests/conftest.py)."""
    url = fresh_database("live")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "live"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


# How long expect() waits for a page to get where a test says it will (Playwright's default is 5 s;
# a page's first load on a busy 2-core machine, with PostGIS behind it, can take longer).
EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[tuple[Any, PageRecorder]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    recorder = PageRecorder()
    page.on("request", lambda r: recorder.requests.append(r.url))
    page.on("pageerror", lambda e: recorder.errors.append(str(e)))
    # The browser refusing something of our own page under its CSP (an inline style, a script) is
    # a broken page, whatever the test looks at: each test fails on it.
    page.on(
        "console",
        lambda m: recorder.errors.append(m.text)
        if m.type == "error" and "Content Security Policy" in m.text
        else None,
    )

    def on_dialog(dialog: Any) -> None:
        recorder.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page, recorder
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    refused = [e for e in recorder.errors if "Content Security Policy" in e]
    assert not refused, f"the page broke its own CSP: {refused[:3]}"


@pytest.fixture
def demo(live_server: LiveServer) -> list[dict[str, Any]]:
    """The demo story loaded into the live server; its published features, in timeline order."""
    result = live_server.app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with live_server.app.test_client() as client:
        return client.get("/api/events?limit=1000").get_json()["features"]
