"""OGC API – Features under ``/ogc``: the events collection for GDAL, QGIS, OWSLib and geopandas.

A thin face over the same store path as the JSON API: :func:`~timeline.web.params.parse_filters`
reads ``bbox``, ``limit`` and the paging token, ``datetime`` becomes the filter's time window (an
event matches when its own days, its date precision counted, overlap it), and the page comes from
:func:`~timeline.store.queries.page_and_count` with the cached feature JSON. Only published events
are served, whoever asks: this is the anonymous, shareable view of the data.

Errors answer as OGC exception JSON (``code`` and ``description``), with the project's ``error`` and
``detail`` beside them. HTML is chosen with ``f=html`` only (never by the Accept header), so a
cached answer and its ETag depend on the URL alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, NotFound

from geodata.dates import DateError, parse_partial_date
from timeline.domain.exporting import features_by_pks
from timeline.domain.features import event_to_feature
from timeline.infra.errors import BadParameter
from timeline.infra.response_cache import shared
from timeline.store import cql2
from timeline.store.db import db
from timeline.store.extent import published_extent
from timeline.store.filters import EventFilter, PageKey
from timeline.store.queries import get_event, page_and_count
from timeline.web.params import MAX_LIMIT, checked_text, parse_filters
from timeline.web.read_api import json_bytes

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

COLLECTION = "events"
DEFAULT_LIMIT = 10
FORMATS = ("json", "html")
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
]
# The parameters the items request understands; anything else is a 400 (OGC core requires it).
FILTER_PARAMETERS = ("filter", "filter-lang", "filter-crs")
# ``region`` and ``country`` (codes or names, comma-separated) as on the JSON API and the exports.
PLACE_PARAMETERS = ("region", "country")
ITEM_PARAMETERS = frozenset(
    {"bbox", "datetime", "limit", "after", "f", *PLACE_PARAMETERS, *FILTER_PARAMETERS}
)


# ---------------------------------------------------------------------------- errors


def _exception(status: int, code: str, description: str) -> tuple[Response, int]:
    body = {"code": code, "description": description, "error": code, "detail": description}
    response = jsonify(body)
    return response, status


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter) -> tuple[Response, int]:
    return _exception(400, "InvalidParameterValue", f"{exc.parameter}: {exc.detail}")


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    fallback = "InvalidRequest" if status < 500 else "ServerError"
    code = {404: "NotFound", 406: "NotAcceptable"}.get(status, fallback)
    return _exception(status, code, exc.description or "")


# ---------------------------------------------------------------------------- helpers


def _format() -> str:
    """``f=json`` (the default) or ``f=html``."""
    values = request.args.getlist("f")
    if len(values) > 1:
        raise BadParameter("f", "may be given only once")
    value = checked_text("f", values[0]) if values else "json"
    if value not in FORMATS:
        raise BadParameter("f", f"must be one of {', '.join(FORMATS)}, got {value!r}")
    return value


def _url(endpoint: str, **args: Any) -> str:
    return url_for(endpoint, _external=True, **args)


def _links(endpoint: str, json_type: str = "application/json", **args: Any) -> list[dict[str, str]]:
    """``self`` in the format asked for and ``alternate`` in the other."""
    here = _format()
    json_link = {"type": json_type, "title": "this document as JSON", "href": _url(endpoint, **args)}
    html_link = {
        "type": "text/html",
        "title": "this document as HTML",
        "href": _url(endpoint, f="html", **args),
    }
    if here == "html":
        return [{"rel": "self", **html_link}, {"rel": "alternate", **json_link}]
    return [{"rel": "self", **json_link}, {"rel": "alternate", **html_link}]


def _answer(body: dict[str, Any], template: str, mimetype: str = "application/json") -> Response:
    if _format() == "html":
        return current_app.response_class(render_template(template, doc=body), mimetype="text/html")
    response = jsonify(body)
    response.mimetype = mimetype
    return response


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_datetime(value: str) -> tuple[date | None, date | None]:
    """``datetime`` as a window of days: an instant, ``a/b``, ``../b`` or ``a/..`` (RFC 3339 dates
    or date-times; a date-time counts as its day, since events are dated to the day at finest).

    Events are stored with the days they cover (a month-precision event covers the month), so an
    instant inside that month matches it, as the issue asks ("precision counted").
    """
    parts = value.split("/")
    if len(parts) > 2:
        raise BadParameter("datetime", "must be an instant or an interval start/end")
    if len(parts) == 1:
        day = _instant(parts[0])
        if day is None:
            raise BadParameter("datetime", "an instant cannot be open ('..')")
        return day, day
    start, end = _instant(parts[0]), _instant(parts[1])
    if start is None and end is None:
        return None, None
    if start and end and start > end:
        raise BadParameter("datetime", f"the interval starts ({start}) after it ends ({end})")
    return start, end


def _instant(text: str) -> date | None:
    """One end of an interval: ``..`` or empty is open; else a date or an RFC 3339 date-time."""
    if text in ("", ".."):
        return None
    day = text[:10]
    if len(text) == 11 and text[10] in "Tt":
        pass  # a date with an empty time: how GDAL 3.6 sends a date field's -where bound
    elif len(text) > 10:
        if text[10] not in "Tt":
            raise BadParameter("datetime", f"{text!r} is not an RFC 3339 date or date-time")
        try:
            datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        except ValueError:
            raise BadParameter("datetime", f"{text!r} is not an RFC 3339 date-time") from None
    if len(day) != 10:
        raise BadParameter("datetime", f"{text!r} is not a full date (YYYY-MM-DD)")
    try:
        return parse_partial_date(day).first_day
    except DateError as exc:
        raise BadParameter("datetime", f"{text!r}: {exc}") from None


def items_filter() -> EventFilter:
    """The items request's parameters as the store's filter (published events only)."""
    unknown = sorted(set(request.args) - ITEM_PARAMETERS)
    if unknown:
        raise BadParameter(unknown[0], "is not a parameter of this collection's items")
    passed = MultiDict(
        [
            (k, v)
            for k, v in request.args.items(multi=True)
            if k in ("bbox", "limit", "after", *PLACE_PARAMETERS)
        ]
    )
    f = parse_filters(passed, max_limit=MAX_LIMIT)
    if "limit" not in passed:
        f.limit = DEFAULT_LIMIT
    values = request.args.getlist("datetime")
    if len(values) > 1:
        raise BadParameter("datetime", "may be given only once")
    if values:
        f.start, f.end = parse_datetime(checked_text("datetime", values[0]))
    _apply_cql2(f)
    f.include_drafts = False
    return f


def _apply_cql2(f: EventFilter) -> None:
    """The ``filter`` parameter (CQL2 text or JSON, by ``filter-lang``) put on the store's filter."""
    for name in FILTER_PARAMETERS:
        if len(request.args.getlist(name)) > 1:
            raise BadParameter(name, "may be given only once")
    crs = request.args.get("filter-crs")
    if crs is not None and crs != CRS84:
        raise BadParameter("filter-crs", f"only {CRS84} is supported")
    text = request.args.get("filter")
    lang = request.args.get("filter-lang", "cql2-text")
    if lang not in cql2.LANGUAGES:
        raise BadParameter("filter-lang", f"must be one of {', '.join(cql2.LANGUAGES)}")
    if text is None:
        return
    try:
        node = cql2.parse(checked_text("filter", text), lang)
        cql2.apply_to_filter(node, f, db.engine.dialect.name)
    except cql2.Cql2Error as exc:
        raise BadParameter("filter", str(exc)) from None


