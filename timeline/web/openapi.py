"""The JSON API described as OpenAPI 3.1, at ``/api/openapi.json``, and browsable at ``/api/docs``.

The document is built from the same tables the API obeys: the Feature's properties, their limits
and choices come from the field table (``timeline.domain.fields``), the filter parameters from
``timeline.web.params`` and the formats from the registry, so a new field or format appears here
without a second edit. Every operation also documents ``default``: any other status is an error
answered with the same ``{"error", "detail"}`` body (429, 503, 507 ...).

The docs page is rendered here from the document itself, with no third-party script: it works
offline and under the site's Content Security Policy.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template

from timeline.domain import fields
from timeline.formats import FORMATS
from timeline.store.models import CONFIDENCES
from timeline.store.queries import ORDERS
from timeline.web import custom_places
from timeline.web.change_feed import MAX_CURSOR
from timeline.web.params import MAX_LIMIT, MAX_TEXT_QUERY

bp = Blueprint("openapi", __name__, url_prefix="/api")

GEOJSON = "application/geo+json"
ERROR = {"$ref": "#/components/responses/Error"}


@bp.get("/openapi.json")
def document() -> Response:
    """The OpenAPI 3.1 document of the JSON API."""
    response = jsonify(openapi(current_app.config.get("SITE_TITLE", "Timeline Map")))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def docs() -> str:
    """Every operation with its parameters and answers, as a page (rendered from the document)."""
    doc = openapi(current_app.config.get("SITE_TITLE", "Timeline Map"))
    operations = [
        {"method": method.upper(), "path": path, **op}
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]
    return render_template("api/docs.html", doc=doc, operations=operations)


# ---------------------------------------------------------------------------- the document


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
        **extra,
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


def _answer(
    description: str, schema: dict[str, Any] | None = None, media: str = "application/json"
) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {media: {"schema": schema}}
    return body


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): ERROR for status in statuses} | {"default": ERROR}


def _filter_parameters() -> list[dict[str, Any]]:
    # An empty value means "not given", as an HTML form sends it.
    date = {"type": "string", "pattern": r"^(\d{4}(-\d{2}(-\d{2})?)?)?$"}
    return [
        _query(
            "bbox", {"type": "string"}, "minLon,minLat,maxLon,maxLat (WGS 84); events whose geometry meets it"
        ),
        _query(
            "start", date, "first day of the window (2024, 2024-08 or 2024-08-06: the period's first day)"
        ),
        _query("end", date, "last day of the window (a month or year counts to its last day)"),
        _query(
            "category",
            {"type": "array", "items": {"type": "string"}},
            "category slugs (repeat or comma-separate); an unknown slug is a 400",
            style="form",
            explode=True,
        ),
        _query(
            "confidence",
            {"type": "array", "items": {"type": "string", "enum": list(CONFIDENCES)}},
            "confidence levels (repeat or comma-separate)",
            style="form",
            explode=True,
        ),
        _query("q", {"type": "string", "maxLength": MAX_TEXT_QUERY}, "words that begin words of the event"),
        *(
            _query(name, {"type": "array", "items": {"type": "string"}}, text, style="form", explode=True)
            for name, text in (
                ("region", "regions the events lie in: ISO 3166-2 codes (RU-KRS) or names (Kursk Oblast)"),
                ("country", "countries the events lie in: ISO alpha-2 codes (RU) or names"),
            )
        ),
    ]


def _paging_parameters() -> list[dict[str, Any]]:
    return [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}, "page size"),
        _query("offset", {"type": "integer", "minimum": 0}, "events to skip (prefer the next link's after)"),
        _query("after", {"type": "string"}, "paging token from a next link"),
        _query(
            "sort", {"type": "string", "enum": list(ORDERS), "default": "time"}, "timeline order or relevance"
        ),
        _query(
            "view",
            {"type": "string", "enum": ["full", "summary"], "default": "full"},
            "summary: drawing only",
        ),
    ]


def _property_schema(field: fields.Field) -> dict[str, Any]:
    """One Feature property's JSON Schema, from the field table."""
    name = field.name
    if name == "actors":
        return {
            "type": "array",
            "items": {"type": "string", "maxLength": field.max_length},
            "maxItems": field.max_items,
        }
    if name == "sources":
        return {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Source"},
            "maxItems": field.max_items,
        }
    if name == "attributes":
        value = {"type": ["string", "number", "boolean", "null"], "maxLength": field.max_length}
        return {"type": "object", "additionalProperties": value, "maxProperties": field.max_items}
    if name == "version":
        return {"type": "integer", "readOnly": True}
    if name in ("created_at", "updated_at"):
        return {"type": "string", "format": "date-time", "readOnly": True}
    if name == "date_precision":
        return {"type": "string", "enum": ["day", "month", "year"]}
    schema: dict[str, Any] = {"type": ["string", "null"] if not field.required else "string"}
    if field.choices:
        schema["enum"] = list(field.choices)
    if field.max_length:
        schema["maxLength"] = field.max_length
    return schema


