"""Pages for people: the map beside the timeline, its embeddable twin, and one page per event."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, g, render_template, send_from_directory, url_for
from flask_babel import format_date, gettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from timeline.domain.accounts import is_editor
from timeline.domain.features import event_to_feature
from timeline.infra.security import csp_nonce
from timeline.store.db import db
from timeline.store.queries import get_event
from timeline.web.map_shell import (
    LEAFLET_CSS,
    LEAFLET_JS,
    NONCE_PLACEHOLDER,
    MapShell,
    build_map_shell,
    geometry_map,
)

bp = Blueprint("pages", __name__)


def _ui_text() -> dict[str, str]:
    """The interface strings the page's JavaScript shows, in the visitor's language."""
    return {
        "count": gettext("%(visible)s of %(total)s events"),
        "loading": gettext("Loading events…"),
        "failed": gettext("Events could not be loaded."),
        "date": gettext("Date"),
        "place": gettext("Place"),
        "category": gettext("Category"),
        "confidence": gettext("Confidence"),
        "actors": gettext("Actors"),
        "sources": gettext("Sources"),
        "source": gettext("Source"),
        "close": gettext("Close details"),
        "play": gettext("Play"),
        "pause": gettext("Pause"),
        "copied": gettext("Copied."),
        "copy_failed": gettext("Copy this:"),
        "bad_link": gettext(
            "This link held a view that could not be restored (%(problem)s); showing the default view."
        ),
        "zoom_in": gettext("%(count)s events here: zoom in to see them one by one."),
        "event_page": gettext("Page of this event"),
        "confirmed": gettext("confirmed"),
        "reported": gettext("reported"),
        "claimed": gettext("claimed"),
        "per_week": gettext("%(count)s events in the week of %(date)s"),
        "too_many": gettext(
            "%(total)s events: pick a period on the timeline, or narrow the filters, to list them."
        ),
        "no_category": gettext("No category is ticked: tick one or more to see their events."),
        "no_confidence": gettext("No confidence level is ticked: tick one or more to see events."),
        "no_match": gettext("No events match these filters in this period."),
        "map_help": gettext("Map: arrow keys move it, + and − zoom; the events are also listed beside it"),
        "timeline_help": gettext(
            "Timeline: arrow keys move between events, Enter opens one, + and − zoom in and out"
        ),
        "no_place": gettext("No place of that name is known"),
        "more_items": gettext(
            "The timeline shows the first %(shown)s of %(total)s events; narrow the filters to see all."
        ),
    }  # fmt: skip


def _map_page(embed: bool) -> str:
    shell = build_map_shell(current_app.config["TILE_URL"], current_app.config["TILE_ATTRIBUTION"])
    return render_template(
        "pages/index.html",
        embed=embed,
        ui_text=_ui_text(),
        **_shell_parts(shell),
    )


# Folium writes its own viewport tag with maximum-scale=1 and user-scalable=no, which stops people
# who need larger text from zooming the page (WCAG 1.4.4); base.html has the one viewport tag.
_FOLIUM_VIEWPORT = re.compile(r"<meta\s+name=\"viewport\"[^>]*>", re.IGNORECASE)


def _shell_parts(shell: MapShell, *, map_css_in_body: bool = False) -> dict[str, Any]:
    """Template values for a Folium shell. Folium output is our own markup with no user text, so it
    is marked safe here and only here.

    Nothing of it holds up the first paint: Leaflet is loaded with ``defer`` (and a fingerprinted
    URL, so it is cached for a year), and the script that makes the map is meant for a
    ``<script type="module">``, which runs after it, in document order with the other deferred
    scripts; a module's ``var`` is its own, so the map is also put on ``window`` by name, where
    the page's modules look for it.

    ``map_css_in_body`` takes Leaflet's stylesheet out of ``<head>`` into ``map_css``, for a page
    to put just before its map: a stylesheet in the body holds back only what comes after it, so
    a page whose text comes first (an event's) shows it without waiting for the map's styles."""
    header = _FOLIUM_VIEWPORT.sub("", shell.header)
    for _, path in LEAFLET_JS:
        deferred = f'<script src="{_static_url(path)}" defer></script>'
        header = header.replace(f'<script src="{path}"></script>', deferred)
    map_css = ""
    for _, path in LEAFLET_CSS:
        link = f'<link rel="stylesheet" href="{_static_url(path)}">'
        if map_css_in_body and re.search(_stylesheet_link(path), header):
            header = re.sub(_stylesheet_link(path), "", header)
            map_css += link
        else:
            header = header.replace(f'href="{path}"', f'href="{_static_url(path)}"')
    script = f"{shell.script}\nwindow[{json.dumps(shell.map_name)}] = {shell.map_name};"
    return {
        "map_css": Markup(map_css),  # noqa: S704
        "map_header": Markup(header.replace(NONCE_PLACEHOLDER, csp_nonce())),  # noqa: S704
        "map_body": Markup(shell.body),  # noqa: S704
        "map_script": Markup(script),  # noqa: S704
        "map_name": shell.map_name,
    }


def _stylesheet_link(path: str) -> str:
    """A pattern for Folium's ``<link>`` of the stylesheet at ``path``."""
    return rf'<link rel="stylesheet" href="{re.escape(path)}"\s*/?>'


def _static_url(path: str) -> str:
    """The fingerprinted URL of a file Folium names by its plain /static/ path."""
    return url_for("pages.static", filename=path.removeprefix("/static/"))


@bp.get("/")
def index() -> str:
    """The map and timeline; events arrive from the API for the current view."""
    return _map_page(embed=False)


@bp.get("/embed")
def embed() -> str:
    """The same view without site chrome, for iframes on other sites (the only frameable page)."""
    g.frameable = True
    return _map_page(embed=True)


@bp.get("/events/<event_id>")
def event_page(event_id: str) -> str:
    """One event, server-rendered with a small map and Open Graph tags for link previews."""
    event = get_event(db.session, event_id, include_drafts=is_editor())
    if event is None:
        abort(404, description=gettext("There is no published event with this id."))
    feature = event_to_feature(event)
    shell = _shell_parts(geometry_map(feature["geometry"]), map_css_in_body=True)
    return render_template("pages/event.html", event=event, feature=feature, when=_when(event), **shell)


def _when(event: Any) -> str:
    """The event's date at its own precision, in the visitor's language."""
    from geodata.dates import parse_partial_date

    formats = {"day": "long", "month": "MMMM y", "year": "y"}

    def one(text: str) -> str:
        shown: str = format_date(parse_partial_date(text).first_day, formats[event.date_precision])
        return shown

    return f"{one(event.start)} – {one(event.end)}" if event.end else one(event.start)


# Browsers run a module script only when it is served as JavaScript (and the pages send nosniff), so
# our modules do not depend on what the host's mime.types says about ".js".
JAVASCRIPT = "text/javascript"


@bp.get("/static/<path:filename>")
def static(filename: str) -> Response:
    """Front-end assets: ours and the vendor files the build copies from the npm registry."""
    mimetype = JAVASCRIPT if filename.endswith((".js", ".mjs")) else None
    return send_from_directory(current_app.config["STATIC_DIR"], filename, max_age=3600, mimetype=mimetype)


# A static import of a sibling module: `import … from "./x.js"`, `export … from "../x.js"`, `import "./x.js"`.
_RELATIVE_IMPORT = re.compile(r"""(?:\bfrom|^\s*import)\s*["'](\.\.?/[^"']+)["']""", re.MULTILINE)


@lru_cache(maxsize=16)
def _imported_modules(js_root: str, entry: str) -> tuple[str, ...]:
    """Every module that ``entry`` imports, directly or through others, as paths under ``js_root``.

    Read once per process: a module added while the server runs is still loaded through its
    import, only not preloaded until the next start.
    """
    root = Path(js_root).resolve()
    found: list[str] = []
    pending = [entry]
    while pending:
        module = root / pending.pop(0)
        try:
            source = module.read_text(encoding="utf-8")
        except OSError:
            continue  # a missing module fails in the browser, with the browser's own message
        for specifier in _RELATIVE_IMPORT.findall(source):
            target = (module.parent / specifier).resolve()
            if not target.is_relative_to(root):
                continue
            name = target.relative_to(root).as_posix()
            if name != entry and name not in found:
                found.append(name)
                pending.append(name)
    return tuple(found)


@bp.app_template_global()
def module_preloads(entry: str) -> list[str]:
    """URLs of the modules a page's entry module (under static/js) imports, for
    ``<link rel="modulepreload">``: the browser then fetches them all at once, instead of finding
    them one level of imports at a time, with no bundler in between."""
    js_root = str(Path(current_app.config["STATIC_DIR"]) / "js")
    return [url_for("pages.static", filename=f"js/{name}") for name in _imported_modules(js_root, entry)]
