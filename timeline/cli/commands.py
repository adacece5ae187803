"""The ``timeline`` command: the app's Flask CLI plus import, export and the demo story.

``timeline db upgrade`` (Flask-Migrate) creates or migrates the database; ``timeline run`` serves.
Every command honours ``DATABASE_URL``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import and_, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from timeline.domain import audit
from timeline.domain.accounts import PasswordRejected, create_token, create_user, find_user, set_password
from timeline.domain.exporting import write_events
from timeline.domain.features import feature_json
from timeline.domain.file_imports import FileRejected, import_file
from timeline.domain.importing import ImportProgress
from timeline.formats import FORMATS, UnknownFormat, by_file_name, by_name, sniffed
from timeline.store.db import FULL, READ_ONLY, db, storage_fault, why_not_writable, writing
from timeline.store.maintenance import optimize
from timeline.store.models import ROLES, ApiToken, Category, Event, FeatureCache, User

DEMO_PACKAGE = "timeline.demo"


def _import_file(
    path: Path | Traversable,
    source: str,
    *,
    dry_run: bool = False,
    format_name: str = "geojson",
    mapping: dict[str, str] | None = None,
) -> None:
    """Import one file through the shared file importer, with a progress display on stderr."""
    view = ProgressView(source)
    try:
        with path.open("rb") as binary:
            fmt = by_name(format_name)
            done = import_file(db.session, binary, fmt, dry_run=dry_run, progress=view, mapping=mapping)
    except FileRejected as exc:
        view.close()
        click.echo(f"{source}: {exc.summary}", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    view.close()
    lines = done.lines()
    if dry_run:
        lines[0] = f"{source}: {lines[0]}"
    for line in lines:
        click.echo(line)


class ProgressView:
    """How far an import has got, on stderr: a bar with rate and ETA on a terminal (rich), and a
    plain line every few seconds otherwise (logs, CI, pipes), none at all for a quick import."""

    PLAIN_EVERY_S = 2.0

    def __init__(self, source: str, terminal: bool | None = None):
        self.source = source
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.started = time.monotonic()
        self.last_line = self.started
        self.stage = ""
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, progress: ImportProgress) -> None:
        now = time.monotonic()
        elapsed = max(now - self.started, 1e-6)
        rate = progress.features / elapsed
        if self.terminal:
            self._draw(progress, rate)
            return
        changed = progress.stage != self.stage
        self.stage = progress.stage
        if now - self.last_line < self.PLAIN_EVERY_S and not (changed and now - self.started > 1):
            return
        self.last_line = now
        line = f"{self.source}: {progress.stage} {progress.features:,} features ({rate:,.0f}/s)"
        if progress.stage == "checking" and progress.size and progress.position:
            share = progress.position / progress.size
            left = elapsed * (1 - share) / share
            line += f", {share:.0%} of the file read, about {left:,.0f} s left"
        click.echo(line, err=True)

    def _draw(self, progress: ImportProgress, rate: float) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        if self.bar is None:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[features]:,} features, {task.fields[rate]:,.0f}/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.source, total=progress.size or None, features=0, rate=0.0)
        description = f"{self.source}: {progress.stage}"
        self.bar.update(
            self.task,
            completed=progress.position,
            description=description,
            features=progress.features,
            rate=rate,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _readable_format(path: Path, wanted: str | None) -> str:
    """The format named by ``--format``, else by the file's name (GeoJSON for .json too; a .csv
    with ACLED's header is ACLED)."""
    if wanted:
        return wanted
    if not path.suffix:
        return "geojson"
    try:
        fmt = by_file_name(path.name)
        with path.open("rb") as head:
            return sniffed(fmt, head.read(4096)).name
    except UnknownFormat:
        ext = path.suffix.lstrip(".").lower()
        readable = sorted(f.name for f in FORMATS.values() if f.read)
        click.echo(f"unknown format {ext!r}; give --format ({', '.join(readable)})", err=True)
        sys.exit(2)


