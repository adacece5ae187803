"""The ``timeline`` command: import, export, demo data, users, tokens and maintenance."""

from __future__ import annotations

from timeline.cli import custom_places  # noqa: F401  (adds `timeline places import-custom`)
from timeline.cli.commands import init_app, main

__all__ = ["init_app", "main"]
