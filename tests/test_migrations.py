"""The schema comes from Alembic only, and the SQLite spatial-temporal index is really used."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from timeline.db import db, include_object


def test_models_and_migrations_agree(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        tables = {r[0] for r in db.session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
        assert "events" not in tables and "event_rtree" not in tables
        db.session.commit()  # end the read snapshot before the schema changes again
        upgrade()
        tables = {r[0] for r in db.session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
        assert {"events", "sources", "categories", "event_rtree"} <= tables


def test_viewport_and_time_query_uses_the_rtree(app, load):
    from werkzeug.datastructures import MultiDict

    from timeline.queries import filtered_events, parse_filters

    with app.app_context():
        f = parse_filters(MultiDict({"bbox": "34,50,37,52", "start": "2024-10", "end": "2024-10"}))
        stmt = filtered_events(db.session, f)
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "VIRTUAL TABLE INDEX" in plan and "event_rtree" in plan
        assert "SCAN events" not in plan


def test_rtree_follows_inserts_updates_and_deletes(app, load):
    from helpers import feature

    load(feature("a", lon=35.0, lat=51.0, start="2024-08-06"))
    with app.app_context():
        row = db.session.execute(text("SELECT min_lon, min_day FROM event_rtree")).one()
        assert round(row[0], 3) == 35.0 and row[1] == 19941  # days since 1970-01-01
    load(feature("a", lon=36.0, lat=51.0, start="2024-08-07"))
    with app.app_context():
        row = db.session.execute(text("SELECT min_lon, min_day FROM event_rtree")).one()
        assert round(row[0], 3) == 36.0 and row[1] == 19942
        db.session.execute(text("DELETE FROM revisions"))
        db.session.execute(text("DELETE FROM events"))
        db.session.commit()
        assert db.session.execute(text("SELECT count(*) FROM event_rtree")).scalar() == 0