def _column_mapping(columns: tuple[str, ...], mapping_file: Path | None) -> dict[str, str] | None:
    """``--mapping`` and ``--column`` pairs as one mapping (a ``--column`` wins); None if neither."""
    mapping: dict[str, str] = {}
    if mapping_file is not None:
        try:
            loaded = json.loads(mapping_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"{mapping_file} is not JSON: {exc}", param_hint="--mapping") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise click.BadParameter("must be a JSON object of FIELD: HEADER strings", param_hint="--mapping")
        mapping.update(loaded)
    for pair in columns:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise click.BadParameter(f"{pair!r} is not FIELD=HEADER", param_hint="--column")
        mapping[field.strip()] = header.strip()
    return mapping or None


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file; store nothing.")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(sorted(n for n, f in FORMATS.items() if f.read)),
    help="The file's format (default: from its extension).",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=HEADER",
    help="CSV: take FIELD (title, start, lat, lon, wkt, ...) from the column HEADER; repeatable.",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='CSV: a JSON file of FIELD: HEADER pairs, e.g. {"title": "Headline", "start": "Date"}.',
)
@with_appcontext
def import_command(
    path: Path, dry_run: bool, format_name: str | None, columns: tuple[str, ...], mapping_file: Path | None
) -> None:
    """Import a GeoJSON FeatureCollection or a CSV table: all features or, if any is invalid, none.

    The file is read feature by feature (memory stays flat however large it is) and written in
    one transaction, in bulk; on SQLite the spatial index ends packed (no `timeline optimize`
    needed). Progress goes to stderr.
    """
    mapping = _column_mapping(columns, mapping_file)
    fmt = _readable_format(path, format_name if format_name or not mapping else "csv")
    try:
        _import_file(path, str(path), dry_run=dry_run, format_name=fmt, mapping=mapping)
    except SQLAlchemyError as error:
        if storage_fault(error) is None:
            raise
        # A full or read-only database: one line that says so (the transaction stored nothing).
        raise click.ClickException(_database_failure(click.get_current_context(), error)) from None


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--drafts/--published-only", default=True, help="Include draft events (default: yes).")
@click.option(
    "--region", default="", help="Only events in these regions (RU-KRS or Kursk Oblast, comma-separated)."
)
@click.option("--country", default="", help="Only events in these countries (RU or a name, comma-separated).")
@with_appcontext
def export_command(path: Path, drafts: bool, region: str, country: str) -> None:
    """Export events to a file; the format follows the extension (.geojson, .csv, .acled.csv)."""
    from werkzeug.datastructures import MultiDict

    from timeline.infra.errors import BadParameter
    from timeline.web.params import parse_filters

    try:
        chosen = parse_filters(MultiDict([("region", region), ("country", country)]), max_limit=None)
    except BadParameter as exc:
        raise click.BadParameter(exc.detail, param_hint=f"--{exc.parameter}") from None
    chosen.include_drafts = drafts
    try:
        fmt = by_file_name(path.name)
    except UnknownFormat as exc:
        ext = exc.args[0]
        writable = sorted(f.extension for f in FORMATS.values() if f.write)
        click.echo(f"unknown format {ext!r}; available: {', '.join(writable)}", err=True)
        sys.exit(2)
    # Write beside the target and rename, so a failed export never leaves half a file behind.
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        for chunk in write_events(db.session, chosen, fmt):
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
            category.labels = {**(category.labels or {}), **entry.get("labels", {})}
            db.session.add(category)
    _import_file(demo.joinpath("kursk_2024.geojson"), "demo story")


places = AppGroup("places", help="The offline gazetteer's facts on stored events.")


