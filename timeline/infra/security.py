"""Response headers that limit what a page can do if user text ever slipped through escaping.

Scripts run only from this origin or with the per-response nonce (Folium's inline map script gets
it); nothing may frame the pages; no MIME sniffing; referrers stay on this site.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

csrf = CSRFProtect()
# POST endpoints that change nothing and so cannot be abused cross-site.
CSRF_EXEMPT = {"api.validate"}


def csp_nonce() -> str:
    """The nonce for inline scripts in this response."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g.csp_nonce
    return nonce


@lru_cache(maxsize=8)
def _tile_origin(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in url else parts.netloc
    return f" {parts.scheme}://{host}"


@lru_cache(maxsize=8)
def _policy_around_sources(frameable: bool, tile_url: str) -> tuple[str, str, str]:
    """The policy's text before its script-src, between it and style-src, and after style-src
    (the two hold the per-response nonce)."""
    ancestors = "*" if frameable else "'none'"
    return (
        "default-src 'self'; script-src ",
        "; style-src ",
        f"; img-src 'self' data:{_tile_origin(tile_url)}; "
        f"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {ancestors}",
    )


def style_src(nonce: str | None, strict: bool) -> str:
    """Stylesheets from this origin; inline ``<style>`` only with the nonce, and no ``style=""``
    attributes at all when ``strict`` (CSSOM changes such as Leaflet's ``element.style.left`` are
    not inline styles and stay allowed). Not strict: any inline style, as before."""
    if not strict:
        return "'self' 'unsafe-inline'"
    return f"'self' 'nonce-{nonce}'" if nonce else "'self'"


# Editors see drafts: what the API answers depends on who asks, so shared caches must key on it.
VARY = ("Cookie", "Authorization")


# Powerful browser features the site never uses, switched off for it and for anything it embeds.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()"


def security_headers(
    nonce: str | None,
    frameable: bool,
    tile_url: str,
    *,
    hsts_max_age: int = 0,
    strict_styles: bool = False,
) -> list[tuple[str, str]]:
    """The headers every response carries (the cache front adds the same to the answers it serves).

    ``hsts_max_age`` > 0 adds Strict-Transport-Security: only for a request that came over HTTPS
    (the browser ignores it over HTTP, and sending it there would promise what is not served).
    ``strict_styles``: see ``style_src`` (config ``CSP_STRICT_STYLES``).
    """
    script_src = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    before, between, after = _policy_around_sources(frameable, tile_url)
    headers = [
        ("Content-Security-Policy", before + script_src + between + style_src(nonce, strict_styles) + after),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("Vary", ", ".join(VARY)),
    ]
    if not frameable:  # only the embed view may be framed, by any site; everything else by none
        headers.append(("X-Frame-Options", "DENY"))
    if hsts_max_age > 0:
        headers.append(("Strict-Transport-Security", f"max-age={hsts_max_age}"))
    return headers


def hsts_max_age(config: Mapping[str, Any], https: bool) -> int:
    """How long browsers should insist on HTTPS for this request's answer (0: say nothing)."""
    return int(config.get("HSTS_MAX_AGE", 0)) if https else 0


def _set_headers(response: Response) -> Response:
    """Adds ``security_headers`` to every response, keeping any a view set itself; built from
    strings made once per policy, since every request (a cached API answer included) pays for it."""
    wanted = security_headers(
        g.get("csp_nonce"),
        bool(g.get("frameable", False)),
        current_app.config.get("TILE_URL") or "",
        hsts_max_age=hsts_max_age(current_app.config, request.is_secure),
        strict_styles=bool(current_app.config.get("CSP_STRICT_STYLES")),
    )
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)  # known absent: appended (setting would scan the list)
        elif name == "Vary":
            for varies in VARY:
                response.vary.add(varies)
    if g.get("user") is not None:
        headers["Cache-Control"] = "private, no-store"
    return response


class _SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Most requests are anonymous and carry no cookie: give them an empty session without
        building the signing serializer (a tenth of a cached API answer's time)."""
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """An empty, unchanged session (an anonymous visitor's) has no cookie to write; every
        response already varies on Cookie (``_set_headers``)."""
        if not session and not session.modified:
            return
        super().save_session(app, session, response)


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


def _touch_session(response: Response) -> Response:
    """Record the session's use after the view (see accounts.touch_session); an outage here costs
    the idle clock a minute, never the answer."""
    from timeline.domain.accounts import touch_session

    try:
        touch_session()
    except SQLAlchemyError as error:
        current_app.logger.warning("could not record the session's last use: %s", type(error).__name__)
    return response


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.session_interface = _SessionInterface()
    app.before_request(_check_csrf)
    app.after_request(_set_headers)
    app.after_request(_touch_session)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    from timeline.domain.accounts import current_user

    app.jinja_env.globals["current_user"] = current_user
