"""The schema comes from Alembic only, on both backends, and the spatial-temporal indexes are used.

SQLite answers viewport and time queries through the R*Tree of migration 0001; PostgreSQL through the
GiST indexes of migration 0003 on the PostGIS geometry and on the range of days.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from helpers import feature, square
from sqlalchemy import inspect, text
from werkzeug.datastructures import MultiDict

from timeline import create_app
from timeline.store.db import db, include_object


def test_models_and_migrations_agree(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


def test_db_check_reports_no_drift(runner):
    """`timeline db check` is what an operator runs after an upgrade; it must be quiet on both backends."""
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert result.exception is None


def test_downgrade_and_upgrade_again(app, backend):
    with app.app_context():
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names())
        assert not tables & {"events", "sources", "categories", "event_rtree", "users"}
        db.session.commit()  # end the read snapshot before the schema changes again
        upgrade()
        inspector = inspect(db.engine)
        assert {"events", "sources", "categories", "users", "revisions"} <= set(inspector.get_table_names())
        if backend == "sqlite":
            assert "event_rtree" in inspector.get_table_names()
        else:
            assert "geom" in {c["name"] for c in inspector.get_columns("events")}


# ---------------------------------------------------------------------------- data survives upgrades


def _insert_at_0001(connection, pk: int, event_id: str, geometry: dict, box: tuple[float, ...]) -> None:
    """Rows as revision 0001 stored them (no author, no was_published yet), written as plain SQL."""
    now = datetime(2024, 11, 11, 12, 0, tzinfo=UTC)
    connection.execute(
        text(
            "INSERT INTO events (pk, id, title, description, lang, start_date, end_date, date_precision,"
            " first_day, last_day, geometry, geometry_type, min_lon, min_lat, max_lon, max_lat, place,"
            " category_slug, actors, confidence, status, created_at, updated_at, version) VALUES"
            " (:pk, :id, :title, 'Before the upgrade', 'de', '2024-08', NULL, 'month', :first, :last,"
            " :geometry, :gtype, :x0, :y0, :x1, :y1, 'Суджа', 'offensive', :actors, 'confirmed',"
            " :status, :now, :now, 1)"
        ),
        {
            "pk": pk,
            "id": event_id,
            "title": f"Straße nach Суджа {pk}",
            "first": datetime(2024, 8, 1).date(),
            "last": datetime(2024, 8, 31).date(),
            "geometry": json.dumps(geometry),
            "gtype": geometry["type"],
            "x0": box[0],
            "y0": box[1],
            "x1": box[2],
            "y1": box[3],
            "actors": json.dumps(["Ukraine"]),
            "status": "published" if pk % 2 else "draft",
            "now": now,
        },
    )
    connection.execute(
        text(
            "INSERT INTO sources (event_pk, position, url, outlet, title, published)"
            " VALUES (:pk, 0, 'https://example.org/a', 'Example', 'A report', '2024-08')"
        ),
        {"pk": pk},
    )


def test_upgrading_a_database_with_data_loses_nothing(fresh_database, backend):
    """Upgrade to 0001, store events the way 0001 did, upgrade to head: every row is intact, and the
    backend's index (R*Tree or PostGIS geometry) covers the old rows as well as new ones."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_database("old", migrated=False),
                      "SECRET_KEY": "x"})  # fmt: skip
    point = {"type": "Point", "coordinates": [35.271, 51.191]}
    area = square(35.0, 51.0, 0.5)
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO categories VALUES ('offensive', 'Offensive', '#D55E00')"))
            _insert_at_0001(connection, 1, "old-point", point, (35.271, 51.191, 35.271, 51.191))
            _insert_at_0001(connection, 2, "old-area", area, (35.0, 51.0, 35.5, 51.5))
        with db.engine.connect() as connection:
            before = {t: connection.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()  # noqa: S608
                      for t in ("categories", "events", "sources")}  # fmt: skip

        upgrade()

        with db.engine.connect() as connection:
            for table, rows in before.items():
                after = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).mappings().all()  # noqa: S608
                assert len(after) == len(rows)
                for old, new in zip(rows, after, strict=True):
                    assert {k: new[k] for k in old._mapping} == dict(old._mapping), table
            flags = connection.execute(text("SELECT id, was_published FROM events ORDER BY pk")).all()
            assert [(i, bool(p)) for i, p in flags] == [("old-point", True), ("old-area", False)]
            if backend == "sqlite":
                assert connection.execute(text("SELECT count(*) FROM event_rtree")).scalar() == 2
            else:
                geoms = connection.execute(text("SELECT id, ST_AsText(geom) FROM events ORDER BY pk")).all()
                assert geoms[0] == ("old-point", "POINT(35.271 51.191)")
                assert geoms[1][1].startswith("POLYGON((35 51,")
        db.session.remove()
        db.engine.dispose()

    # The upgraded database serves the old rows through the same filters as new ones.
    client = app.test_client()
    body = client.get("/api/events", query_string={"bbox": "35.2,51.1,35.3,51.2", "q": "STRASSE"}).get_json()
    assert [f["id"] for f in body["features"]] == ["old-point"]  # the area is a draft: not public
    assert body["features"][0]["properties"]["sources"][0]["url"] == "https://example.org/a"
    with app.app_context():
        db.engine.dispose()


