"""Read API: events as GeoJSON (RFC 7946), filtered by place, time, category, confidence and text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from sqlalchemy import select

from timeline.domain.accounts import is_editor
from timeline.domain.categories import category_json
from timeline.domain.exporting import features_by_pks
from timeline.domain.features import event_to_feature, event_to_summary
from timeline.domain.fields import SIZE_LIMITS
from timeline.domain.importing import ImportRejected, check_collection, read_document
from timeline.infra.errors import BadParameter
from timeline.infra.response_cache import shared
from timeline.store import aggregates
from timeline.store.db import db
from timeline.store.filters import EventFilter, PageKey
from timeline.store.models import Category
from timeline.store.queries import get_event, page_and_count
from timeline.store.region_counts import region_counts
from timeline.web.language import LANGUAGES
from timeline.web.params import check_categories, parse_filters, parse_sort, parse_zoom

bp = Blueprint("api", __name__, url_prefix="/api")

# ``view=summary`` trims each feature to what drawing it needs (the map page's requests).
VIEWS = {"full": event_to_feature, "summary": event_to_summary}


@bp.get("/events")
@shared
def list_events() -> Response:
    """A page of matching events as a FeatureCollection, with counts and paging links."""
    f = parse_filters(request.args)
    f.include_drafts = is_editor()
    order = parse_sort(request.args, f)
    check_categories(db.session, f)
    view = request.args.get("view", "full")
    if view not in VIEWS:
        raise BadParameter("view", f"must be one of {', '.join(VIEWS)}, got {view!r}")
    if view == "full":
        rows, matched = page_and_count(db.session, f, keys_only=True, order=order)
        features = features_by_pks(db.session, [row[0] for row in rows])
        keys = [PageKey(*row[1:]) for row in rows]
    else:
        events, matched = page_and_count(db.session, f, order=order)
        features = [json_bytes(VIEWS[view](e)) for e in events]
        keys = [PageKey(e.first_day, e.last_day, e.id) for e in events]
    returned = len(features)
    rest = {
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": _paging_links(f, matched, returned, view, keys[-1] if keys else None, order),
    }
    # The features are spliced in as the JSON they already are (cached at write time); the
    # envelope around them keeps the key order clients see: type, features, then the counts.
    body = b'{"type":"FeatureCollection","features":[' + b",".join(features) + b"]," + json_bytes(rest)[1:]
    return current_app.response_class(body, mimetype="application/geo+json")


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _paging_links(
    f: EventFilter, matched: int, returned: int, view: str, last: PageKey | None, order: str = "time"
) -> list[dict[str, str]]:
    """``self``, ``next`` and ``prev``. ``next`` pages by key (after this page's last event), so
    following it through a whole layer costs the same per page however deep it goes; ``prev`` is
    given for offset pages. A keyset page does not know its position, so it offers ``next``
    whenever it is full (the page after the last full one may be empty). A ranking
    (``sort=relevance``) has no keys to page by, so its ``next`` is the next offset."""

    def link(rel: str, paging: list[tuple[str, str]]) -> dict[str, str]:
        args = [*f.query_args(), ("limit", str(f.limit)), *paging]
        if order != "time":
            args.append(("sort", order))
        if view != "full":
            args.append(("view", view))
        href = url_for("api.list_events", _external=True) + "?" + urlencode(args)
        return {"rel": rel, "type": "application/geo+json", "href": href}

    assert f.limit is not None
    here = [("after", f.after.token())] if f.after else [("offset", str(f.offset))]
    links = [link("self", here)]
    more = returned == f.limit if f.after else f.offset + f.limit < matched
    if more and order != "time":
        links.append(link("next", [("offset", str(f.offset + f.limit))]))
    elif more and last is not None:
        links.append(link("next", [("after", last.token())]))
    if f.offset > 0:
        links.append(link("prev", [("offset", str(max(f.offset - f.limit, 0)))]))
    return links


@bp.get("/events/<event_id>")
def show_event(event_id: str) -> Response:
    """One event as a Feature; drafts and deleted events are not found."""
    event = get_event(db.session, event_id, include_drafts=is_editor())
    if event is None:
        abort(404, description=f"no event with id {event_id!r}")
    response = jsonify(event_to_feature(event))
    response.mimetype = "application/geo+json"
    # The ETag is the version a writer sends back in If-Match; visitors revalidate with it (304).
    response.set_etag(str(event.version))
    if not is_editor():
        response.headers["Cache-Control"] = "public, no-cache"
    response.make_conditional(request)  # answers 304 in place when the ETag matches
    return response


@bp.get("/categories")
@shared
def list_categories() -> Response:
    """Category slugs with their labels and colours, for legends and filters.

    ``label`` is in the language ``lang`` names (the map page asks in its own), else the base label;
    ``labels`` holds all of them. The language is a parameter, not a header, because shared
    answers are cached by URL.
    """
    lang = request.args.get("lang") or None
    if lang is not None and lang not in LANGUAGES:
        raise BadParameter("lang", f"must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    rows = db.session.scalars(select(Category).order_by(Category.label))
    return jsonify({"categories": [category_json(c, lang) for c in rows]})


@bp.get("/regions")
@shared
def list_regions() -> Response:
    """The countries and first-level regions the published events lie in, with their counts.

    What the map page's region filter offers: each ``code`` (or, without one, ``name``) is a value
    ``region=`` or ``country=`` accepts. Countries come in name order, each with its regions; a
    country's ``count`` includes its events that lie in no known region. Names are as stored (in
    English, or an ACLED file's own).
    """
    countries: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for c in region_counts(db.session):
        country = countries.setdefault(
            (c.country_code, c.country_name),
            {"code": c.country_code, "name": c.country_name, "count": 0, "regions": []},
        )
        country["count"] += c.count
        if c.region_code or c.region_name:
            country["regions"].append({"code": c.region_code, "name": c.region_name, "count": c.count})
    return jsonify({"countries": list(countries.values())})


@bp.post("/validate")
def validate() -> tuple[Response, int]:
    """Check a Feature or FeatureCollection against the contract without storing anything.

    Lets a data user fix a file before an import: 200 when every feature is valid, 422 listing each
    bad feature with its index, field and reason, 400 when the body is not JSON at all.
    """
    if not request.mimetype or not request.mimetype.endswith("json"):
        abort(415, description="send the GeoJSON as application/json or application/geo+json")
    try:
        document = read_document(request.get_data())
    except ImportRejected as exc:
        return jsonify({"error": "malformed JSON", "detail": exc.summary}), 400
    if isinstance(document, dict) and document.get("type") == "Feature":
        document = {"type": "FeatureCollection", "features": [document]}
    features = document.get("features") if isinstance(document, dict) else None
    most = SIZE_LIMITS.features_per_request
    if isinstance(features, list) and len(features) > most:
        detail = f"{len(features):,} features; at most {most:,} are checked per request: split the file"
        return jsonify({"error": "too many features", "detail": detail}), 413
    try:
        checked = check_collection(document)
    except ImportRejected as exc:
        body = {
            "error": "invalid features",
            "detail": exc.summary,
            "problems": [p.as_dict() for p in exc.problems],
        }
        return jsonify(body), 422
    return jsonify({"valid": True, "features": len(checked)}), 200


@bp.get("/clusters")
@shared
def clusters() -> Response:
    """Matching events counted per grid cell for a zoom level (the map's view of dense data).

    ``zoom`` in the answer is the zoom counted at: coarser than asked when the extent would hold
    more than ``MAX_CELLS`` cells at the zoom asked for (the whole world at zoom 22).
    """
    f = _counting_filter()
    zoom = aggregates.zoom_for_extent(parse_zoom(request.args.get("zoom")), f.bbox)
    cells = aggregates.clusters(db.session, f, zoom)
    body = {
        "type": "FeatureCollection",
        "features": [c.as_feature() for c in cells],
        "numberMatched": sum(c.count for c in cells),
        "zoom": zoom,
    }
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    return response


@bp.get("/density")
@shared
def density() -> Response:
    """Matching events per week, for the strip above the timeline."""
    weeks = aggregates.weekly_counts(db.session, _counting_filter())
    return jsonify({"bin": "week", "weeks": [{"start": d.isoformat(), "count": n} for d, n in weeks]})


def _counting_filter() -> EventFilter:
    """The request's filters for an endpoint that counts (no paging), drafts for editors only."""
    f = parse_filters(request.args)
    f.include_drafts = is_editor()
    f.limit = None
    check_categories(db.session, f)
    return f
