"""What every benchmark module shares: the result row, timing, medians, warnings, the query windows.

They live here rather than in run.py so that a backend's own module (postgis.py) can use them
without importing run.py, which is the script being run (``__main__``): importing it again would
make a second copy with its own WARNINGS list, and warnings would go missing from RESULTS.md.
run.py imports them back, so ``run.median_p95`` and friends still work for anything that used them.
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

import generate

from geodata.geometry import BBox
from timeline.queries import EventFilter

SEED = 7
BOX = (0.5, 0.26)  # degrees: about 1% of the generated region
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


def median_p95(samples: list[float]) -> tuple[float, float]:
    """Median, and the 95th percentile by nearest rank (no interpolation on 30 samples)."""
    ordered = sorted(samples)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return median, ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


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
    min_lon, min_lat, max_lon, max_lat = generate.REGION
    result = []
    for _ in range(reps):
        lon = round(rng.uniform(min_lon, max_lon - BOX[0]), 3)
        lat = round(rng.uniform(min_lat, max_lat - BOX[1]), 3)
        year, month = rng.choice(generate.MONTHS)
        box = BBox(lon, lat, round(lon + BOX[0], 3), round(lat + BOX[1], 3))
        end = generate.month_end(year, month)
        result.append(EventFilter(bbox=box, start=date(year, month, 1), end=end, limit=100))
    return result


def fmt(value: float | None, unit: str) -> str:
    """One figure as the tables print it, for every unit the benchmark modules use."""
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


def as_rows(rows: list[dict[str, Any]]) -> list[Row]:
    """Rows of throughput.py and soak.py (plain dicts, for callers outside bench/) as table rows."""
    return [Row(r["name"], r["ours"], r["baseline"], r["unit"]) for r in rows]


# ---------------------------------------------------------------------------- (a) rows both backends print


def summarise(
    page: dict[str, list[float]], count: dict[str, list[float]]
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """Per variant: (median, p95) of page+count per window, and (page median, count median)."""
    total = {k: median_p95([p + c for p, c in zip(page[k], count[k], strict=True)]) for k in page}
    med = {k: (median_p95(page[k])[0], median_p95(count[k])[0]) for k in page}
    return total, med


def a1_rows(total: dict[str, tuple[float, float]], scan: str) -> list[Row]:
    """Ours (ORM) page+count against the backend's full scan, named ``scan``."""
    return [
        Row(f"a1 viewport+month page+count, median — vs {scan}", total["orm"][0], total["scan"][0]),
        Row(f"a1 viewport+month page+count, p95 — vs {scan}", total["orm"][1], total["scan"][1]),
    ]


def a3_a4_rows(
    med: dict[str, tuple[float, float]], matched: list[int], mismatches: int, compared: str
) -> list[Row]:
    """Count and page alone against the full scan, and the events matched (equal to ``compared``)."""
    mean = sum(matched) / len(matched)
    return [
        Row("a3 count_events alone, median — vs full-scan count", med["orm"][1], med["scan"][1]),
        Row(
            "a3 filtered_events page (ORM, 100 rows), median — vs full-scan page",
            med["orm"][0],
            med["scan"][0],
        ),
        Row(
            f"a4 events matched per window, mean — vs {compared} (must be equal)",
            mean,
            None if mismatches else mean,
            "events",
        ),
    ]


def a7_rows(med: dict[str, tuple[float, float]]) -> list[Row]:
    """The app's SQL run raw (no ORM), page and count alone, against the full scan."""
    return [
        Row(
            "a7 page SQL alone, raw (no ORM, 100 rows), median — vs full-scan page",
            med["raw"][0],
            med["scan"][0],
        ),
        Row("a7 count SQL alone, raw, median — vs full-scan count", med["raw"][1], med["scan"][1]),
    ]


def a9_row(one_query: list[float], total: dict[str, tuple[float, float]]) -> Row:
    """page_and_count as /api/events calls it, against the full scan's page+count."""
    return Row(
        "a9 page_and_count (keys + count(*) OVER () in one query, as /api/events), median "
        "— vs full-scan page+count",
        median_p95(one_query)[0],
        total["scan"][0],
    )
