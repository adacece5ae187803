"""Every error answers in the caller's language: JSON for the API and exports, a page for people.

The JSON shape is always ``{"error": short name, "detail": what to fix}`` (plus ``parameter`` when a
query parameter is at fault); internals never reach the response.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, lazy_gettext
from werkzeug.exceptions import HTTPException, default_exceptions

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


# What a reader of an error page is told, in the page's language; the API keeps the precise,
# English detail that its clients log.
_PAGE_TEXTS = {
    400: (
        lazy_gettext("Bad request"),
        lazy_gettext("The address or the form held something this page cannot use."),
    ),
    403: (lazy_gettext("Forbidden"), lazy_gettext("Your account may not do this. Ask an administrator.")),
    404: (
        lazy_gettext("Not found"),
        lazy_gettext(
            "There is nothing at this address: the event may have been deleted, or the link mistyped."
        ),
    ),
    405: (lazy_gettext("Method not allowed"), lazy_gettext("This address cannot be used that way.")),
    409: (
        lazy_gettext("Conflict"),
        lazy_gettext("Someone else changed this in the meantime. Reload and try again."),
    ),
    413: (lazy_gettext("Too large"), lazy_gettext("The file or text is larger than this service accepts.")),
    429: (lazy_gettext("Too many requests"), lazy_gettext("Please wait a moment before trying again.")),
    500: (
        lazy_gettext("Internal error"),
        lazy_gettext("Something went wrong on our side. It has been logged; please try again later."),
    ),
    503: (
        lazy_gettext("Service unavailable"),
        lazy_gettext("The service cannot answer just now. Please try again in a minute."),
    ),
}


def _page_texts(exc: HTTPException) -> tuple[str, str]:
    """The title and explanation a person reads: translated, and the specific detail given only
    where it is more than the generic text and the page is in English (the details are English)."""
    code = exc.code or 500
    generic = default_exceptions.get(code)
    detail = exc.description or ""
    custom = bool(detail) and (generic is None or detail != generic.description)
    title, text = _PAGE_TEXTS.get(code, (exc.name or "Error", detail))
    if custom and str(get_locale() or "en").startswith("en"):
        text = detail
    return str(title), str(text)


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    if exc.code == 401 and not wants_json():
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
    if wants_json():
        return error_response(exc.code or 500, (exc.name or "error").lower(), exc.description or "")
    title, text = _page_texts(exc)
    return render_template(
        "pages/error.html", status=exc.code or 500, error=title, detail=text
    ), exc.code or 500


def init_app(app: Flask) -> None:
    app.register_error_handler(BadParameter, _bad_parameter)
    # Also catches the 500 Flask makes of an unhandled exception (after logging it); its generic
    # description is what the visitor sees, never the exception.
    app.register_error_handler(HTTPException, _http_error)
