"""The one mapping between an :class:`Event` and a GeoJSON Feature.

The map, the JSON API, the exports and the importer all go through this module, so what the page
shows, what the API returns and what a file holds cannot drift apart. It does not import Flask.

Reading a feature is strict: every field is checked, every problem is collected (not just the
first), and nothing is applied unless the whole feature is good.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
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
from timeline.domain.input_gate import text_problem
from timeline.domain.regions import Regions, locate
from timeline.store.models import Event, Source, utcnow

ID_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._:~-]{{0,{ID_LENGTH - 1}}}$")
LANG_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
# A space of any kind (``\s`` is str.isspace's set) or a control character: never in a web address.
_URL_REFUSED = re.compile(r"[\s\x00-\x1f]")


def N_(template: str) -> str:
    """Mark a message for the translation catalogue without translating it.

    The domain knows no request and so no language: a :class:`Problem` keeps the English template
    and its parameters, and the page that shows it translates it (:meth:`Problem.translated`).
    ``pybabel extract`` finds ``N_`` among its default keywords.
    """
    return template


# Guidance shared by every text field, of events and of custom places alike.
TOO_LONG = N_("Shorten this to at most %(limit)s characters (it has %(length)s)")
SET_BY_SERVER = N_("Leave this out: the server sets it")
BROKEN_TEXT = N_(
    "Remove the invisible or broken characters from this text: only tabs and line breaks are allowed"
)


@dataclass
class Problem:
    """One thing wrong with an input, named by the field it is in.

    ``template`` is the guidance an editor reads, with named ``%(placeholders)s`` filled from
    ``params``; ``detail`` is the technical reason (from the date or geometry parser), which the
    API's English ``message`` adds for developers and the form leaves out.
    """

    field: str
    template: str
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)
    detail: str | None = None

    @property
    def message(self) -> str:
        """The English text the API, the CLI and logs show."""
        text = self.translated(str)
        return f"{text} ({self.detail})" if self.detail else text

    def translated(self, translate: Callable[[str], str]) -> str:
        """The guidance in the language ``translate`` looks templates up in (e.g. flask-babel's gettext)."""
        text = translate(self.template)
        return text % self.params if self.params else text

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class Invalid(ValueError):
    """A value refused with a translatable template: the readers below raise it, ``parse_feature``
    turns it into a :class:`Problem` of the field being read.

    It is a ``ValueError`` whose text is the English message, so callers that only catch
    ``ValueError`` (the importer's ``crs`` check) keep working unchanged.
    """

    def __init__(self, template: str, detail: str | None = None, **params: object):
        self.problem = Problem("", template, params, detail)
        super().__init__(self.problem.message)

    def at(self, name: str) -> Problem:
        """The problem, named by the field it was found in."""
        return Problem(name, self.problem.template, self.problem.params, self.problem.detail)


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


@functools.lru_cache(maxsize=256)
def _timestamp(value: datetime | None) -> str | None:
    """An event's timestamp as the API writes it (cached: an import stamps every event alike)."""
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; we only ever store UTC.
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------- Feature -> Event


def parse_feature(raw: object) -> EventData:
    """Check a GeoJSON Feature against the contract; raise :class:`FeatureError` listing every problem."""
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        raise FeatureError([Problem("type", N_('Send a GeoJSON object with "type": "Feature"'))])
    problems: list[Problem] = []
    props = raw.get("properties")
    if not isinstance(props, dict):
        problems.append(Problem("properties", N_("Send the properties as an object")))
        props = {}

    def check(name: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Invalid as exc:
            problems.append(exc.at(name))
        except (ValueError, TypeError) as exc:
            problems.append(Problem(name, str(exc)))
        return None

    if "crs" in raw:
        check("crs", refuse_crs, raw["crs"])
    for name in props:
        if not isinstance(name, str) or text_problem(name):
            problems.append(
                Problem(
                    "properties", N_("A property name is not readable text: %(name)s"), {"name": repr(name)}
                )
            )
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
    place = locate(data.geometry.geojson, data.attributes, keep=kept, anchor=data.geometry.anchor)
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
        raise Invalid(N_("Send the id as a string"))
    text = str(value)
    if not ID_PATTERN.match(text):
        raise Invalid(
            N_(
                "“%(value)s” is not a valid id: use 1 to %(length)s letters, digits, '.', '_', ':', '~' "
                "or '-', starting with a letter or digit"
            ),
            value=text,
            length=ID_LENGTH,
        )
    return text


def _read_geometry(value: object) -> ValidGeometry:
    """The event's place; a refusal tells an editor what to change, the detail what was wrong."""
    if value is None:
        raise Invalid(N_("Mark the place on the map, or enter its longitude and latitude"))
    try:
        return parse_geometry(value, max_positions=fields.SIZE_LIMITS.geometry_positions)
    except GeometryError as exc:
        # A point is what the longitude and latitude boxes make; any other shape was drawn.
        if isinstance(value, dict) and value.get("type") == "Point":
            raise Invalid(
                N_("Enter a longitude from -180 to 180 and a latitude from -90 to 90, e.g. 35.27 and 51.19"),
                str(exc),
            ) from exc
        raise Invalid(
            N_(
                "Draw the shape on the map again: this one cannot be stored, "
                "for example because its edges cross"
            ),
            str(exc),
        ) from exc


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
    raise Invalid(
        N_(
            "names the coordinate system %(name)s; GeoJSON (RFC 7946) is always WGS 84 longitude/latitude: "
            "reproject the data to WGS 84 (e.g. ogr2ogr -t_srs EPSG:4326) and leave crs out"
        ),
        name=repr(shown),
    )


def _read_text(
    value: object,
    max_length: int,
    required: bool,
    too_long: str = TOO_LONG,
) -> str:
    """Text as typed, trimmed; ``too_long`` names the text when the field alone would not."""
    if value is None:
        if required:
            raise Invalid(N_("Fill in this field"))
        return ""
    if not isinstance(value, str):
        raise Invalid(N_("Send this as a string"))
    text = value.strip()
    if required and not text:
        raise Invalid(N_("Fill in this field"))
    if len(text) > max_length:
        raise Invalid(too_long, limit=max_length, length=len(text))
    if problem := text_problem(text):
        raise Invalid(BROKEN_TEXT, problem)
    return text


def _read_lang(value: object) -> str:
    if value is None or value == "":
        return str(default("lang"))
    if not isinstance(value, str) or not LANG_PATTERN.match(value):
        raise Invalid(
            N_("Enter a language code such as de, en or en-GB (“%(value)s” is not one)"), value=value
        )
    return value


def _read_slug(value: object) -> str:
    if value is None or value == "":
        return str(default("category"))
    if not isinstance(value, str) or not SLUG_PATTERN.match(value):
        raise Invalid(
            N_(
                "Choose a category from the list: “%(value)s” is not a category key "
                "(lower-case letters, digits and '-')"
            ),
            value=value,
        )
    return value


def _read_choice(value: object, name: str) -> str:
    choices, fallback = BY_NAME[name].choices, BY_NAME[name].default
    if value is None:
        return str(fallback)
    if value not in choices:
        raise Invalid(
            N_("Choose one of %(choices)s (not “%(value)s”)"), choices=", ".join(choices), value=value
        )
    return str(value)


def _read_actors(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise Invalid(N_("Send the actors as a list of strings"))
    if len(value) > max_items("actors"):
        raise Invalid(
            N_("List at most %(limit)s actors (there are %(count)s)"),
            limit=max_items("actors"),
            count=len(value),
        )
    actors = [_read_text(a, limit("actors"), False) for a in value]
    return [a for a in actors if a]


def _read_attributes(value: object) -> dict[str, Any]:
    """A flat object of a source dataset's other facts: short names, scalar values."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(N_("Send the attributes as an object of names and values"))
    if len(value) > max_items("attributes"):
        raise Invalid(
            N_("Send at most %(limit)s attributes (there are %(count)s)"),
            limit=max_items("attributes"),
            count=len(value),
        )
    checked: dict[str, Any] = {}
    for name, item in value.items():
        key = _read_text(name, ATTRIBUTE_NAME_LENGTH, True)
        if isinstance(item, str):
            checked[key] = _read_text(item, limit("attributes"), False)
        elif item is None or isinstance(item, bool | int | float):
            if isinstance(item, float) and not math.isfinite(item):
                raise Invalid(N_("Attribute %(name)s must be a finite number"), name=key)
            checked[key] = item
        else:
            raise Invalid(
                N_("Attribute %(name)s must be a string, number, true/false or null, not a list or object"),
                name=key,
            )
    return checked


# What to enter when a date is not written at the precision chosen for the event, per date and
# precision: whole sentences, so that each language can word them its own way.
_AT_PRECISION = {
    ("start", "day"): N_("Enter the start date as a day, e.g. 2024-11-11, or choose a coarser precision"),
    ("start", "month"): N_("Enter the start date as a month, e.g. 2024-11, or choose another precision"),
    ("start", "year"): N_("Enter the start date as a year, e.g. 2024, or choose a finer precision"),
    ("end", "day"): N_("Enter the end date as a day, e.g. 2024-11-11, like the start date"),
    ("end", "month"): N_("Enter the end date as a month, e.g. 2024-11, like the start date"),
    ("end", "year"): N_("Enter the end date as a year, e.g. 2024, like the start date"),
}


def _read_dates(start: object, end: object, precision: object) -> tuple[PartialDate, PartialDate | None]:
    """Start (required) and end (optional) at one precision, end not before start."""
    if start is None:
        raise Invalid(N_("Enter the start date: a year, month or day such as 2024, 2024-10 or 2024-11-11"))
    try:
        first = parse_partial_date(start)
    except DateError as exc:
        raise Invalid(
            N_(
                "Enter the start date as a year, month or day such as 2024, 2024-10 or 2024-11-11 "
                "(“%(value)s” is not a date)"
            ),
            str(exc),
            value=start,
        ) from exc
    try:
        last = parse_partial_date(end) if end is not None else None
    except DateError as exc:
        raise Invalid(
            N_(
                "Enter the end date as a year, month or day such as 2024, 2024-10 or 2024-11-11, or leave it "
                "empty (“%(value)s” is not a date)"
            ),
            str(exc),
            value=end,
        ) from exc
    try:
        wanted = check_precision(precision) if precision is not None else first.precision
    except DateError as exc:
        raise Invalid(N_("Choose day, month or year as the date's precision"), str(exc)) from exc
    for label, value in (("start", first), ("end", last)):
        if value is not None and value.precision != wanted:
            raise Invalid(
                _AT_PRECISION[label, wanted],
                f"{label} {value} is written at {value.precision} precision but date_precision is {wanted}",
            )
    if last is not None and last.first_day < first.first_day:
        raise Invalid(
            N_("Enter the end date on or after the start date (%(end)s is before %(start)s)"),
            end=str(last),
            start=str(first),
        )
    return first, last


def _read_sources(value: object, problems: list[Problem]) -> list[SourceData]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem("sources", N_("Send the sources as a list of source objects")))
        return []
    if len(value) > max_items("sources"):
        limit_and_count = {"limit": max_items("sources"), "count": len(value)}
        problems.append(
            Problem("sources", N_("Cite at most %(limit)s sources (there are %(count)s)"), limit_and_count)
        )
        return []
    sources = []
    for i, raw in enumerate(value):
        where = f"sources[{i}]"
        if not isinstance(raw, dict):
            problems.append(
                Problem(where, N_("Send each source as an object with url, outlet, title and published"))
            )
            continue
        try:
            sources.append(
                SourceData(
                    url=check_source_url(raw.get("url")),
                    outlet=_read_text(
                        raw.get("outlet"),
                        SOURCE_LIMITS["outlet"],
                        False,
                        N_("Shorten the outlet's name to at most %(limit)s characters (it has %(length)s)"),
                    ),
                    title=_read_text(
                        raw.get("title"),
                        SOURCE_LIMITS["title"],
                        False,
                        N_("Shorten the source's title to at most %(limit)s characters (it has %(length)s)"),
                    ),
                    published=_read_published(raw.get("published")),
                )
            )
        except Invalid as exc:
            problems.append(exc.at(where))
    return sources


def check_source_url(value: object) -> str | None:
    """Only absolute http(s) URLs: a ``javascript:`` or ``data:`` link must never reach a page."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(N_("Send the source's url as a string"))
    url = value.strip()
    if len(url) > SOURCE_LIMITS["url"]:
        raise Invalid(
            N_("Shorten the web address to at most %(limit)s characters"), limit=SOURCE_LIMITS["url"]
        )
    if _URL_REFUSED.search(url) or text_problem(url):
        raise Invalid(N_("Enter the web address without spaces, invisible or broken characters"))
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise Invalid(
            N_("Enter a web address starting with http:// or https:// (“%(value)s” is not one)"), value=value
        )
    return url


def _read_published(value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        return parse_partial_date(value).isoformat()
    except DateError as exc:
        raise Invalid(
            N_(
                "Enter the source's publication date as a year, month or day such as 2024, 2024-10 or "
                "2024-11-11, or leave it empty (“%(value)s” is not a date)"
            ),
            f"published: {exc}",
            value=value,
        ) from exc
