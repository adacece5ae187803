"""GIS files: GeoPackage, FlatGeobuf, KML and GeoParquet written, and these plus zipped
Shapefiles read, through GDAL (pyogrio) and geopandas.

Every event is one row of one layer, ``events``, with the same columns a CSV has. Lists and objects
(actors, sources, attributes) are JSON text, dates the text they are written as (``2024-10`` stays a
month), so a GeoPackage or GeoParquet file read back gives the same Features, field by field. KML
carries the event's days as a TimeSpan (begin and end), which Google Earth and QGIS's temporal
controller play.

Reading takes any layer whose columns have the usual names (title or name, start or date or begin,
...), reprojects data in another CRS to WGS 84 and says so in the collection's ``notes``, refuses a
file that is not what it claims to be, and checks a zip archive before GDAL opens it: no path may
leave the archive, and it may not unpack to more than :data:`MAX_UNPACKED` bytes or at a ratio that
only a zip bomb has.

pyogrio, geopandas and pyarrow are imported when a file is read or written, never at start-up.
"""

from __future__ import annotations

import json
import math
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from timeline.formats.csv_table import MAX_LISTED, RowProblem, TableRejected

LAYER = "events"
TEXT_COLUMNS = (
    "id", "title", "description", "lang", "start", "end", "date_precision", "category", "place",
    "confidence", "status", "external_id",
)  # fmt: skip
JSON_COLUMNS = ("actors", "sources", "attributes")
COLUMNS = (*TEXT_COLUMNS, *JSON_COLUMNS)
# Other names the same columns go by in files made elsewhere (lower-cased).
ALIASES = {
    "title": ("name",), "start": ("date", "begin", "timestamp"), "end": ("until",), "description": ("notes",),
}  # fmt: skip
MAX_UNPACKED = 2_000_000_000
MAX_RATIO = 200
_CHUNK = 1 << 20


# ---------------------------------------------------------------------------- writing


def _rows(batches: Iterable[Sequence[bytes]]) -> tuple[dict[str, list[Any]], list[dict[str, Any] | None]]:
    """The Features as columns of text and a list of geometries."""
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    geometries: list[dict[str, Any] | None] = []
    for batch in batches:
        for raw in batch:
            feature = json.loads(raw)
            props = feature.get("properties") or {}
            columns["id"].append(str(feature.get("id") or ""))
            for name in TEXT_COLUMNS[1:]:
                value = props.get(name)
                columns[name].append(None if value is None else str(value))
            for name in JSON_COLUMNS:
                value = props.get(name)
                columns[name].append(None if value in (None, {}) else _json(value))
            geometries.append(feature.get("geometry"))
    return columns, geometries


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _frame(batches: Iterable[Sequence[bytes]]) -> Any:
    import geopandas
    import shapely

    columns, geometries = _rows(batches)
    shapes = [shapely.from_geojson(json.dumps(g)) if g else None for g in geometries]
    return geopandas.GeoDataFrame(columns, geometry=shapes, crs="EPSG:4326")


def _stream_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


Writer = Callable[[Iterable[Sequence[bytes]]], Iterator[bytes]]


def _written(suffix: str, write: Callable[[Any, Path], None]) -> Writer:
    """A writer that builds the file in a temporary folder (GDAL writes files, not streams) and
    then streams it; the folder goes when the last byte has been sent."""

    def writer(batches: Iterable[Sequence[bytes]]) -> Iterator[bytes]:
        with tempfile.TemporaryDirectory(prefix="timeline-export-") as folder:
            path = Path(folder) / f"events.{suffix}"
            write(_frame(batches), path)
            yield from _stream_file(path)

    return writer


def _write_ogr(driver: str) -> Callable[[Any, Path], None]:
    def write(frame: Any, path: Path) -> None:
        import pyogrio

        pyogrio.write_dataframe(frame, path, layer=LAYER, driver=driver)

    return write


def _write_kml(frame: Any, path: Path) -> None:
    """KML with a TimeSpan per event (LIBKML writes ``begin``/``end`` as one), named by title."""
    import pyogrio

    from geodata.dates import parse_partial_date

    kml = frame.copy()
    kml["name"] = kml["title"]

    def days(start: Any, end: Any) -> tuple[str | None, str | None]:
        if not isinstance(start, str) or not start:
            return None, None
        end = end if isinstance(end, str) and end else None
        first = parse_partial_date(start).first_day
        last = parse_partial_date(end or start).last_day
        return first.isoformat(), last.isoformat()

    spans = [days(s, e) for s, e in zip(kml["start"], kml["end"], strict=True)]
    kml["begin"] = [s[0] for s in spans]
    kml["end_day"] = [s[1] for s in spans]
    kml = kml.rename(columns={"end": "end_written"}).rename(columns={"end_day": "end"})
    pyogrio.write_dataframe(kml, path, layer=LAYER, driver="LIBKML")


def _write_parquet(frame: Any, path: Path) -> None:
    frame.to_parquet(path, index=False, schema_version="1.0.0")


write_gpkg = _written("gpkg", _write_ogr("GPKG"))
write_fgb = _written("fgb", _write_ogr("FlatGeobuf"))
write_kml = _written("kml", _write_kml)
write_parquet = _written("parquet", _write_parquet)


# ---------------------------------------------------------------------------- reading


