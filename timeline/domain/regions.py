"""The first-level region and the country an event lies in, from the offline gazetteer.

Events store them (``region_code``/``region_name``, ``country_code``/``country_name``) so that the
map, the API (``region=``, ``country=``) and the exports can filter by them without a spatial join
against 4,600 polygons per query. They are worked out on every save, from the point itself or
from a line's or area's representative point (a point inside it, unlike a centroid):

- the region code is Natural Earth's ISO 3166-2 code ("RU-KRS", "UA-59"), or its ``adm1_code``
  where Natural Earth has no ISO code; the names are the English ones ("Kursk Oblast");
- an imported ACLED row keeps the file's own ``admin1`` and ``country`` names (what ACLED users
  filter and write back), and takes only the codes from the gazetteer.

The gazetteer is an optional index file (``make places``). When it is missing, or still being
built, a save never fails for it: the columns stay NULL, and :func:`fill_regions` (run by migration
0013 and by ``timeline places fill-regions``) fills them in later. Lookups are cached per exact
coordinate, since imported datasets repeat the same few thousand locations many times; the
gazetteer itself keeps an STRtree of region boxes and the polygons last used.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

from flask import current_app, has_app_context

from geodata.gazetteer import Gazetteer, GazetteerError, IndexNotReady, default_path, open_gazetteer
from timeline.formats import acled

log = logging.getLogger(__name__)

REGION_CODE_LENGTH = 20
REGION_NAME_LENGTH = 200
COUNTRY_NAME_LENGTH = 100
_CACHE_SIZE = 20_000
_REF_PREFIX = "ne-admin1:"
_COUNTRY_PREFIX = "country:"


@dataclass(frozen=True)
class Regions:
    """Where an event is: its region and country, each a code and an English name (or None)."""

    region_code: str | None = None
    region_name: str | None = None
    country_code: str | None = None
    country_name: str | None = None

    def as_columns(self) -> dict[str, str | None]:
        return {
            "region_code": self.region_code,
            "region_name": self.region_name,
            "country_code": self.country_code,
            "country_name": self.country_name,
        }


NOWHERE = Regions()


class Locator:
    """Region lookups against one gazetteer, cached per exact coordinate (thread-safe)."""

    def __init__(self, gazetteer: Gazetteer):
        self.gazetteer = gazetteer
        self._cache: OrderedDict[tuple[float, float], Regions] = OrderedDict()
        self._bare: dict[tuple[float, float], tuple[str | None, str | None]] = {}
        self._lock = Lock()

    def at(self, lon: float, lat: float) -> Regions:
        key = (lon, lat)
        with self._lock:
            if (found := self._cache.get(key)) is not None:
                self._cache.move_to_end(key)
                return found
        region, country = self.gazetteer.areas_at(lon, lat, lang="en")
        found = Regions(
            region_code=region.ref.removeprefix(_REF_PREFIX)[:REGION_CODE_LENGTH] if region else None,
            region_name=(region.label or region.name)[:REGION_NAME_LENGTH] if region else None,
            country_code=(region.country or None) if region else None,
            country_name=(country.label or country.name)[:COUNTRY_NAME_LENGTH] if country else None,
        )
        if found.country_code is None and country is not None:
            found = Regions(
                found.region_code,
                found.region_name,
                country.ref.removeprefix(_COUNTRY_PREFIX),
                found.country_name,
            )
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def bare_names(self, lon: float, lat: float) -> tuple[str | None, str | None]:
        """The region's and country's short English names ("Kursk", "Russia"), as ACLED writes
        ``admin1`` and ``country``; cached per coordinate like :meth:`at`."""
        key = (lon, lat)
        with self._lock:
            if (found := self._bare.get(key)) is not None:
                return found
        region, country = self.gazetteer.areas_at(lon, lat, lang="en")
        names = (region.name if region else None, country.name if country else None)
        with self._lock:
            self._bare[key] = names
            while len(self._bare) > _CACHE_SIZE:
                self._bare.pop(next(iter(self._bare)))
        return names


def bare_names_at(lon: float, lat: float) -> tuple[str | None, str | None]:
    """ACLED's admin1 and country for a point, or (None, None) without the index; never raises."""
    try:
        where = locator()
        return where.bare_names(lon, lat) if where else (None, None)
    except Exception:  # an export must not fail for a name it could leave empty
        log.exception("region lookup failed")
        return None, None


_LOCATORS: dict[Path, Locator] = {}
_LOCATORS_LOCK = Lock()


def gazetteer_path() -> Path:
    """The app's ``GAZETTEER_PATH`` inside a request or app context, else the gazetteer's default."""
    if has_app_context() and (configured := current_app.config.get("GAZETTEER_PATH")):
        return Path(configured)
    return default_path()


