"""Timeline Map: geocoded, dated events on a map beside a timeline.

``create_app`` builds the Flask app from its layers, each a package whose path says its role:
``web`` (blueprints and request parsing), ``domain`` (the event model's rules and every write),
``store`` (the database and the filter-to-SQL translation), ``formats`` (file readers and writers),
``infra`` (caching, limits, headers, health, errors) and ``cli``. README's "Layout" has the picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from timeline.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """``from timeline import create_app`` without importing Flask for ``timeline.formats`` users.

    The formats layer is framework-free, and importing it must not drag the web stack in through
    this package's ``__init__``; the factory is loaded on first use instead.
    """
    if name == "create_app":
        from timeline.app import create_app

        return create_app
    raise AttributeError(f"module 'timeline' has no attribute {name!r}")
