"""GeoJSON geometry validation and normalisation (RFC 7946).

Everything that stores a geometry goes through :func:`parse_geometry` first. It checks the raw
JSON *before* shapely sees it, because shapely quietly repairs what it should refuse (it closes an
unclosed ring, accepts NaN). What comes out is a plain GeoJSON geometry dict in WGS 84 lon/lat,
with polygon rings oriented as RFC 7946 asks (exterior counter-clockwise), plus its bounding box.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")

# How deep the "coordinates" array nests for each type: Point [x, y] is depth 1.
_DEPTH = {"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3, "Polygon": 3, "MultiPolygon": 4}


class GeometryError(ValueError):
    """A geometry that cannot be stored; the message names what is wrong and where."""


@dataclass(frozen=True)
class BBox:
    """A lon/lat bounding box."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def as_list(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]


@dataclass(frozen=True)
class ValidGeometry:
    """A checked geometry: the GeoJSON to store, the box to index it by, and the point it is
    placed by (the point itself, else a representative point inside it: its region's)."""

    geojson: dict[str, Any]
    bbox: BBox
    anchor: tuple[float, float] | None = None


def parse_geometry(raw: object, *, max_positions: int | None = None) -> ValidGeometry:
    """Check a GeoJSON geometry object and return it normalised, or raise :class:`GeometryError`.

    ``max_positions`` bounds the work: a geometry with more positions is refused as soon as the
    count is passed, before any of them is checked in full or handed to shapely.
    """
    if not isinstance(raw, dict):
        raise GeometryError("geometry must be a GeoJSON geometry object")
    gtype = raw.get("type")
    if gtype not in GEOMETRY_TYPES:
        raise GeometryError(f"geometry type must be one of {', '.join(GEOMETRY_TYPES)}, got {gtype!r}")
    if "coordinates" not in raw:
        raise GeometryError(f"{gtype} has no coordinates")
    if max_positions is not None:
        _check_size(raw["coordinates"], _DEPTH[gtype], max_positions)
    coords = _check_nesting(raw["coordinates"], _DEPTH[gtype], "coordinates")
    if gtype == "Point":  # what shapely would give back, without making one (most events are points)
        lon, lat = coords[0], coords[1]
        return ValidGeometry({"type": "Point", "coordinates": coords}, BBox(lon, lat, lon, lat), (lon, lat))
    _check_parts(gtype, coords)
    _check_antimeridian(gtype, coords)
    geom = shape({"type": gtype, "coordinates": coords})
    if geom.is_empty:
        raise GeometryError(f"{gtype} is empty")
    if gtype in ("Polygon", "MultiPolygon") and not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise GeometryError(f"{gtype} is not valid: {reason} (rings must not cross themselves or each other)")
    geom = _oriented(geom)
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    normalised = shapely.geometry.mapping(geom)
    inside = geom.representative_point()
    return ValidGeometry(
        geojson=_as_lists(normalised),
        bbox=BBox(min_lon, min_lat, max_lon, max_lat),
        anchor=(float(inside.x), float(inside.y)),
    )


def parse_bbox(values: list[float]) -> BBox:
    """Check a ``minLon,minLat,maxLon,maxLat`` box; a box may cross the antimeridian (minLon > maxLon)."""
    if len(values) != 4:
        raise GeometryError(f"bbox needs 4 numbers (minLon,minLat,maxLon,maxLat), got {len(values)}")
    min_lon, min_lat, max_lon, max_lat = values
    for name, lon in (("minLon", min_lon), ("maxLon", max_lon)):
        _check_lon(lon, name)
    for name, lat in (("minLat", min_lat), ("maxLat", max_lat)):
        _check_lat(lat, name)
    if min_lat > max_lat:
        raise GeometryError("bbox minLat is greater than maxLat")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def _check_size(value: object, depth: int, most: int) -> None:
    """Refuse more than ``most`` positions, counting no further than that."""
    level: list[Any] = [value]
    for _ in range(depth - 1):
        level = [item for part in level if isinstance(part, list) for item in part]
        if len(level) > most:
            break
    if len(level) > most:
        raise GeometryError(
            f"has more than {most:,} positions; simplify it before storing (e.g. ogr2ogr -simplify, "
            "or mapshaper), or split it into several events"
        )


def _check_antimeridian(gtype: str, coords: Any) -> None:
    """Refuse a line or ring segment that spans more than 180° of longitude.

    RFC 7946 (3.1.9) asks for geometries that cross the antimeridian to be cut there. Stored as
    written, ``[[179, 0], [-179, 0]]`` is a 358° line through Greenwich, and every map view of Europe
    would match it.
    """
    if gtype in ("Point", "MultiPoint"):
        return
    lines = {"LineString": [coords], "MultiLineString": coords, "Polygon": coords}.get(gtype)
    if lines is None:  # MultiPolygon
        lines = [ring for polygon in coords for ring in polygon]
    for line in lines:
        for a, b in itertools.pairwise(line):
            if abs(a[0] - b[0]) > 180.0:
                raise GeometryError(
                    f"the segment from {a[:2]} to {b[:2]} spans {abs(a[0] - b[0]):g}° of longitude: it "
                    "crosses the antimeridian the long way round; cut it at ±180 into a Multi"
                    f"{gtype.removeprefix('Multi')} (RFC 7946 3.1.9)"
                )


