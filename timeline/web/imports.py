"""Files imported over the web: ``POST /api/imports`` for tokens and the admin's upload page.

Both hand the file to :func:`timeline.domain.file_imports.import_file`, the path the command line
takes, so a file imports the same way wherever it comes from: all or nothing, every bad row or
feature named. Uploads may be larger than other requests (``UPLOAD_MAX_BYTES``, default 100 MB);
a larger one is refused with 413 before it is read. A file no reader recognises is a 415, a file
whose contents are wrong a 422 listing the problems.
"""

from __future__ import annotations

import io
from typing import IO, Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from timeline.domain.accounts import acting_user, require
from timeline.domain.file_imports import FileImport, FileRejected, format_for, import_file
from timeline.formats import FORMATS, UnknownFormat
from timeline.store.db import db

bp = Blueprint("imports", __name__)

DEFAULT_UPLOAD_MAX_BYTES = 100 * 1024 * 1024
READABLE = sorted(name for name, fmt in FORMATS.items() if fmt.read)


def upload_limit() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES") or DEFAULT_UPLOAD_MAX_BYTES)


@bp.url_value_preprocessor
def allow_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Uploads get their own size limit; the rest of the site keeps ``MAX_CONTENT_LENGTH``.

    Set as a URL value preprocessor, which runs before every ``before_request`` hook: the CSRF
    check reads the form, and with it the body, before this blueprint's own hooks would run."""
    request.max_content_length = upload_limit()


class UploadProblem(Exception):
    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def _upload() -> tuple[IO[bytes], str | None]:
    """The uploaded file and its name: a multipart ``file`` field, or the body itself."""
    if request.files:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise UploadProblem(400, "no file", 'send the file in the form field "file"')
        return upload.stream, upload.filename
    data = request.get_data(cache=False)
    if not data:
        raise UploadProblem(
            400, "no file", 'the request has no body: send the file as the body or as form field "file"'
        )
    return io.BytesIO(data), request.args.get("filename")


def _mapping(pairs: list[str]) -> dict[str, str] | None:
    """``column=FIELD=HEADER`` pairs (CSV): the table's column for each event column."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise UploadProblem(
                400, "bad parameter", f"column: {pair!r} is not FIELD=HEADER (e.g. title=Headline)"
            )
        mapping[field.strip()] = header.strip()
    return mapping or None


def _run(source: IO[bytes], filename: str | None, wanted: str | None, dry_run: bool) -> FileImport:
    head = source.read(4096)
    source.seek(0)
    try:
        fmt = format_for(wanted or filename, None if (wanted or filename) else request.mimetype, head)
    except UnknownFormat:
        raise UploadProblem(
            415,
            "unsupported file type",
            f"no reader for {wanted or filename or request.mimetype or 'this file'!r}; give format= one of "
            f"{', '.join(READABLE)}, or a file name with its extension",
        ) from None
    mapping = _mapping(request.args.getlist("column") + request.form.getlist("column"))
    return import_file(db.session, source, fmt, acting_user(), dry_run=dry_run, mapping=mapping)


def _flag(name: str) -> bool:
    return request.args.get(name, request.form.get(name, "")).lower() in ("1", "true", "yes", "on")


@bp.post("/api/imports")
@require("admin")
def api_import() -> tuple[Response, int]:
    """Import the file sent (``?format=``, ``?filename=``, ``?dry_run=true``): 200 with the report."""
    try:
        source, filename = _upload()
        done = _run(source, filename, request.args.get("format"), _flag("dry_run"))
    except UploadProblem as exc:
        return jsonify({"error": exc.error, "detail": exc.detail}), exc.status
    except FileRejected as exc:
        status = 415 if exc.not_readable else 422
        error = "unreadable file" if exc.not_readable else "invalid file"
        return jsonify({"error": error, "detail": exc.summary, "problems": exc.problems}), status
    return jsonify({**done.as_dict(), "lines": done.lines()}), 200


@bp.route("/admin/import", methods=["GET", "POST"])
@require("admin")
def upload_page() -> ResponseReturnValue:
    """The admin's upload form: the report, or every problem, on the same page."""
    context: dict[str, Any] = {"formats": READABLE, "limit_mb": upload_limit() // (1024 * 1024)}
    if request.method == "GET":
        return render_template("admin/import.html", **context)
    try:
        source, filename = _upload()
        done = _run(source, filename, request.form.get("format") or None, _flag("dry_run"))
    except UploadProblem as exc:
        return render_template("admin/import.html", error=exc.detail, **context), exc.status
    except FileRejected as exc:
        status = 415 if exc.not_readable else 422
        return render_template(
            "admin/import.html", error=exc.summary, problems=exc.problems, **context
        ), status
    return render_template("admin/import.html", done=done, **context)
