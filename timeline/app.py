"""The app factory: the Flask app assembled from its layers, configured from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from timeline.config import PROJECT_ROOT, from_environment
from timeline.store.db import db, migrate


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with ``config`` (tests) taking precedence."""
    app = Flask("timeline", instance_path=str(PROJECT_ROOT / "instance"), static_folder=None)
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

    from timeline import cli, infra, web

    web.init_app(app)
    infra.init_app(app)
    cli.init_app(app)
    if proxies := int(app.config.get("PROXY_COUNT", 0)):
        # Behind N trusted proxies the visitor's address, scheme and host come from their headers
        # (outermost: the cache front keys on the fixed-up URL).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    return app