# ---------------------------------------------------------------------------- SQLite: the R*Tree


@pytest.mark.backends("sqlite")
def test_viewport_and_time_query_uses_the_rtree(app, load):
    from timeline.store.queries import filtered_events
    from timeline.web.params import parse_filters

    with app.app_context():
        f = parse_filters(MultiDict({"bbox": "34,50,37,52", "start": "2024-10", "end": "2024-10"}))
        stmt = filtered_events(db.session, f)
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "VIRTUAL TABLE INDEX" in plan and "event_rtree" in plan
        assert "SCAN events" not in plan
        # Driven by the R*Tree's hits, each fetched by rowid: not by walking a date index.
        assert "SEARCH events USING INTEGER PRIMARY KEY" in plan
        assert "ix_events_status_first_day" not in plan


@pytest.mark.backends("sqlite")
def test_rtree_follows_inserts_updates_and_deletes(app, load):
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


# ---------------------------------------------------------------------------- PostGIS: GiST indexes


@pytest.mark.backends("postgis")
def test_postgis_geometry_and_gist_indexes_exist(app):
    with app.app_context():
        column = db.session.execute(
            text("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'events'")
        ).one()
        assert tuple(column) == ("GEOMETRY", 4326)
        sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'"
        indexes = dict(db.session.execute(text(sql)).all())
        assert "USING gist (geom)" in indexes["ix_events_geom"]
        assert "USING gist (daterange(first_day, last_day, '[]'" in indexes["ix_events_days"]


@pytest.mark.backends("postgis")
def test_geometry_follows_the_geojson(app, load):
    """``geom`` is computed from the canonical GeoJSON: an edit moves it, an altitude is dropped."""
    load(feature("a", geometry={"type": "Point", "coordinates": [35.0, 51.0, 180.0]}))
    load(feature("b", geometry=square(35.0, 51.0)))
    with app.app_context():
        rows = dict(db.session.execute(text("SELECT id, ST_AsText(geom) FROM events")).all())
        assert rows["a"] == "POINT(35 51)"
        assert rows["b"].startswith("POLYGON((35 51,")
    load(feature("a", lon=36.5, lat=50.25))
    with app.app_context():
        geom = db.session.execute(text("SELECT ST_AsText(geom) FROM events WHERE id = 'a'")).scalar()
        assert geom == "POINT(36.5 50.25)"


@pytest.mark.backends("postgis")
def test_viewport_and_time_query_uses_the_gist_indexes(app):
    """With enough rows for an index to pay, the planner answers a bbox query from the GiST index."""
    with app.app_context():
        db.session.execute(text("INSERT INTO categories VALUES ('other', 'Other', '#999999')"))
        # 20,000 points spread over the world and over 20 years, written by the database itself.
        db.session.execute(
            text(
                "INSERT INTO events (id, title, description, lang, start_date, date_precision, first_day,"
                " last_day, geometry, geometry_type, min_lon, min_lat, max_lon, max_lat, place,"
                " category_slug, actors, confidence, status, created_at, updated_at, version)"
                " SELECT 'gen-' || i, 'Event ' || i, '', 'en', d::text, 'day', d, d,"
                " json_build_object('type', 'Point', 'coordinates', json_build_array(x, y))::text,"
                " 'Point', x, y, x, y, '', 'other', '[]', 'reported', 'published', now(), now(), 1"
                " FROM (SELECT i, (i * 7919 % 36000) / 100.0 - 180 AS x,"
                " (i * 104729 % 17000) / 100.0 - 85 AS y,"
                " date '2005-01-01' + (i * 31 % 7300) AS d FROM generate_series(1, 20000) AS i) AS g"
            )
        )
        db.session.commit()
        db.session.execute(text("ANALYZE events"))
        for args in ({"bbox": "34,50,37,52"}, {"bbox": "34,50,37,52", "start": "2024-10", "end": "2024-10"}):
            plan = _postgres_plan(args)
            assert "ix_events_geom" in plan, plan
            assert "Seq Scan on events" not in plan, plan
        plan = _postgres_plan({"start": "2024-10-01", "end": "2024-10-03"})
        assert "ix_events_days" in plan, plan
        assert "Seq Scan on events" not in plan, plan


def _postgres_plan(args: dict[str, str]) -> str:
    from timeline.store.queries import filtered_events
    from timeline.web.params import parse_filters

    stmt = filtered_events(db.session, parse_filters(MultiDict(args)))
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    return "\n".join(db.session.execute(text(f"EXPLAIN {sql}")).scalars())
