"""Pages for people: the map beside the timeline."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory
from markupsafe import Markup
from werkzeug.wrappers import Response

from .mapshell import NONCE_PLACEHOLDER, build_map_shell
from .security import csp_nonce

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
def index() -> str:
    """The map and timeline; events arrive from the API once the page has loaded."""
    shell = build_map_shell(current_app.config["TILE_URL"], current_app.config["TILE_ATTRIBUTION"])
    nonce = csp_nonce()
    return render_template(
        "pages/index.html",
        # Folium output is our own markup (no user text), so it is marked safe here and only here.
        map_header=Markup(shell.header.replace(NONCE_PLACEHOLDER, nonce)),  # noqa: S704
        map_body=Markup(shell.body),  # noqa: S704
        map_script=Markup(shell.script),  # noqa: S704
        map_name=shell.map_name,
        tiles_configured=bool(current_app.config["TILE_URL"]),
    )


@bp.get("/static/<path:filename>")
def static(filename: str) -> Response:
    """Front-end assets: ours and the vendor files the build copies from the npm registry."""
    response = send_from_directory(current_app.config["STATIC_DIR"], filename, max_age=3600)
    return response
