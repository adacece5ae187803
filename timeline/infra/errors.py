"""Every error answers in the caller's language: JSON for the API and exports, a page for people.

The JSON shape is always ``{"error": short name, "detail": what to fix}`` (plus ``parameter`` when a
query parameter is at fault); internals never reach the response.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

JSON_PREFIXES = ("/api/", "/export/", "/ogc/")


class BadParameter(ValueError):
    """A query parameter that cannot be understood; ``parameter`` names it for the 400 response."""

    def __init__(self, parameter: str, detail: str):
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json"


def error_response(status: int, error: str, detail: str, **extra: Any) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": error, "detail": detail, **extra}), status
    return render_template("pages/error.html", status=status, error=error, detail=detail), status


def _bad_parameter(exc: BadParameter) -> tuple[Response | str, int]:
    return error_response(400, "invalid parameter", exc.detail, parameter=exc.parameter)


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    if exc.code == 401 and not wants_json():
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
    return error_response(exc.code or 500, (exc.name or "error").lower(), exc.description or "")


def init_app(app: Flask) -> None:
    app.register_error_handler(BadParameter, _bad_parameter)
    # Also catches the 500 Flask makes of an unhandled exception (after logging it); its generic
    # description is what the visitor sees, never the exception.
    app.register_error_handler(HTTPException, _http_error)
