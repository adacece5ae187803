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
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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


def decode(data: bytes) -> str:
    """The file as text: UTF-8, a byte order mark dropped; anything else refused by name."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableRejected("the file is UTF-16; save it as UTF-8 and import it again")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TableRejected(
            f"the file is not UTF-8 (byte {exc.start:,} cannot be read); save it as UTF-8 and import it again"
        ) from None


def read_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The header (lower-cased, trimmed) and each row as a dict; an empty file is refused."""
    text = decode(data)
    if not text.strip():
        raise TableRejected("the file is empty")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise TableRejected(f"not a readable CSV table: {exc}") from None
    header = [name.strip().lower() for name in rows[0]]
    records: list[dict[str, str]] = []
    for cells in rows[1:]:
        if not any(cell.strip() for cell in cells):
            records.append({})
            continue
        records.append(dict(zip(header, cells, strict=False)))
    return header, records


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
    header, records = read_rows(data)
    if mapping:
        header, records = _mapped(header, records, mapping)
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
    return collect_rows(records, lambda row, number: _row_feature(row, number, lat, lon, wkt, title, date))


RowReader = Callable[[dict[str, str], int], tuple[dict[str, Any], list[RowProblem]]]


def collect_rows(records: list[dict[str, str]], read_row: RowReader) -> dict[str, Any]:
    """Every non-blank row as a Feature (row 1 is the header), or :class:`TableRejected` listing
    the problems of every bad row: a table is read whole or not at all."""
    problems: list[RowProblem] = []
    features = []
    for number, row in enumerate(records, start=2):
        if not row:
            continue
        feature, bad = read_row(row, number)
        problems += bad
        if not bad:
            features.append(feature)
    if problems:
        raise TableRejected(
            f"{len({p.row for p in problems})} of {len(records)} rows are invalid; nothing was imported",
            problems[:MAX_LISTED],
        )
    return {"type": "FeatureCollection", "features": features}


def _mapped(
    header: list[str], records: list[dict[str, str]], mapping: dict[str, str]
) -> tuple[list[str], list[dict[str, str]]]:
    """The table with its mapped columns renamed to the event columns they hold."""
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
    renamed = [renames.get(name, "" if name in taken else name) for name in header]
    rows = [{renames.get(k, "" if k in taken else k): v for k, v in row.items()} for row in records]
    return renamed, rows


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
