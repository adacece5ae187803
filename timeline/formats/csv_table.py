"""CSV (RFC 4180) tables of events: one row per Feature, written streamed and read back.

Columns written: ``id, title, start, end, date_precision, category, place, actors, confidence,
status, lang, description, sources, lon, lat, wkt``. ``actors`` are joined with ``"; "``;
``sources`` is a JSON array of source objects (url, outlet, title, published), so nothing is lost;
``lon``/``lat`` are filled for points, ``wkt`` for every geometry. A cell a spreadsheet would run as
a formula (starting with ``= + - @``, a tab or a carriage return) gets a leading apostrophe.

Reading accepts lat/lon columns under common names (lat/latitude/y, lon/lng/long/longitude/x) or a
WKT column (wkt/geometry/geom), and turns each row into a Feature that then goes through the same
checks as GeoJSON. Problems the table itself has (encoding, missing columns, unreadable numbers)
raise :class:`TableRejected` listing every bad row with its row number and column.

Reading is streamed (:func:`table_stream`): the file is decoded a chunk at a time and each row
becomes a Feature as the importer asks for it, so a table of a million rows costs no more memory
than one of ten.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from timeline.formats.geojson import CollectionStream

COLUMNS = (
    "id", "title", "start", "end", "date_precision", "category", "place", "actors", "confidence",
    "status", "lang", "description", "sources", "lon", "lat", "wkt",
)  # fmt: skip
LAT_NAMES = ("lat", "latitude", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
WKT_NAMES = ("wkt", "geometry", "geom")
TITLE_NAMES = ("title", "name")
DATE_NAMES = ("start", "date", "event_date")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_LISTED = 1000


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row of a table: its number (the header is row 1), column, reason."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class TableRejected(ValueError):
    """The table cannot be read as events; ``problems`` lists every bad row."""

    def __init__(self, summary: str, problems: Sequence[RowProblem] = ()):
        super().__init__(summary)
        self.summary = summary
        self.problems = list(problems)


# ---------------------------------------------------------------------------- writing


def defuse(value: str) -> str:
    """A cell a spreadsheet would evaluate as a formula, made plain text with an apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _ring(points: Sequence[Sequence[float]]) -> str:
    return "(" + ", ".join(" ".join(_number(c) for c in p[:2]) for p in points) + ")"


def to_wkt(geometry: dict[str, Any] | None) -> str:
    """The WKT of a GeoJSON geometry (2-D), written here so export needs no geometry library."""
    if not geometry:
        return ""
    kind, c = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Point":
        return f"POINT ({_number(c[0])} {_number(c[1])})"
    if kind == "LineString":
        return "LINESTRING " + _ring(c)
    if kind == "Polygon":
        return "POLYGON (" + ", ".join(_ring(r) for r in c) + ")"
    if kind == "MultiPoint":
        return "MULTIPOINT (" + ", ".join(_ring([p]) for p in c) + ")"
    if kind == "MultiLineString":
        return "MULTILINESTRING (" + ", ".join(_ring(r) for r in c) + ")"
    if kind == "MultiPolygon":
        return "MULTIPOLYGON (" + ", ".join("(" + ", ".join(_ring(r) for r in p) + ")" for p in c) + ")"
    if kind == "GeometryCollection":
        return "GEOMETRYCOLLECTION (" + ", ".join(to_wkt(g) for g in geometry["geometries"]) + ")"
    return ""


def feature_row(feature: dict[str, Any]) -> list[str]:
    """One Feature as the cells of :data:`COLUMNS`, defused."""
    props = feature.get("properties") or {}
    geometry = feature.get("geometry")
    point = geometry.get("coordinates") if geometry and geometry.get("type") == "Point" else None

    def text(name: str) -> str:
        value = props.get(name)
        return "" if value is None else str(value)

    cells = [
        str(feature.get("id") or ""),
        text("title"), text("start"), text("end"), text("date_precision"), text("category"),
        text("place"), "; ".join(props.get("actors") or []), text("confidence"), text("status"),
        text("lang"), text("description"),
        json.dumps(props.get("sources") or [], ensure_ascii=False, separators=(",", ":")),
        _number(point[0]) if point else "", _number(point[1]) if point else "", to_wkt(geometry),
    ]  # fmt: skip
    return [defuse(cell) for cell in cells]


