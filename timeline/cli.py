"""The ``timeline`` command: the app's Flask CLI plus import, export and the demo story.

``timeline db upgrade`` (Flask-Migrate) creates or migrates the database; ``timeline run`` serves.
Every command honours ``DATABASE_URL``.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from .db import db
from .export import FORMATS
from .importer import ImportRejected, check_collection, import_collection, load_json
from .models import Category
from .queries import EventFilter

DEMO_PACKAGE = "timeline.demo"


def _import_document(document: object, source: str) -> None:
    try:
        report = import_collection(db.session, document)
    except ImportRejected as exc:
        _report_rejection(exc, source)
    for line in report.lines():
        click.echo(line)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file; store nothing.")
@with_appcontext
def import_command(path: Path, dry_run: bool) -> None:
    """Import a GeoJSON FeatureCollection: all features or, if any is invalid, none."""
    try:
        document = load_json(path.read_bytes())
        if dry_run:
            click.echo(
                f"{path}: all {len(check_collection(document))} features are valid; nothing was stored"
            )
            return
    except ImportRejected as exc:
        _report_rejection(exc, str(path))
    _import_document(document, str(path))


def _report_rejection(exc: ImportRejected, source: str) -> NoReturn:
    click.echo(f"{source}: {exc.summary}", err=True)
    for problem in exc.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--drafts/--published-only", default=True, help="Include draft events (default: yes).")
@with_appcontext
def export_command(path: Path, drafts: bool) -> None:
    """Export events to a file; the format follows the extension (.geojson)."""
    ext = path.suffix.lstrip(".").lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        click.echo(f"unknown format {ext!r}; available: {', '.join(sorted(FORMATS))}", err=True)
        sys.exit(2)
    # Write beside the target and rename, so a failed export never leaves half a file behind.
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for chunk in fmt.write(db.session, EventFilter(limit=None, include_drafts=drafts)):
            out.write(chunk)
    partial.replace(path)
    click.echo(f"wrote {path}")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo story (the 2024 Kursk incursion and counteroffensive); a second run changes nothing."""
    demo = resources.files(DEMO_PACKAGE)
    for entry in json.loads(demo.joinpath("categories.json").read_text(encoding="utf-8")):
        category = db.session.get(Category, entry["slug"]) or Category(slug=entry["slug"])
        category.label, category.colour = entry["label"], entry["colour"]
        db.session.add(category)
    db.session.commit()
    document = load_json(demo.joinpath("kursk_2024.geojson").read_bytes())
    _import_document(document, "demo story")


def init_app(app: Flask) -> None:
    for command in (import_command, export_command, demo_command):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Timeline Map: manage and serve the event database.")
