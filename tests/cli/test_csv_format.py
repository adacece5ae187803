"""CSV through the command line and the download: imported all or nothing, exported with filters."""

import io

import pandas as pd
from sqlalchemy import func, select

from timeline.store.db import db
from timeline.store.models import Event

TABLE = (
    "title,date,latitude,longitude,category,actors\r\n"
    "A,2024-01-02,50.5,30.5,battle,X; Y\r\n"
    "B,2024-03,48,35,other,\r\n"
)


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


def test_a_csv_imports_and_exports_through_cli_and_http(app, runner, client, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(TABLE, encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and _count(app) == 2
    out = tmp_path / "out.csv"
    assert runner.invoke(args=["export", str(out)]).exit_code == 0
    frame = pd.read_csv(out, keep_default_na=False)
    assert sorted(frame["title"]) == ["A", "B"]
    response = client.get("/export/events.csv?category=battle")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = pd.read_csv(io.BytesIO(response.data), keep_default_na=False)
    assert list(rows["title"]) == ["A"] and rows["actors"][0] == "X; Y"
    assert (rows["lon"][0], rows["lat"][0]) == (30.5, 50.5)


def test_a_bad_csv_imports_nothing_and_lists_each_row(app, runner, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(TABLE + 'C,2024,"1,5",2\r\nD,not-a-date,1,2\r\n', encoding="utf-8")
    result = runner.invoke(args=["import", "--format", "csv", str(path)])
    assert result.exit_code == 1
    assert "row 4, column latitude" in result.output and "comma" in result.output
    assert _count(app) == 0


def test_a_row_the_event_checks_refuse_imports_nothing(app, runner, tmp_path):
    path = tmp_path / "dates.csv"
    # A blank line before it: the row number is still the table's own (the 5th line).
    path.write_text(TABLE + "\r\nD,not-a-date,1,2\r\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1 and "row 5" in result.output and "start" in result.output
    assert _count(app) == 0


NEWSROOM = "Headline,When,Y,X,Desk\r\nTroops enter Sudzha,2024-08-06,51.19,35.27,Kyiv\r\n"


def test_a_table_with_its_own_headers_imports_through_a_mapping(app, runner, tmp_path):
    path = tmp_path / "newsroom.csv"
    path.write_text(NEWSROOM, encoding="utf-8")
    refused = runner.invoke(args=["import", str(path)])
    assert refused.exit_code == 1 and "missing required columns" in refused.output
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"title": "Headline", "start": "When", "lat": "Y"}', encoding="utf-8")
    result = runner.invoke(args=["import", str(path), "--mapping", str(mapping), "--column", "lon=X"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        event = db.session.scalars(select(Event)).one()
        assert (event.title, event.start, event.min_lon, event.min_lat) == (
            "Troops enter Sudzha",
            "2024-08-06",
            35.27,
            51.19,
        )


def test_a_mapping_that_names_a_missing_column_or_field_is_refused(app, runner, tmp_path):
    path = tmp_path / "newsroom.csv"
    path.write_text(NEWSROOM, encoding="utf-8")
    result = runner.invoke(args=["import", str(path), "--column", "title=Headlne"])
    assert result.exit_code == 1 and "'Headlne'" in result.output and "headline" in result.output
    result = runner.invoke(args=["import", str(path), "--column", "colour=Desk"])
    assert result.exit_code == 1 and "the mapping names colour" in result.output
    result = runner.invoke(args=["import", str(path), "--column", "title"])
    assert result.exit_code == 2 and "FIELD=HEADER" in result.output
    assert _count(app) == 0
