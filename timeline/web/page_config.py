"""Settings every page's JavaScript needs, given by the server once.

The default view, the confidence levels and where the API, the base map and the event pages are
live here and reach the browser as one JSON block (``page_config`` in every template), so the map
page, the editor and the history pages never keep their own copies of them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for

from timeline.store.models import CONFIDENCES
from timeline.web.map_shell import DEFAULT_CENTRE, DEFAULT_ZOOM


def page_config() -> dict[str, Any]:
    """The shared settings, with URLs built for this request's host and prefix."""
    return {
        "defaultView": {"centre": list(DEFAULT_CENTRE), "zoom": DEFAULT_ZOOM},
        "confidences": list(CONFIDENCES),
        "urls": {
            "events": url_for("api.list_events"),
            "clusters": url_for("api.clusters"),
            "density": url_for("api.density"),
            "categories": url_for("api.list_categories"),
            "eventPage": url_for("pages.event_page", event_id="__ID__"),
            "embed": url_for("pages.embed"),
            "home": url_for("pages.index"),
            "basemap": url_for("pages.static", filename="basemap/"),
        },
    }


def init_app(app: Flask) -> None:
    """Offer ``page_config()`` to every template (called only by templates that use it)."""
    app.jinja_env.globals["page_config"] = page_config
