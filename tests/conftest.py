"""Shared fixtures: an app on a freshly migrated database of each backend, its client and CLI runner.

Every test that uses ``app`` runs twice: on SQLite (the default store) and on PostgreSQL/PostGIS
(``[sqlite]`` and ``[postgis]`` in its id). The schema comes from the Alembic migrations (as in
production), built once per backend and pytest-xdist worker, so every test starts from an empty,
real database of its own: a copy of the template file on SQLite; on PostgreSQL a database of this
worker's, copied from the template once and emptied before each later test (see PostgisDatabases).

PostgreSQL is found through ``TEST_DATABASE_URL`` (default: postgres on 127.0.0.1:5432, database
``timeline_test``, as .ci/run sets it up). The role must be allowed to create databases and the
postgis extension. When the server or PostGIS cannot be reached, the PostGIS half is skipped with a
loud reason locally and fails in CI (``CI=true``).

A test that only makes sense on one backend says so with ``@pytest.mark.backends("sqlite")``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from helpers import GOOD_PASSWORD, skip_or_fail
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

from timeline import create_app
from timeline.store.db import db

BACKENDS = ("sqlite", "postgis")
DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/timeline_test"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run only on these backends (sqlite, postgis)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the backend variants a ``backends`` marker rules out (not skip: they do not apply)."""
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("backends")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("migrated_template") if callspec else None
        if marker and backend and backend not in marker.args:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def app_config(url: str, **extra: Any) -> dict[str, Any]:
    """The app configuration every test app uses, on the database at ``url``."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "TILE_URL": "",
        # Cheap password hashing keeps the suite fast; production keeps Argon2id's defaults.
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_TIME_COST": 1,
        **extra,
    }


def _migrate(url: str) -> None:
    app = create_app(app_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


class SqliteDatabases:
    """Databases as files: a migrated template, copied per test."""

    backend = "sqlite"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.template = workdir / "template.sqlite"
        _migrate(self.url(self.template))

    @staticmethod
    def url(path: Path) -> str:
        return f"sqlite:///{path}"

    def create(self, where: Path, name: str, *, migrated: bool = True) -> str:
        path = where / f"{name}.sqlite"
        if migrated:
            shutil.copy(self.template, path)
        return self.url(path)

    def drop(self, url: str) -> None:
        """Nothing to do: the file lives in the test's tmp_path, which pytest cleans up."""

    def close(self) -> None:
        """Nothing to do, as for drop()."""


class PostgisDatabases:
    """Databases on the PostgreSQL server, one set per pytest-xdist worker and test run.

    A migrated template is built once; each database a test asks for is copied from it the first
    time (``CREATE DATABASE … TEMPLATE``) and, for every later test, emptied instead (TRUNCATE …
    RESTART IDENTITY, about 30 ms): a copy writes the whole template, PostGIS's 15 MB included, to
    the write-ahead log, which would cost more than the tests themselves. A database whose schema a
    test changed (a downgrade) is recognised and copied afresh. Names carry this process's id, so
    two test runs on one server never touch each other's databases; leftovers of runs that were
    killed are dropped at the start.
    """

    backend = "postgis"

    def __init__(self, url: URL, admin: Engine):
        self.base_url = url
        self.admin = admin
        self.prefix = f"{url.database}_p{os.getpid()}"
        self.numbers = count()
        self.reusable: dict[str, Engine] = {}  # database -> a connection of its own, for resets
        self.in_use: set[str] = set()
        self._drop_leftovers()
        self.template = f"{self.prefix}_template"
        self._execute(f'CREATE DATABASE "{self.template}"')
        _migrate(self.url(self.template))
        engine = create_engine(self.url(self.template))
        with engine.connect() as connection:
            self.schema = self._schema(connection)
        engine.dispose()

    def url(self, name: str) -> str:
        return self.base_url.set(database=name).render_as_string(hide_password=False)

    def create(self, _where: Path, name: str, *, migrated: bool = True) -> str:
        slug = re.sub(r"[^a-z0-9_]", "_", name.lower())[:30]
        if not migrated:
            database = f"{self.prefix}_{next(self.numbers)}_{slug}"
            self._execute(f'CREATE DATABASE "{database}"')
            return self.url(database)
        database = f"{self.prefix}_{slug}"
        while database in self.in_use:  # the same name twice in one test: a second database
            database = f"{self.prefix}_{slug}_{next(self.numbers)}"
        self.in_use.add(database)
        if database not in self.reusable or not self._emptied(database):
            self._copy_template(database)
        return self.url(database)

    def drop(self, url: str) -> None:
        database = make_url(url).database or ""
        if database in self.in_use:
            self.in_use.discard(database)  # kept, and emptied for the next test that wants it
        else:
            # FORCE ends connections a test may have left behind (e.g. a live server's threads).
            self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def close(self) -> None:
        for database, engine in self.reusable.items():
            engine.dispose()
            self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.dispose()

    @staticmethod
    def _schema(connection: Any) -> tuple[str | None, frozenset[str]]:
        """The migration revision and the tables a database has (what a test may have changed)."""
        tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        names = frozenset(tables.scalars())
        version = None
        if "alembic_version" in names:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return version, names

    def _emptied(self, database: str) -> bool:
        """Empty a database a previous test used; False if it is no longer as migrated."""
        try:
            with self.reusable[database].connect() as connection:
                connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE datname = current_database() AND pid <> pg_backend_pid()")
                )  # fmt: skip
                if self._schema(connection) != self.schema:
                    return False
                tables = sorted(self.schema[1] - {"alembic_version", "spatial_ref_sys"})
                connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        except Exception:  # e.g. a test dropped tables mid-way: start again from the template
            return False
        return True

    def _copy_template(self, database: str) -> None:
        if engine := self.reusable.pop(database, None):
            engine.dispose()
        self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{database}" TEMPLATE "{self.template}"')
        self.reusable[database] = create_engine(
            self.url(database), isolation_level="AUTOCOMMIT", pool_size=1, pool_pre_ping=True
        )

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(sql)

    def _drop_leftovers(self) -> None:
        pattern = re.compile(rf"^{re.escape(self.base_url.database or '')}_p(\d+)_")
        with self.admin.connect() as connection:
            names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
        for name in names:
            match = pattern.match(name)
            if match and not Path(f"/proc/{match.group(1)}").exists():
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgis_databases() -> PostgisDatabases:
    raw = os.environ.get("TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    url = make_url(raw)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() != "postgresql":
        pytest.fail(f"TEST_DATABASE_URL must be a postgresql+psycopg:// URL, got {shown}")
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            available = connection.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
    except Exception as exc:  # any reason the server cannot be used: no driver, refused, bad login
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        skip_or_fail(f"PostgreSQL at {shown} is unreachable ({type(exc).__name__}: {reason}); "
                     "`make postgis` sets it up (see README, 'Running on PostgreSQL/PostGIS')")  # fmt: skip
    if not available:
        admin.dispose()
        skip_or_fail(f"PostgreSQL at {shown} has no postgis extension (Debian: postgresql-15-postgis-3)")
    try:
        return PostgisDatabases(url, admin)
    except Exception as exc:
        admin.dispose()
        skip_or_fail(f"cannot create a PostGIS test database at {shown}: {type(exc).__name__}: {exc}")
        raise  # not reached: skip_or_fail raises


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqliteDatabases | PostgisDatabases]:
    """The backend under test: a migrated template database and the means to copy it."""
    databases: SqliteDatabases | PostgisDatabases
    if request.param == "sqlite":
        databases = SqliteDatabases(tmp_path_factory.mktemp("template"))
    else:
        databases = _postgis_databases()
    yield databases
    databases.close()


