"""Stateless serving: two gunicorn processes on one database behave as one site.

An event saved through one is visible through the other at once, and a login made on one is valid
on the other (sessions are signed cookies, and nothing lives in a process's memory).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import GOOD_PASSWORD, feature

from timeline.domain.accounts import create_token, create_user
from timeline.store.db import db

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_servers(fresh_database, app_factory) -> Iterator[dict[str, Any]]:
    url = fresh_database("shared")
    app = app_factory(url)
    with app.app_context():
        user = create_user("chief", GOOD_PASSWORD, "admin")
        db.session.flush()
        _, token = create_token(user, "two processes")
        db.session.commit()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "shared-secret-of-the-deployment"}
    servers, bases = [], []
    for _ in range(2):
        port = free_port()
        servers.append(subprocess.Popen(
            [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:  # noqa: S310
                        if r.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        yield {"bases": bases, "token": token}
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)


def call(base: str, path: str, *, token: str | None = None, body: Any = None, method: str = "GET") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, json.loads(response.read() or b"null")


def test_an_event_saved_through_one_process_is_visible_through_the_other(two_servers):
    a, b = two_servers["bases"]
    token = two_servers["token"]
    raw = feature(None, title="Saved through A")
    status, created = call(a, "/api/events", token=token, body=raw, method="POST")
    assert status == 201
    status, seen = call(b, f"/api/events/{created['id']}")
    assert status == 200 and seen["properties"]["title"] == "Saved through A"
    patch = {"version": 1, "properties": {"title": "Edited through B"}}
    assert call(b, f"/api/events/{created['id']}", token=token, body=patch, method="PATCH")[0] == 200
    assert call(a, f"/api/events/{created['id']}")[1]["properties"]["title"] == "Edited through B"


def test_a_login_on_one_process_is_valid_on_the_other(two_servers):
    a, b = two_servers["bases"]
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = browser.open(f"{a}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    form = urllib.parse.urlencode({"username": "chief", "password": GOOD_PASSWORD, "csrf_token": token})
    browser.open(f"{a}/login", data=form.encode(), timeout=10)
    # The session cookie was issued for 127.0.0.1 by A; B is the same host on another port.
    response = browser.open(f"{b}/edit/", timeout=10)
    assert response.status == 200
    assert response.url.endswith("/edit/")  # not redirected to the login page
    assert "Log out chief" in response.read().decode()


def test_gunicorn_does_not_name_itself_in_a_server_header(two_servers):
    for path in ("/healthz", "/", "/api/events"):
        with urllib.request.urlopen(f"{two_servers['bases'][0]}{path}", timeout=10) as response:  # noqa: S310
            assert response.status == 200
            assert response.headers.get("Server") is None, response.headers.get("Server")
