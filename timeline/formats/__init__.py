"""Readers and writers of event files, keyed by name, file extension and media type.

A format is a plain :class:`Format` entry in :data:`FORMATS`: the downloads, the CLI export and
(later) the importers look a format up here instead of knowing it. Formats work on GeoJSON
Features only, streamed, and never touch Flask or the store, so each is tested on its own and a new
one is one module plus one entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from timeline.formats import acled, csv_table, geojson, gis

# A writer takes batches of Features, each Feature as its compact UTF-8 JSON (what the feature
# cache holds), and yields the file's bytes as it goes.
Writer = Callable[[Iterable[Sequence[bytes]]], Iterator[bytes]]
# A reader takes the file's bytes and returns a GeoJSON FeatureCollection (a dict).
Reader = Callable[[bytes], Any]


@dataclass(frozen=True)
class Format:
    """How one format is named, recognised, read and written."""

    name: str
    media_type: str
    extensions: tuple[str, ...]
    write: Writer | None = None
    read: Reader | None = None

    @property
    def extension(self) -> str:
        """The extension files of this format are written with."""
        return self.extensions[0]


FORMATS: dict[str, Format] = {
    "geojson": Format(
        name="geojson",
        media_type="application/geo+json",
        extensions=("geojson",),
        write=geojson.write_collection,
        read=geojson.load_json,
    ),
    "csv": Format(
        name="csv",
        media_type="text/csv",
        extensions=("csv",),
        write=csv_table.write_table,
        read=csv_table.read_table,
    ),
    # ACLED's own export is a .csv too: `timeline import` tells it by its header, `--format acled`
    # names it, and exports are written as events.acled.csv.
    "acled": Format(
        name="acled",
        media_type="text/csv; profile=acled",
        extensions=("acled.csv",),
        write=acled.write_acled,
        read=acled.read_acled,
    ),
    # GIS files, through GDAL (pyogrio) and geopandas: one layer "events" with the CSV's columns.
    "gpkg": Format(
        name="gpkg",
        media_type="application/geopackage+sqlite3",
        extensions=("gpkg",),
        write=gis.write_gpkg,
        read=gis.reader("gpkg"),
    ),
    "fgb": Format(
        name="fgb",
        media_type="application/flatgeobuf",
        extensions=("fgb",),
        write=gis.write_fgb,
        read=gis.reader("fgb"),
    ),
    "kml": Format(
        name="kml",
        media_type="application/vnd.google-earth.kml+xml",
        extensions=("kml",),
        write=gis.write_kml,
        read=gis.reader("kml"),
    ),
    "geoparquet": Format(
        name="geoparquet",
        media_type="application/vnd.apache.parquet",
        extensions=("parquet", "geoparquet"),
        write=gis.write_parquet,
        read=gis.reader("parquet"),
    ),
    "shapefile": Format(
        name="shapefile",
        media_type="application/zip",
        extensions=("shp.zip", "zip"),
        read=gis.reader("shapefile"),
    ),
}


class UnknownFormat(LookupError):
    """No registered format has that name, extension or media type."""


def by_name(name: str) -> Format:
    """The format called ``name`` (``geojson``)."""
    try:
        return FORMATS[name]
    except KeyError:
        raise UnknownFormat(name) from None


def by_extension(extension: str) -> Format:
    """The format whose files end in ``.extension`` (case-insensitive, with or without the dot)."""
    wanted = extension.lower().lstrip(".")
    for fmt in FORMATS.values():
        if wanted in fmt.extensions:
            return fmt
    raise UnknownFormat(extension)


def by_file_name(name: str) -> Format:
    """The format of a file by its name: the longest registered extension it ends with wins, so
    ``events.acled.csv`` is ACLED and ``events.csv`` plain CSV (``.json`` counts as GeoJSON)."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return FORMATS["geojson"]
    endings = [(e, fmt) for fmt in FORMATS.values() for e in fmt.extensions if lowered.endswith("." + e)]
    if not endings:
        raise UnknownFormat(name.rsplit(".", 1)[-1] if "." in name else name)
    return max(endings, key=lambda ending: len(ending[0]))[1]


def sniffed(fmt: Format, head: bytes) -> Format:
    """A plain CSV whose header is an ACLED export's is read as ACLED (what researchers download
    from acleddata.com is named ``*.csv``)."""
    if fmt.name != "csv":
        return fmt
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
    return FORMATS["acled"] if acled.detect(first.strip().split(",")) else fmt


def by_media_type(media_type: str) -> Format:
    """The format served as ``media_type``: ``charset`` is ignored, a ``profile`` (ACLED's CSV is
    ``text/csv; profile=acled``) chooses among formats of one type."""
    wanted = _essence(media_type)
    for fmt in FORMATS.values():
        if _essence(fmt.media_type) == wanted:
            return fmt
    raise UnknownFormat(media_type)


def _essence(media_type: str) -> str:
    kind, *params = (part.strip().lower() for part in media_type.split(";"))
    return ";".join([kind, *sorted(p.replace(" ", "") for p in params if p and not p.startswith("charset"))])
