"""The web layer: blueprints and request parsing, kept thin.

A view parses its request (``params``, ``event_form``), calls the domain or the store, and turns
their answers and errors into responses; rules about events live below this package.
"""

from __future__ import annotations

from flask import Flask

from timeline.web import (
    admin,
    articles,
    change_feed,
    custom_places,
    downloads,
    editor,
    imports,
    language,
    login,
    ogc,
    openapi,
    page_config,
    pages,
    places,
    read_api,
    write_api,
)


def init_app(app: Flask) -> None:
    """Register every blueprint, the language choice and the pages' shared settings."""
    modules = (
        pages,
        read_api,
        write_api,
        change_feed,
        downloads,
        login,
        editor,
        admin,
        ogc,
        places,
        custom_places,
        openapi,
        imports,
    )
    for module in modules:
        app.register_blueprint(module.bp)
    app.register_blueprint(articles.bp)
    language.init_app(app)
    page_config.init_app(app)
