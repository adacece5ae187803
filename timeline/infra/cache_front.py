"""Anonymous cache hits answered in front of Flask.

A cached API answer (response_cache.py) needs three things: the data version, the URL and the
stored bytes. Reaching them through Flask (request context, session, hooks, header objects) costs
twice what the lookup itself does, so this WSGI layer answers the requests that can only be plain
hits before Flask sees them: anonymous GETs (no Authorization header, no session cookie) whose key
is in the cache. It serves exactly what the Flask path would (the same key, ETag, 304, cache and
security headers); anything else, and any trouble at all, is passed on to Flask, which then
answers as it always does (a view, a 503 while the database is away, a logged cache outage).

It stands aside when ``API_RATE_LIMIT`` is set, since those limits are counted by a Flask hook
(ratelimit.py), and every request must be counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy import Engine
from werkzeug.http import parse_etags

from timeline.infra.response_cache import (
    Store,
    cache_key,
    etag_for,
    not_modified_headers,
    read_version,
    unpack,
)
from timeline.infra.security import hsts_max_age, security_headers
from timeline.store.db import db

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CacheFront:
    """WSGI middleware: serve a stored answer for an anonymous GET, or hand the request on."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp):
        self.app = app
        self.wsgi_app = wsgi_app
        self.cookie = str(app.config["SESSION_COOKIE_NAME"])
        self.store: Store = app.extensions["response_cache"]
        self.prefix: str = app.extensions["response_cache_prefix"]
        tiles = app.config.get("TILE_URL") or ""
        strict = bool(app.config.get("CSP_STRICT_STYLES"))
        self.security = security_headers(None, False, tiles, strict_styles=strict)
        self.security_https = security_headers(
            None, False, tiles, hsts_max_age=hsts_max_age(app.config, True), strict_styles=strict
        )
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            with self.app.app_context():
                self._engine = db.engine
        return self._engine

    def _may_answer(self, environ: dict[str, Any]) -> bool:
        """Only a request whose answer cannot depend on who asks (and is not rate-limited)."""
        return (
            environ.get("REQUEST_METHOD") == "GET"
            and "HTTP_AUTHORIZATION" not in environ
            and self.cookie not in environ.get("HTTP_COOKIE", "")
            and not self.app.config.get("API_RATE_LIMIT")
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = self._answer(environ) if self._may_answer(environ) else None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answer
        https = environ.get("wsgi.url_scheme") == "https"
        start_response(status, headers + (self.security_https if https else self.security))
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """304 or the stored answer, or None when Flask must answer."""
        try:
            key = cache_key(self.prefix, read_version(self.engine()), environ)
            cached = self.store.get(key)
        except Exception:  # Flask answers instead, and reports what went wrong (503, cache outage)
            return None
        if cached is None:  # not a shared answer, or not cached (yet): Flask knows which
            return None
        etag = etag_for(key)
        if "HTTP_IF_NONE_MATCH" in environ and parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains(etag):
            return "304 NOT MODIFIED", not_modified_headers(etag, self.app.config), b""
        body, headers = unpack(cached, etag, self.app.config)
        return "200 OK", headers, body


def init_app(app: Flask) -> None:
    """Install the front (after response_cache.init_app, before any proxy fix wraps the app)."""
    app.wsgi_app = CacheFront(app, app.wsgi_app)  # type: ignore[method-assign]
