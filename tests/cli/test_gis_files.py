"""GIS files through the command line and the download: exported with filters, imported back."""

import geopandas
import pyogrio
import shapely
from helpers import feature
from sqlalchemy import func, select

from timeline.store.db import db
from timeline.store.models import Event


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


def test_a_geopackage_exports_and_imports_through_cli_and_http(app, load, runner, client, tmp_path):
    load(feature("a", category="battle", start="2024-10", date_precision="month"), feature("b"))
    out = tmp_path / "all.gpkg"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(pyogrio.read_dataframe(out, layer="events")["id"]) == ["a", "b"]

    response = client.get("/export/events.gpkg?category=battle")
    assert response.status_code == 200 and response.mimetype == "application/geopackage+sqlite3"
    downloaded = tmp_path / "download.gpkg"
    downloaded.write_bytes(response.data)
    assert list(geopandas.read_file(downloaded)["id"]) == ["a"]
    for ext in ("fgb", "kml", "parquet"):
        answer = client.get(f"/export/events.{ext}")
        assert answer.status_code == 200 and len(answer.data) > 100, ext

    # The file goes back in: the same events, unchanged.
    result = runner.invoke(args=["import", str(out)])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 2 unchanged" in result.output


def test_a_projected_file_imports_in_wgs84_and_the_report_says_so(app, runner, tmp_path):
    frame = geopandas.GeoDataFrame(
        {"name": ["Korenevo"], "date": ["2024-08-12"]}, geometry=[shapely.Point(34.91, 51.41)], crs=4326
    ).to_crs("EPSG:32636")
    path = tmp_path / "utm.fgb"
    pyogrio.write_dataframe(frame, path)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output and "reprojected from EPSG:32636 to WGS 84" in result.output
    with app.app_context():
        event = db.session.scalars(select(Event)).one()
        assert abs(event.min_lon - 34.91) < 1e-6 and abs(event.min_lat - 51.41) < 1e-6


def test_a_broken_file_imports_nothing(app, runner, tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage at all")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "cannot be read as a GeoPackage" in result.output
    assert _count(app) == 0
