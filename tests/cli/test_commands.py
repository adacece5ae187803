"""The demo story and the `timeline` console script as an operator runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from timeline.store.db import db
from timeline.store.models import Category, Event


def test_demo_story_loads_once(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "0 created, 0 updated" in second.output
    with app.app_context():
        events = db.session.scalars(select(Event)).all()
        assert len(events) >= 12
        assert db.session.scalar(select(func.count()).select_from(Category)) >= 4
        # The story needs an area (territory held, labelled approximate) and at least one date range.
        areas = [e for e in events if e.geometry_type in ("Polygon", "MultiPolygon")]
        assert areas and any("approx" in (e.title + e.description).lower() for e in areas)
        assert any(e.end for e in events)
        assert {e.lang for e in events} <= {"de", "en"}
        assert {e.date_precision for e in events} >= {"day", "month"}
        assert all(e.sources for e in events)
        assert all(e.status == "published" for e in events)


def test_demo_story_covers_the_articles_context(app, runner, client):
    runner.invoke(args=["demo"])
    body = client.get("/api/events?limit=1000").get_json()
    starts = {f["properties"]["start"] for f in body["features"]}
    assert any(s.startswith("2024-08") for s in starts)  # the August 2024 incursion
    assert any(s.startswith("2024-06") for s in starts)  # the treaty signed in Pyongyang in June
    assert "2024-10" in starts  # the October casualty figures, at month precision
    # The seed article itself is cited; links are http(s) only.
    for f in body["features"]:
        for source in f["properties"]["sources"]:
            assert source["url"] is None or source["url"].startswith(("http://", "https://"))


def test_console_script_honours_database_url(tmp_path: Path):
    """`timeline db upgrade`, `demo` and `export` against the database DATABASE_URL names."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", "SECRET_KEY": "cli-test"}
    timeline = str(Path(sys.executable).with_name("timeline"))

    def run(*args):
        return subprocess.run([timeline, *args], env=env, capture_output=True, text=True, timeout=120)

    assert run("db", "upgrade").returncode == 0
    loaded = run("demo")
    assert loaded.returncode == 0, loaded.stderr
    assert "created" in loaded.stdout
    out = tmp_path / "story.geojson"
    exported = run("export", str(out))
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(out.read_text())["features"]) >= 12
    assert (tmp_path / "cli.sqlite").exists()
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    refused = run("import", str(bad))
    assert refused.returncode == 1
    assert "nothing was imported" in refused.stderr
    unknown = run("export", str(tmp_path / "x.unknown"))
    assert unknown.returncode == 2 and "unknown format" in unknown.stderr


def test_cache_features_fills_what_bulk_loads_left_out(app, runner):
    from sqlalchemy import delete

    from timeline.domain.features import feature_json
    from timeline.store.models import FeatureCache

    runner.invoke(args=["demo"])
    with app.app_context():
        db.session.execute(delete(FeatureCache))
        db.session.commit()
    result = runner.invoke(args=["cache-features"])
    assert result.exit_code == 0 and "cached 18 features" in result.output
    assert "cached 0 features" in runner.invoke(args=["cache-features"]).output
    with app.app_context():
        cached = {c.event_pk: c.json for c in db.session.scalars(select(FeatureCache))}
        assert cached == {e.pk: feature_json(e) for e in db.session.scalars(select(Event))}