# ---------------------------------------------------------------------------- views


@bp.get("")
@bp.get("/")
@shared
def landing() -> Response:
    """The landing page: where the API definition, the conformance list and the data are."""
    body = {
        "title": "Timeline Map",
        "description": "Geocoded, dated events as an OGC API – Features service",
        "links": [
            *_links("ogc.landing"),
            {"rel": "service-desc", "type": OPENAPI, "title": "the API definition", "href": _url("ogc.api")},
            {
                "rel": "conformance",
                "type": "application/json",
                "title": "conformance",
                "href": _url("ogc.conformance"),
            },
            {
                "rel": "data",
                "type": "application/json",
                "title": "collections",
                "href": _url("ogc.collections"),
            },
        ],
    }
    return _answer(body, "ogc/landing.html")


@bp.get("/conformance")
@shared
def conformance() -> Response:
    """The conformance classes this service implements."""
    return _answer({"conformsTo": CONFORMANCE, "links": _links("ogc.conformance")}, "ogc/conformance.html")


@bp.get("/collections")
@shared
def collections() -> Response:
    """The one collection, events."""
    body = {"links": _links("ogc.collections"), "collections": [_collection()]}
    return _answer(body, "ogc/collections.html")


@bp.get("/collections/<collection_id>")
@shared
def collection(collection_id: str) -> Response:
    """The events collection with its extent in space and time."""
    _check_collection(collection_id)
    return _answer(_collection(), "ogc/collection.html")


