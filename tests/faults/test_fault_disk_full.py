"""The disk fills up: a write answers a clean 507 JSON, an import stores all of its features or none.

SQLite: ``PRAGMA max_page_count`` on the app's connections caps the file where it stands, and
SQLite then fails exactly as on a full disk (SQLITE_FULL). PostgreSQL: the tables an event is
written to are moved to a tablespace on a small tmpfs, which the test fills to the last byte,
so the server's own writes fail with "No space left on device" (SQLSTATE 53100). That needs the
server on this machine and root to mount the tmpfs; without them the test cannot run here.
After space is freed, the same writes go through.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from helpers import auth, feature, skip_or_fail
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from timeline.store.db import db

# The tables every event's write grows (the PostgreSQL half moves them onto the small disk).
EVENT_TABLES = ("events", "sources", "revisions", "feature_cache")
# 16 kB of text that does not compress (PostgreSQL would squeeze a repeated phrase into one page).
BIG_DESCRIPTION = base64.b64encode(random.Random(14).randbytes(12_000)).decode()


class Disk:
    """The database's free space, under the test's control: ``full()``, ``room(kb)``, ``free()``."""

    def __init__(self, full: Callable[[], None], room: Callable[[int], None], free: Callable[[], None]):
        self.full, self.room, self.free = full, room, free


@contextmanager
def sqlite_disk(app: Any) -> Iterator[Disk]:
    limit: dict[str, int | None] = {"pages": None}

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        if limit["pages"] is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {limit['pages']}")

    def cap(extra_pages: int | None) -> None:
        engine.dispose()  # the next connections open with the new cap
        if extra_pages is None:
            limit["pages"] = None
            return
        with engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar() or 0
        engine.dispose()
        limit["pages"] = pages + extra_pages

    page_size = 4096
    yield Disk(full=lambda: cap(0), room=lambda kb: cap(kb * 1024 // page_size), free=lambda: cap(None))
    event.remove(engine, "connect", _cap)
    engine.dispose()


@contextmanager
def postgres_disk(migrated_template: Any, url: str, mount_point: Path) -> Iterator[Disk]:
    parsed = make_url(url)
    if parsed.host not in ("127.0.0.1", "localhost", "::1", None):
        skip_or_fail(f"PostgreSQL at {parsed.host} is not on this machine: cannot give it a small disk")
    if os.geteuid() != 0:
        skip_or_fail("mounting a small tmpfs for a PostgreSQL tablespace needs root")
    try:
        postgres = pwd.getpwnam("postgres")
    except KeyError:
        skip_or_fail("no postgres user on this machine: the PostgreSQL server is not local")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size=8m,mode=0700,uid={postgres.pw_uid},gid={postgres.pw_gid}",
         "tmpfs", str(mount_point)], capture_output=True, text=True,
    )  # fmt: skip
    if mounted.returncode != 0:
        skip_or_fail(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    tablespace = f"faults_tiny_{os.getpid()}"
    filler = mount_point / "filler"
    admin = migrated_template.admin

    def fill(leave_kb: int) -> None:
        """Take all the space but ``leave_kb`` (tmpfs hands it out in 4 kB pages)."""
        filler.unlink(missing_ok=True)
        wanted = shutil.disk_usage(mount_point).free - leave_kb * 1024
        written = 0
        with filler.open("wb", buffering=0) as out:
            while written < wanted:
                try:
                    written += out.write(b"\0" * min(4096, wanted - written))
                except OSError:
                    break  # the last block is taken

    def move(to: str) -> None:
        mover = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with mover.connect() as connection:
                for table in EVENT_TABLES:
                    connection.exec_driver_sql(f"ALTER TABLE {table} SET TABLESPACE {to}")
        finally:
            mover.dispose()

    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE TABLESPACE {tablespace} LOCATION '{mount_point}'")
        try:
            move(tablespace)
            yield Disk(full=lambda: fill(0), room=fill, free=lambda: filler.unlink(missing_ok=True))
        finally:
            filler.unlink(missing_ok=True)
            move("pg_default")
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP TABLESPACE IF EXISTS {tablespace}")
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def disk(app, backend, migrated_template) -> Iterator[Disk]:
    if backend == "sqlite":
        with sqlite_disk(app) as controlled:
            yield controlled
    else:
        with app.app_context():
            url = db.engine.url.render_as_string(hide_password=False)
            db.engine.dispose()
        # Outside pytest's private temporary folders, which the server's user cannot enter.
        mount_point = Path(tempfile.mkdtemp(prefix="timeline-faults-disk-"))
        mount_point.chmod(0o755)
        try:
            with postgres_disk(migrated_template, url, mount_point) as controlled:
                yield controlled
        finally:
            mount_point.rmdir()


def event_count(app: Any) -> int:
    with app.app_context():
        count = db.session.execute(text("SELECT COUNT(*) FROM events")).scalar()
        db.session.remove()
    return int(count or 0)


def test_a_write_on_a_full_disk_answers_507_saves_nothing_and_works_once_space_is_freed(
    app, client, users, disk, backend
):
    token = users["admin"]["token"]
    kept = client.post("/api/events", json=feature(None, title="Before the disk filled"), headers=auth(token))
    assert kept.status_code == 201
    disk.full()

    big = feature(None, description=BIG_DESCRIPTION)
    response = client.post("/api/events", json=big, headers=auth(token))

    assert response.status_code == 507, response.get_data(as_text=True)
    assert response.is_json
    assert response.json["error"] == "storage full" and "nothing was saved" in response.json["detail"]
    assert event_count(app) == 1
    reading = client.get(f"/api/events/{kept.json['id']}", headers=auth(token))
    assert reading.status_code == 200 and reading.json["properties"]["title"] == "Before the disk filled"

    disk.free()
    again = client.post("/api/events", json=big, headers=auth(token))
    assert again.status_code == 201, again.get_data(as_text=True)
    assert event_count(app) == 2


def test_an_import_that_runs_out_of_space_part_way_stores_none_of_its_features(app, disk, tmp_path):
    collection = {
        "type": "FeatureCollection",
        "features": [feature(f"bulk-{n}", title=f"Bulk {n}", description=BIG_DESCRIPTION) for n in range(60)],
    }
    path = tmp_path / "bulk.geojson"
    path.write_text(json.dumps(collection))
    disk.room(256)  # room for a few of the 60 events (1 MB of text), not for all of them

    result = app.test_cli_runner().invoke(args=["import", str(path)])

    assert result.exit_code == 1, result.output
    assert "the database has no space left" in result.output and "Traceback" not in result.output
    assert event_count(app) == 0

    disk.free()
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert event_count(app) == 60
