"""Real servers for the sections that need them: gunicorn on a free port, ready, and stopped again.

The throughput section (ours, a hello-world ceiling and pygeoapi) and the soak (ours under mixed
load) both start gunicorn; doing it in one place means one way to wait until every worker is up
and one way to stop everything: each server runs in a process group of its own, so stopping it by
that group's id also stops its workers (restarted ones included) and nothing else, also when a run
fails or is interrupted (the ``finally`` of :func:`gunicorn`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from . import PROJECT_BIN, ROOT

WORKERS = 2
THREADS = 4  # per gthread worker, as `make serve` runs them
HELLO_APP = "bench.hello_wsgi:app"  # the machine's ceiling: a minimal Flask endpoint


def exit_on_sigterm() -> None:
    """Make SIGTERM an exception, so that the ``finally`` blocks stop every server a run started."""

    def terminate(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)


def free_port() -> int:
    """A port nobody listens on now (the OS picks it); a server binds it a moment later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, timeout: float = 120) -> tuple[int, Any]:
    """(status, parsed body) of one plain GET; the body is None when it is not JSON."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (127.0.0.1 only)
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def workers_of(master: int) -> list[int]:
    """The master's children, found through /proc (gunicorn forks its workers from the master)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == master:
                    children.append(int(entry.name))
    return sorted(children)


@dataclass
class Server:
    """A gunicorn we started: its master process, base URL and log."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    workers: int
    stopped: bool = field(default=False, init=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, probe: str, timeout: float = 120) -> None:
        """Until ``probe`` answers 200 and every worker has forked, or fail with the log's tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                if (
                    get_json(self.base + probe, timeout=30)[0] == 200
                    and len(workers_of(self.pid)) >= self.workers
                ):
                    return
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"server for {self.base}{probe} did not come up (exit {self.proc.poll()}); log:\n{tail}"
        )

    def stop(self) -> None:
        """TERM the server's process group (by its id), KILL what is left after 20 s; once only."""
        if self.stopped:
            return
        self.stopped = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait()
        with contextlib.suppress(ProcessLookupError):  # workers that outlived their master
            os.killpg(self.pid, signal.SIGKILL)


@contextlib.contextmanager
def gunicorn(
    app: str,
    *,
    name: str,
    logs: Path,
    probe: str,
    env: dict[str, str] | None = None,
    binary: Path | None = None,
    chdir: Path = ROOT,
    worker_class: str = "sync",
    workers: int = WORKERS,
    threads: int = THREADS,
    options: Sequence[str] = (),
) -> Iterator[Server]:
    """gunicorn serving ``app`` on 127.0.0.1 at a free port, ready (``probe`` answers 200); stopped after.

    ``binary`` defaults to the project venv's gunicorn; ``threads`` applies to gthread workers only;
    ``options`` are further gunicorn options (log format, timeouts). Output goes to ``logs/name.log``.
    """
    port = free_port()
    argv = [str(binary or PROJECT_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    argv += ["--worker-class", worker_class, "--chdir", str(chdir)]
    if worker_class == "gthread":
        argv += ["--threads", str(threads)]
    log_path = logs / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603
            [*argv, *options, app],
            cwd=chdir,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(proc, port, log_path, workers)
    try:
        server.wait_ready(probe)
        yield server
    finally:
        server.stop()
