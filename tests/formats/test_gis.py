"""GIS files: written so that GDAL and geopandas read them, read back field by field, and refused
clearly when they are not what they claim to be."""

import io
import json
import tracemalloc
import zipfile

import geopandas
import pyarrow.parquet
import pyogrio
import pytest
import shapely
from helpers import feature, square

from timeline.formats import by_file_name
from timeline.formats.csv_table import TableRejected
from timeline.formats.gis import COLUMNS

EVENTS = [
    feature(
        "sudzha-day", title="Ukrainian forces enter Sudzha", start="2024-08-06",
        actors=["Ukraine", "Russia"], place="Sudzha, Kursk Oblast",
        sources=[{"url": "https://example.org/a", "outlet": "Meduza", "published": "2024-08-07"}],
        external_id="acled:RUS1", attributes={"fatalities": 3, "admin2": "Sudzhanskiy"},
    ),
    feature("kursk-month", title="Build-up „Kursk“ — Курск", start="2024-11", date_precision="month",
            description="Line one\nline two", lang="de"),
    feature("area-span", geometry=square(34.8, 51.1, 0.5), start="2024-08-10", end="2024-09-30",
            confidence="claimed", status="draft"),
    feature("line-year", geometry={"type": "LineString", "coordinates": [[35.0, 51.0], [36.0, 51.5]]},
            start="2023", date_precision="year", actors=[]),
]  # fmt: skip


def write(fmt_name: str, tmp_path, events=EVENTS):
    fmt = by_file_name(f"events.{fmt_name}")
    path = tmp_path / f"events.{fmt.extension}"
    path.write_bytes(b"".join(fmt.write([[json.dumps(e).encode() for e in events]])))
    return fmt, path


def comparable(f):
    """The properties a file holds, as the API would give them (absent ones as their defaults)."""
    props = {name: f["properties"].get(name) for name in COLUMNS if name != "id"}
    props["actors"] = props["actors"] or None
    props["attributes"] = props["attributes"] or None
    props["sources"] = props["sources"] or None
    return f.get("id"), f["geometry"], props


@pytest.mark.parametrize("fmt_name", ["gpkg", "parquet", "fgb"])
def test_a_file_read_back_gives_the_same_features_field_by_field(fmt_name, tmp_path):
    fmt, path = write(fmt_name, tmp_path)
    back = fmt.read(path.read_bytes())
    assert back["notes"] == []
    # FlatGeobuf orders its features along its spatial index; the others keep the file's order.
    assert sorted(comparable(f) for f in back["features"]) == sorted(comparable(e) for e in EVENTS)


@pytest.mark.parametrize("fmt_name", ["gpkg", "parquet", "fgb", "kml"])
def test_geopandas_reads_every_exported_file(fmt_name, tmp_path):
    _, path = write(fmt_name, tmp_path)
    frame = geopandas.read_parquet(path) if fmt_name == "parquet" else geopandas.read_file(path)
    assert len(frame) == len(EVENTS)
    assert frame.crs.to_epsg() == 4326
    titles = frame["title"] if "title" in frame else frame["Name"]
    assert sorted(titles) == sorted(e["properties"]["title"] for e in EVENTS)