def _schemas() -> dict[str, Any]:
    properties = {f.name: _property_schema(f) for f in fields.FIELDS if f.in_feature}
    required = [f.name for f in fields.FIELDS if f.required]
    return {
        "Error": {
            "type": "object",
            "required": ["error", "detail"],
            "properties": {
                "error": {"type": "string", "description": "what kind of problem"},
                "detail": {"type": "string", "description": "what exactly, and what to do"},
                "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
            },
        },
        "Problem": {
            "type": "object",
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
        },
        "Source": {
            "type": "object",
            "properties": {
                "url": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "maxLength": fields.SOURCE_LIMITS["url"],
                },
                "outlet": {"type": "string", "maxLength": fields.SOURCE_LIMITS["outlet"]},
                "title": {"type": "string", "maxLength": fields.SOURCE_LIMITS["title"]},
                "published": {"type": ["string", "null"]},
            },
        },
        "Geometry": {
            "type": "object",
            "description": "RFC 7946 geometry in WGS 84 longitude/latitude",
            "required": ["type"],
            "properties": {
                "type": {
                    "enum": [
                        "Point",
                        "MultiPoint",
                        "LineString",
                        "MultiLineString",
                        "Polygon",
                        "MultiPolygon",
                    ]
                }
            },
        },
        "Properties": {"type": "object", "required": required, "properties": properties},
        "Feature": {
            "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"const": "Feature"},
                "id": {"type": "string", "maxLength": fields.ID_LENGTH},
                "geometry": {"$ref": "#/components/schemas/Geometry"},
                "properties": {"$ref": "#/components/schemas/Properties"},
            },
        },
        "FeatureCollection": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"const": "FeatureCollection"},
                "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
                "numberMatched": {"type": "integer"},
                "numberReturned": {"type": "integer"},
                "timeStamp": {"type": "string", "format": "date-time"},
                "links": {"type": "array", "items": {"type": "object"}},
            },
        },
    }


