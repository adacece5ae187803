"""Draft events from a news article: how long proposals for a 5,000-character article take.

``python -m bench.articles [--chars 5000] [--runs 20]`` (the gazetteer index must exist: ``make
places``, or it is built first). The article is the German seed report, repeated to the length
asked, so every sentence is read, dated and its places looked up. Measured in this process:

- the first article after start (the gazetteer opened and the actors list read on the way), and
- the median and 95th percentile of the warm runs, each with a fresh extraction (the per-article
  place cache starts empty every time, as for a request).

Goal (issue 13): proposals for a 5,000-character article in under 500 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_b9fcea42acd17229.txt"
GOAL_MS = 500.0


def article(chars: int) -> str:
    """The seed report repeated and cut to ``chars`` characters."""
    seed = SEED.read_text(encoding="utf-8")
    text = seed
    while len(text) < chars:
        text += "\n" + seed
    return text[:chars]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.articles")
    parser.add_argument("--chars", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)

    from geodata.articles import ArticleSource, shared_extractor
    from geodata.gazetteer import default_path, ensure_index, open_gazetteer

    path = ensure_index(default_path())
    text = article(args.chars)
    source = ArticleSource(date(2024, 11, 11), None, "bench", "bench")
    started = time.perf_counter()
    extraction = shared_extractor(open_gazetteer(path)).propose(text, source)
    first_ms = (time.perf_counter() - started) * 1000
    timings = []
    for _ in range(max(1, args.runs)):
        started = time.perf_counter()
        shared_extractor(open_gazetteer(path)).propose(text, source)
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else timings[0]
    print(f"article: {len(text)} characters, {len(extraction.proposals)} proposals ({extraction.lang})")
    print(
        f"first after start: {first_ms:.0f} ms; "
        f"warm: median {median:.1f} ms, p95 {p95:.1f} ms ({len(timings)} runs)"
    )
    verdict = "meets" if max(first_ms, p95) < GOAL_MS else "MISSES"
    print(f"{verdict} the goal of {GOAL_MS:.0f} ms per 5,000-character article")


if __name__ == "__main__":
    main()
