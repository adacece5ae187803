"""What a first visit to the map page costs over the wire, and Lighthouse's scores for it.

Against a real server (gunicorn with `make serve`'s worker class, on 127.0.0.1, a fresh SQLite
database holding the demo story), with Debian's Chromium:

* **first load**: a fresh browser profile opens ``/`` and waits until the network is quiet; every
  request it made is counted with the bytes that crossed the wire (Chrome's ``encodedDataLength``:
  compressed bodies plus headers), vendor and basemap files included. Goal: at most 600 KB
  (issue 10, point 7). The same browser then opens ``/`` again, which shows what caching saves.
* **Lighthouse 12** (``npx lighthouse@12``, its default mobile preset: a Moto G Power on slow 4G,
  4× CPU slowdown) on ``/`` and on one event's page, each run ``--runs`` times; the median
  performance score is kept, since it moves between runs by a few points.

    .venv/bin/python -m bench.lighthouse [--runs 3] [--no-lighthouse] [--write | --append]

``--write`` (what ``make bench`` runs) puts the section in bench/RESULTS.md in place of the one
there, so the file holds the latest figures once; ``--append`` adds a dated section after the
others; with neither the section is only printed.
Scores vary between runs and machines, so they go here and never into tests.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from . import PROJECT_BIN, ROOT
from .servers import gunicorn

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LIGHTHOUSE = os.environ.get("LIGHTHOUSE_PACKAGE", "lighthouse@12")
FIRST_LOAD_GOAL = 600 * 1024
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
GOALS = {
    "/": {"performance": 90, "accessibility": 98, "best-practices": 100, "seo": 95},
    "event": dict.fromkeys(CATEGORIES, 95),
}
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION_HEADING = "## Lighthouse and first-load bytes"
# Time for the background compression of the largest files (about 1.3 s each on this machine).
WARM_UP_SECONDS = 8


@dataclass
class Transfer:
    """One request of a page load: its URL, resource type and bytes over the wire."""

    url: str
    kind: str
    wire_bytes: int
    encoding: str = ""
    status: int = 0


@dataclass
class Load:
    transfers: list[Transfer] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(t.wire_bytes for t in self.transfers)


def category(url: str) -> str:
    """Which part of the page a URL belongs to, for the table."""
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    if path.startswith("static/basemap/"):
        return "basemap"
    if path.startswith("static/vendor/"):
        return "vendor"
    if path.startswith("static/"):
        return "own static"
    if path.startswith("api/"):
        return "api"
    return "page"


@contextlib.contextmanager
def demo_server(workdir: Path) -> Iterator[str]:
    """gunicorn on a fresh SQLite database with the demo story; yields its base URL."""
    database = f"sqlite:///{workdir / 'lighthouse.sqlite'}"
    env = {**os.environ, "DATABASE_URL": database, "SECRET_KEY": "lighthouse-bench"}
    for argv in (["db", "upgrade"], ["demo"]):
        subprocess.run([str(PROJECT_BIN / "timeline"), *argv], env=env, check=True, capture_output=True)  # noqa: S603
    extra = {"DATABASE_URL": database, "SECRET_KEY": "lighthouse-bench"}
    # One worker: every static file is then compressed once, at brotli's best, before measuring
    # (each worker does it on its own first request; see timeline/infra/static_assets.py).
    with gunicorn(
        "wsgi:app",
        name="lighthouse",
        logs=workdir,
        probe="/healthz",
        env=extra,
        worker_class="gthread",
        workers=1,
    ) as server:
        yield server.base


def measure_loads(base: str) -> tuple[Load, Load]:
    """The first and the repeat load of ``/`` in one fresh browser profile, after a warm-up visit
    in another (so the server has its static files compressed at their smallest, as it has for
    every visitor but the first after a start)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
        )
        warm = browser.new_context()
        warm.new_page().goto(base + "/", wait_until="networkidle")
        warm.close()
        time.sleep(WARM_UP_SECONDS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        current: dict[str, Transfer] = {}
        finished: list[Transfer] = []

        def on_response(event: dict[str, Any]) -> None:
            response = event["response"]
            headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
            current[event["requestId"]] = Transfer(
                response["url"],
                event.get("type", ""),
                0,
                headers.get("content-encoding", ""),
                response["status"],
            )

        def on_finished(event: dict[str, Any]) -> None:
            transfer = current.pop(event["requestId"], None)
            if transfer is not None:
                transfer.wire_bytes = int(event["encodedDataLength"])
                finished.append(transfer)

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.loadingFinished", on_finished)
        loads = []
        for _ in range(2):
            finished.clear()
            page.goto(base + "/", wait_until="networkidle")
            page.wait_for_timeout(1500)  # late fetches (the basemap's second file, place labels)
            loads.append(Load([t for t in finished if not t.url.startswith("data:")]))
        browser.close()
    return loads[0], loads[1]


def first_event_id(base: str) -> str:
    with urlopen(base + "/api/events?limit=1", timeout=30) as response:  # noqa: S310 (our own server)
        return str(json.load(response)["features"][0]["id"])


def lighthouse(url: str, out: Path) -> dict[str, Any] | str:
    """One Lighthouse run's category scores (0–100), or why it could not run."""
    npx = shutil.which("npx")
    if npx is None:
        return "npx is not installed (Debian package npm)"
    argv = [
        npx, "--yes", LIGHTHOUSE, url, "--quiet", "--output=json", f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
    ]  # fmt: skip
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    if done.returncode != 0 or not out.exists():
        return f"lighthouse exited {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"
    report = json.loads(out.read_text())
    categories = report["categories"]
    scores: dict[str, Any] = {name: round(100 * (categories[name]["score"] or 0)) for name in CATEGORIES}
    audits = report["audits"]
    for metric in (
        "first-contentful-paint",
        "largest-contentful-paint",
        "total-blocking-time",
        "cumulative-layout-shift",
        "speed-index",
    ):
        if metric in audits:
            scores[metric] = audits[metric].get("numericValue", 0)
    scores["version"] = report.get("lighthouseVersion", "?")
    scores["advice"] = advice(report)
    return scores


def advice(report: dict[str, Any]) -> list[str]:
    """Lighthouse's largest savings on the page, and the failed audits of the other categories."""
    found = []
    for audit in report["audits"].values():
        details = audit.get("details") or {}
        saving = details.get("overallSavingsMs") or 0
        if details.get("type") == "opportunity" and saving >= 100:
            found.append((saving, f"{audit['title']} (about {saving / 1000:.1f} s)"))
    tips = [text for _, text in sorted(found, reverse=True)[:5]]
    for name in ("accessibility", "seo", "best-practices"):
        for ref in report["categories"][name]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
                tips.append(f"{name}: {audit['title']}")
    return tips


def median_scores(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per category, the median over runs (the run-to-run spread is reported beside it)."""
    keys = [k for k in runs[0] if k not in ("version", "advice")]
    return {key: statistics.median(run[key] for run in runs) for key in keys}


def kib(n: float) -> str:
    return f"{n / 1024:,.1f} KB"


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load averages: Lighthouse's scores fall as other work
    shares the cores (its throttling is simulated from what it observes), so each run says it."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def section(first: Load, repeat: Load, scores: dict[str, Any], runs: int, loads: tuple[str, str]) -> str:
    today = dt.date.today().isoformat()
    cores = os.cpu_count()
    lines = [
        f"{SECTION_HEADING} ({today})",
        "",
        f"Machine: {cores} cores, 24 GiB, {platform.system()} {platform.machine()}, Debian Chromium "
        f"({CHROMIUM}); gunicorn gthread on 127.0.0.1, SQLite with the demo story. "
        f"Load average (1, 5, 15 min) {loads[0]} at the start, {loads[1]} at the end. "
        "`python -m bench.lighthouse`.",
        "",
        f"**First load of `/`: {kib(first.total)} over the wire in {len(first.transfers)} requests** "
        f"(goal ≤ {kib(FIRST_LOAD_GOAL)}: {'met' if first.total <= FIRST_LOAD_GOAL else 'NOT met'}); "
        f"the repeat visit transfers {kib(repeat.total)} ({len(repeat.transfers)} requests, "
        f"{sum(1 for t in repeat.transfers if t.status == 304)} of them 304).",
        "",
        "| part | requests | bytes over the wire |",
        "|---|---:|---:|",
    ]
    parts: dict[str, list[Transfer]] = {}
    for transfer in first.transfers:
        parts.setdefault(category(transfer.url), []).append(transfer)
    for name, transfers in sorted(parts.items(), key=lambda item: -sum(t.wire_bytes for t in item[1])):
        lines.append(f"| {name} | {len(transfers)} | {kib(sum(t.wire_bytes for t in transfers))} |")
    lines += ["", "Largest requests:", "", "| URL | encoding | bytes |", "|---|---|---:|"]
    for transfer in sorted(first.transfers, key=lambda t: -t.wire_bytes)[:10]:
        path = "/" + transfer.url.split("://", 1)[-1].split("/", 1)[-1]
        lines.append(
            f"| `{path.split('?v=')[0]}` | {transfer.encoding or 'none'} | {kib(transfer.wire_bytes)} |"
        )
    lines.append("")
    for page, result in scores.items():
        if isinstance(result, str):
            lines.append(f"Lighthouse on `{page}`: not run — {result}")
            continue
        goals = GOALS["/" if page == "/" else "event"]
        median, spread, version = result["median"], result["spread"], result["version"]
        lines.append(f"Lighthouse {version} (mobile preset) on `{page}`, median of {runs} run(s):")
        lines += ["", "| category | score | range | goal |", "|---|---:|---:|---:|"]
        for name in CATEGORIES:
            low, high = spread[name]
            met = "✓" if median[name] >= goals[name] else "✗"
            lines.append(f"| {name} | {median[name]:.0f} | {low:.0f}–{high:.0f} | ≥ {goals[name]} {met} |")
        fcp, lcp = median["first-contentful-paint"] / 1000, median["largest-contentful-paint"] / 1000
        lines.append(
            f"\nFCP {fcp:.1f} s, LCP {lcp:.1f} s, "
            f"TBT {median['total-blocking-time']:.0f} ms, CLS {median['cumulative-layout-shift']:.3f}, "
            f"Speed Index {median['speed-index'] / 1000:.1f} s.\n"
        )
        if result["advice"]:
            lines += ["What Lighthouse points at (last run):", ""]
            lines += [f"- {tip}" for tip in result["advice"]]
            lines.append("")
    return "\n".join(lines) + "\n"


def replace_section(document: str, text: str) -> str:
    """``document`` with its Lighthouse section (from its heading to the next ``## `` heading)
    replaced by ``text``, or ``text`` appended when it has none; nothing else is touched."""
    lines = document.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(SECTION_HEADING)), None)
    if start is None:
        return document.rstrip("\n") + "\n\n" + text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + text + ("\n" + tail if tail else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--append", action="store_true", help="append the section to bench/RESULTS.md")
    parser.add_argument("--write", action="store_true", help="replace the section in bench/RESULTS.md")
    args = parser.parse_args()
    load_at_start = load_average()
    with tempfile.TemporaryDirectory(prefix="timeline-lighthouse-") as tmp, demo_server(Path(tmp)) as base:
        first, repeat = measure_loads(base)
        scores: dict[str, Any] = {}
        if not args.no_lighthouse:
            for page in ("/", f"/events/{first_event_id(base)}"):
                runs = [lighthouse(base + page, Path(tmp) / f"lh-{i}.json") for i in range(args.runs)]
                good = [run for run in runs if isinstance(run, dict)]
                if not good:
                    scores[page] = str(runs[0])
                    continue
                scores[page] = {
                    "advice": good[-1]["advice"],
                    "median": median_scores(good),
                    "spread": {c: (min(r[c] for r in good), max(r[c] for r in good)) for c in CATEGORIES},
                    "version": good[0]["version"],
                }
    text = section(first, repeat, scores, args.runs, (load_at_start, load_average()))
    print(text)
    if args.write:
        RESULTS.write_text(replace_section(RESULTS.read_text(encoding="utf-8"), text), encoding="utf-8")
    elif args.append:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write("\n" + text)


if __name__ == "__main__":
    main()
