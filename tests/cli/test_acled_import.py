"""ACLED files through the command line: a newer export updates the same events, reports what it
no longer has, and the events go back out as ACLED rows."""

import csv
import io

from acled_rows import SUDZHA, acled_table
from sqlalchemy import func, select

from timeline.store.db import db
from timeline.store.models import Event, Revision


def _events(app):
    with app.app_context():
        return {e.id: (e.attributes.get("fatalities"), e.version) for e in db.session.scalars(select(Event))}


def test_a_newer_acled_file_updates_its_events_and_names_the_missing(app, runner, client, tmp_path):
    first = [
        SUDZHA,
        {**SUDZHA, "event_id_cnty": "RUS2", "location": "Guyevo", "fatalities": "2"},
        {**SUDZHA, "event_id_cnty": "RUS3", "location": "Korenevo"},
    ]
    path = tmp_path / "Russia-2024.csv"  # named as downloaded: told apart by its header
    path.write_bytes(acled_table(*first))
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 created" in result.output
    newer = [
        {**SUDZHA, "fatalities": "4"},  # ACLED corrected a figure: an update
        first[1],  # as before: unchanged
        {**SUDZHA, "event_id_cnty": "RUS9"},  # new; RUS3 is gone from the newer file
    ]
    path.write_bytes(acled_table(*newer))
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created, 1 updated, 1 unchanged" in result.output
    assert "1 events from earlier ACLED files for Russia are not in this file" in result.output
    assert "acled-RUS3" in result.output
    events = _events(app)
    assert events == {
        "acled-RUS12345": (4, 2), "acled-RUS2": (2, 1), "acled-RUS3": (0, 1), "acled-RUS9": (0, 1)
    }  # fmt: skip
    with app.app_context():  # the update is a revision like any edit
        assert db.session.scalar(select(func.count()).select_from(Revision)) == 5

    response = client.get("/export/events.acled.csv?q=Guyevo")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["event_id_cnty"] == "RUS2" and row["fatalities"] == "2" and row["location"] == "Guyevo"
    out = tmp_path / "mirror.acled.csv"
    assert runner.invoke(args=["export", str(out)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {r["event_id_cnty"] for r in rows} == {"RUS12345", "RUS2", "RUS3", "RUS9"}


def test_a_bad_acled_file_imports_nothing(app, runner, tmp_path):
    path = tmp_path / "bad.acled.csv"
    path.write_bytes(acled_table(SUDZHA, {**SUDZHA, "event_id_cnty": "RUS2", "time_precision": "7"}))
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "row 3, column time_precision" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0
