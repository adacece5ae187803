"""The one mapping between an :class:`Event` and a GeoJSON Feature.

The map, the JSON API, the exports and the importer all go through this module, so what the page
shows, what the API returns and what a file holds cannot drift apart. It does not import Flask.

Reading a feature is strict: every field is checked, every problem is collected (not just the
first), and nothing is applied unless the whole feature is good.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from geodata.dates import DateError, PartialDate, check_precision, parse_partial_date
from geodata.geometry import GeometryError, ValidGeometry, parse_geometry
from timeline.domain import fields
from timeline.domain.categories import SLUG_PATTERN
from timeline.domain.fields import (
    ATTRIBUTE_NAME_LENGTH,
    BY_NAME,
    ID_LENGTH,
    PROPERTY_NAMES,
    SERVER_MANAGED,
    SOURCE_LIMITS,
    SUMMARY_PROPERTIES,
    default,
    limit,
    max_items,
)
from timeline.domain.input_gate import check_text, text_problem
from timeline.domain.regions import Regions, locate
from timeline.store.models import Event, Source, utcnow

ID_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._:~-]{{0,{ID_LENGTH - 1}}}$")
LANG_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass
class Problem:
    """One thing wrong with an input, named by the field it is in."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FeatureError(ValueError):
    """A feature that cannot be stored; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class SourceData:
    url: str | None
    outlet: str
    title: str
    published: str | None


@dataclass
class EventData:
    """A checked feature, ready to be written onto an :class:`Event`."""

    id: str | None
    title: str
    description: str
    lang: str
    start: PartialDate
    end: PartialDate | None
    geometry: ValidGeometry
    place: str
    category: str
    actors: list[str]
    confidence: str
    status: str
    sources: list[SourceData]
    unknown_properties: list[str] = field(default_factory=list)
    external_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- Event -> Feature


def event_to_feature(event: Event) -> dict[str, Any]:
    """The public GeoJSON Feature for an event (the contract every client relies on)."""
    return {
        "type": "Feature",
        "id": event.id,
        "geometry": json.loads(event.geometry),
        "properties": {
            "title": event.title,
            "description": event.description,
            "lang": event.lang,
            "start": event.start,
            "end": event.end,
            "date_precision": event.date_precision,
            "category": event.category_slug,
            "place": event.place,
            "actors": list(event.actors or []),
            "confidence": event.confidence,
            "status": event.status,
            "sources": [
                {"url": s.url, "outlet": s.outlet, "title": s.title, "published": s.published}
                for s in event.sources
            ],
            **({"external_id": event.external_id} if event.external_id else {}),
            **({"attributes": dict(event.attributes)} if event.attributes else {}),
            "created_at": _timestamp(event.created_at),
            "updated_at": _timestamp(event.updated_at),
            "version": event.version,
        },
    }


def feature_json(event: Event) -> str:
    """The Feature as compact JSON text (what exports write and the feature cache holds)."""
    return json.dumps(event_to_feature(event), ensure_ascii=False, separators=(",", ":"))


def event_to_summary(event: Event) -> dict[str, Any]:
    """The Feature with only the properties needed to draw it (a fifth of the bytes)."""
    feature = event_to_feature(event)
    feature["properties"] = {k: feature["properties"][k] for k in SUMMARY_PROPERTIES}
    return feature


def feature_content(event: Event) -> dict[str, Any]:
    """What a person would call the event's content: its feature without server bookkeeping.

    Revisions store this as their snapshot, and comparing two of them tells whether a save
    changed anything at all.
    """
    feature = event_to_feature(event)
    for key in SERVER_MANAGED:
        feature["properties"].pop(key)
    return feature


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; we only ever store UTC.
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------- Feature -> Event


def parse_feature(raw: object) -> EventData:
    """Check a GeoJSON Feature against the contract; raise :class:`FeatureError` listing every problem."""
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        raise FeatureError([Problem("type", 'expected a GeoJSON object with "type": "Feature"')])
    problems: list[Problem] = []
    props = raw.get("properties")
    if not isinstance(props, dict):
        problems.append(Problem("properties", "must be an object"))
        props = {}

    def check(name: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (ValueError, TypeError) as exc:
            problems.append(Problem(name, str(exc)))
            return None

    if "crs" in raw:
        check("crs", refuse_crs, raw["crs"])
    for name in props:
        if not isinstance(name, str) or text_problem(name):
            problems.append(Problem("properties", f"a property name is not readable text: {name!r}"))
    event_id = check("id", _read_id, raw.get("id"))
    geometry = check("geometry", _read_geometry, raw.get("geometry"))
    title = check("title", _read_text, props.get("title"), limit("title"), True)
    description = check("description", _read_text, props.get("description"), limit("description"), False)
    lang = check("lang", _read_lang, props.get("lang"))
    dates = check("start", _read_dates, props.get("start"), props.get("end"), props.get("date_precision"))
    place = check("place", _read_text, props.get("place"), limit("place"), False)
    category = check("category", _read_slug, props.get("category"))
    actors = check("actors", _read_actors, props.get("actors"))
    confidence = check("confidence", _read_choice, props.get("confidence"), "confidence")
    status = check("status", _read_choice, props.get("status"), "status")
    sources = _read_sources(props.get("sources"), problems)
    external_id = check("external_id", _read_text, props.get("external_id"), limit("external_id"), False)
    attributes = check("attributes", _read_attributes, props.get("attributes"))
    if problems:
        raise FeatureError(problems)
    start, end = dates
    return EventData(
        id=event_id,
        title=title,
        description=description,
        lang=lang,
        start=start,
        end=end,
        geometry=geometry,
        place=place,
        category=category,
        actors=actors,
        confidence=confidence,
        status=status,
        sources=sources,
        unknown_properties=sorted(set(props) - set(PROPERTY_NAMES)),
        external_id=external_id or None,
        attributes=attributes,
    )


def apply_event_data(event: Event, data: EventData) -> None:
    """Write checked data onto an event (new or existing); sources are replaced as a whole list."""
    event.id = data.id or event.id or new_event_id()
    event.title = data.title
    event.description = data.description
    event.lang = data.lang
    event.start = data.start.isoformat()
    event.end = data.end.isoformat() if data.end else None
    event.date_precision = data.start.precision
    event.first_day = data.start.first_day
    event.last_day = (data.end or data.start).last_day
    geometry = json.dumps(data.geometry.geojson, separators=(",", ":"))
    moved = getattr(event, "geometry", None) != geometry
    event.geometry = geometry
    event.geometry_type = data.geometry.geojson["type"]
    bbox = data.geometry.bbox
    event.min_lon, event.min_lat, event.max_lon, event.max_lat = bbox.as_list()
    event.place = data.place
    event.category_slug = data.category
    event.actors = data.actors
    event.confidence = data.confidence
    event.status = data.status
    event.external_id = data.external_id
    event.attributes = data.attributes
    # Derived, never sent: an unmoved event keeps what it had while the gazetteer is unavailable.
    kept = (
        None
        if moved
        else Regions(event.region_code, event.region_name, event.country_code, event.country_name)
    )
    place = locate(data.geometry.geojson, data.attributes, keep=kept)
    event.region_code, event.region_name = place.region_code, place.region_name
    event.country_code, event.country_name = place.country_code, place.country_name
    wanted = [(s.url, s.outlet, s.title, s.published) for s in data.sources]
    if [(s.url, s.outlet, s.title, s.published) for s in event.sources] != wanted:
        event.sources = [
            Source(position=i, url=url, outlet=outlet, title=title, published=published)
            for i, (url, outlet, title, published) in enumerate(wanted)
        ]
        if event.pk is not None:
            # Sources live in their own table; touching the event row bumps its version too.
            event.updated_at = utcnow()


def new_event_id() -> str:
    """A fresh public id: random, so ids never collide across instances that later merge data."""
    return f"ev-{uuid.uuid4().hex[:16]}"


def _read_id(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("must be a string")
    text = str(value)
    if not ID_PATTERN.match(text):
        raise ValueError(
            f"{text!r} is not a valid id (1-{ID_LENGTH} letters, digits, '.', '_', ':', '~' or '-', "
            "starting with a letter or digit)"
        )
    return text


def _read_geometry(value: object) -> ValidGeometry:
    if value is None:
        raise ValueError("is required: an event must have a place on the map")
    try:
        return parse_geometry(value, max_positions=fields.SIZE_LIMITS.geometry_positions)
    except GeometryError as exc:
        raise ValueError(str(exc)) from exc


# Names of the one CRS that RFC 7946 coordinates are in (longitude, latitude on WGS 84), as tools
# such as GDAL write them when they add a crs member anyway.
WGS84_LONLAT_NAMES = frozenset(
    {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "OGC:CRS84", "CRS84",
     "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
)  # fmt: skip


def refuse_crs(value: object) -> None:
    """A ``crs`` member other than WGS 84 longitude/latitude: the data must be reprojected first.

    RFC 7946 removed ``crs``: every GeoJSON coordinate is WGS 84 longitude/latitude. A file that
    names another system is in that system, and reading its numbers as degrees would put every
    event in the wrong place without a word.
    """
    name = value.get("properties", {}).get("name") if isinstance(value, dict) else None
    if isinstance(name, str) and name.strip() in WGS84_LONLAT_NAMES:
        return
    shown = name if isinstance(name, str) else value
    raise ValueError(
        f"names the coordinate system {shown!r}; GeoJSON (RFC 7946) is always WGS 84 longitude/latitude: "
        "reproject the data to WGS 84 (e.g. ogr2ogr -t_srs EPSG:4326) and leave crs out"
    )


def _read_text(value: object, max_length: int, required: bool) -> str:
    if value is None:
        if required:
            raise ValueError("is required")
        return ""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    text = value.strip()
    if required and not text:
        raise ValueError("must not be empty")
    if len(text) > max_length:
        raise ValueError(f"is {len(text)} characters long; at most {max_length} are allowed")
    return check_text(text)


def _read_lang(value: object) -> str:
    if value is None or value == "":
        return str(default("lang"))
    if not isinstance(value, str) or not LANG_PATTERN.match(value):
        raise ValueError(f"{value!r} is not a language tag such as 'de' or 'en-GB'")
    return value


def _read_slug(value: object) -> str:
    if value is None or value == "":
        return str(default("category"))
    if not isinstance(value, str) or not SLUG_PATTERN.match(value):
        raise ValueError(f"{value!r} is not a category slug (lower-case letters, digits and '-')")
    return value


def _read_choice(value: object, name: str) -> str:
    choices, fallback = BY_NAME[name].choices, BY_NAME[name].default
    if value is None:
        return str(fallback)
    if value not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _read_actors(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ValueError("must be a list of strings")
    if len(value) > max_items("actors"):
        raise ValueError(f"lists {len(value)} actors; at most {max_items('actors')} are allowed")
    actors = [_read_text(a, limit("actors"), False) for a in value]
    return [a for a in actors if a]


def _read_attributes(value: object) -> dict[str, Any]:
    """A flat object of a source dataset's other facts: short names, scalar values."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be an object of names and values")
    if len(value) > max_items("attributes"):
        raise ValueError(f"has {len(value)} entries; at most {max_items('attributes')} are allowed")
    checked: dict[str, Any] = {}
    for name, item in value.items():
        key = _read_text(name, ATTRIBUTE_NAME_LENGTH, True)
        if isinstance(item, str):
            checked[key] = _read_text(item, limit("attributes"), False)
        elif item is None or isinstance(item, bool | int | float):
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{key}: must be a finite number")
            checked[key] = item
        else:
            raise ValueError(f"{key}: must be a string, number, true/false or null, not a list or object")
    return checked