def _check_collection(collection_id: str) -> None:
    if collection_id != COLLECTION:
        raise NotFound(description=f"no collection {collection_id!r}; this service has {COLLECTION!r}")


def _collection() -> dict[str, Any]:
    extent = published_extent(db.session)
    interval = [
        [
            f"{extent.first_day.isoformat()}T00:00:00Z" if extent.first_day else None,
            f"{extent.last_day.isoformat()}T23:59:59Z" if extent.last_day else None,
        ]
    ]
    items = _url("ogc.items", collection_id=COLLECTION)
    return {
        "id": COLLECTION,
        "title": "Events",
        "description": "Published events with their place, dates (with precision), category and sources",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            "spatial": {
                "bbox": [list(extent.bbox) if extent.bbox else [-180.0, -90.0, 180.0, 90.0]],
                "crs": CRS84,
            },
            "temporal": {"interval": interval, "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
        },
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "title": "this collection",
                "href": _url("ogc.collection", collection_id=COLLECTION),
            },
            {"rel": "items", "type": GEOJSON, "title": "the events as GeoJSON", "href": items},
            {"rel": "items", "type": "text/html", "title": "the events as HTML", "href": items + "?f=html"},
        ],
    }


@bp.get("/collections/<collection_id>/queryables")
@shared
def queryables(collection_id: str) -> Response:
    """The properties a CQL2 filter may name (JSON Schema), from the translator's own table."""
    _check_collection(collection_id)
    _format()
    text = {"type": "string"}
    properties: dict[str, Any] = {name: {"title": name, **text} for name in cql2.PROPERTIES}
    properties["geometry"] = {"title": "geometry", "format": "geometry-any"}
    for name in cql2.TEMPORAL:
        properties[name] = {"title": name, "type": "string", "format": "date"}
    body = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url("ogc.queryables", collection_id=COLLECTION),
        "type": "object",
        "title": "Events",
        "properties": properties,
        "additionalProperties": False,
    }
    response = jsonify(body)
    response.mimetype = "application/schema+json"
    return response


@bp.get("/collections/<collection_id>/items")
@shared
def items(collection_id: str) -> Response:
    """A page of events as a GeoJSON FeatureCollection, with counts and a ``next`` link."""
    _check_collection(collection_id)
    f = items_filter()
    fmt = _format()
    rows, matched = page_and_count(db.session, f, keys_only=True)
    features = features_by_pks(db.session, [row[0] for row in rows])
    last = PageKey(*rows[-1][1:]) if rows else None
    rest = {
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": _now(),
        "links": _item_links(f, len(features), last, fmt),
    }
    if fmt == "html":
        import json

        doc = {**rest, "features": [json.loads(b) for b in features]}
        return current_app.response_class(render_template("ogc/items.html", doc=doc), mimetype="text/html")
    body = b'{"type":"FeatureCollection","features":[' + b",".join(features) + b"]," + json_bytes(rest)[1:]
    return current_app.response_class(body, mimetype=GEOJSON)