def test_kml_carries_each_events_days_as_a_time_span(tmp_path):
    _, path = write("kml", tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text.count("<TimeSpan>") == len(EVENTS)
    assert "<begin>2024-11-01</begin>" in text and "<end>2024-11-30</end>" in text  # the month
    assert "<begin>2023-01-01</begin>" in text and "<end>2023-12-31</end>" in text  # the year
    assert "<name>Build-up „Kursk“ — Курск</name>" in text


def test_projected_data_is_reprojected_and_the_report_says_so(tmp_path):
    frame = geopandas.GeoDataFrame(
        {"name": ["Sudzha"], "date": ["2024-08-06"]},
        geometry=[shapely.Point(35.271, 51.191)],
        crs="EPSG:4326",
    ).to_crs("EPSG:3857")
    path = tmp_path / "mercator.gpkg"
    pyogrio.write_dataframe(frame, path)
    back = by_file_name("x.gpkg").read(path.read_bytes())
    assert back["notes"] == ["reprojected from EPSG:3857 to WGS 84"]
    assert back["reprojected_from"] == "EPSG:3857"
    lon, lat = back["features"][0]["geometry"]["coordinates"]
    assert abs(lon - 35.271) < 1e-6 and abs(lat - 51.191) < 1e-6
    assert back["features"][0]["properties"] == {"title": "Sudzha", "start": "2024-08-06"}


def test_projected_coordinates_without_a_crs_are_refused(tmp_path):
    frame = geopandas.GeoDataFrame(
        {"title": ["A"], "start": ["2024"]}, geometry=[shapely.Point(3_926_000, 6_650_000)]
    )
    path = tmp_path / "nocrs.fgb"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(frame, path)
    with pytest.raises(TableRejected, match="not longitude/latitude"):
        by_file_name("x.fgb").read(path.read_bytes())


@pytest.mark.parametrize(
    "name", ["events.gpkg", "events.fgb", "events.kml", "events.parquet", "events.shp.zip"]
)
def test_a_file_that_is_not_what_its_name_says_is_refused(name):
    with pytest.raises(TableRejected, match=r"cannot be read as|not a zip archive"):
        by_file_name(name).read(b"title,start\r\nA,2024\r\n")


def test_a_missing_title_or_date_column_is_named(tmp_path):
    frame = geopandas.GeoDataFrame({"label": ["A"]}, geometry=[shapely.Point(1, 2)], crs="EPSG:4326")
    path = tmp_path / "bare.gpkg"
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(TableRejected, match="missing required columns: title"):
        by_file_name("x.gpkg").read(path.read_bytes())


def shapefile_zip(tmp_path, extra=()) -> bytes:
    frame = geopandas.GeoDataFrame(
        {"title": ["Korenevo"], "start": ["2024-08-12"]},
        geometry=[shapely.Point(34.91, 51.41)],
        crs="EPSG:4326",
    )
    folder = tmp_path / "shape"
    folder.mkdir()
    pyogrio.write_dataframe(frame, folder / "events.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)
        for name, data in extra:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zipped_shapefile_is_read(tmp_path):
    back = by_file_name("events.shp.zip").read(shapefile_zip(tmp_path))
    [only] = back["features"]
    assert only["properties"] == {"title": "Korenevo", "start": "2024-08-12"}


def test_an_archive_with_a_path_out_of_it_is_refused(tmp_path):
    with pytest.raises(TableRejected, match="path that leaves it"):
        by_file_name("x.zip").read(shapefile_zip(tmp_path, [("../../etc/evil", b"x")]))


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    with pytest.raises(TableRejected, match="zip bomb"):
        by_file_name("x.zip").read(shapefile_zip(tmp_path, [("padding.txt", b"\0" * 50_000_000)]))


def _batches(count: int):
    """``count`` batches of a thousand Features each, made as they are asked for (as the export
    reads the database), so that only the writer can make them pile up."""
    for b in range(count):
        yield [
            json.dumps(feature(f"e{b}-{i}", title=f"Event {b}-{i} " + "x" * 200, start="2024-08-06")).encode()
            for i in range(1000)
        ]


def _python_peak(fmt_name: str, count: int, tmp_path) -> int:
    fmt = by_file_name(f"events.{fmt_name}")
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in fmt.write(_batches(count)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 0
    return peak


@pytest.mark.parametrize("fmt_name", ["gpkg", "parquet", "fgb", "kml"])
def test_a_large_export_is_written_batch_by_batch_not_held_whole(fmt_name, tmp_path):
    """Eight times the events may not take eight times the memory: each batch is written and let go,
    so a full-dataset export of a million events does not fail for lack of memory."""
    small = _python_peak(fmt_name, 1, tmp_path)
    large = _python_peak(fmt_name, 8, tmp_path)
    assert large < 2 * small, (small, large)


def test_a_streamed_geoparquet_file_names_its_crs_types_and_extent(tmp_path):
    _, path = write("parquet", tmp_path)
    geo = json.loads(pyarrow.parquet.read_schema(path).metadata[b"geo"])
    column = geo["columns"]["geometry"]
    assert geo["primary_column"] == "geometry" and column["encoding"] == "WKB"
    assert column["geometry_types"] == ["LineString", "Point", "Polygon"]
    assert column["bbox"][0] <= 34.8 and column["bbox"][2] >= 36.0
    assert geopandas.read_parquet(path).crs.to_epsg() == 4326
