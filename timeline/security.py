"""Response headers that limit what a page can do if user text ever slipped through escaping.

Scripts run only from this origin or with the per-response nonce (Folium's inline map script gets
it); nothing may frame the pages; no MIME sniffing; referrers stay on this site.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# POST endpoints that change nothing and so cannot be abused cross-site.
CSRF_EXEMPT = {"api.validate"}


def csp_nonce() -> str:
    """The nonce for inline scripts in this response."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _tile_origin() -> str:
    url = current_app.config.get("TILE_URL") or ""
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in url else parts.netloc
    return f" {parts.scheme}://{host}"


def _set_headers(response: Response) -> Response:
    nonce = g.get("csp_nonce")
    script_src = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    # Only the embed view may be framed, by any site; everything else by none.
    frameable = g.get("frameable", False)
    ancestors = "*" if frameable else "'none'"
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:{_tile_origin()}; connect-src 'self'; object-src 'none'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if not frameable:
        response.headers.setdefault("X-Frame-Options", "DENY")
    # Editors see drafts: what the API answers depends on who asks, so shared caches must key on it.
    response.vary.add("Cookie")
    response.vary.add("Authorization")
    if g.get("user") is not None:
        response.headers["Cache-Control"] = "private, no-store"
    return response


class _SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def _check_csrf() -> None:
    """Every state change made with a session cookie needs the form's CSRF token.

    Requests authenticated by an API token carry no ambient credentials, so they are exempt.
    """
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or request.routing_exception is not None:
        return  # nothing to protect: a read, or a 404/405 that no view will handle
    if request.headers.get("Authorization") or request.endpoint in CSRF_EXEMPT:
        return
    if "uid" not in session and request.endpoint != "account.login":
        return  # no logged-in session to ride on; the view answers 401 if it needs a user
    csrf.protect()


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.session_interface = _SessionInterface()
    app.before_request(_check_csrf)
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    from .auth import current_user

    app.jinja_env.globals["current_user"] = current_user
