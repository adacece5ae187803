"""``timeline places import-custom FILE.csv``: many custom places at once, from a table.

The columns are those of ``geodata/data/curated_places.csv`` (``name``, ``alternate_names``
separated by ``|``, ``name_ru``/``name_uk`` taken as alternate names too, ``lat``, ``lon``,
``source``, ``country``, ``region_code`` or ``region``, ``kind``; other columns such as
``precision_km`` are ignored). Every row is checked by the same rules as the editors' form and API
(:func:`timeline.domain.custom_places.parse_place`) before anything is written; one bad row refuses
the whole file, naming each bad row by its line. Rows naming a place already there are skipped,
so importing a file again adds nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from timeline.cli.commands import places
from timeline.domain import custom_places
from timeline.store.db import db
from timeline.store.models import User

IGNORED = {"precision_km", "name_ru", "name_uk", "region_code"}


def read_rows(path: Path) -> tuple[list[custom_places.PlaceData], list[str]]:
    """The table's rows as checked places, and the problems of those that are not, by line."""
    found: list[custom_places.PlaceData] = []
    problems: list[str] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            for line, row in enumerate(csv.DictReader(file), start=2):
                alternates = [a for a in (row.get("alternate_names") or "").split("|") if a.strip()]
                alternates += [row[k] for k in ("name_ru", "name_uk") if (row.get(k) or "").strip()]
                body = {k: v for k, v in row.items() if k and k not in IGNORED and k != "alternate_names"}
                body["alternate_names"] = alternates
                if "region" not in body and row.get("region_code"):
                    body["region"] = row["region_code"]
                try:
                    found.append(custom_places.with_region(custom_places.parse_place(body)))
                except custom_places.PlaceInvalid as exc:
                    problems.append(f"line {line}: {exc}")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(f"{path}: cannot be read as a UTF-8 CSV table ({exc})")
    return found, problems


@places.command("import-custom")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", default=None, help="The editor the revisions name (default: none).")
@with_appcontext
def import_custom_command(file: Path, username: str | None) -> None:
    """Add the places of a CSV table as custom places (all or nothing)."""
    user = None
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user named {username!r}")
    rows, problems = read_rows(file)
    if problems:
        raise click.ClickException("nothing imported:\n" + "\n".join(problems[:50]))
    added, skipped = custom_places.import_places(db.session, rows, user)
    click.echo(f"added {added} custom places, skipped {skipped} already there")
