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


def _columns(batch: Sequence[bytes]) -> dict[str, list[str | None]]:
    """One batch of Features as columns of text (lists and objects as JSON)."""
    columns: dict[str, list[str | None]] = {name: [] for name in COLUMNS}
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
    return columns


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _kml_columns(columns: dict[str, list[str | None]]) -> dict[str, list[str | None]]:
    """KML's names: ``name`` is the title, ``begin``/``end`` the event's first and last days (a
    TimeSpan, which LIBKML writes from these two fields); the written end keeps its text."""
    from geodata.dates import parse_partial_date

    begins: list[str | None] = []
    ends: list[str | None] = []
    for start, end in zip(columns["start"], columns["end"], strict=True):
        if not start:
            begins.append(None)
            ends.append(None)
            continue
        begins.append(parse_partial_date(start).first_day.isoformat())
        ends.append(parse_partial_date(end or start).last_day.isoformat())
    renamed = {("end_written" if name == "end" else name): values for name, values in columns.items()}
    return {**renamed, "name": columns["title"], "begin": begins, "end": ends}


class _Batches:
    """The Features as Arrow record batches, one per database batch, with the geometry as WKB.

    GDAL and Parquet take the batches as they come, so an export never holds more than one batch
    of rows (about a thousand) in memory, whatever the number of events. The geometry types seen
    and the overall bounding box are kept for GeoParquet's metadata, written when the file closes.
    """

    def __init__(self, batches: Iterable[Sequence[bytes]], *, kml: bool = False):
        import pyarrow

        self._pa = pyarrow
        self._batches = batches
        self._kml = kml
        names = list(_kml_columns({name: [] for name in COLUMNS}) if kml else COLUMNS)
        geometry = pyarrow.field(
            "geometry", pyarrow.binary(), metadata={"ARROW:extension:name": "geoarrow.wkb"}
        )
        self.schema = pyarrow.schema([*(pyarrow.field(name, pyarrow.string()) for name in names), geometry])
        self.geometry_types: set[int] = set()
        self.bbox = [math.inf, math.inf, -math.inf, -math.inf]

    def __iter__(self) -> Iterator[Any]:
        import shapely

        for batch in self._batches:
            if not batch:
                continue
            columns = _columns(batch)
            if self._kml:
                columns = _kml_columns(columns)
            # GEOS reads a whole Feature and keeps its geometry: no second JSON pass per feature.
            shapes = shapely.from_geojson([raw.decode() if isinstance(raw, bytes) else raw for raw in batch])
            self._measure(shapes)
            arrays = [self._pa.array(columns[name], self._pa.string()) for name in self.schema.names[:-1]]
            arrays.append(self._pa.array(shapely.to_wkb(shapes), self._pa.binary()))
            yield self._pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _measure(self, shapes: Any) -> None:
        import shapely

        present = shapes[~shapely.is_missing(shapes)]
        if not len(present):
            return
        self.geometry_types.update(shapely.get_type_id(present).tolist())
        xmin, ymin, xmax, ymax = shapely.total_bounds(present)
        self.bbox = [
            min(self.bbox[0], xmin),
            min(self.bbox[1], ymin),
            max(self.bbox[2], xmax),
            max(self.bbox[3], ymax),
        ]

    def reader(self) -> Any:
        return self._pa.RecordBatchReader.from_batches(self.schema, iter(self))


# GEOS type ids (shapely.get_type_id) by GeoParquet's geometry type names.
_TYPE_NAMES = {
    0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon",
    7: "GeometryCollection",
}  # fmt: skip


def _stream_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


Writer = Callable[[Iterable[Sequence[bytes]]], Iterator[bytes]]


def _written(suffix: str, write: Callable[[Iterable[Sequence[bytes]], Path], None]) -> Writer:
    """A writer that builds the file in a temporary folder (GDAL writes files, not streams) and
    then streams it; the folder goes when the last byte has been sent."""

    def writer(batches: Iterable[Sequence[bytes]]) -> Iterator[bytes]:
        with tempfile.TemporaryDirectory(prefix="timeline-export-") as folder:
            path = Path(folder) / f"events.{suffix}"
            write(batches, path)
            yield from _stream_file(path)

    return writer


def _write_ogr(driver: str, *, kml: bool = False) -> Callable[[Iterable[Sequence[bytes]], Path], None]:
    def write(batches: Iterable[Sequence[bytes]], path: Path) -> None:
        import pyogrio

        stream = _Batches(batches, kml=kml)
        pyogrio.write_arrow(
            stream.reader(), path, layer=LAYER, driver=driver, geometry_name="geometry",
            geometry_type="Unknown", crs="EPSG:4326",
        )  # fmt: skip

    return write


def _write_parquet(batches: Iterable[Sequence[bytes]], path: Path) -> None:
    """GeoParquet 1.0: WKB geometry in EPSG:4326 (as PROJJSON, as geopandas writes it), and the
    geometry types and bounding box of what was written, added to the footer once every batch is in."""
    import pyarrow.parquet
    import pyproj

    stream = _Batches(batches)
    # No ARROW:schema copy: readers then take the metadata from the footer, where "geo" is added last.
    with pyarrow.parquet.ParquetWriter(path, stream.schema, store_schema=False) as parquet:
        for record_batch in stream:
            parquet.write_batch(record_batch)
        column: dict[str, Any] = {
            "encoding": "WKB",
            "crs": pyproj.CRS.from_epsg(4326).to_json_dict(),
            "geometry_types": sorted(
                _TYPE_NAMES[kind] for kind in stream.geometry_types if kind in _TYPE_NAMES
            ),
        }
        if math.isfinite(stream.bbox[0]):
            column["bbox"] = stream.bbox
        geo = {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": column}}
        parquet.add_key_value_metadata({"geo": json.dumps(geo)})


write_gpkg = _written("gpkg", _write_ogr("GPKG"))
write_fgb = _written("fgb", _write_ogr("FlatGeobuf"))
write_kml = _written("kml", _write_ogr("LIBKML", kml=True))
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
    reprojected_from: str | None = None
    if frame.crs is None:
        bounds = frame.total_bounds if len(frame) else (0, 0, 0, 0)
        if any(not math.isfinite(b) or abs(b) > 180 for b in bounds):
            raise TableRejected(
                "the coordinates are not longitude/latitude and the file names no CRS: "
                "give it one (e.g. ogr2ogr -a_srs EPSG:xxxx) or reproject it to WGS 84"
            )
    elif not frame.crs.equals("EPSG:4326") and not frame.crs.equals("OGC:CRS84"):
        reprojected_from = frame.crs.to_string()
        notes.append(f"reprojected from {reprojected_from} to WGS 84")
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
    return {
        "type": "FeatureCollection",
        "features": features,
        "notes": notes,
        "reprojected_from": reprojected_from,
    }


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