@lru_cache(maxsize=4)
def openapi(title: str) -> dict[str, Any]:
    """The document (it depends only on the code, so it is built once per process)."""
    event_id = _path("eventId", "the event's id")
    feature = {"$ref": "#/components/schemas/Feature"}
    collection = {"$ref": "#/components/schemas/FeatureCollection"}
    token: list[dict[str, list[str]]] = [{"bearer": []}]
    if_match = {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": 'the ETag (version) you loaded, e.g. "3"; or send "version" in the body',
    }
    body = {
        "required": True,
        "content": {GEOJSON: {"schema": feature}, "application/json": {"schema": feature}},
    }
    writable = sorted(f.extension for f in FORMATS.values() if f.write)

    def read(
        summary: str, parameters: list[dict[str, Any]], ok: dict[str, Any], *errors: int
    ) -> dict[str, Any]:
        return {
            "get": {
                "summary": summary,
                "parameters": parameters,
                "responses": {"200": ok, **_errors(*errors)},
            }
        }

    def write(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "summary": summary,
            "security": token,
            "responses": {**responses, **_errors(401, 403)},
            **extra,
        }

    paths: dict[str, Any] = {
        "/api/events": {
            **read(
                "events matching the filters, a page at a time",
                [*_filter_parameters(), *_paging_parameters()],
                _answer("a page of events", collection, GEOJSON),
                400,
            ),
            "post": write(
                "add an event (editors' start as drafts)",
                {"201": _answer("the event as stored", feature, GEOJSON), **_errors(400, 409, 413, 415, 422)},
                requestBody=body,
                parameters=[
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                        "description": "a retry with the same key gets the first answer, not a second event",
                    }
                ],
            ),
        },
        "/api/events/{eventId}": {
            **read("one event", [event_id], _answer("the event", feature, GEOJSON), 404),
            "patch": write(
                "change some properties (a merge patch over the version you loaded)",
                {
                    "200": _answer("the event as stored", feature, GEOJSON),
                    **_errors(400, 404, 409, 412, 415, 422, 428),
                },
                parameters=[event_id, if_match],
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
            ),
            "delete": write(
                "delete an event (soft: it can be restored)",
                {"204": _answer("deleted"), **_errors(404, 409, 412, 428)},
                parameters=[event_id, if_match],
            ),
        },
        "/api/events/{eventId}/restore": {
            "post": write(
                "restore a deleted event",
                {"200": _answer("restored", feature, GEOJSON), **_errors(404)},
                parameters=[event_id],
            )
        },
        "/api/events/{eventId}/publish": {
            "post": write(
                "publish (admins)",
                {"200": _answer("published", feature, GEOJSON), **_errors(404)},
                parameters=[event_id],
            )
        },
        "/api/events/{eventId}/unpublish": {
            "post": write(
                "back to draft (admins)",
                {"200": _answer("a draft", feature, GEOJSON), **_errors(404)},
                parameters=[event_id],
            )
        },
        "/api/events/{eventId}/revisions": {
            "get": write(
                "every saved version, newest first",
                {"200": _answer("the revisions", {"type": "object"}), **_errors(404)},
                parameters=[event_id],
            )
        },
        "/api/articles/proposals": {
            "post": write(
                "draft events proposed from a news article's dated sentences (nothing is saved)",
                {
                    "200": _answer("the proposals, each a draft Feature", {"type": "object"}),
                    **_errors(400, 413, 415, 422),
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["text"],
                                "properties": {
                                    name: {"type": "string"}
                                    for name in ("text", "published", "url", "outlet", "title", "lang")
                                },
                            }
                        }
                    },
                },
            )
        },
        "/api/imports": {
            "post": write(
                "import a file (any readable format) all or nothing; dry_run=true only checks it",
                {
                    "200": _answer("what was created, updated and unchanged", {"type": "object"}),
                    **_errors(400, 413, 415, 422),
                },
                parameters=[
                    _query(
                        "format",
                        {"type": "string", "enum": sorted(n for n, f in FORMATS.items() if f.read)},
                        "the file's format (default: from filename or Content-Type)",
                    ),
                    _query(
                        "filename", {"type": "string"}, "the file's name, whose extension names its format"
                    ),
                    _query("dry_run", {"type": "boolean", "default": False}, "only check; store nothing"),
                    _query(
                        "column",
                        {"type": "array", "items": {"type": "string"}},
                        "CSV: FIELD=HEADER, the table's column for an event column (repeatable)",
                        style="form",
                        explode=True,
                    ),
                ],
                requestBody={
                    "required": True,
                    "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        },
                    },
                },
            )
        },
        "/api/categories": read(
            "the categories with their colours", [], _answer("categories", {"type": "object"})
        ),
        "/api/regions": read(
            "the countries and regions the published events lie in, with their counts",
            [],
            _answer("countries, each with its regions: code, name and count", {"type": "object"}),
        ),
        "/api/validate": {
            "post": {
                "summary": "check a FeatureCollection against the contract without storing it",
                "requestBody": {"required": True, "content": {GEOJSON: {"schema": collection}}},
                "responses": {
                    "200": _answer("valid", {"type": "object"}),
                    **_errors(400, 413, 415, 422, 429),
                },
            }
        },
        "/api/clusters": read(
            "counts of events per map cell, for drawing clusters",
            [
                *_filter_parameters(),
                _query("zoom", {"type": "integer", "minimum": 0, "maximum": 22}, "map zoom", required=True),
            ],
            _answer("clusters", {"type": "object"}, GEOJSON),
            400,
        ),
        "/api/density": read(
            "events per week, for the timeline's density strip",
            _filter_parameters(),
            _answer("weekly counts", {"type": "object"}),
            400,
        ),
        "/api/changes": read(
            "events created, updated and deleted since a cursor (for mirrors)",
            [
                _query(
                    "since",
                    {"type": "integer", "minimum": 0, "maximum": MAX_CURSOR, "default": 0},
                    "the cursor of the last change seen",
                ),
                _query(
                    "limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "page size"
                ),
            ],
            _answer("changes", {"type": "object"}),
            400,
        ),
        "/api/places": read(
            "place names found by any spelling (offline gazetteer), for autocomplete",
            [
                _query(
                    "q", {"type": "string", "minLength": 1, "maxLength": 200}, "the name or its beginning"
                ),
                _query("near", {"type": "string"}, "lon,lat: rank places near it first"),
                _query("bbox", {"type": "string"}, "minLon,minLat,maxLon,maxLat: rank places in view first"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 50}, "how many"),
                _query("lang", {"type": "string"}, "language of the labels (en, de, ru, uk)"),
            ],
            _answer("places", {"type": "object"}, GEOJSON),
            400,
            503,
        ),
        "/api/places/labels": read(
            "the place names a map of this view and zoom shows, most important first",
            [
                _query("bbox", {"type": "string"}, "minLon,minLat,maxLon,maxLat of the view", required=True),
                _query("zoom", {"type": "integer", "minimum": 0, "maximum": 22}, "the zoom", required=True),
                _query("lang", {"type": "string"}, "language of the labels"),
            ],
            _answer("labels", {"type": "object"}, GEOJSON),
            400,
            503,
        ),
        "/api/places/reverse": read(
            "the nearest named place, region and country of a point",
            [
                _query(
                    "lon", {"type": "number", "minimum": -180, "maximum": 180}, "longitude", required=True
                ),
                _query("lat", {"type": "number", "minimum": -90, "maximum": 90}, "latitude", required=True),
                _query("lang", {"type": "string"}, "language of the labels"),
            ],
            _answer("the place", {"type": "object"}, GEOJSON),
            400,
            503,
        ),
        "/export/events.{ext}": read(
            "every matching event as a file (no page limit), streamed where the format allows",
            [
                {
                    "name": "ext",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": writable},
                },
                *_filter_parameters(),
            ],
            {
                "description": "the file",
                "content": {f.media_type: {"schema": {}} for f in FORMATS.values() if f.write},
            },
            400,
            404,
        ),
    }
    paths.update(custom_places.openapi_paths(if_match))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{title} API",
            "version": "1",
            "description": "Geocoded, dated events as GeoJSON (RFC 7946). Reading is open; writing needs "
            "an API token (timeline users token NAME) sent as Authorization: Bearer.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "responses": {
                "Error": _answer("an error, said in words", {"$ref": "#/components/schemas/Error"}),
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
