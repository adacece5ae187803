"""Timeline Map: geocoded, dated events on a map beside a timeline.

``create_app`` builds the Flask app; everything that serves a request lives in a blueprint, and
everything that knows about events lives in the modules the blueprints call (queries, features,
importer, export).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import PROJECT_ROOT, from_environment
from .db import db, migrate


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with ``config`` (tests) taking precedence."""
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"), static_folder=None)
    app.config.update(from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    # A server connection can go stale (restart, failover) and is tested before each use; a SQLite
    # file cannot, and the test would be one more statement on every request.
    on_sqlite = str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite")
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": not on_sqlite})
    # GeoJSON clients do not need sorted keys, and sorting every feature's keys costs time per request.
    app.json.sort_keys = False  # type: ignore[attr-defined]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))

    from . import (
        account,
        admin,
        api,
        cache_front,
        cli,
        editor,
        errors,
        export_views,
        i18n,
        pages,
        ratelimit,
        response_cache,
        security,
        write_api,
    )

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(write_api.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(admin.bp)
    errors.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    response_cache.init_app(app)
    ratelimit.init_app(app)
    from . import serving  # /healthz, and 503 while the database is unreachable

    serving.init_app(app)
    cache_front.init_app(app)
    if proxies := int(app.config.get("PROXY_COUNT", 0)):
        # Behind N trusted proxies the visitor's address, scheme and host come from their headers
        # (outermost: the cache front keys on the fixed-up URL).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    return app
