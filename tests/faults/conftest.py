"""Fault tests: real server and command processes, on a database that fails under them.

A ``Server`` is gunicorn serving ``wsgi:app`` in a process group of its own, so that ``kill(9)``
takes the arbiter and its worker at once, as a power cut or the kernel's OOM killer would. Its
standard error is kept in a file, so a test can read what it said at start-up.

Tests may run as root, for whom a file's permissions stop nothing. ``unprivileged()`` runs a
command in a user namespace of its own: the process keeps its user id (it still owns the files it
made) but loses the capabilities that override permissions, so a file chmod'ed read-only is
read-only for it, as for any unprivileged server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import GOOD_PASSWORD, skip_or_fail

from timeline.domain.accounts import create_token, create_user
from timeline.store.db import db

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unprivileged() -> list[str]:
    """The prefix that runs a command without the power to ignore file permissions (see the module doc)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("unshare") is None:
        skip_or_fail("running as root and `unshare` (util-linux) is missing: cannot drop root's file powers")
    probe = subprocess.run(["unshare", "--user", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        skip_or_fail(f"running as root and user namespaces are not allowed here: {probe.stderr.strip()}")
    return ["unshare", "--user"]


def server_env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "fault-tests-secret", "PYTHONUNBUFFERED": "1"}


class Server:
    """gunicorn on ``url``; ``start()`` waits for /healthz, ``kill()`` is kill -9 of the whole group."""

    def __init__(self, url: str, log: Path, prefix: list[str] | None = None):
        self.url, self.log, self.prefix = url, log, prefix or []
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self) -> Server:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                   "--worker-class", "gthread", "--threads", "4", "wsgi:app"]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.prefix, *command], cwd=ROOT, env=server_env(self.url),
                stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2):  # noqa: S310
                    return self
            except urllib.error.HTTPError:
                return self  # it answers (a 503 from /healthz is the test's business)
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start:\n{self.said()}") from None
                time.sleep(0.1)

    def said(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """kill -9, arbiter and worker alike: nothing gets to finish or clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``servers(url, prefix=[...])`` starts a Server; all are stopped after the test."""
    started: list[Server] = []

    def _start(url: str, prefix: list[str] | None = None) -> Server:
        server = Server(url, tmp_path / f"server-{len(started)}.log", prefix)
        started.append(server)
        return server.start()

    yield _start
    for server in started:
        server.stop()


def editor_token(app: Any) -> str:
    """An editor account with an API token in the app's database; the token's secret."""
    with app.app_context():
        user = create_user("faults", GOOD_PASSWORD, "admin")
        db.session.flush()
        _, secret = create_token(user, "fault tests")
        db.session.commit()
        db.engine.dispose()
    return secret


def http(base: str, path: str, *, token: str | None = None, body: Any = None, method: str = "GET",
         timeout: float = 10) -> tuple[int, Any, dict[str, str]]:  # fmt: skip
    """One request: (status, parsed JSON body or the text, headers), for error statuses too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw, headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, headers = error.code, error.read(), dict(error.headers)
    try:
        return status, json.loads(raw or b"null"), headers
    except ValueError:
        return status, raw.decode(errors="replace"), headers


def timeline(url: str, *args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``timeline`` command on ``url``, as an operator would."""
    return subprocess.run(
        [*(prefix or []), str(BIN / "timeline"), *args], cwd=ROOT, env=server_env(url),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
