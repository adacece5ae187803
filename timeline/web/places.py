"""Place search and reverse geocoding from the offline gazetteer (``geodata``), kept thin.

Its routes are added to this blueprint; the index and the matching live in ``geodata``.
``GET /api/places?q=…`` answers an autocomplete box, ``GET /api/places/reverse?lon=…&lat=…``
names a clicked point, and ``GET /api/places/labels?bbox=…&zoom=…`` gives the names a map draws.
Each also takes in the places editors added (:mod:`timeline.domain.custom_places`, in the
application database): ranked in one list with the gazetteer's, nearest if nearer, labelled with
the villages.
All answer GeoJSON FeatureCollections of Point features, and a parameter
that cannot be understood is a 400 naming it (:class:`~timeline.infra.errors.BadParameter`).
The index file is ``GAZETTEER_PATH`` in the app config, else ``TIMELINE_GAZETTEER_PATH``, else
``~/.cache/timeline/gazetteer.sqlite``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import unicodedata
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from geodata.gazetteer import (
    LABEL_LIMIT,
    LANGUAGES,
    MAX_LIMIT,
    ExtraPlace,
    Gazetteer,
    GazetteerError,
    IndexNotReady,
    Place,
    custom_labels_at,
    default_path,
    open_gazetteer,
)
from geodata.geometry import GeometryError, parse_bbox
from geodata.place_names import fold
from timeline.domain import custom_places
from timeline.domain.custom_places import as_extra
from timeline.infra.errors import BadParameter, error_response
from timeline.store.db import db
from timeline.web.language import select_locale
from timeline.web.params import checked_text, int_param

bp = Blueprint("places", __name__)

MAX_QUERY = 200
DEFAULT_LIMIT = 10
# The index never changes while the process runs: browsers may keep an answer for an hour.
CACHE_CONTROL = "public, max-age=3600"
# Search also finds editors' places, which change at any time: revalidated by ETag every time.
SEARCH_CACHE_CONTROL = "public, no-cache"
# Labels change only with the index: a day in the browser, revalidated by ETag after that; at the
# zooms where editors' places are labelled too, five minutes.
LABELS_CACHE_CONTROL = "public, max-age=86400"
CUSTOM_LABELS_CACHE_CONTROL = "public, max-age=300"
MAX_LABEL_ZOOM = 22
ATTRIBUTION = "GeoNames (CC BY 4.0), Natural Earth"


@bp.get("/api/places")
def search_places() -> Response | tuple[Response | str, int]:
    """Places matching ``q`` (a whole name or its beginning, in any spelling), best first."""
    query = _query(request.args.get("q"))
    near = _near(_single("near"))
    bbox = _bbox(_single("bbox"))
    raw_limit = _single("limit")
    limit = int_param("limit", raw_limit, 1, MAX_LIMIT) if raw_limit is not None else DEFAULT_LIMIT
    lang = _language()
    gazetteer = _gazetteer()
    if not isinstance(gazetteer, Gazetteer):
        return gazetteer
    extra = [as_extra(place, key) for place, key in custom_places.matching(db.session, fold(query))]
    found = gazetteer.search(query, near=near, bbox=bbox, limit=limit, lang=lang, extra=extra)
    response = _collection([_feature(place) for place in found], query=query, lang=lang)
    # Editors' places change while the process runs: a browser asks again, and an unchanged
    # answer costs it a 304.
    response.headers["Cache-Control"] = SEARCH_CACHE_CONTROL
    response.add_etag()
    response.make_conditional(request)
    return response


@bp.get("/api/places/reverse")
def reverse_place() -> Response | tuple[Response | str, int]:
    """The nearest named place to a point, its distance, and the region and country the point is in."""
    lon = _coordinate("lon", _single("lon"), 180)
    lat = _coordinate("lat", _single("lat"), 90)
    lang = _language()
    gazetteer = _gazetteer()
    if not isinstance(gazetteer, Gazetteer):
        return gazetteer
    result = gazetteer.reverse(lon, lat, lang=lang, extra_near=lambda km: _custom_near(lon, lat, km))
    # The nearest place (with its own region); the region and country are those of the point,
    # which near a border may differ from the nearest town's.
    features = [_feature(result.nearest)] if result.nearest is not None else []
    return _collection(
        features, lang=lang, point=[lon, lat], region=_area(result.region), country=_area(result.country)
    )


@bp.get("/api/places/labels")
def place_labels() -> Response | tuple[Response | str, int]:
    """The place names a map showing ``bbox`` at ``zoom`` draws, most important first.

    A compact FeatureCollection (each label's text, kind and rank, and its point to 4 decimals,
    about 10 m), gzipped when the browser accepts it and cacheable: the index never changes while
    the process runs, so the answer has an ETag and a day's Cache-Control.
    """
    raw_bbox = _single("bbox")
    if raw_bbox is None or raw_bbox == "":
        raise BadParameter("bbox", "is required: minLon,minLat,maxLon,maxLat of the map view")
    bbox = _bbox(raw_bbox)
    assert bbox is not None
    raw_zoom = _single("zoom")
    if raw_zoom is None or raw_zoom == "":
        raise BadParameter("zoom", "is required: the map's zoom level")
    zoom = int_param("zoom", raw_zoom, 0, MAX_LABEL_ZOOM)
    lang = _language()
    gazetteer = _gazetteer()
    if not isinstance(gazetteer, Gazetteer):
        return gazetteer
    west, south, east, north = bbox
    labelled = gazetteer.labels(
        bbox,
        zoom,
        lang=lang,
        limit=LABEL_LIMIT,
        extra=lambda: [as_extra(p) for p in custom_places.in_box(db.session, west, south, east, north)],
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(place.lon, 4), round(place.lat, 4)]},
            "properties": {"label": place.label, "kind": place.kind, "rank": rank},
        }
        for rank, place in enumerate(labelled)
    ]
    body = {"type": "FeatureCollection", "features": features, "lang": lang, "attribution": ATTRIBUTION}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(text, mimetype="application/geo+json")
    # Where editors' places are labelled, they may change at any time: a short cache there.
    response.headers["Cache-Control"] = (
        CUSTOM_LABELS_CACHE_CONTROL if custom_labels_at(zoom) else LABELS_CACHE_CONTROL
    )
    response.set_etag(hashlib.sha256(text).hexdigest()[:32])
    response.vary.add("Accept-Encoding")
    if request.args.get("lang") is None:
        response.vary.update(("Accept-Language", "Cookie"))
    response.make_conditional(request)
    if response.status_code == 200 and request.accept_encodings.best_match(["gzip"]):
        response.set_data(gzip.compress(text, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response


def _custom_near(lon: float, lat: float, radius_km: float) -> list[ExtraPlace]:
    return [as_extra(place) for place in custom_places.near_point(db.session, lon, lat, radius_km)]


def _gazetteer() -> Gazetteer | tuple[Response | str, int]:
    configured = current_app.config.get("GAZETTEER_PATH")
    path = Path(configured) if configured else default_path()
    try:
        return open_gazetteer(path, wait=False)
    except IndexNotReady as exc:
        response, status = error_response(503, "place index not ready", f"{exc}; try again in a minute")
        if isinstance(response, Response):
            response.headers["Retry-After"] = "60"
        return response, status
    except GazetteerError as exc:
        current_app.logger.error("gazetteer unavailable: %s", exc)
        return error_response(503, "place index unavailable", "the place index could not be built")


def _single(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, "may be given only once")
    return checked_text(name, values[0]) if values else None


def _query(raw: str | None) -> str:
    """``q``: required, at most MAX_QUERY characters, no control characters (not even tabs)."""
    if request.args.getlist("q")[1:]:
        raise BadParameter("q", "may be given only once")
    if raw is None or not raw.strip():
        raise BadParameter("q", "is required: the place name (or its beginning) to search for")
    if len(raw) > MAX_QUERY:
        raise BadParameter("q", f"is longer than {MAX_QUERY} characters")
    checked_text("q", raw)
    if any(unicodedata.category(char) == "Cc" for char in raw):
        raise BadParameter("q", "contains a control character; a place name has none")
    return raw.strip()


def _numbers(name: str, raw: str, count: int, shape: str) -> list[float]:
    try:
        numbers = [float(part) for part in raw.split(",")]
    except ValueError:
        raise BadParameter(name, f"must be {count} numbers: {shape}") from None
    if len(numbers) != count:
        raise BadParameter(name, f"must be {count} numbers: {shape}, got {len(numbers)}")
    if not all(math.isfinite(n) for n in numbers):
        raise BadParameter(name, "numbers must be finite")
    return numbers


def _near(raw: str | None) -> tuple[float, float] | None:
    if raw is None or raw == "":
        return None
    lon, lat = _numbers("near", raw, 2, "lon,lat")
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise BadParameter("near", f"lon must be -180..180 and lat -90..90, got {lon},{lat}")
    return lon, lat


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None or raw == "":
        return None
    numbers = _numbers("bbox", raw, 4, "minLon,minLat,maxLon,maxLat")
    try:
        box = parse_bbox(numbers)
    except GeometryError as exc:
        raise BadParameter("bbox", str(exc)) from None
    return box.min_lon, box.min_lat, box.max_lon, box.max_lat


def _coordinate(name: str, raw: str | None, bound: float) -> float:
    if raw is None or raw == "":
        raise BadParameter(name, "is required")
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(name, f"must be a number, got {raw!r}") from None
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise BadParameter(name, f"must be -{bound:g}..{bound:g}, got {raw!r}")
    return value


def _language() -> str:
    """``lang`` (en, de, ru, uk), else the interface language."""
    lang = _single("lang")
    if lang is None or lang == "":
        return select_locale()
    if lang not in LANGUAGES:
        raise BadParameter("lang", f"must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def _feature(place: Place) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": place.ref,
        "name": place.name,
        "label": place.label,
        "kind": place.kind,
        "country": place.country or None,
        "country_label": place.country_label,
        "region": place.region_label,
        "population": place.population or None,
        "source": place.source,
    }
    if place.precision_km is not None:
        properties["precision_km"] = place.precision_km
    if place.feature_class:
        properties["feature_class"] = place.feature_class
    if place.distance_km is not None:
        properties["distance_km"] = round(place.distance_km, 3)
    return {
        "type": "Feature",
        "id": place.ref,
        "geometry": {"type": "Point", "coordinates": [round(place.lon, 6), round(place.lat, 6)]},
        "properties": properties,
    }


def _area(place: Place | None) -> dict[str, Any] | None:
    """A region or a country the point lies in, by id, name and label (its polygon stays on the server)."""
    if place is None:
        return None
    code = place.ref.split(":", 1)[1]
    return {"id": place.ref, "code": code, "name": place.name, "label": place.label}


def _collection(features: list[dict[str, Any]], **extra: Any) -> Response:
    body = {"type": "FeatureCollection", "features": features, **extra}
    body["attribution"] = ATTRIBUTION
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    response.headers["Cache-Control"] = CACHE_CONTROL
    if request.args.get("lang") is None:
        response.vary.update(("Accept-Language", "Cookie"))
    return response
