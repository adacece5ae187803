"""Shared fixtures: an app on a freshly migrated SQLite database, its client and CLI runner.

The schema comes from the Alembic migrations (as in production), built once per test session and
copied for each test, so every test starts from an empty, real database.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from helpers import GOOD_PASSWORD

from timeline import create_app
from timeline.db import db


def _config(db_path: Path, tmp: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "TILE_URL": "",
        # Cheap password hashing keeps the suite fast; production keeps Argon2id's defaults.
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_TIME_COST": 1,
    }


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database built by the migrations, once per session."""
    tmp = tmp_path_factory.mktemp("template")
    path = tmp / "template.sqlite"
    app = create_app(_config(path, tmp))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def app(migrated_template: Path, tmp_path: Path) -> Iterator[Flask]:
    path = tmp_path / "timeline.sqlite"
    shutil.copy(migrated_template, path)
    app = create_app(_config(path, tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def load(app: Flask):
    """Import features (dicts) straight through the importer; returns the report."""
    from timeline.importer import import_collection

    def _load(*features: dict[str, Any]):
        with app.app_context():
            return import_collection(db.session, {"type": "FeatureCollection", "features": list(features)})

    return _load


@pytest.fixture
def users(app: Flask) -> dict[str, Any]:
    """An editor and an admin, each with an API token: {"editor": (name, token), ...}."""
    from timeline.auth import create_token, create_user

    made: dict[str, Any] = {}
    with app.app_context():
        for role in ("editor", "admin"):
            user = create_user(f"{role}1", GOOD_PASSWORD, role)
            db.session.flush()
            _, secret = create_token(user, "tests")
            made[role] = {"username": user.username, "token": secret, "id": user.id}
        db.session.commit()
    return made
