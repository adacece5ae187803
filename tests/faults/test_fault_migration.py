"""An upgrade that fails or is killed part-way leaves the database at the last revision that completed.

Every migration runs in a transaction of its own (migrations/env.py), on SQLite as on PostgreSQL:
what a migration did before it failed is rolled back with it, the migrations before it stay
done, and running ``timeline db upgrade`` again completes from there.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

from alembic.script import ScriptDirectory
from conftest import BIN, ROOT, server_env, timeline
from flask_migrate import downgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from timeline.store.db import db


def schema(url: str) -> tuple[str | None, set[str], set[str]]:
    """The revision, the tables, and the columns of events and sources (``table.column``)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            names = set(inspect(connection).get_table_names())
            columns = {
                f"{t}.{c['name']}" for t in ("events", "sources") for c in inspect(connection).get_columns(t)
            }
    finally:
        engine.dispose()
    return revision, names, columns


def downgraded(app_factory, url: str, revision: str) -> None:
    app = app_factory(url)
    with app.app_context():
        downgrade(revision=revision)
        db.engine.dispose()


def test_an_upgrade_that_fails_part_way_stays_at_the_last_completed_revision_and_resumes(
    fresh_database, app_factory
):
    url = fresh_database("failing_upgrade")
    downgraded(app_factory, url, "0008")
    engine = create_engine(url)
    with engine.begin() as connection:
        # 0010 creates user_sessions, then idempotency_keys: this table makes it fail half-way.
        connection.execute(text("CREATE TABLE idempotency_keys (left_in_the_way INTEGER)"))
    engine.dispose()

    result = timeline(url, "db", "upgrade")

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: the database refused a migration"), result.stderr
    revision, tables, _ = schema(url)
    assert revision == "0009"  # 0009 completed and stays; 0010 left nothing of itself behind
    assert "user_sessions" not in tables
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE idempotency_keys"))
    engine.dispose()

    assert timeline(url, "db", "upgrade").returncode == 0
    revision, tables, _ = schema(url)
    assert revision == HEAD and {"user_sessions", "idempotency_keys"} <= tables


# The newest revision: where a completed upgrade ends.
HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def tables_at(revision: str) -> set[str]:
    """Which of the full-text index (0009) and the sessions table (0010) a revision has."""
    added = {"event_search": "0009", "user_sessions": "0010"}
    return {name for name, since in added.items() if revision >= since}


def test_an_upgrade_killed_mid_migration_is_rolled_back_and_a_rerun_completes(
    migrated_template, fresh_database, app_factory, backend
):
    """kill -9 while a migration's transaction is open, then the same command again."""
    url = fresh_database("killed_upgrade")
    downgraded(app_factory, url, "0008")
    engine = create_engine(url)
    with engine.connect() as holder:
        if backend == "postgis":
            # 0009 alters events, then sources: a reader holding sources makes the migration wait
            # there, with events already altered in its open transaction.
            holder.exec_driver_sql("BEGIN")
            holder.exec_driver_sql("LOCK TABLE sources IN ACCESS SHARE MODE")
        upgrade = subprocess.Popen(
            [str(BIN / "timeline"), "db", "upgrade"], cwd=ROOT, env=server_env(url),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            if backend == "postgis":
                wait_for_the_migration_to_wait_on_sources(migrated_template, url)
            else:
                wait_for_the_migration_to_hold_the_write_lock(url)
        finally:
            os.killpg(upgrade.pid, signal.SIGKILL)
            upgrade.wait(10)
        if backend == "postgis":
            holder.exec_driver_sql("ROLLBACK")
    engine.dispose()

    revision, tables, columns = schema(url)
    if backend == "postgis":
        wait_for_the_killed_session_to_end(migrated_template, url)
        revision, tables, columns = schema(url)
        assert revision == "0008"
        assert "events.search" not in columns  # altered in the transaction that was killed
    else:
        # Killed inside some migration's transaction: the database is exactly at a revision.
        assert revision is not None and "0008" <= revision <= (HEAD or "")
        assert tables & {"event_search", "user_sessions"} == tables_at(revision), (revision, tables)
        check = create_engine(url)
        with check.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        check.dispose()

    assert timeline(url, "db", "upgrade").returncode == 0
    revision, tables, columns = schema(url)
    assert revision == HEAD and "user_sessions" in tables
    assert ("events.search" in columns) if backend == "postgis" else ("event_search" in tables)


def wait_for_the_migration_to_hold_the_write_lock(url: str) -> None:
    """Until the upgrade is inside a migration's transaction: SQLite's one write lock is taken."""
    probe = sqlite3.connect(make_url(url).database or "", timeout=0, isolation_level=None)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError as error:
                if "locked" in str(error):
                    return
                raise
            time.sleep(0.002)
    finally:
        probe.close()
    raise AssertionError("the upgrade never took the write lock")


def wait_for_the_migration_to_wait_on_sources(migrated_template, url: str) -> None:
    name = make_url(url).database
    deadline = time.monotonic() + 30
    with migrated_template.admin.connect() as admin:
        while time.monotonic() < deadline:
            waiting = admin.execute(text(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = :name "
                "AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE sources%'"
            ), {"name": name}).scalar()  # fmt: skip
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the migration never reached ALTER TABLE sources")


def wait_for_the_killed_session_to_end(migrated_template, url: str) -> None:
    """PostgreSQL rolls a killed client's transaction back once it notices the client is gone."""
    name = make_url(url).database
    deadline = time.monotonic() + 30
    with migrated_template.admin.connect() as admin:
        while time.monotonic() < deadline:
            busy = admin.execute(text(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = :name AND state <> 'idle' "
                "AND pid <> pg_backend_pid()"
            ), {"name": name}).scalar()  # fmt: skip
            if not busy:
                return
            time.sleep(0.05)
    raise AssertionError("the killed migration's session is still running")


def test_db_upgrade_on_a_database_it_cannot_open_says_so_in_one_line(fresh_database, backend, tmp_path):
    if backend == "sqlite":
        url, where = f"sqlite:///{tmp_path / 'no such folder' / 'timeline.sqlite'}", "that its folder exists"
    else:  # the test server's address, on a port nothing listens on
        url = make_url(fresh_database("unused")).set(port=1).render_as_string(hide_password=False)
        where = "that its server is running"

    result = timeline(url, "db", "upgrade")

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot open the database (")
    assert last.endswith(f"check DATABASE_URL and {where}"), last