@pytest.fixture
def backend(migrated_template: SqliteDatabases | PostgisDatabases) -> str:
    """``"sqlite"`` or ``"postgis"``: the backend this test runs on."""
    return migrated_template.backend


@pytest.fixture
def fresh_database(
    migrated_template: SqliteDatabases | PostgisDatabases, tmp_path: Path
) -> Iterator[Callable[..., str]]:
    """Make a new database for this test: ``fresh_database("name")`` gives the URL of a migrated
    copy, ``fresh_database("name", migrated=False)`` an empty one; all are dropped afterwards."""
    made: list[str] = []

    def _create(name: str = "timeline", *, migrated: bool = True) -> str:
        url = migrated_template.create(tmp_path, name, migrated=migrated)
        made.append(url)
        return url

    yield _create
    for url in made:
        migrated_template.drop(url)


@pytest.fixture
def app_factory() -> Iterator[Callable[..., Flask]]:
    """Make an app on any database URL (``app_factory(url, **config)``); its pool is closed afterwards."""
    made: list[Flask] = []

    def _make(url: str, **extra: Any) -> Flask:
        made.append(create_app(app_config(url, **extra)))
        return made[-1]

    yield _make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(fresh_database: Callable[..., str], app_factory: Callable[..., Flask]) -> Flask:
    return app_factory(fresh_database())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def _load_into(app: Flask, *features: dict[str, Any]):
    from timeline.domain.importing import import_collection

    with app.app_context():
        return import_collection(db.session, {"type": "FeatureCollection", "features": list(features)})


@pytest.fixture
def load(app: Flask):
    """Import features (dicts) straight through the importer; returns the report."""
    return lambda *features: _load_into(app, *features)


@pytest.fixture
def load_into():
    """``load_into(app, *features)``: as ``load``, for an app a test made itself."""
    return _load_into


def _make_users(app: Flask) -> dict[str, Any]:
    from timeline.domain.accounts import create_token, create_user

    made: dict[str, Any] = {}
    with app.app_context():
        for role in ("editor", "admin"):
            user = create_user(f"{role}1", GOOD_PASSWORD, role)
            db.session.flush()
            _, secret = create_token(user, "tests")
            made[role] = {"username": user.username, "token": secret, "id": user.id}
        db.session.commit()
    return made


@pytest.fixture
def users(app: Flask) -> dict[str, Any]:
    """An editor and an admin, each with an API token: {"editor": {"username", "token", "id"}, ...}."""
    return _make_users(app)


@pytest.fixture
def users_on() -> Callable[[Flask], dict[str, Any]]:
    """``users_on(app)``: as ``users``, in the database of an app a test made itself."""
    return _make_users
