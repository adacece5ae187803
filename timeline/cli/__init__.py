"""The ``timeline`` command: import, export, demo data, users, tokens and maintenance."""

from __future__ import annotations

from timeline.cli.commands import init_app, main

__all__ = ["init_app", "main"]
