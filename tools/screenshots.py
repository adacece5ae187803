"""README screenshots, taken from the real page rather than drawn by hand, so they never drift from it.

Starts nothing itself: point it at a running server holding the demo story (``make run``, or any
port), and it opens the map page in Debian's Chromium at desktop (1440×900) and phone (390×844)
size with one event selected, and writes ``docs/screenshot.png`` and ``docs/screenshot-phone.png``.

    .venv/bin/python tools/screenshots.py [--base http://127.0.0.1:5000] [--out docs]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SIZES = {"screenshot.png": (1440, 900), "screenshot-phone.png": (390, 844)}
# The demo story's event shown selected: the area Ukraine held in Kursk Oblast, the story's core.
PREFERRED = "kursk-2024-ukrainian-held-area"


def chosen_event(base: str) -> str:
    """The preferred demo event when the server has it, else the first one it lists."""
    with urlopen(f"{base}/api/events?limit=200&view=summary", timeout=30) as answer:  # noqa: S310 (our server)
        ids = [f["id"] for f in json.load(answer)["features"]]
    if not ids:
        raise SystemExit(f"{base} has no events: load the demo story first (`.venv/bin/timeline demo`)")
    return PREFERRED if PREFERRED in ids else ids[0]


def take(base: str, out: Path) -> list[Path]:
    """One screenshot per size of the map page with an event selected, once it has settled."""
    from playwright.sync_api import sync_playwright

    event = chosen_event(base)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for name, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
            page = context.new_page()
            page.goto(f"{base}/?sel={event}", wait_until="networkidle")
            page.locator('.map-pane[aria-busy="false"]').wait_for()
            page.locator("#details:not([hidden])").wait_for()
            page.wait_for_timeout(800)  # the map's fly-to and the timeline's redraw
            target = out / name
            page.screenshot(path=str(target))
            written.append(target)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000", help="the running server")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in take(args.base.rstrip("/"), args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