def locator(path: Path | None = None) -> Locator | None:
    """The shared locator for the index at ``path``, or None when there is no usable index.

    Never builds the index in the caller's thread: a missing file means None at once (asked again on
    the next save), and a stale one is read as it is while the gazetteer rebuilds it in the background.
    """
    path = path or gazetteer_path()
    with _LOCATORS_LOCK:
        if (found := _LOCATORS.get(path)) is not None:
            return found
    if not path.exists():
        return None
    try:
        gazetteer = open_gazetteer(path, wait=False)
    except IndexNotReady:
        # An index older than its sources is being rebuilt: its region polygons (Natural Earth)
        # are still right, so read the file there is rather than leave saves unplaced meanwhile.
        try:
            gazetteer = Gazetteer(path)
        except (GazetteerError, OSError) as exc:
            log.info("regions not looked up: %s", exc)
            return None
    except (GazetteerError, OSError) as exc:
        log.info("regions not looked up: %s", exc)
        return None
    with _LOCATORS_LOCK:
        return _LOCATORS.setdefault(path, Locator(gazetteer))


def point_of(geometry: Mapping[str, Any]) -> tuple[float, float] | None:
    """The point a geometry is placed by: a point itself, else a representative point inside it."""
    if geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        return float(lon), float(lat)
    try:
        import shapely

        inside = shapely.from_geojson(json.dumps(geometry)).representative_point()
    except Exception:  # a shape shapely cannot read leaves the event unplaced, never unsaved
        return None
    if inside.is_empty:
        return None
    return float(inside.x), float(inside.y)


def locate(
    geometry: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
    *,
    where: Locator | None = None,
    keep: Regions | None = None,
    anchor: tuple[float, float] | None = None,
) -> Regions:
    """The regions of an event with this geometry (and dataset attributes); never raises.

    ``where`` defaults to the shared locator of the app's index. Without one, ``keep`` (what an
    unmoved event already had) stays, else nothing is known but the names an imported file brought.
    ``anchor`` is the geometry's :func:`point_of` when the caller has it already (a checked
    geometry carries it), which spares reading the shape again.
    """
    found = keep or NOWHERE
    try:
        where = where or locator()
        point = (anchor or point_of(geometry)) if where else None
        if where and point:
            found = where.at(*point)
    except Exception:  # a broken index must not stop an editor saving
        log.exception("region lookup failed")
    return _with_file_names(found, attributes or {})


def _with_file_names(found: Regions, attributes: Mapping[str, Any]) -> Regions:
    """An imported file's own admin1/country names (ACLED's) over the gazetteer's English ones."""
    admin1, country = attributes.get("admin1"), attributes.get("country")
    if not (isinstance(admin1, str) and admin1.strip()) and not (
        isinstance(country, str) and country.strip()
    ):
        return found
    region_name = (
        admin1.strip()[:REGION_NAME_LENGTH]
        if isinstance(admin1, str) and admin1.strip()
        else found.region_name
    )
    country_name = (
        country.strip()[:COUNTRY_NAME_LENGTH]
        if isinstance(country, str) and country.strip()
        else found.country_name
    )
    return Regions(found.region_code, region_name, found.country_code, country_name)


def fill_regions(
    connection: Any, *, where: Locator | None = None, everything: bool = False, batch: int = 500
) -> int:
    """Work out the regions of stored events that have none (or of all, with ``everything``).

    Runs on a plain SQLAlchemy connection, without the ORM (migration 0013 calls it as well as
    ``timeline places fill-regions``), and writes only the four region columns: the count
    triggers watch other columns, and the event's version and revisions stay as they are (the
    regions are derived, not edited). Returns how many events were looked at; 0 without an index.
    """
    from sqlalchemy import text

    where = where or locator()
    if where is None:
        return 0
    condition = "" if everything else " AND region_code IS NULL AND country_code IS NULL"
    select_sql = text(
        f"SELECT pk, geometry, attributes FROM events WHERE pk > :after{condition} ORDER BY pk LIMIT :n"  # noqa: S608
    )
    update_sql = text(
        "UPDATE events SET region_code = :region_code, region_name = :region_name,"
        " country_code = :country_code, country_name = :country_name WHERE pk = :pk"
    )
    after, seen = 0, 0
    while True:
        rows = connection.execute(select_sql, {"after": after, "n": batch}).fetchall()
        if not rows:
            return seen
        updates = []
        for pk, geometry, attributes in rows:
            after = pk
            shape = json.loads(geometry) if isinstance(geometry, str) else geometry
            extra = json.loads(attributes) if isinstance(attributes, str) else (attributes or {})
            updates.append({"pk": pk, **locate(shape, extra, where=where).as_columns()})
        connection.execute(update_sql, updates)
        seen += len(rows)


acled.admin_names_at = bare_names_at  # ACLED exports name the admin1 and country of any event
