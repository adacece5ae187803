"""The ``timeline`` command: the app's Flask CLI plus import, export and the demo story.

``timeline db upgrade`` (Flask-Migrate) creates or migrates the database; ``timeline run`` serves.
Every command honours ``DATABASE_URL``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy import and_, select

from timeline.domain import audit
from timeline.domain.accounts import PasswordRejected, create_token, create_user, find_user
from timeline.domain.exporting import write_events
from timeline.domain.features import feature_json
from timeline.domain.importing import ImportRejected, check_collection, import_collection, read_document
from timeline.formats import FORMATS, UnknownFormat, by_extension
from timeline.store.db import db, writing
from timeline.store.filters import EventFilter
from timeline.store.maintenance import optimize
from timeline.store.models import ROLES, ApiToken, Category, Event, FeatureCache, User

DEMO_PACKAGE = "timeline.demo"


# An import that writes this many events leaves SQLite's spatial index in the file's order; the
# command then suggests `timeline optimize` (README, "Command line").
OPTIMIZE_HINT_EVENTS = 10_000


def _import_document(document: object, source: str) -> None:
    try:
        report = import_collection(db.session, document)
    except ImportRejected as exc:
        _report_rejection(exc, source)
    for line in report.lines():
        click.echo(line)
    if report.created + report.updated >= OPTIMIZE_HINT_EVENTS and db.engine.dialect.name == "sqlite":
        click.echo("many events were written: `timeline optimize` repacks the spatial index for them")


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file; store nothing.")
@with_appcontext
def import_command(path: Path, dry_run: bool) -> None:
    """Import a GeoJSON FeatureCollection: all features or, if any is invalid, none."""
    try:
        document = read_document(path.read_bytes())
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
    try:
        fmt = by_extension(ext)
    except UnknownFormat:
        writable = sorted(f.extension for f in FORMATS.values() if f.write)
        click.echo(f"unknown format {ext!r}; available: {', '.join(writable)}", err=True)
        sys.exit(2)
    # Write beside the target and rename, so a failed export never leaves half a file behind.
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        for chunk in write_events(db.session, EventFilter(limit=None, include_drafts=drafts), fmt):
            out.write(chunk)
    partial.replace(path)
    click.echo(f"wrote {path}")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo story (the 2024 Kursk incursion and counteroffensive); a second run changes nothing."""
    demo = resources.files(DEMO_PACKAGE)
    with writing(db.session):
        for entry in json.loads(demo.joinpath("categories.json").read_text(encoding="utf-8")):
            category = db.session.get(Category, entry["slug"]) or Category(slug=entry["slug"])
            category.label, category.colour = entry["label"], entry["colour"]
            db.session.add(category)
    document = read_document(demo.joinpath("kursk_2024.geojson").read_bytes())
    _import_document(document, "demo story")


users = AppGroup("users", help="Manage editor and admin accounts.")
tokens = AppGroup("tokens", help="Manage personal API tokens.")


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def create_user_command(username: str, role: str, password_stdin: bool) -> None:
    """Create an account; there is no default account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with writing(db.session):
            user = create_user(username, password, role)
            audit.record(
                db.session, "user_create", None, target=username, detail=f"role {role} (command line)"
            )
    except (ValueError, PasswordRejected) as exc:
        click.echo(f"not created: {exc}", err=True)
        sys.exit(1)
    click.echo(f"created {user.role} {user.username}")


@users.command("list")
def list_users_command() -> None:
    """List accounts with their roles."""
    for user in db.session.scalars(select(User).order_by(User.username)):
        state = "" if user.active else " (deactivated)"
        click.echo(f"{user.username}\t{user.role}{state}")


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
def create_token_command(username: str, name: str) -> None:
    """Create an API token for USER; the token is the last line printed and is shown only once."""
    user = find_user(username)
    if user is None or not user.active:
        click.echo(f"no active user {username!r}", err=True)
        sys.exit(1)
    with writing(db.session):
        token, secret = create_token(user, name)
        audit.record(db.session, "token_create", user, target=f"token {token.prefix}…", detail="command line")
    click.echo(f"token {token.id} for {user.username} (store it now; it is not shown again):")
    click.echo(secret)


@tokens.command("list")
@click.argument("username")
def list_tokens_command(username: str) -> None:
    """List a user's tokens with their last use."""
    user = find_user(username)
    if user is None:
        click.echo(f"no user {username!r}", err=True)
        sys.exit(1)
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ):
        used = token.last_used_at.isoformat() if token.last_used_at else "never used"
        state = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "active"
        click.echo(f"{token.id}\t{token.prefix}…\t{token.name}\t{state}\tlast used: {used}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    """Revoke a token by its id (from `tokens list`)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        click.echo(f"no token {token_id}", err=True)
        sys.exit(1)
    if token.revoked_at is None:
        with writing(db.session):
            token.revoked_at = datetime.now(UTC)
            audit.record(
                db.session, "token_revoke", token.user, target=f"token {token.prefix}…", detail="cli"
            )
    click.echo(f"revoked token {token_id}")


@click.command("cache-features")
@with_appcontext
def cache_features_command() -> None:
    """Cache the Feature JSON of events that have none yet (after an upgrade or a bulk load)."""
    done, after = 0, 0
    while True:
        with writing(db.session):
            # Walk forward by key, so each batch starts where the last one ended; the bound is in
            # the join too, or PostgreSQL's merge join reads the cache from its start every batch.
            fresh = and_(FeatureCache.event_pk == Event.pk, FeatureCache.event_pk > after)
            missing = db.session.scalars(
                select(Event)
                .outerjoin(FeatureCache, fresh)
                .where(Event.pk > after, FeatureCache.event_pk.is_(None))
                .order_by(Event.pk)
                .limit(2000)
            ).all()
            for event in missing:
                db.session.add(FeatureCache(event_pk=event.pk, json=feature_json(event)))
        if not missing:
            break
        done += len(missing)
        after = missing[-1].pk
    click.echo(f"cached {done} features")


@click.command("optimize")
@with_appcontext
def optimize_command() -> None:
    """Repack the spatial index (SQLite) or refresh planner statistics (PostgreSQL) after a bulk load.

    No event changes. On SQLite the repack is one write transaction (about half a minute per million
    events): readers go on, writers wait for it, so run it when few edits are being made.
    """
    for line in optimize(db.session).lines():
        click.echo(line)


def init_app(app: Flask) -> None:
    commands = (import_command, export_command, demo_command, cache_features_command, optimize_command)
    for command in (*commands, users, tokens):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from timeline import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Timeline Map: manage and serve the event database.")
