"""File downloads: the filtered events streamed in a chosen format."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request, stream_with_context

from .auth import is_editor
from .db import db
from .export import FORMATS
from .queries import check_categories, parse_filters
from .response_cache import shared

bp = Blueprint("export", __name__, url_prefix="/export")


@bp.get("/events.<ext>")
@shared
def download(ext: str) -> Response:
    """Every event matching the filters (no page limit unless ``limit`` is given), as an attachment."""
    fmt = FORMATS.get(ext)
    if fmt is None:
        abort(404, description=f"no export format {ext!r}; available: {', '.join(sorted(FORMATS))}")
    f = parse_filters(request.args, max_limit=None)
    f.include_drafts = is_editor()
    check_categories(db.session, f)
    response = Response(stream_with_context(fmt.write(db.session, f)), mimetype=fmt.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="timeline-events.{fmt.extension}"'
    return response
