"""ACLED export tables: each column lands where a user looks for it, and is written back."""

import csv
import io
import json

import pytest
from acled_rows import SUDZHA, acled_table

from timeline.formats import by_file_name, sniffed
from timeline.formats.acled import COLUMNS, read_acled, write_acled
from timeline.formats.csv_table import TableRejected


def test_an_acled_row_becomes_an_event_with_its_facts():
    [feature] = read_acled(acled_table(SUDZHA))["features"]
    props = feature["properties"]
    assert feature["id"] == "acled-RUS12345" and props["external_id"] == "acled:RUS12345"
    assert feature["geometry"] == {"type": "Point", "coordinates": [35.2708, 51.1917]}
    assert (props["start"], props["date_precision"]) == ("2024-08-06", "day") and "end" not in props
    assert props["title"] == "Armed clash: Sudzha"
    assert props["category"] == "battles"
    assert props["place"] == "Sudzha, Kursk, Russia"
    assert props["actors"] == [
        "Military Forces of Ukraine (2019-)", "Freedom of Russia Legion", "Russian Volunteer Corps",
        "Military Forces of Russia (2000-)",
    ]  # fmt: skip
    assert props["description"].startswith("On 6 August 2024")
    assert props["sources"] == [{"outlet": "Meduza"}, {"outlet": "Ukrainska Pravda"}]
    kept = props["attributes"]
    assert kept["fatalities"] == 0 and kept["geo_precision"] == 1 and kept["iso"] == 643
    assert kept["admin2"] == "Sudzhanskiy" and kept["sub_event_type"] == "Armed clash"
    assert "civilian_targeting" not in kept  # empty cells are not kept


@pytest.mark.parametrize(
    ("code", "date", "expected"),
    [
        ("1", "2024-11-09", {"start": "2024-11-09", "date_precision": "day"}),
        ("2", "2024-11-09", {"start": "2024-11-06", "end": "2024-11-12", "date_precision": "day"}),
        ("3", "2024-11-15", {"start": "2024-11", "date_precision": "month"}),
        ("1", "09 November 2024", {"start": "2024-11-09", "date_precision": "day"}),
        ("1", "09-11-2024", {"start": "2024-11-09", "date_precision": "day"}),
    ],
)
def test_time_precision_gives_an_honest_date(code, date, expected):
    [feature] = read_acled(acled_table({**SUDZHA, "time_precision": code, "event_date": date}))["features"]
    props = feature["properties"]
    assert {k: props[k] for k in expected} == expected
    assert ("end" in props) == ("end" in expected)


def test_older_files_with_their_extra_columns_are_read():
    columns = ("data_id", "iso3", "event_id_no_cnty", *COLUMNS)
    row = {**SUDZHA, "data_id": "991", "iso3": "RUS", "event_id_no_cnty": "12345"}
    [feature] = read_acled(acled_table(row, columns=columns))["features"]
    assert feature["properties"]["attributes"]["iso3"] == "RUS"
    assert feature["properties"]["attributes"]["data_id"] == 991


def test_every_bad_row_is_listed_and_nothing_is_read():
    rows = [
        SUDZHA,
        {**SUDZHA, "event_id_cnty": "RUS2", "time_precision": "4"},
        {**SUDZHA, "event_id_cnty": "RUS3", "event_date": "yesterday"},
        {**SUDZHA, "event_id_cnty": "RUS4", "latitude": "51,19"},
        {**SUDZHA, "event_id_cnty": "RUS5", "fatalities": "many"},
    ]
    with pytest.raises(TableRejected) as caught:
        read_acled(acled_table(*rows))
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(3, "time_precision"), (4, "event_date"), (5, "latitude"), (6, "fatalities")}
    assert "4 of 5 rows" in caught.value.summary


def test_a_table_without_acled_columns_is_refused_by_name():
    with pytest.raises(TableRejected, match="not an ACLED export: missing columns event_id_cnty"):
        read_acled(b"title,lat,lon\r\nA,1,2\r\n")


def test_acled_files_are_told_apart_from_plain_csv():
    assert by_file_name("events.acled.csv").name == "acled"
    assert by_file_name("events.csv").name == "csv"
    assert by_file_name("Europe-2024.CSV").name == "csv"
    assert sniffed(by_file_name("Europe-2024.csv"), acled_table(SUDZHA)).name == "acled"
    assert sniffed(by_file_name("mine.csv"), b"title,lat,lon\r\n").name == "csv"


def written(features) -> list[dict[str, str]]:
    batch = [json.dumps(f).encode() for f in features]
    text = b"".join(write_acled([batch])).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_a_row_read_and_written_again_is_the_same_row():
    for code, date in (("1", "2024-08-06"), ("2", "2024-11-09"), ("3", "2024-11-15")):
        row = {**SUDZHA, "time_precision": code, "event_date": date}
        [again] = written(read_acled(acled_table(row))["features"])
        assert list(again) == list(COLUMNS)
        assert again == {name: row.get(name, "") for name in COLUMNS}, code


def test_our_own_events_are_written_with_what_we_know():
    own = {
        "type": "Feature", "id": "ev-1",
        "geometry": {"type": "Polygon", "coordinates": [[[35, 51], [36, 51], [36, 52], [35, 52], [35, 51]]]},
        "properties": {"title": "Front line", "start": "2024-10", "end": None, "date_precision": "month",
                       "category": "offensive", "place": "Kursk Oblast, Russia", "actors": ["A", "B", "C"],
                       "description": "=cmd", "sources": [{"url": "https://example.org/a", "outlet": ""}]},
    }  # fmt: skip
    [row] = written([own])
    assert (row["event_id_cnty"], row["event_date"], row["time_precision"]) == ("ev-1", "2024-10-16", "3")
    assert (row["actor1"], row["actor2"], row["assoc_actor_1"]) == ("A", "B", "C")
    assert row["location"] == "Kursk Oblast" and row["event_type"] == "Offensive"
    assert 35 < float(row["longitude"]) < 36 and 51 < float(row["latitude"]) < 52
    assert row["notes"] == "'=cmd"  # a formula is defused
    assert row["source"] == "https://example.org/a"
