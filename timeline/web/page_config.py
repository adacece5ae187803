"""Settings every page's JavaScript needs, given by the server once.

The default view, the zoom range, the confidence levels, the longest text search, whether map tiles
are configured, and where the API, the base map, the place names and the event pages live are
kept here and reach the browser as one JSON block (``page_config`` in every template that needs it, read by
``static/js/shared/config.js``), so the map page, the editor and the history pages never keep their
own copies of them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import get_locale

from timeline.domain import fields
from timeline.store.models import CONFIDENCES
from timeline.web.map_shell import DEFAULT_CENTRE, DEFAULT_ZOOM, MAX_ZOOM
from timeline.web.params import MAX_TEXT_QUERY

# Stands for an event's id in the event page URL; the script puts the (encoded) id in its place.
ID_PLACEHOLDER = "__ID__"


def page_config(**page: Any) -> dict[str, Any]:
    """The shared settings, with URLs built for this request's host and prefix.

    Keyword arguments are what only this page knows (the map page: the name of the global variable
    that holds its Folium map); they arrive under ``page``.
    """
    return {
        "defaultView": {"centre": list(DEFAULT_CENTRE), "zoom": DEFAULT_ZOOM},
        "maxZoom": MAX_ZOOM,
        "confidences": list(CONFIDENCES),
        "searchMaxLength": MAX_TEXT_QUERY,
        "tiles": bool(current_app.config.get("TILE_URL")),
        "idPlaceholder": ID_PLACEHOLDER,
        "urls": {
            "events": url_for("api.list_events"),
            "clusters": url_for("api.clusters"),
            "density": url_for("api.density"),
            "categories": url_for("api.list_categories", lang=str(get_locale() or "en")),  # the page's labels
            "eventPage": url_for("pages.event_page", event_id=ID_PLACEHOLDER),
            "embed": url_for("pages.embed"),
            "home": url_for("pages.index"),
            "basemap": url_for("pages.static", filename="basemap/"),
            "places": url_for("places.search_places"),
            "placeLabels": url_for("places.place_labels"),
            "placeReverse": url_for("places.reverse_place"),
            "regions": url_for("api.list_regions"),  # the region filter's choices
        },
        "page": page,
    }


def init_app(app: Flask) -> None:
    """Offer ``page_config()`` to every template (called only by templates that use it), and the
    field table's limits as ``field_limit(name)`` for the forms' ``maxlength``."""
    app.jinja_env.globals["page_config"] = page_config
    app.jinja_env.globals["field_limit"] = fields.limit
