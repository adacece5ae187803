"""Infrastructure around every request: errors, security headers, caching, limits and health.

Nothing here knows a blueprint; each module hooks into the app as a whole.
"""

from __future__ import annotations

from flask import Flask

from timeline.infra import (
    budgets,
    cache_front,
    compression,
    errors,
    health,
    rate_limits,
    response_cache,
    security,
    startup,
    static_assets,
)


def init_app(app: Flask) -> None:
    """Install the hooks; the cache front and compression go last because they wrap the whole WSGI
    app (compression outermost, so answers served in front of Flask are compressed too)."""
    errors.init_app(app)
    budgets.init_app(app)
    security.init_app(app)
    response_cache.init_app(app)
    rate_limits.init_app(app)
    health.init_app(app)  # /healthz, and 503 while the database is unreachable
    startup.init_app(app)  # a server on a database that takes no writes says so in its log
    static_assets.init_app(app)  # fingerprinted, compressed static files (replaces pages.static)
    cache_front.init_app(app)
    compression.init_app(app)