@places.command("fill-regions")
@click.option("--all", "everything", is_flag=True, help="Look up every event again, not only those without.")
@with_appcontext
def fill_regions_command(everything: bool) -> None:
    """Store the region and country of events saved while the gazetteer index was missing."""
    from timeline.domain.regions import fill_regions, gazetteer_path, locator

    where = locator()
    if where is None:
        raise click.ClickException(f"no gazetteer index at {gazetteer_path()}; build it with `make places`")
    with writing(db.session):
        seen = fill_regions(db.session.connection(), where=where, everything=everything)
    click.echo(f"looked up the regions of {seen} events")


users = AppGroup("users", help="Manage editor and admin accounts.")
tokens = AppGroup("tokens", help="Manage personal API tokens.")


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def create_user_command(username: str, role: str, password_stdin: bool) -> None:
    """Create an account; there is no default account."""
    password = _read_password(password_stdin, "Password")
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


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def set_password_command(username: str, password_stdin: bool) -> None:
    """Change an account's password; every session of the account ends."""
    user = find_user(username)
    if user is None:
        click.echo(f"no user named {username!r}", err=True)
        sys.exit(1)
    password = _read_password(password_stdin, "New password")
    try:
        with writing(db.session):
            ended = set_password(user, password)
            audit.record(db.session, "password_change", None, target=username, detail="command line")
    except PasswordRejected as exc:
        click.echo(f"not changed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"password of {username} changed; {ended} open sessions ended")


def _read_password(from_stdin: bool, prompt: str) -> str:
    """One line of standard input (scripts), or typed twice at a hidden prompt (people)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    typed: str = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return typed


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


class DatabaseCommands(click.Group):
    """Flask-Migrate's ``timeline db`` commands, with a database failure told in one line, not a traceback.

    ``timeline db upgrade`` on a read-only SQLite file, a full disk or a server that went away ends
    with ``Error: …`` saying what is wrong and what to do, and exit status 1. Each migration runs
    in its own transaction (migrations/env.py), so the one that failed left nothing behind and
    the database stays at the last revision that completed; running the command again resumes.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as error:
            raise click.ClickException(_database_failure(ctx, error)) from None


def _database_failure(ctx: click.Context, error: SQLAlchemyError) -> str:
    """One line for a database error in a command: what went wrong and what to do about it."""
    original = getattr(error, "orig", None) or error
    said = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    info = ctx.find_object(ScriptInfo)
    url = str(info.load_app().config.get("SQLALCHEMY_DATABASE_URI") or "") if info else ""
    fault = storage_fault(error)
    if fault == READ_ONLY:
        why = (why_not_writable(url) if url else None) or f"the database refused to write ({said})"
        return f"the database is read-only, nothing was changed: {why}"
    if fault == FULL:
        return f"the database has no space left ({said}): free space, then run the command again"
    if isinstance(error, DBAPIError) and error.statement is None:  # failed before any statement ran
        where = "that its folder exists" if url.startswith("sqlite") else "that its server is running"
        return f"cannot open the database ({said}): check DATABASE_URL and {where}"
    return (
        f"the database refused a migration ({type(original).__name__}: {said}); that migration was "
        "rolled back, and `timeline db current` shows the last one that completed"
    )


def _database_commands(migrate_commands: click.Group) -> DatabaseCommands:
    """The ``db`` group Flask-Migrate registered, its commands and options unchanged."""
    return DatabaseCommands(
        name=migrate_commands.name,
        commands=migrate_commands.commands,
        params=migrate_commands.params,
        callback=migrate_commands.callback,
        help=migrate_commands.help,
    )


def init_app(app: Flask) -> None:
    commands = (import_command, export_command, demo_command, cache_features_command, optimize_command)
    for command in (*commands, users, tokens, places):
        app.cli.add_command(command)
    if isinstance(migrate_commands := app.cli.commands.get("db"), click.Group):
        app.cli.add_command(_database_commands(migrate_commands))


def _create_app() -> Flask:
    from timeline import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Timeline Map: manage and serve the event database.")