def check_zip(path: Path) -> str:
    """The one Shapefile inside a zip archive, as a GDAL path; a hostile archive is refused."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise TableRejected("the file is not a zip archive") from None
    with archive:
        members = archive.infolist()
        unpacked = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members) or 1
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts:
                raise TableRejected(f"the archive holds a path that leaves it: {member.filename!r}")
        if unpacked > MAX_UNPACKED or unpacked / packed > MAX_RATIO:
            raise TableRejected(
                f"the archive would unpack to {unpacked:,} bytes from {packed:,} (a zip bomb?): "
                "nothing was read"
            )
        shapes = [m.filename for m in members if m.filename.lower().endswith(".shp")]
    if len(shapes) != 1:
        raise TableRejected(f"the archive must hold one Shapefile (.shp), it holds {len(shapes)}")
    return f"/vsizip/{path}/{shapes[0]}"


def _read_frame(path: Path, kind: str) -> Any:
    import geopandas
    import pyogrio

    try:
        if kind == "parquet":
            return geopandas.read_parquet(path)
        source = check_zip(path) if kind == "shapefile" else str(path)
        layers = pyogrio.list_layers(source)
        if len(layers) == 0:
            raise TableRejected("the file holds no layer")
        layer = LAYER if LAYER in {str(name) for name, _ in layers} else str(layers[0][0])
        return pyogrio.read_dataframe(source, layer=layer)
    except TableRejected:
        raise
    except Exception as exc:  # GDAL's and pyarrow's errors: the file is not what it claims to be
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TableRejected(f"the file cannot be read as {READ_NAMES[kind]}: {first}") from None


READ_NAMES = {
    "gpkg": "a GeoPackage", "fgb": "FlatGeobuf", "kml": "KML", "shapefile": "a zipped Shapefile",
    "parquet": "GeoParquet",
}  # fmt: skip


def reader(kind: str) -> Callable[[bytes], dict[str, Any]]:
    """The reader of one kind of GIS file: bytes in, a FeatureCollection (with ``notes``) out."""

    def read(data: bytes) -> dict[str, Any]:
        suffix = {"shapefile": "zip"}.get(kind, kind)
        with tempfile.TemporaryDirectory(prefix="timeline-import-") as folder:
            path = Path(folder) / f"upload.{suffix}"
            path.write_bytes(data)
            frame = _read_frame(path, kind)
            return frame_collection(frame)

    return read


def frame_collection(frame: Any) -> dict[str, Any]:
    """A (Geo)DataFrame's rows as Features, in WGS 84; problems of the file listed by row."""
    notes: list[str] = []
    if frame.crs is None:
        bounds = frame.total_bounds if len(frame) else (0, 0, 0, 0)
        if any(not math.isfinite(b) or abs(b) > 180 for b in bounds):
            raise TableRejected(
                "the coordinates are not longitude/latitude and the file names no CRS: "
                "give it one (e.g. ogr2ogr -a_srs EPSG:xxxx) or reproject it to WGS 84"
            )
    elif not frame.crs.equals("EPSG:4326") and not frame.crs.equals("OGC:CRS84"):
        notes.append(f"reprojected from {frame.crs.to_string()} to WGS 84")
        frame = frame.to_crs("EPSG:4326")
    names = {str(c).lower(): c for c in frame.columns if c != frame.geometry.name}

    def column(name: str) -> Any:
        for candidate in (name, *ALIASES.get(name, ())):
            if candidate in names:
                return names[candidate]
        return None

    if column("title") is None or column("start") is None:
        raise TableRejected(
            "missing required columns: title (or name) and start (or date); the layer has "
            + (", ".join(names) or "nothing")
        )
    problems: list[RowProblem] = []
    features = []
    chosen = {name: column(name) for name in COLUMNS}
    records = frame.drop(columns=[frame.geometry.name]).to_dict("records")
    for number, (geometry, values) in enumerate(zip(frame.geometry, records, strict=True), 1):
        feature = _feature(number, geometry, values, chosen, problems)
        if feature is not None:
            features.append(feature)
    if problems:
        raise TableRejected(
            f"{len({p.row for p in problems})} of {len(frame)} features are invalid; nothing was imported",
            problems[:MAX_LISTED],
        )
    return {"type": "FeatureCollection", "features": features, "notes": notes}


def _cell(value: Any) -> Any:
    """A cell as plain Python: missing values (None, NaN, NaT) are None, dates ISO text."""
    if value is None:
        return None
    try:
        if value != value:  # NaN and NaT
            return None
    except (TypeError, ValueError):
        return value
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith(("T00:00:00", "T00:00:00+00:00")) else text
    return value


def _feature(
    number: int, geometry: Any, values: dict[str, Any], chosen: dict[str, Any], problems: list[RowProblem]
) -> dict[str, Any] | None:
    import shapely

    if geometry is None or geometry.is_empty:
        problems.append(RowProblem(number, "geometry", "is empty: an event must have a place on the map"))
        return None
    props: dict[str, Any] = {}
    for name, source in chosen.items():
        if source is None or name == "id":
            continue
        value = _cell(values.get(source))
        if value is None or value == "":
            continue
        if name in JSON_COLUMNS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                if name != "actors":
                    problems.append(RowProblem(number, name, "is not JSON"))
                    continue
                value = [a.strip() for a in value.split(";") if a.strip()]
        props[name] = value if name in JSON_COLUMNS else str(value)
    if isinstance(props.get("start"), str) and "T" in props["start"]:
        props["start"] = props["start"][:10]  # a timestamp: its day
    feature: dict[str, Any] = {"type": "Feature", "geometry": json.loads(shapely.to_geojson(geometry))}
    ident = _cell(values.get(chosen["id"])) if chosen["id"] is not None else None
    if ident not in (None, ""):
        feature["id"] = str(ident)
    feature["properties"] = props
    return feature
