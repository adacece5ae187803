"""The database goes read-only under a running site: reads go on, writes get a clean 503, nothing breaks.

On SQLite the database file is chmod'ed read-only and the server runs without root's power to
ignore that (see conftest.unprivileged); on PostgreSQL the scratch database is set to
``default_transaction_read_only``, as an operator or a failover to a standby would leave it. The
server says at start-up what is wrong and how to fix it, and ``timeline db upgrade`` says so in
one line and exits non-zero instead of printing a traceback.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import editor_token, http, timeline, unprivileged
from flask_migrate import downgrade
from helpers import feature
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from timeline.store.db import db


@contextmanager
def read_only(migrated_template, url: str) -> Iterator[list[str]]:
    """Make the database at ``url`` read-only for the processes run with the prefix this yields."""
    if migrated_template.backend == "sqlite":
        path = Path(make_url(url).database or "")
        mode = path.stat().st_mode
        companions = (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        for file in (path, *(c for c in companions if c.exists())):
            file.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        try:
            yield unprivileged()
        finally:
            for file in path.parent.glob(path.name + "*"):
                file.chmod(mode)
    else:
        name = make_url(url).database
        with migrated_template.admin.connect() as admin:
            admin.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        try:
            yield []
        finally:
            with migrated_template.admin.connect() as admin:
                admin.exec_driver_sql(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')


def counts(url: str) -> tuple[int, int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()  # noqa: S608
                for table in ("events", "revisions", "sources")
            )
    finally:
        engine.dispose()


def test_a_read_only_database_serves_reads_refuses_writes_with_503_and_says_why_at_start(
    migrated_template, fresh_database, app_factory, load_into, servers, backend
):
    url = fresh_database("read_only")
    app = app_factory(url)
    token = editor_token(app)
    load_into(app, feature("kept", title="Written before the database went read-only"))
    with app.app_context():
        db.engine.dispose()
    before = counts(url)

    with read_only(migrated_template, url) as prefix:
        server = servers(url, prefix)
        said = server.said()
        assert "the database will refuse every change" in said, said
        if backend == "sqlite":
            assert "is read-only for this process" in said and "chmod u+w" in said, said
        else:
            assert "default_transaction_read_only is on" in said and "RESET" in said, said

        assert http(server.base, "/healthz")[0] == 200  # it can answer: keep it in the load balancer
        status, page, _ = http(server.base, "/api/events")
        assert status == 200 and [f["id"] for f in page["features"]] == ["kept"]
        assert http(server.base, "/api/events/kept")[0] == 200

        created = feature(None, title="Written while read-only")
        status, body, headers = http(server.base, "/api/events", token=token, body=created, method="POST")
        assert status == 503, body
        assert body["error"] == "database read-only" and "nothing was saved" in body["detail"]
        assert int(headers["Retry-After"]) > 0
        patch = {"version": 1, "properties": {"title": "Edited while read-only"}}
        status, body, _ = http(server.base, "/api/events/kept", token=token, body=patch, method="PATCH")
        assert status == 503 and body["error"] == "database read-only", body
        assert http(server.base, "/api/events/kept")[1]["properties"]["version"] == 1
        server.stop()
        assert "Traceback" not in server.said()

    assert counts(url) == before


def test_db_upgrade_on_a_read_only_database_says_so_in_one_line(
    migrated_template, fresh_database, app_factory, backend
):
    url = fresh_database("old_read_only")
    app = app_factory(url)
    with app.app_context():
        downgrade(revision="0009")  # one migration behind: the upgrade has something to write
        db.engine.dispose()

    with read_only(migrated_template, url) as prefix:
        result = timeline(url, "db", "upgrade", prefix=prefix)

    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: the database is read-only, nothing was changed: "), result.stderr
    if backend == "sqlite":
        assert "chmod u+w" in last
    else:
        assert "default_transaction_read_only" in last
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0009"
    finally:
        engine.dispose()
    # Writable again, the same command completes.
    assert timeline(url, "db", "upgrade").returncode == 0


@pytest.mark.backends("sqlite")
def test_a_sqlite_database_in_a_read_only_folder_answers_503_and_the_server_says_why(
    fresh_database, app_factory, load_into, servers, tmp_path
):
    """A read-only file system: SQLite in WAL mode cannot even read without creating its -shm file."""
    url = fresh_database("read_only_folder")
    app = app_factory(url)
    load_into(app, feature("kept"))
    with app.app_context():
        db.engine.dispose()
    path = Path(make_url(url).database or "")
    folder = tmp_path / "read-only"
    folder.mkdir()
    moved = path.rename(folder / path.name)
    url = f"sqlite:///{moved}"
    moved.chmod(0o444)
    folder.chmod(0o555)
    try:
        server = servers(url, unprivileged())
        said = server.said()
        assert f"the folder {folder} of the SQLite database is read-only" in said, said
        assert "make the folder writable" in said

        status, body, _ = http(server.base, "/api/events")
        assert status == 503 and body["error"] == "database read-only", body
        assert "cannot even be read" in body["detail"]
        assert http(server.base, "/healthz")[0] == 503  # the load balancer should stop sending traffic
        server.stop()
        assert "Traceback" not in server.said()
    finally:
        folder.chmod(0o755)
