"""Full-text search (migration 0009, timeline/store/search.py) as a client sees it, on both backends.

The oracle is what ``q`` answered before the index: a case-folded LIKE over title, description and
place. For whole words and word prefixes, which is what both must agree on, the index gives the same
events, on a story in German, Russian, Ukrainian, French, Polish, Greek and English. Beyond that the
index also reads actors and outlets, folds accents (``cafe`` finds "Café"), and matches words from
their start only.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import auth, feature
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

from timeline.store import queries
from timeline.store.db import db
from timeline.store.models import Event
from timeline.store.queries import conditions, like_text_condition
from timeline.store.search import rebuild_search_index
from timeline.web.params import parse_filters


def _event(event_id: str, lon: float, lat: float, start: str, outlet: str, **props: Any) -> dict[str, Any]:
    source = {"url": f"https://example.org/{event_id}", "outlet": outlet, "title": "", "published": None}
    return feature(event_id, lon=lon, lat=lat, start=start, sources=[source], **{"actors": [], **props})


STORY = [
    _event("de-strasse", 35.27, 51.19, "2024-08-06", "Der Spiegel", category="offensive",
           title="Angriff auf der Straße nach Sudscha", place="Sudscha, Oblast Kursk",
           description="Gepanzerte Fahrzeuge rücken über die Grenze vor.", actors=["Ukraine"]),
    _event("ru-sudzha", 35.28, 51.20, "2024-08-10", "ТАСС", category="offensive",
           title="Бои в Судже", place="Суджа", actors=["Россия", "Украина"],
           description="Украинские войска вошли в Суджу. Губернатор сообщил об эвакуации."),
    _event("uk-kyiv", 30.52, 50.45, "2024-09-01", "Укрінформ", category="diplomacy",
           title="Обстріл Києва", place="Київ", description="Сили ППО збили ракети над Києвом."),
    _event("fr-cafe", 36.58, 50.60, "2024-10-02", "Le Monde", category="diplomacy",
           title="Frappe près du Café de la Paix", place="Belgorod",
           description="Des témoins décrivent l'explosion."),
    _event("pl-lodz", 19.46, 51.76, "2024-11-11", "Gazeta Wyborcza", category="deployment",
           title="Konwój w Łodzi", place="Łódź", description="Żołnierze przejechali przez miasto."),
    _event("el-synora", 23.73, 37.98, "2023-05", "Kathimerini", category="diplomacy", date_precision="month",
           title="ΣΥΝΟΡΑ ΚΛΕΙΣΤΑ", place="Αθήνα", description="Η κυβέρνηση έκλεισε τα σύνορα."),
    _event("en-convoy", 36.19, 51.73, "2024-10-20", "BBC", category="deployment", actors=["Russia"],
           title="Convoy spotted near Kursk", place="Kursk",
           description="Satellite images show a supply convoy on the M2 road."),
    _event("draft", 35.30, 51.21, "2024-08-07", "Der Spiegel", status="draft",
           title="Straße nach Sudscha gesperrt", place="Sudscha", description="Noch unbestätigt."),
]  # fmt: skip


@pytest.fixture
def story(load):
    load(*STORY)


def ids(client, **args: str) -> list[str]:
    response = client.get("/api/events", query_string={"limit": 1000, **args})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["numberMatched"] == len(body["features"])
    return [f["id"] for f in body["features"]]


def like_ids(app, **args: str) -> list[str]:
    """The oracle: the same filter, with q answered by the LIKE over every row it used to be."""
    with app.app_context():
        f = parse_filters(MultiDict(args), max_limit=None)
        q, f.text = f.text, None
        dialect = db.engine.dialect.name
        stmt = select(Event.id).where(*conditions(f, dialect), like_text_condition(q or "", dialect))
        found = db.session.scalars(stmt.order_by(Event.first_day, Event.last_day, Event.id)).all()
        db.session.remove()
    return list(found)


OFFENSIVE = {"category": "offensive"}
# Whole words and word prefixes, folded as LIKE folds them (case only), none of them in an actor or
# an outlet, where LIKE never looked.
ORACLE_QUERIES = [
    "STRASSE", "Straße", "straß", "strasse nach", "Sudsch", "суджа", "СУДЖ", "Києв", "Café", "Łódź",
    "ΣΥΝΟΡΑ", "convoy", "Kursk", "m2", "explosion", "Gepanzert", "Pyongyang",
]  # fmt: skip


def test_the_index_finds_what_the_like_search_found(app, client, story):
    found_some = 0
    for q in ORACLE_QUERIES:
        for extra in (
            {},
            {"bbox": "34,50,37,52"},
            {"start": "2024-08", "end": "2024-10"},
            {"category": "offensive"},
        ):
            args = {"q": q, **extra}
            expected = like_ids(app, **args)
            assert ids(client, **args) == expected, args
            found_some += bool(expected)
    assert found_some > 25  # the questions are not all trivially empty


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ukraine", ["de-strasse"]),  # an actor
        ("УКРАИНА", ["ru-sudzha"]),
        ("spiegel", ["de-strasse"]),  # an outlet (the draft's too, but it is not public)
        ("тасс", ["ru-sudzha"]),
        ("bbc kursk", ["en-convoy"]),  # an outlet and a place, both words needed
        ("wyborcza żołnierze", ["pl-lodz"]),
    ],
)
def test_actors_and_outlets_are_searched_too(client, story, q, expected):
    assert ids(client, q=q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("cafe", ["fr-cafe"]),
        ("CAFÉ", ["fr-cafe"]),
        ("temoins", ["fr-cafe"]),
        ("lodz", ["pl-lodz"]),
        ("Lodzi", ["pl-lodz"]),
        ("zolnierze", ["pl-lodz"]),
        ("συνορα", ["el-synora"]),
        ("σύνορα", ["el-synora"]),
        ("kyjiw", []),  # folding is not transliteration
    ],
)
def test_accents_fold_on_both_sides(client, story, q, expected):
    assert ids(client, q=q) == expected


def test_words_match_from_their_start_and_every_word_must_match(client, load):
    load(
        feature("main-road", title="Hauptstraße gesperrt", place="Sudscha", description="Wegen Beschuss"),
        feature("road", title="Straße frei", place="Kursk", description="Wieder offen"),
    )
    assert ids(client, q="strasse") == ["road"]  # not in the middle of "Hauptstraße"
    assert ids(client, q="haupt") == ["main-road"]
    assert ids(client, q="str sud") == []
    assert ids(client, q="gesperrt sud") == ["main-road"]
    assert ids(client, q="sudscha sudscha") == ["main-road"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"convoy', ["en-convoy"]),
        ('convoy"', ["en-convoy"]),
        ("NEAR(convoy", ["en-convoy"]),  # "near" is a word of its title
        ("convoy OR straße", []),  # every word must match, "or" too
        ("title:convoy", []),
        ("convoy*", ["en-convoy"]),
        ("-convoy", ["en-convoy"]),
        ("^convoy", ["en-convoy"]),
        ("(convoy)", ["en-convoy"]),
        ("convoy AND", []),
        ("'convoy':*A & !x", []),
        ("\\", []),
        ("!!!", []),  # no word at all: nothing
        ("«»", []),
    ],
)
def test_query_syntax_in_q_is_searched_as_text(client, story, q, expected):
    assert ids(client, q=q) == expected
    for path, more in (("/api/clusters", {"zoom": 4}), ("/api/density", {}), ("/export/events.geojson", {})):
        response = client.get(path, query_string={"q": q, **more})
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:200])


def test_counts_clusters_density_and_export_agree_with_the_list(client, story):
    for args in ({"q": "sud"}, {"q": "sud", "bbox": "34,50,37,52"}, {"q": "kursk", "start": "2024-10"}):
        listed = ids(client, **args)
        assert listed
        clusters = client.get("/api/clusters", query_string={"zoom": 5, **args}).get_json()
        assert clusters["numberMatched"] == len(listed), args
        density = client.get("/api/density", query_string=args).get_json()
        assert sum(w["count"] for w in density["weeks"]) == len(listed), args
        export = client.get("/export/events.geojson", query_string=args).get_json()
        assert sorted(f["id"] for f in export["features"]) == sorted(listed), args


def test_editors_find_drafts_by_their_words(client, story, users):
    body = client.get("/api/events?q=gesperrt", headers=auth(users["editor"]["token"])).get_json()
    assert [f["id"] for f in body["features"]] == ["draft"]
    assert ids(client, q="gesperrt") == []


# One word each: in titles, as a prefix, only in outlets, in both, in Cyrillic, folded.
COUNTED_QUERIES = ("troops", "kurs", "radio", "drone", "суджа", "STRASSE")


def test_a_searchs_count_from_the_index_equals_a_count_of_its_rows(app, client, load, users):
    """``numberMatched`` of a ``q`` alone comes from the index's hits less the hidden events among
    them (SQLite); after drafts, deletes and restores it equals a count of the matching rows."""
    import random

    rng = random.Random(11)
    words = ["troops", "convoy", "Kursk", "Суджа", "Straße", "drone"]
    outlets = ["Kursk Radio", "Drone Watch", "ТАСС", "Le Monde"]
    features = [
        _event(
            f"e{i}", 35.0 + i / 100, 51.0, f"2024-{1 + i % 12:02d}-01", rng.choice(outlets),
            title=" ".join(rng.sample(words, 2)), description=rng.choice([*words, "", "calm day"]),
            status="draft" if i % 7 == 0 else "published",
        )
        for i in range(60)
    ]  # fmt: skip
    load(*features)
    admin = auth(users["admin"]["token"])
    for i in range(0, 60, 5):
        assert client.delete(f"/api/events/e{i}", headers=admin).status_code == 204
    for i in range(0, 60, 15):
        assert client.post(f"/api/events/e{i}/restore", headers=admin).status_code == 200
    with app.app_context():
        dialect = db.engine.dialect.name
        for q in (*COUNTED_QUERIES, "troops kursk", "monde convoy", "nowhere"):
            for include_drafts in (False, True):
                f = queries.EventFilter(text=q, include_drafts=include_drafts)
                by_rows = select(func.count()).select_from(Event).where(*conditions(f, dialect))
                expected = db.session.scalar(by_rows)
                assert queries.count_events(db.session, f) == expected, (q, include_drafts)
        assert queries.count_events(db.session, queries.EventFilter(text="troops")) > 0
        db.session.remove()


# ---------------------------------------------------------------------------- the index follows writes


def test_the_index_follows_every_write(client, load, users):
    admin = auth(users["admin"]["token"])
    source = {"url": "https://example.org/a", "outlet": "Epsilon Radio", "title": "", "published": None}
    load(feature("ev", title="Alpha", description="Beta", place="Gamma", actors=["Delta"], sources=[source]))
    for word in ("alpha", "beta", "gamma", "delta", "epsilon", "radio"):
        assert ids(client, q=word) == ["ev"], word

    moved = {"url": "https://example.org/b", "outlet": "Eta", "title": "", "published": None}
    patched = client.patch(
        "/api/events/ev",
        json={"properties": {"title": "Zeta", "actors": ["Theta"], "sources": [moved, source]}},
        headers={**admin, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.get_json()
    assert ids(client, q="alpha") == [] and ids(client, q="delta") == []
    for word in ("zeta", "theta", "eta", "epsilon", "beta"):
        assert ids(client, q=word) == ["ev"], word

    dropped = client.patch(
        "/api/events/ev", json={"properties": {"sources": [moved]}}, headers={**admin, "If-Match": '"2"'}
    )
    assert dropped.status_code == 200, dropped.get_json()
    assert ids(client, q="epsilon") == [] and ids(client, q="eta") == ["ev"]

    assert client.delete("/api/events/ev", headers=admin).status_code == 204  # a soft delete
    assert ids(client, q="zeta") == []
    assert client.post("/api/events/ev/restore", headers=admin).status_code == 200
    assert ids(client, q="zeta") == ["ev"]


def test_a_deleted_row_leaves_the_index(app, backend, load):
    load(feature("gone", title="Vanishing act"), feature("kept", title="Vanishing point"))
    with app.app_context():
        for table in ("feature_cache", "revisions"):
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
        db.session.execute(text("DELETE FROM events WHERE id = 'gone'"))
        db.session.commit()
        if backend == "sqlite":
            indexed = db.session.execute(text("SELECT count(*) FROM event_search")).scalar()
            outlets = db.session.execute(text("SELECT count(*) FROM source_search")).scalar()
            assert (indexed, outlets) == (1, 1)
    assert ids(app.test_client(), q="vanishing") == ["kept"]


def test_rebuild_search_index_refills_a_lost_index(app, backend, client, load):
    """SQLite: an index emptied behind the triggers' back. PostgreSQL, whose words the triggers of
    migration 0016 compute from each row: words folded by rules that have since changed (as a major
    upgrade may change the server's unaccent rules), simulated by a folding that turns "lost" into
    "found"."""
    load(feature("a", title="Lost words"), feature("b", title="Lost again"), feature("c", title="Lost too"))
    with app.app_context():
        if backend == "sqlite":
            db.session.execute(text("DELETE FROM event_search"))
            db.session.execute(text("DELETE FROM source_search"))
        else:
            db.session.execute(text("ALTER FUNCTION tl_search_words(text) RENAME TO tl_search_words_kept"))
            db.session.execute(
                text(
                    "CREATE FUNCTION tl_search_words(value text) RETURNS text LANGUAGE sql IMMUTABLE"
                    " AS $$ SELECT replace(tl_search_words_kept(value), 'lost', 'found') $$"
                )
            )
        db.session.commit()
        db.engine.dispose()  # no connection keeps plans made with the old function
    lost, found = ("lost", "lost") if backend == "sqlite" else ("lost", "found")
    try:
        assert ids(client, q=found) == []
        with app.app_context():
            pk = db.session.scalar(select(Event.pk).where(Event.id == "b"))
            assert rebuild_search_index(db.session, [pk]) == 1
            db.session.commit()
        assert ids(client, q=found) == ["b"]
        if backend == "sqlite":
            assert ids(client, q="example") == ["b"]  # its outlet, in the other FTS5 table
        with app.app_context():
            assert rebuild_search_index(db.session) == 3
            db.session.commit()
        assert ids(client, q=found) == ["a", "b", "c"]
        assert ids(client, q="example") == ["a", "b", "c"]
        if backend != "sqlite":
            assert ids(client, q=lost) == []
    finally:
        if backend != "sqlite":
            with app.app_context():
                db.session.execute(text("DROP FUNCTION tl_search_words(text)"))
                kept = "ALTER FUNCTION tl_search_words_kept(text) RENAME TO tl_search_words"
                db.session.execute(text(kept))
                db.session.commit()
                db.engine.dispose()


# ---------------------------------------------------------------------------- the plans


def _plan(app, args: dict[str, str], **kwargs: Any) -> str:
    with app.app_context():
        stmt = queries.filtered_events(db.session, parse_filters(MultiDict(args)), **kwargs)
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        rows = db.session.execute(text(explain + sql)).all()
        db.session.remove()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.backends("sqlite")
def test_sqlite_answers_q_from_the_full_text_index(app, story, monkeypatch):
    combined = {
        "q": "sud",
        "bbox": "34,50,37,52",
        "start": "2024-08",
        "end": "2024-10",
        "category": "offensive",
    }
    plan = _plan(app, combined)
    assert "event_search VIRTUAL TABLE INDEX" in plan and "source_search VIRTUAL TABLE INDEX" in plan
    assert "event_rtree" in plan and "SCAN events" not in plan
    assert "SEARCH events USING INTEGER PRIMARY KEY" in plan  # fetched by the indexes' hits
    # Few hits: fetched by rowid and sorted. Many: the date index is walked in timeline order,
    # each event looked up in the hits, until the page is full.
    assert "SEARCH events USING INTEGER PRIMARY KEY" in _plan(app, {"q": "sud"})
    monkeypatch.setattr(queries, "TEXT_DRIVES_UP_TO", 1)
    walk = _plan(app, {"q": "sud"})
    assert "ix_events_live" in walk and "event_search VIRTUAL TABLE INDEX 0:=" in walk, walk
    # Many hits in a viewport: the R*Tree's events are each checked against their stored words.
    checked = _plan(app, combined)
    assert "event_rtree" in checked and "event_search VIRTUAL TABLE INDEX 0:=" in checked, checked
    assert "SCAN events" not in checked
    for args in ({"q": "sud"}, combined):  # the same answers either way
        assert ids(app.test_client(), **args) == ["de-strasse"]


@pytest.mark.backends("postgis")
def test_postgres_answers_q_from_the_gin_index(app):
    """With enough rows for the indexes to pay (20,000 events with descriptions of realistic length),
    a rare word is looked up in the GIN index, alone or with a viewport, a year and a category, and
    the few events of a viewport and a month are found by the GiST index and checked for the word,
    rare or common; nothing reads the whole table."""
    with app.app_context():
        db.session.execute(text("INSERT INTO categories VALUES ('other', 'Other', '#999999')"))
        db.session.execute(
            text(
                "INSERT INTO events (id, title, description, lang, start_date, date_precision, first_day,"
                " last_day, geometry, geometry_type, min_lon, min_lat, max_lon, max_lat, place,"
                " category_slug, actors, confidence, status, created_at, updated_at, version)"
                " SELECT 'gen-' || i, CASE WHEN i % 5000 = 0 THEN 'Rare Zyxwort ' ELSE 'Common ' END || i,"
                " repeat('Troops advance near the border. ', 36), 'en', d::text, 'day', d, d,"
                " json_build_object('type', 'Point', 'coordinates', json_build_array(x, y))::text,"
                " 'Point', x, y, x, y, 'Kursk', 'other', '[\"Ukraine\"]', 'reported', 'published', now(),"
                " now(), 1 FROM (SELECT i, 34 + (i * 7919 % 300) / 100.0 AS x,"
                " 50 + (i * 104729 % 200) / 100.0 AS y, date '2024-01-01' + (i * 31 % 700) AS d"
                " FROM generate_series(1, 20000) AS i) AS g"
            )
        )
        db.session.commit()
        db.session.execute(text("ANALYZE events"))
        db.session.commit()
        db.session.remove()
    year = {"bbox": "34,50,37,52", "start": "2024", "end": "2024", "category": "other"}
    for args in ({"q": "zyxwort"}, {"q": "zyx"}, {"q": "zyxw", **year}):
        plan = _plan(app, args)
        assert "ix_events_search" in plan, (args, plan)
        assert "Seq Scan on events" not in plan, (args, plan)
    month = {"bbox": "35,50.5,35.6,50.8", "start": "2024-10", "end": "2024-10", "category": "other"}
    for q in ("troops", "zyxw"):
        plan = _plan(app, {"q": q, **month})
        assert "ix_events_geom_days" in plan and "Seq Scan on events" not in plan, (q, plan)
    assert sorted(ids(app.test_client(), q="zyxw")) == [f"gen-{i}" for i in (10000, 15000, 20000, 5000)]


@pytest.mark.backends("postgis")
def test_postgres_keeps_each_vector_to_its_text_however_it_is_written(app, client, load):
    """The vectors are plain columns kept by triggers (migration 0016), so that a bulk import can
    write them from words folded in Python; a statement that writes one gets its text's words."""
    outlet = [{"url": "https://example.org/m", "outlet": "Медуза", "title": "Report"}]
    load(feature("a", title="Kept words", sources=outlet), feature("b", title="Other words"))
    with app.app_context():
        db.session.execute(text("UPDATE events SET search = 'bogus'::tsvector"))
        db.session.execute(text("UPDATE sources SET search = 'bogus'::tsvector"))
        db.session.execute(text("UPDATE events SET title = 'Renamed words' WHERE id = 'b'"))
        db.session.commit()
        db.session.remove()
    assert ids(client, q="bogus") == []
    assert ids(client, q="kept") == ["a"]
    assert ids(client, q="МЕДУЗА") == ["a"]
    assert ids(client, q="renamed") == ["b"]
    assert ids(client, q="other") == []


def test_the_plan_bound_counts_own_words_and_outlets_and_leaves_the_session_as_it_was(app, backend, load):
    """``matches_at_most`` (which plan a ``q`` takes) counts hits in the event's own words and its
    outlets; on PostgreSQL it reads the outlets through their index, and the transaction's planner
    settings are the same after it."""
    from timeline.store.search import matches_at_most

    outlet = [{"url": "https://example.org/m", "outlet": "Медуза", "title": "Report"}]
    load(*(feature(f"m{i}", title=f"Report {i}", sources=outlet) for i in range(3)))
    load(feature("own", title="Медуза itself", sources=[]))
    with app.app_context():
        assert matches_at_most(db.session, "МЕДУЗА", 4) is True
        assert matches_at_most(db.session, "медуза", 3) is False  # 1 own + 3 outlets
        assert matches_at_most(db.session, "zyxwort", 0) is True
        if backend != "sqlite":
            assert db.session.scalar(text("SELECT current_setting('enable_seqscan')")) == "on"
        db.session.remove()


# ---------------------------------------------------------------------------- the migration


def test_the_index_is_dropped_by_the_downgrade_and_filled_by_the_upgrade(app, backend, client, load):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    load(feature("old", title="Before the upgrade", place="Суджа"), feature("other", title="Other"))
    with app.app_context():
        downgrade(revision="0008")
        inspector = inspect(db.engine)
        assert not {"event_search", "source_search"} & set(inspector.get_table_names())
        assert "search" not in {c["name"] for c in inspector.get_columns("events")}
        db.session.commit()
        upgrade()
        db.session.remove()
    assert ids(client, q="upgrade") == ["old"]
    assert ids(client, q="СУДЖА") == ["old"]
    assert ids(client, q="example") == ["old", "other"]  # outlets of sources stored before
