"""The CSV writer and reader: RFC 4180 rows, defused formulas, and bad tables refused row by row."""

import io
import json

import pandas as pd
import pytest

from timeline.formats import csv_table
from timeline.formats.csv_table import COLUMNS, TableRejected, read_table, write_table

FEATURE = {
    "type": "Feature",
    "id": "ev1",
    "geometry": {"type": "Point", "coordinates": [30.5, 50.25]},
    "properties": {
        "title": '=HYPERLINK("x")',
        "start": "2024-10",
        "end": None,
        "date_precision": "month",
        "category": "battle",
        "place": 'Kyiv, "centre"',
        "actors": ["A", "B"],
        "sources": [{"url": "https://example.org/a", "outlet": "Ex", "title": None, "published": None}],
        "description": "line one\nline two",
    },
}


def _write(features):
    return b"".join(write_table([[json.dumps(f).encode() for f in features]]))


def test_the_table_is_rfc_4180_with_a_header_and_defused_formulas():
    data = _write([FEATURE])
    assert data.startswith(",".join(COLUMNS).encode() + b"\r\n")
    frame = pd.read_csv(io.BytesIO(data), keep_default_na=False)
    row = frame.iloc[0]
    assert row["title"] == '\'=HYPERLINK("x")'
    assert (row["lon"], row["lat"], row["wkt"]) == (30.5, 50.25, "POINT (30.5 50.25)")
    assert row["actors"] == "A; B" and row["description"] == "line one\nline two"
    assert json.loads(row["sources"])[0]["url"] == "https://example.org/a"


def test_a_written_table_reads_back_to_the_same_properties():
    feature = read_table(_write([FEATURE]))["features"][0]
    assert feature["id"] == "ev1" and feature["geometry"] == FEATURE["geometry"]
    props = feature["properties"]
    for name in ("title", "start", "date_precision", "category", "place", "actors", "sources", "description"):
        assert props[name] == FEATURE["properties"][name], name


def test_polygons_are_written_as_wkt_without_lon_lat_and_read_back():
    ring = [[0, 0], [1, 0], [1, 1], [0, 0]]
    area = {**FEATURE, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    data = _write([area])
    assert b"POLYGON ((0 0, 1 0, 1 1, 0 0))" in data
    back = read_table(data)["features"][0]["geometry"]
    assert back["type"] == "Polygon" and [list(map(float, p)) for p in back["coordinates"][0]] == ring


def test_common_header_names_and_a_bom_are_read():
    table = "\ufeffName,Date,Latitude,Lng\r\nA,2024-01-02,1.5,2.5\r\n".encode()
    feature = read_table(table)["features"][0]
    assert feature["properties"] == {"title": "A", "start": "2024-01-02"}
    assert feature["geometry"] == {"type": "Point", "coordinates": [2.5, 1.5]}


@pytest.mark.parametrize(
    "table, words",
    [
        ("title,date,lat,lon\nA,2024,1.5,2\n".encode("utf-16"), "UTF-16"),
        ("title,date,lat,lon\nKöln,2024,1.5,2\n".encode("latin-1"), "not UTF-8"),
        (b"", "empty"),
        (b"title,lat,lon\nA,1,2\n", "missing required columns: start"),
        (b"name,date\nA,2024\n", "geometry"),
    ],
)
def test_unreadable_tables_are_refused_with_a_reason(table, words):
    with pytest.raises(TableRejected) as caught:
        read_table(table)
    assert words in str(caught.value)


def test_every_bad_row_is_listed_with_its_number_column_and_reason():
    table = b'title,date,lat,lon\nA,2024,"1,5",2\nB,2024,1,2\nC,2024,1,200\nD,2024,x,2\n'
    with pytest.raises(TableRejected) as caught:
        read_table(table)
    listed = [str(p) for p in caught.value.problems]
    assert listed[0].startswith("row 2, column lat:") and "comma" in listed[0]
    assert listed[1].startswith("row 4, column lon:") and "outside" in listed[1]
    assert listed[2].startswith("row 5, column lat:") and "not a number" in listed[2]
    assert "3 of 4 rows" in caught.value.summary


# A table whose rows a reader reading a few bytes at a time must join across its reads: a byte
# order mark, CRLF and lone CR line ends, characters of two to four bytes, a quoted cell with a
# line break, and a blank row.
AWKWARD = (
    "\ufefftitle,date,lat,lon,description\r\n"
    'Köln 🚀,2024-01-02,50.9,6.9,"first line\r\nsecond, quoted ""line"""\r\n'
    "\r\n"
    "Łódź,2024-02,51.75,19.45,ü\r"
    "Ѣ,2024,1,2,end\n"
).encode()


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_a_table_read_a_few_bytes_at_a_time_reads_the_same(monkeypatch, chunk):
    whole = read_table(AWKWARD)
    monkeypatch.setattr(csv_table, "READ_CHUNK", chunk)
    assert read_table(AWKWARD) == whole
    assert [f["properties"]["title"] for f in whole["features"]] == ["Köln 🚀", "Łódź", "Ѣ"]
    assert whole["features"][0]["properties"]["description"] == 'first line\r\nsecond, quoted "line"'
    assert [f["row"] for f in whole["features"]] == [2, 4, 5]


@pytest.mark.parametrize("chunk", [1, 4, 64])
def test_a_byte_that_is_not_utf8_is_named_by_its_place_in_the_file(monkeypatch, chunk):
    monkeypatch.setattr(csv_table, "READ_CHUNK", chunk)
    table = "\ufefftitle,date,lat,lon\r\nKöln,2024,1.5,2\r\n".encode()
    table += "Zürich,2024,1,2\r\n".encode("latin-1")
    with pytest.raises(TableRejected) as caught:
        read_table(table)
    assert "byte 39 cannot be read" in str(caught.value)  # after the mark: "Z" is byte 38


def test_every_bad_row_is_listed_after_a_good_one_too():
    good = "".join(f"Event {i},2024,1,2\n" for i in range(50))
    table = f"title,date,lat,lon\n{good}Bad,2024,x,2\n{good}Worse,2024,1,500\n".encode()
    with pytest.raises(TableRejected) as caught:
        read_table(table)
    assert [str(p).split(":")[0] for p in caught.value.problems] == [
        "row 52, column lat",
        "row 103, column lon",
    ]
    assert "2 of 102 rows are invalid" in caught.value.summary