def write_table(batches: Iterable[Sequence[bytes]]) -> Iterator[bytes]:
    """RFC 4180 CSV (CRLF line ends, UTF-8, header row), one chunk per batch of Features."""
    return write_rows(batches, COLUMNS, feature_row)


def write_rows(
    batches: Iterable[Sequence[bytes]], header: Sequence[str], row: Callable[[dict[str, Any]], list[str]]
) -> Iterator[bytes]:
    """A CSV of ``header`` and one ``row`` per Feature, streamed a batch at a time (any table format)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield buffer.getvalue().encode()
    for batch in batches:
        if not batch:
            continue
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(row(json.loads(raw)) for raw in batch)
        yield buffer.getvalue().encode()


# ---------------------------------------------------------------------------- reading


# How much of the file is read and decoded at a time: rows are read from it one by one, so memory
# holds this much text and the row at hand, however large the table.
READ_CHUNK = 1 << 20
_UTF8_BOM = b"\xef\xbb\xbf"


class _Text:
    """A binary file as UTF-8 text, a chunk at a time: a byte order mark dropped, UTF-16 and bytes
    that are not UTF-8 refused by name (with the offset of the first bad byte after the mark)."""

    def __init__(self, source: IO[bytes]):
        self.source = source
        self.position = 0  # bytes read, for progress
        self.blank = True  # nothing but white space read so far
        try:
            here = source.tell()
            source.seek(0, io.SEEK_END)
            self.size = source.tell() - here
            source.seek(here)
        except (OSError, AttributeError, ValueError):
            self.size = 0

    def chunks(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = self._read()
        while 0 < len(chunk) < len(_UTF8_BOM) and (more := self._read()):  # enough to see a mark
            chunk += more
        final = not chunk  # the file has ended (the chunk may be empty for having been a mark)
        if chunk.startswith(_UTF8_BOM):
            chunk = chunk[len(_UTF8_BOM) :]
        elif chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise TableRejected("the file is UTF-16; save it as UTF-8 and import it again")
        decoded = 0  # bytes handed to the decoder, the mark not counted
        while True:
            pending = len(decoder.getstate()[0])  # a character cut by the previous chunk's end
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                raise TableRejected(
                    f"the file is not UTF-8 (byte {decoded - pending + exc.start:,} cannot be read); "
                    "save it as UTF-8 and import it again"
                ) from None
            decoded += len(chunk)
            if text:
                self.blank = self.blank and not text.strip()
                yield text
            if final:
                return
            chunk = self._read()
            final = not chunk

    def _read(self) -> bytes:
        chunk = self.source.read(READ_CHUNK)
        self.position += len(chunk)
        return chunk

    def lines(self) -> Iterator[str]:
        """The text's lines with their ends, split where ``io.StringIO(text, newline="")`` splits
        (``\\n``, ``\\r\\n``, ``\\r``), which is what :mod:`csv` expects of a file."""
        carry = ""
        for chunk in self.chunks():
            lines = io.StringIO(carry + chunk, newline="").readlines()
            # The last line may go on in the next chunk (a "\\r" too: its "\\n" may follow).
            carry = lines.pop() if lines and not lines[-1].endswith("\n") else ""
            yield from lines
        if carry:
            yield carry


class TableRows:
    """A CSV file's header (lower-cased, trimmed), then its rows one at a time as dicts.

    The header is read when this is made, so a table without the columns it needs is refused
    before anything is imported; an empty file (nothing but white space) is refused too.
    """

    def __init__(self, source: IO[bytes]):
        self._text = _Text(source)
        self._reader = csv.reader(self._text.lines())
        first = self._next()
        self.header = [name.strip().lower() for name in first or []]
        if not any(self.header):
            for _ in iter(self._next, None):  # the rest decides whether the file is empty
                pass
            if self._text.blank:
                raise TableRejected("the file is empty")
        self.count = 0  # rows after the header read so far

    @property
    def position(self) -> int:
        return self._text.position

    @property
    def size(self) -> int:
        return self._text.size

    def _next(self) -> list[str] | None:
        try:
            return next(self._reader, None)
        except csv.Error as exc:
            raise TableRejected(f"not a readable CSV table: {exc}") from None

    def records(self) -> Iterator[dict[str, str]]:
        """Each row after the header as a dict by column name; a blank row as ``{}``."""
        header = self.header
        for cells in iter(self._next, None):
            self.count += 1
            if not any(cell.strip() for cell in cells):
                yield {}
                continue
            yield dict(zip(header, cells, strict=False))


def _first(header: Sequence[str], names: Sequence[str]) -> str | None:
    return next((name for name in names if name in header), None)


def parse_coordinate(value: str, column: str, low: float, high: float) -> float:
    """A decimal degree with a point; a comma decimal or a value out of range is named."""
    text = value.strip()
    if not text:
        raise ValueError("is empty")
    if "," in text:
        raise ValueError(f"{text!r} uses a comma as decimal mark; write {text.replace(',', '.')!r}")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{text!r} is outside {low:g}..{high:g}")
    return number


def parse_wkt(value: str) -> dict[str, Any]:
    """A WKT geometry as GeoJSON (via shapely, imported only when a table has a WKT column)."""
    import shapely
    from shapely.errors import ShapelyError

    try:
        shape = shapely.from_wkt(value.strip())
    except (ShapelyError, ValueError) as exc:
        raise ValueError(f"not readable WKT: {exc}") from None
    if shape is None or shape.is_empty:
        raise ValueError("the geometry is empty")
    result: dict[str, Any] = json.loads(shapely.to_geojson(shape))
    return result


# What a column mapping may name: the event's columns and the geometry's (lon, lat, wkt).
MAPPABLE = frozenset(COLUMNS)


def read_table(data: bytes, mapping: dict[str, str] | None = None) -> dict[str, Any]:
    """A CSV table as a FeatureCollection, each row a Feature (rows are checked again on import).

    ``mapping`` names the table's column for an event column (``{"title": "Headline", "lat": "Y"}``),
    for tables whose headers no default name matches."""
    return table_stream(io.BytesIO(data), mapping).collection()


def table_stream(source: IO[bytes], mapping: dict[str, str] | None = None) -> TableStream:
    """A CSV table read from a binary file as the importer's stream of Features, a row at a time;
    :class:`TableRejected` at once if the header lacks a required column (see :func:`read_table`)."""
    rows = TableRows(source)
    rename = _renaming(rows.header, mapping) if mapping else None
    header = [rename.get(name, name) for name in rows.header] if rename is not None else rows.header
    lat, lon, wkt = _first(header, LAT_NAMES), _first(header, LON_NAMES), _first(header, WKT_NAMES)
    title, date = _first(header, TITLE_NAMES), _first(header, DATE_NAMES)
    missing = []
    if wkt is None and (lat is None or lon is None):
        missing.append("a geometry (lat and lon columns, or a wkt column)")
    if title is None:
        missing.append("title")
    if date is None:
        missing.append("start (or date)")
    if missing or title is None or date is None:
        raise TableRejected(
            f"missing required columns: {', '.join(missing)}; the header has {', '.join(header) or 'nothing'}"
        )

    def read_row(row: dict[str, str], number: int) -> tuple[dict[str, Any], list[RowProblem]]:
        if rename is not None:
            row = {rename.get(k, k): v for k, v in row.items()}
        return _row_feature(row, number, lat, lon, wkt, title, date)

    return TableStream(rows, read_row)


RowReader = Callable[[dict[str, str], int], tuple[dict[str, Any], list[RowProblem]]]


class TableStream(CollectionStream):
    """A table's rows turned into Features one at a time, given out to the importer as
    :class:`~timeline.formats.geojson.CollectionStream` gives a collection's, so that a large file
    is never held whole: memory holds the row at hand and the rows' problems.

    A table is read whole or not at all: a row with problems (a bad coordinate, sources that are
    not JSON…) is noted with its number (the header is row 1) and column, the rows after it are
    still read and checked but no longer given out, and at the end :class:`TableRejected` lists
    every bad row (the first :data:`MAX_LISTED`), which undoes the import it feeds.
    ``position`` and ``size`` count the file's bytes.
    """

    def __init__(self, rows: TableRows, read_row: RowReader):
        super().__init__({"type": "FeatureCollection", "features": []})
        self.has_features = True
        self._rows = rows
        self._read_row = read_row
        self.size = rows.size
        # Feature indexes before which blank rows were skipped (one entry per blank row), so that
        # a feature's row number is found without keeping one per feature.
        self._skips: list[int] = []

    @property  # a plain attribute in the base class
    def position(self) -> int:
        return self._rows.position

    @position.setter
    def position(self, _value: int) -> None:
        pass  # the base class counts features; here the file's bytes count

    def features(self) -> Iterator[dict[str, Any]]:
        """Each good row's Feature in order, then :class:`TableRejected` if any row was bad."""
        problems: list[RowProblem] = []
        bad_rows = 0
        given = 0
        for number, row in enumerate(self._rows.records(), start=2):
            if not row:
                self._skips.append(given)
                continue
            feature, bad = self._read_row(row, number)
            if bad:
                bad_rows += 1
                problems += bad[: MAX_LISTED - len(problems)]
            elif not bad_rows:
                given += 1
                self.taken(feature)
                yield feature
        if bad_rows:
            raise TableRejected(
                f"{bad_rows} of {self._rows.count} rows are invalid; nothing was imported", problems
            )

    def taken(self, feature: dict[str, Any]) -> None:
        """Called for each Feature given out (a format that keeps something of each overrides it)."""

    def row_of(self, index: int) -> int:
        """The table row (the header is row 1) of the ``index``-th Feature given out."""
        return index + 2 + bisect.bisect_right(self._skips, index)

    def collection(self) -> dict[str, Any]:
        """The whole table as a FeatureCollection in memory (for callers that want one)."""
        return {"type": "FeatureCollection", "features": list(self.features())}


