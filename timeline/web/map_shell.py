"""The Folium-built map shell: a Leaflet map with base layers and no events in it.

Folium writes the map's HTML and script; our static JavaScript then loads events from the API and
draws them with DOM nodes and textContent. No user text ever passes through Folium (it does not
escape popups or tooltips; see shared/SECURITY.md), and assets come from ``static/vendor`` instead
of Folium's CDN defaults, so the page works with no internet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import folium

# Folium is imported where a shell is built, not at module import: it pulls in pandas (and with it
# pyarrow), about 150 MB that the CLI, the importer and API-only workers never use.

# The story's region: Kursk Oblast and the Ukrainian border.
DEFAULT_CENTRE = (51.4, 35.4)
DEFAULT_ZOOM = 7
# How far the map page's map zooms out and in (a link may ask for any zoom up to MAX_ZOOM).
MIN_ZOOM = 2
MAX_ZOOM = 18

# An event page's map frames its event with context: a point (or a small area) shows the towns and
# the border around it, not one street; a larger area is fitted whole.
EVENT_MAX_ZOOM = 7

LEAFLET_JS = [("leaflet", "/static/vendor/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", "/static/vendor/leaflet/leaflet.css")]


@dataclass(frozen=True)
class MapShell:
    """The pieces of the Folium page that our template places."""

    header: str  # <link>/<script src>/<style> for <head>; inline scripts carry a nonce placeholder
    body: str  # the map <div>
    script: str  # the JavaScript that creates the map
    map_name: str  # the global variable holding the L.Map


NONCE_PLACEHOLDER = "__CSP_NONCE__"


@lru_cache(maxsize=8)
def build_map_shell(tile_url: str, tile_attribution: str) -> MapShell:
    """Render the shell once per tile setting; it holds no events, so it is the same for everyone."""
    import folium

    fmap = folium.Map(
        location=DEFAULT_CENTRE,
        zoom_start=DEFAULT_ZOOM,
        tiles=None,
        control_scale=False,  # Folium's scale shows miles too: add_metric_scale draws ours
        prefer_canvas=False,  # SVG: each event is a DOM node that tests and assistive tech can reach
        min_zoom=MIN_ZOOM,
        max_zoom=MAX_ZOOM,
        world_copy_jump=True,
    )
    add_metric_scale(fmap)
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=tile_attribution, name="Map tiles", max_zoom=MAX_ZOOM).add_to(
            fmap
        )
    return render_shell(fmap)


def geometry_map(geometry: dict[str, Any]) -> MapShell:
    """A small map of one geometry (event pages). Only coordinates go in: no text to escape."""
    import folium

    fmap = folium.Map(tiles=None, control_scale=False)
    add_metric_scale(fmap)
    layer = folium.GeoJson(
        {"type": "Feature", "geometry": geometry, "properties": {}},
        style_function=lambda _: {"color": "#b91c1c", "weight": 3, "fillOpacity": 0.25},
        marker=folium.CircleMarker(radius=8, fill=True, color="#b91c1c", fill_opacity=0.8),
    ).add_to(fmap)
    # A geometry always has bounds; folium types them as possibly None for an empty layer.
    corners = [[value for value in corner if value is not None] for corner in layer.get_bounds()]
    assert all(len(corner) == 2 for corner in corners)
    fmap.fit_bounds(corners, max_zoom=EVENT_MAX_ZOOM, padding=(40, 40))
    return render_shell(fmap)


def add_metric_scale(fmap: folium.Map) -> None:
    """A scale bar in kilometres only: the story's readers and sources measure in km, and Folium's
    ``control_scale`` always adds miles beside them."""
    import branca.element
    import jinja2

    scale = branca.element.MacroElement()  # type: ignore[no-untyped-call]  # branca has no annotations
    scale._name = "MetricScale"
    scale._template = jinja2.Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )
    fmap.add_child(scale)


def render_shell(fmap: folium.Map) -> MapShell:
    """Folium's pieces with local assets, and a nonce placeholder on its inline scripts."""
    import branca.element

    fmap.default_js = LEAFLET_JS
    fmap.default_css = LEAFLET_CSS
    root = fmap.get_root()
    assert isinstance(root, branca.element.Figure)  # a Map's root is the page Figure it lives in
    root.render()
    header = re.sub(r"<script>", f'<script nonce="{NONCE_PLACEHOLDER}">', root.header.render())
    # Folium's <style> blocks too: under a style-src without 'unsafe-inline' only a nonce lets them in.
    header = re.sub(r"<style>", f'<style nonce="{NONCE_PLACEHOLDER}">', header)
    return MapShell(
        header=header, body=root.html.render(), script=root.script.render(), map_name=fmap.get_name()
    )
