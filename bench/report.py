"""bench/RESULTS.md: one machine-written section per event count and backend, the latest run only.

A figure means little without the machine, the load on it, the versions and the command that
produced it, so each section carries them above its table and its query plans. A run replaces the
section of its own size and backend and leaves the others alone, so the file holds exactly one
run per size and backend, and nothing hand-written: findings go in bench/FINDINGS.md, which no run
touches. Sections are marked ``<!-- bench:N=… -->`` (SQLite, the original marker) and
``<!-- bench:postgis:N=… -->``, and a backend's section sits right after the SQLite one of the same
N, so the two backends' figures can be read side by side.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy

from . import ROOT

HEADER = (
    "# Benchmark results\n\n"
    "Written by `python -m bench` (`make bench`): the latest run per event count and backend, each "
    "section replaced by the next run of the same size and backend. Ratios are ours ÷ baseline: below "
    "1 is faster for times, above 1 is better for features/s. What the runs taught, written by hand, is "
    "in [FINDINGS.md](FINDINGS.md).\n"
)


def code_version() -> str:
    """``git describe`` of the checkout measured (``-dirty`` when it has uncommitted changes)."""
    done = subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def machine() -> dict[str, str]:
    """The machine, its load and the versions every section's header names."""
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    mem = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu.group(1).strip() if cpu else "unknown",
        "ram": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "unknown",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "load": "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg()),
        "code": code_version(),
    }


def gen_text(generated: float | None, n: int, phases: dict[str, float]) -> str:
    """How the data came to be, for the section header."""
    if generated is None:
        return "reused from cache"
    detail = "; ".join(f"{k} {v:.1f} s" for k, v in phases.items())
    return f"{generated:.1f} s ({n / generated:,.0f} rows/s; {detail})"


def plan_lines(title: str, plans: dict[str, str]) -> list[str]:
    """The query-plan part of a section: one fenced block per statement."""
    lines = [f"### {title}", ""]
    for name, text in plans.items():
        lines += [f"{name}:", "", "```", text, "```", ""]
    return lines


def _tag(n: int, backend: str) -> str:
    return f"N={n}" if backend == "sqlite" else f"{backend}:N={n}"


def write_results(path: Path, n: int, body: str, backend: str = "sqlite") -> None:
    """Put this N's and backend's section into ``path``, replacing the one an earlier run wrote.

    Every section with the same marker goes (a file edited by hand may hold two), the new one takes
    the first one's place; without one, a backend's section goes right after the same N's SQLite
    section, else at the end. Everything outside this marker is kept as it is.
    """
    tag = _tag(n, backend)
    begin, end = f"<!-- bench:{tag} -->", f"<!-- /bench:{tag} -->"
    old = path.read_text() if path.exists() else HEADER
    section = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(rf"\n*{re.escape(begin)}\n.*?{re.escape(end)}\n*", re.S)
    place = pattern.search(old)
    if place:
        rest = pattern.sub("\n\n", old[place.end() :])
        new = old[: place.start()].rstrip() + "\n\n" + section + "\n\n" + rest.lstrip("\n")
    elif backend != "sqlite" and (sibling := f"<!-- /bench:{_tag(n, 'sqlite')} -->") in old:
        at = old.index(sibling) + len(sibling)
        new = old[:at] + "\n\n" + section + "\n\n" + old[at:].lstrip("\n")
    else:
        new = old.rstrip() + "\n\n" + section + "\n"
    path.write_text(new.rstrip() + "\n")
