"""File downloads: the filtered events streamed in a chosen format."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request, stream_with_context

from timeline.domain.accounts import is_editor
from timeline.domain.exporting import write_events
from timeline.formats import FORMATS, UnknownFormat, by_extension
from timeline.infra.response_cache import shared
from timeline.store.db import db
from timeline.web.params import check_categories, parse_filters

bp = Blueprint("export", __name__, url_prefix="/export")


@bp.get("/events.<ext>")
@shared
def download(ext: str) -> Response:
    """Every event matching the filters (no page limit unless ``limit`` is given), as an attachment."""
    try:
        fmt = by_extension(ext)
    except UnknownFormat:
        writable = sorted(f.extension for f in FORMATS.values() if f.write)
        abort(404, description=f"no export format {ext!r}; available: {', '.join(writable)}")
    f = parse_filters(request.args, max_limit=None)
    f.include_drafts = is_editor()
    check_categories(db.session, f)
    response = Response(stream_with_context(write_events(db.session, f, fmt)), mimetype=fmt.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="timeline-events.{fmt.extension}"'
    return response