def _item_links(f: EventFilter, returned: int, last: PageKey | None, fmt: str) -> list[dict[str, str]]:
    """``self``, ``alternate``, ``collection`` and, when the page is full, ``next`` (by key)."""
    assert f.limit is not None
    base = _url("ogc.items", collection_id=COLLECTION)
    args: list[tuple[str, str]] = [(k, v) for k, v in f.query_args() if k in ("bbox", *PLACE_PARAMETERS)]
    if dt := request.args.get("datetime"):
        args.append(("datetime", dt))
    args += [(name, value) for name in FILTER_PARAMETERS if (value := request.args.get(name)) is not None]
    args.append(("limit", str(f.limit)))
    here = [*args, *([("after", f.after.token())] if f.after else [])]

    def href(extra: list[tuple[str, str]], as_html: bool) -> str:
        return base + "?" + urlencode([*extra, *([("f", "html")] if as_html else [])])

    own, other = ("text/html", GEOJSON) if fmt == "html" else (GEOJSON, "text/html")
    links = [
        {"rel": "self", "type": own, "href": href(here, fmt == "html")},
        {"rel": "alternate", "type": other, "href": href(here, fmt != "html")},
        {
            "rel": "collection",
            "type": "application/json",
            "href": _url("ogc.collection", collection_id=COLLECTION),
        },
    ]
    if returned == f.limit and last is not None:
        links.append(
            {"rel": "next", "type": own, "href": href([*args, ("after", last.token())], fmt == "html")}
        )
    return links


@bp.get("/collections/<collection_id>/items/<feature_id>")
@shared
def item(collection_id: str, feature_id: str) -> Response:
    """One published event as a GeoJSON Feature; anything else is a 404 exception."""
    _check_collection(collection_id)
    checked_text("featureId", feature_id)
    fmt = _format()
    event = get_event(db.session, feature_id, include_drafts=False)
    if event is None:
        raise NotFound(description=f"no event with id {feature_id!r}")
    feature = event_to_feature(event)
    items_url = _url("ogc.items", collection_id=COLLECTION)
    own = _url("ogc.item", collection_id=COLLECTION, feature_id=feature_id)
    feature["links"] = [
        {
            "rel": "self",
            "type": "text/html" if fmt == "html" else GEOJSON,
            "href": own + ("?f=html" if fmt == "html" else ""),
        },
        {
            "rel": "alternate",
            "type": GEOJSON if fmt == "html" else "text/html",
            "href": own + ("" if fmt == "html" else "?f=html"),
        },
        {
            "rel": "collection",
            "type": "application/json",
            "href": _url("ogc.collection", collection_id=COLLECTION),
        },
        {"rel": "items", "type": GEOJSON, "href": items_url},
    ]
    return _answer(feature, "ogc/item.html", GEOJSON)