def _renaming(header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """How the mapped columns are renamed to the event columns they hold (a column the mapping
    took another's name for is renamed to "", so the mapped one wins)."""
    unknown = sorted(set(mapping) - MAPPABLE)
    if unknown:
        choices = ", ".join(sorted(MAPPABLE))
        raise TableRejected(f"the mapping names {', '.join(unknown)}; it can map {choices}")
    renames: dict[str, str] = {}
    for ours, theirs in mapping.items():
        source = theirs.strip().lower()
        if source not in header:
            raise TableRejected(
                f"the mapping takes {ours} from column {theirs!r}; the header has {', '.join(header)}"
            )
        renames[source] = ours
    taken = set(renames.values())
    return {name: renames.get(name, "" if name in taken else name) for name in header}


def _row_feature(
    row: dict[str, str], number: int, lat: str | None, lon: str | None, wkt: str | None, title: str, date: str
) -> tuple[dict[str, Any], list[RowProblem]]:
    problems: list[RowProblem] = []
    geometry: dict[str, Any] | None = None
    try:
        if lat is not None and lon is not None and (row.get(lat, "").strip() or not wkt):
            y = parse_coordinate(row.get(lat, ""), lat, -90, 90)
            try:
                x = parse_coordinate(row.get(lon, ""), lon, -180, 180)
            except ValueError as exc:
                problems.append(RowProblem(number, lon, str(exc)))
            else:
                geometry = {"type": "Point", "coordinates": [x, y]}
        elif wkt is not None:
            geometry = parse_wkt(row.get(wkt, ""))
    except ValueError as exc:
        column = lat if lat and row.get(lat, "").strip() else wkt or "lat"
        problems.append(RowProblem(number, column, str(exc)))
    props: dict[str, Any] = {"title": _plain(row.get(title, "")), "start": row.get(date, "").strip() or None}
    for name in ("end", "date_precision", "category", "place", "confidence", "status", "lang", "description"):
        value = _plain(row.get(name, ""))
        if value:
            props[name] = value
    if actors := row.get("actors", "").strip():
        props["actors"] = [a.strip() for a in _plain(actors).split(";") if a.strip()]
    if sources := row.get("sources", "").strip():
        props["sources"] = _sources(sources, number, problems)
    # "row" (a foreign member, which GeoJSON allows and the importer ignores) lets a problem the
    # event checks find later be reported by its row of the table.
    feature: dict[str, Any] = {"type": "Feature", "geometry": geometry, "properties": props, "row": number}
    if ident := row.get("id", "").strip():
        feature["id"] = ident
    return feature, problems


def _plain(value: str) -> str:
    """A cell as written by :func:`defuse`, its apostrophe taken off again."""
    value = value.strip() if not value.startswith("'") else value
    return value[1:] if value.startswith("'") and value[1:2] in _FORMULA_START and value[1:2] else value


def _sources(value: str, number: int, problems: list[RowProblem]) -> list[Any]:
    """Sources as this writer writes them (a JSON array), or URLs separated by ``;`` or spaces."""
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            problems.append(RowProblem(number, "sources", "starts with [ but is not a JSON array"))
            return []
        return parsed if isinstance(parsed, list) else []
    return [{"url": url} for url in value.replace(";", " ").split()]