def _read_dates(start: object, end: object, precision: object) -> tuple[PartialDate, PartialDate | None]:
    """Start (required) and end (optional) at one precision, end not before start."""
    if start is None:
        raise ValueError("is required (ISO 8601 at its precision: 2024, 2024-10 or 2024-11-11)")
    try:
        first = parse_partial_date(start)
        last = parse_partial_date(end) if end is not None else None
    except DateError as exc:
        raise ValueError(str(exc)) from exc
    wanted = check_precision(precision) if precision is not None else first.precision
    for label, value in (("start", first), ("end", last)):
        if value is not None and value.precision != wanted:
            raise ValueError(
                f"{label} {value} is written at {value.precision} precision but date_precision is {wanted}"
            )
    if last is not None and last.first_day < first.first_day:
        raise ValueError(f"end {last} is before start {first}")
    return first, last


def _read_sources(value: object, problems: list[Problem]) -> list[SourceData]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem("sources", "must be a list of source objects"))
        return []
    if len(value) > max_items("sources"):
        problems.append(
            Problem("sources", f"cites {len(value)} sources; at most {max_items('sources')} are allowed")
        )
        return []
    sources = []
    for i, raw in enumerate(value):
        where = f"sources[{i}]"
        if not isinstance(raw, dict):
            problems.append(Problem(where, "must be an object with url, outlet, title, published"))
            continue
        try:
            sources.append(
                SourceData(
                    url=check_source_url(raw.get("url")),
                    outlet=_read_text(raw.get("outlet"), SOURCE_LIMITS["outlet"], False),
                    title=_read_text(raw.get("title"), SOURCE_LIMITS["title"], False),
                    published=_read_published(raw.get("published")),
                )
            )
        except ValueError as exc:
            problems.append(Problem(where, str(exc)))
    return sources


def check_source_url(value: object) -> str | None:
    """Only absolute http(s) URLs: a ``javascript:`` or ``data:`` link must never reach a page."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("url must be a string")
    url = value.strip()
    if len(url) > SOURCE_LIMITS["url"]:
        raise ValueError(f"url is longer than {SOURCE_LIMITS['url']} characters")
    if any(c.isspace() or ord(c) < 32 for c in url) or text_problem(url):
        raise ValueError("url must not contain spaces, control characters or broken characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url {value!r} must be an absolute http:// or https:// address")
    return url


def _read_published(value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        return parse_partial_date(value).isoformat()
    except DateError as exc:
        raise ValueError(f"published: {exc}") from exc