def _check_nesting(value: object, depth: int, where: str) -> Any:
    """Walk the coordinate arrays, checking every position, and return them as plain lists."""
    if not isinstance(value, list):
        raise GeometryError(f"{where} must be an array")
    if depth == 1:
        return _check_position(value, where)
    return [_check_nesting(item, depth - 1, f"{where}[{i}]") for i, item in enumerate(value)]


def _check_position(value: list[Any], where: str) -> list[float]:
    if len(value) not in (2, 3):
        raise GeometryError(f"{where} must be [lon, lat] (optionally with an altitude)")
    for n in value:
        # bool is an int in Python; JSON true is not a coordinate.
        if isinstance(n, bool) or not isinstance(n, (int, float)):
            raise GeometryError(f"{where} holds a non-number: {n!r}")
        if not math.isfinite(n):
            raise GeometryError(f"{where} holds {n!r}; coordinates must be finite numbers")
    _check_lon(value[0], f"{where} longitude")
    _check_lat(value[1], f"{where} latitude")
    return [float(n) for n in value]


def _check_lon(lon: float, where: str) -> None:
    if not math.isfinite(lon) or not -180.0 <= lon <= 180.0:
        raise GeometryError(f"{where} {lon!r} is outside -180..180")


def _check_lat(lat: float, where: str) -> None:
    if not math.isfinite(lat) or not -90.0 <= lat <= 90.0:
        raise GeometryError(f"{where} {lat!r} is outside -90..90")


def _check_parts(gtype: str, coords: Any) -> None:
    """Check the sizes GeoJSON requires: 2+ positions per line, closed rings of 4+ positions."""
    if gtype == "MultiPoint" and not coords:
        raise GeometryError("MultiPoint has no points")
    if gtype == "LineString":
        _check_line(coords, "coordinates")
    elif gtype == "MultiLineString":
        if not coords:
            raise GeometryError("MultiLineString has no lines")
        for i, line in enumerate(coords):
            _check_line(line, f"coordinates[{i}]")
    elif gtype == "Polygon":
        _check_polygon(coords, "coordinates")
    elif gtype == "MultiPolygon":
        if not coords:
            raise GeometryError("MultiPolygon has no polygons")
        for i, polygon in enumerate(coords):
            _check_polygon(polygon, f"coordinates[{i}]")


def _check_line(line: list[list[float]], where: str) -> None:
    if len(line) < 2:
        raise GeometryError(f"{where}: a line needs at least 2 positions")


def _check_polygon(rings: list[list[list[float]]], where: str) -> None:
    if not rings:
        raise GeometryError(f"{where}: a polygon needs an exterior ring")
    for i, ring in enumerate(rings):
        if len(ring) < 4:
            raise GeometryError(f"{where}[{i}]: a ring needs at least 4 positions")
        if ring[0][:2] != ring[-1][:2]:
            raise GeometryError(f"{where}[{i}]: the ring is not closed (first and last positions differ)")


def _oriented(geom: BaseGeometry) -> BaseGeometry:
    """Exterior rings counter-clockwise, holes clockwise (RFC 7946 section 3.1.6)."""
    if isinstance(geom, shapely.Polygon):
        return orient(geom, sign=1.0)
    if isinstance(geom, shapely.MultiPolygon):
        return shapely.MultiPolygon([orient(p, sign=1.0) for p in geom.geoms])
    return geom


def _as_lists(value: Any) -> Any:
    """shapely's mapping() gives tuples; JSON and equality checks want lists."""
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    return value


def geometry_intersects_box(geojson: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    """Whether a stored geometry touches a lon/lat box (the exact test behind a bbox filter)."""
    return bool(shapely.intersects(shape(geojson), shapely.box(*box)))


def stored_geometry_intersects_box(geometry_text: str, box: tuple[float, float, float, float]) -> bool:
    """:func:`geometry_intersects_box` for geometry text as the database stores it.

    The database calls this for every line or area that straddles a viewport's edge (a couple of
    dozen rows per map view), so the text goes to GEOS directly instead of through ``json.loads``
    and shapely's dict reader, and the box is built once per viewport: 14 µs a row instead of 26.
    """
    return bool(_box(*box).intersects(shapely.from_geojson(geometry_text)))


@lru_cache(maxsize=64)
def _box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> shapely.Polygon:
    """A query box, shared by the rows of one query (shapely geometries are immutable, so threads
    may share them too)."""
    return shapely.box(min_lon, min_lat, max_lon, max_lat)
