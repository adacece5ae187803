"""A server started on a database that is not ready for its code says so, and what to run.

An operator who deployed a release but forgot ``timeline db upgrade`` (or pointed DATABASE_URL at
a new, empty database) finds one line in the server's log at start-up instead of a "no such
table" behind the first request that fails.
"""

from __future__ import annotations

from alembic.script import ScriptDirectory
from conftest import ROOT
from flask_migrate import downgrade

from timeline.store.db import db

HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def test_a_server_on_a_database_never_migrated_says_to_run_db_upgrade(fresh_database, servers, backend):
    url = fresh_database("never_migrated", migrated=False)

    said = servers(url).said()

    assert "the database is not ready for this code" in said, said
    if backend == "sqlite":
        assert "does not exist: `timeline db upgrade` creates it" in said, said
    else:
        assert "has no tables yet: run `timeline db upgrade` to create them" in said, said


def test_a_server_on_a_database_one_release_behind_names_both_revisions(fresh_database, app_factory, servers):
    url = fresh_database("behind")
    app = app_factory(url)
    with app.app_context():
        downgrade(revision="0009")
        db.engine.dispose()

    said = servers(url).said()

    assert f"the database is at revision 0009 and this code needs {HEAD}: run `timeline db upgrade`" in said


def test_a_server_on_a_current_writable_database_says_nothing_about_it(fresh_database, servers):
    said = servers(fresh_database("ready")).said()

    assert "the database" not in said, said