@bp.get("/api")
@shared
def api() -> Response:
    """The OpenAPI 3.0 definition of this service (what OWSLib and GDAL read its parameters from)."""
    if _format() == "html":
        return current_app.response_class(
            render_template("ogc/api.html", doc=openapi()), mimetype="text/html"
        )
    response = jsonify(openapi())
    response.headers["Content-Type"] = OPENAPI
    return response


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.0 document for the paths above."""
    f_param = {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "the answer's format",
        "schema": {"type": "string", "enum": list(FORMATS), "default": "json"},
        "style": "form",
        "explode": False,
    }
    collection_param = {
        "name": "collectionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": [COLLECTION]},
    }
    exception = {
        "description": "an OGC exception",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}},
    }

    def ok(
        description: str, media: str = "application/json", schema: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        content: dict[str, Any] = {
            media: {"schema": schema or {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
        }
        return {"description": description, "content": content}

    def get(
        op_id: str, summary: str, params: list[dict[str, Any]], responses: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "get": {
                "operationId": op_id,
                "summary": summary,
                "tags": ["OGC API – Features"],
                "parameters": params,
                # Any operation refuses a malformed query (an unknown f, a NUL or control character
                # in a parameter or an id) with an OGC exception; /api takes no parameters.
                "responses": responses if op_id == "getApi" else {"400": exception, **responses},
            }
        }

    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Timeline Map – OGC API – Features",
            "version": "1.0.0",
            "description": "Published events, geocoded and dated, as OGC API – Features Part 1",
        },
        "servers": [{"url": _url("ogc.landing").rstrip("/")}],
        "paths": {
            "/": get("getLandingPage", "the landing page", [f_param], {"200": ok("links to the API")}),
            "/conformance": get(
                "getConformance", "the conformance classes", [f_param], {"200": ok("the conformance classes")}
            ),
            "/api": get(
                "getApi",
                "this document",
                [],
                {
                    "200": {
                        "description": "the OpenAPI document",
                        "content": {OPENAPI: {"schema": {"type": "object"}}},
                    }
                },
            ),
            "/collections": get(
                "getCollections", "the collections", [f_param], {"200": ok("the collections")}
            ),
            "/collections/{collectionId}": get(
                "describeCollection",
                "a collection with its extent",
                [collection_param, f_param],
                {"200": ok("the collection"), "404": exception},
            ),
            "/collections/{collectionId}/items": get(
                "getFeatures",
                "a page of features",
                [
                    collection_param,
                    {"$ref": "#/components/parameters/bbox"},
                    {"$ref": "#/components/parameters/datetime"},
                    {"$ref": "#/components/parameters/limit"},
                    *(
                        {
                            "name": name,
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": f"{name} codes ({example}) or names, comma-separated",
                        }
                        for name, example in (
                            ("region", "ISO 3166-2: RU-KRS"),
                            ("country", "ISO alpha-2: RU"),
                        )
                    ),
                    {
                        "name": "after",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "paging token from a next link",
                    },
                    {
                        "name": "filter",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "CQL2 on the queryables (Basic CQL2, S_INTERSECTS, T_INTERSECTS)",
                    },
                    {
                        "name": "filter-lang",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(cql2.LANGUAGES), "default": "cql2-text"},
                    },
                    {
                        "name": "filter-crs",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": [CRS84]},
                    },
                    f_param,
                ],
                {
                    "200": ok("the features", GEOJSON, {"$ref": "#/components/schemas/featureCollection"}),
                    "400": exception,
                    "404": exception,
                },
            ),
            "/collections/{collectionId}/queryables": get(
                "getQueryables",
                "the properties a CQL2 filter may name",
                [collection_param],
                {
                    "200": {
                        "description": "JSON Schema",
                        "content": {"application/schema+json": {"schema": {}}},
                    },
                    "404": exception,
                },
            ),
            "/collections/{collectionId}/items/{featureId}": get(
                "getFeature",
                "one feature",
                [
                    collection_param,
                    {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
                    f_param,
                ],
                {"200": ok("the feature", GEOJSON, {"type": "object"}), "404": exception},
            ),
        },
        "components": {
            "parameters": {
                "bbox": {
                    "name": "bbox",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "description": "minLon,minLat,maxLon,maxLat (WGS 84)",
                    "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                },
                "datetime": {
                    "name": "datetime",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "description": "an instant or interval (open: ..); events whose days overlap it",
                    "schema": {"type": "string"},
                },
                "limit": {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },
                },
            },
            "schemas": {
                "exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                },
                "featureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": {"type": "object"}},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "links": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }
