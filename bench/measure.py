"""What every section shares: the result row, timing, percentiles, warnings, the query windows, tables.

One copy for the whole package: every section appends to the same WARNINGS (so each lands in the
RESULTS.md section of its run), prints figures the same way, and asks the same windows of every
backend, so that their rows describe the same questions.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from geodata.geometry import BBox
from timeline.store.filters import EventFilter

from .dataset import MONTHS, VIEWPORT, month_end, viewport

SEED = 7
SLOW_BUDGET_S = 20.0  # a whole-table measurement stops after this long (but after at least 5 runs)


@dataclass
class Row:
    """One line of the results table; ``ratio`` is ours / baseline."""

    measurement: str
    ours: float | None
    baseline: float | None
    unit: str = "ms"

    @property
    def ratio(self) -> float | None:
        return self.ours / self.baseline if self.ours is not None and self.baseline else None


WARNINGS: list[str] = []


def warn(message: str) -> None:
    """Something that makes a comparison unfair: shown on stderr and kept in RESULTS.md."""
    WARNINGS.append(message)
    print(f"WARNING: {message}", file=sys.stderr)


def progress(message: str) -> None:
    """Where the run is, on stderr (stdout carries only the tables)."""
    print(message, file=sys.stderr, flush=True)


def percentile(samples: list[float], q: float) -> float | None:
    """The ``q``-th percentile by nearest rank (no interpolation on 30 samples); None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]


def median_p95(samples: list[float]) -> tuple[float, float]:
    """Median, and the 95th percentile by nearest rank."""
    ordered = sorted(samples)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    p95 = percentile(ordered, 95)
    assert p95 is not None
    return median, p95


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def repeat(fn: Callable[[], Any], reps: int, budget_s: float = SLOW_BUDGET_S) -> list[float]:
    """Up to ``reps`` timings in ms, cut short after ``budget_s`` once 5 are in (whole-table queries)."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < reps and (len(samples) < 5 or time.perf_counter() - started < budget_s):
        samples.append(timed(fn)[0])
    return samples


def windows(reps: int) -> list[EventFilter]:
    """Random 0.5°×0.26° viewports over the region and calendar months, from a fixed seed.

    Every backend gets the same windows, so their figures describe the same questions.
    """
    rng = random.Random(SEED)
    result = []
    for _ in range(reps):
        box = BBox(*viewport(rng, VIEWPORT))
        year, month = rng.choice(MONTHS)
        result.append(
            EventFilter(bbox=box, start=date(year, month, 1), end=month_end(year, month), limit=100)
        )
    return result


def fmt(value: float | None, unit: str) -> str:
    """One figure as the tables print it, for every unit the sections use."""
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:,.3f} ms" if value < 10 else f"{value:,.1f} ms"
    if unit in ("bytes", "events", "features", "count", "errors", "requests", "rows"):
        return f"{value:,.0f}"
    formats = {
        "/s": f"{value:,.0f} /s",
        "MB": f"{value:,.1f} MB",
        "s": f"{value:,.2f} s",
        "x": f"{value:,.1f}×",
        "load": f"{value:.2f}",
        "% cpu": f"{value:.0f} %",
        "%": f"{value:+.1f} %" if value else "0 %",
        "MB/min": f"{value:+.2f} MB/min",
    }
    if unit in formats:
        return formats[unit]
    number = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.3g}"
    return f"{number} {unit}"


def table(rows: list[Row], markdown: bool = False) -> str:
    """Measurement, ours, baseline and ratio (ours ÷ baseline), as Markdown or aligned plain text."""
    cells = [("measurement", "ours", "baseline", "ratio")]
    for r in rows:
        ratio = "—" if r.ratio is None else f"{r.ratio:.3g}"
        cells.append((r.measurement, fmt(r.ours, r.unit), fmt(r.baseline, r.unit), ratio))
    if markdown:
        lines = ["| " + " | ".join(c) + " |" for c in cells]
        lines.insert(1, "|---|--:|--:|--:|")
        return "\n".join(lines)
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    out = [
        " | ".join(c[i].ljust(widths[i]) if i == 0 else c[i].rjust(widths[i]) for i in range(4))
        for c in cells
    ]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)
