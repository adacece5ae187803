"""ACLED export tables (the 31 columns of acleddata.com's CSV), read as events and written back.

Reading maps each row onto the event contract, and keeps what has no field of its own in the
event's ``attributes``, so that writing the event again gives the row back:

- ``event_id_cnty`` becomes the external id ``acled:<id>`` and the event id ``acled-<id>``, so a
  newer file of the same dataset updates its events instead of adding twins;
- ``event_date`` with ``time_precision``: 1 is that day; 2 ("a week or weekend") the honest range
  of the seven days centred on it; 3 the month it lies in. Any other code is refused by row;
- the category is the slug of ``event_type`` (``Explosions/Remote violence`` →
  ``explosions-remote-violence``), the sub-event type names the event in its title;
- ``actor1``, ``assoc_actor_1``, ``actor2``, ``assoc_actor_2`` (associated actors are ``;``-separated)
  become the actors;
- the place is ``location``, ``admin1`` and ``country``; ``latitude``/``longitude`` the point;
- ``notes`` is the description and ``source`` (``;``-separated outlets) the sources;
- ``fatalities``, ``geo_precision``, the admin names, codes and tags are kept as attributes.

Older files also carry ``event_id_no_cnty``, ``data_id`` and ``iso3``; they are kept as attributes
too. Column names are matched case-insensitively. Problems of the table itself raise
:class:`~timeline.formats.csv_table.TableRejected` listing every bad row.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import IO, Any

from timeline.formats.csv_table import (
    RowProblem,
    TableRejected,
    TableRows,
    TableStream,
    defuse,
    parse_coordinate,
    write_rows,
)

COLUMNS = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3",
    "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
    "fatalities", "tags", "timestamp",
)  # fmt: skip
OLDER_COLUMNS = ("event_id_no_cnty", "data_id", "iso3")
REQUIRED = ("event_id_cnty", "event_date", "time_precision", "event_type", "latitude", "longitude")
# Columns the event's own fields hold exactly; every other non-empty cell also goes to ``attributes``
# (actors and location too: the event's actors and place merge them, the attributes keep the split).
# Writing takes these from the event as it is now, so an editor's correction reaches the export.
HELD_BY_EVENT = frozenset({"event_id_cnty", "event_date", "latitude", "longitude", "notes", "source"})
INTEGER_ATTRIBUTES = frozenset(
    {"year", "time_precision", "inter1", "inter2", "interaction", "iso", "geo_precision", "fatalities",
     "timestamp", "event_id_no_cnty", "data_id"}
)  # fmt: skip
EXTERNAL_PREFIX = "acled:"
ID_PREFIX = "acled-"
# How the writer names a point's admin1 and country when the event's attributes hold none: set by
# timeline.domain.regions (from the offline gazetteer), so that this module needs no app; None
# leaves them empty.
admin_names_at: Callable[[float, float], tuple[str | None, str | None]] | None = None
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d-%m-%Y", "%d/%m/%Y", "%d-%B-%Y", "%d-%b-%Y", "%d %b %Y")
_SLUG_APART = re.compile(r"[^a-z0-9]+")


def detect(header: Sequence[str]) -> bool:
    """Whether a table's header is an ACLED export's (so ``.csv`` files can be told apart)."""
    names = {h.strip().lower() for h in header}
    return {"event_id_cnty", "event_date", "time_precision", "sub_event_type"} <= names


# ---------------------------------------------------------------------------- reading


def read_acled(data: bytes) -> dict[str, Any]:
    """An ACLED CSV as a FeatureCollection of events (checked again, like any feature, on import)."""
    return acled_stream(io.BytesIO(data)).collection()


class AcledStream(TableStream):
    """An ACLED table's rows as the importer's stream of events, a row at a time, noting what
    the check for events an earlier file brought needs: the countries and the external ids."""

    def __init__(self, rows: TableRows):
        super().__init__(rows, _row_feature)
        self.countries: set[str] = set()
        self.external_ids: set[str] = set()

    def taken(self, feature: dict[str, Any]) -> None:
        props = feature["properties"]
        if (country := props["attributes"].get("country")) is not None:
            self.countries.add(country)
        self.external_ids.add(props["external_id"])


def acled_stream(source: IO[bytes]) -> AcledStream:
    """An ACLED CSV read from a binary file as the importer's stream of events (see
    :class:`~timeline.formats.csv_table.TableStream`); a header lacking a required column is
    refused at once."""
    rows = TableRows(source)
    missing = [name for name in REQUIRED if name not in rows.header]
    if missing:
        raise TableRejected(
            f"not an ACLED export: missing columns {', '.join(missing)}; "
            f"the header has {', '.join(rows.header) or 'nothing'}"
        )
    return AcledStream(rows)


def parse_acled_date(value: str) -> date:
    """ACLED's event_date as written by its exports over the years (ISO, "06 August 2024", ...)."""
    text = value.strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (2024-08-06 or 06 August 2024)")


def category_slug(event_type: str) -> str:
    """ACLED's event type as a slug: ``Violence against civilians`` → ``violence-against-civilians``."""
    return _SLUG_APART.sub("-", event_type.strip().lower()).strip("-")[:64] or "other"


def _dates(row: dict[str, str]) -> dict[str, Any]:
    """start/end/date_precision from event_date and time_precision (ValueError names the column)."""
    try:
        day = parse_acled_date(row.get("event_date", ""))
    except ValueError as exc:
        raise _ColumnError("event_date", str(exc)) from None
    code = row.get("time_precision", "").strip()
    if code == "1":
        return {"start": day.isoformat(), "date_precision": "day"}
    if code == "2":
        first, last = day - timedelta(days=3), day + timedelta(days=3)
        return {"start": first.isoformat(), "end": last.isoformat(), "date_precision": "day"}
    if code == "3":
        return {"start": day.isoformat()[:7], "date_precision": "month"}
    raise _ColumnError("time_precision", f"{code!r} is not an ACLED time precision (1 day, 2 week, 3 month)")


class _ColumnError(ValueError):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _row_feature(row: dict[str, str], number: int) -> tuple[dict[str, Any], list[RowProblem]]:
    problems: list[RowProblem] = []
    cell = {name: (row.get(name) or "").strip() for name in row}
    props: dict[str, Any] = {}
    try:
        props.update(_dates(cell))
    except _ColumnError as exc:
        problems.append(RowProblem(number, exc.column, str(exc)))
    geometry = None
    position = []
    for column, low, high in (("longitude", -180, 180), ("latitude", -90, 90)):
        try:
            position.append(parse_coordinate(cell.get(column, ""), column, low, high))
        except ValueError as exc:
            problems.append(RowProblem(number, column, str(exc)))
    if len(position) == 2:
        geometry = {"type": "Point", "coordinates": position}
    acled_id = cell.get("event_id_cnty", "")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,90}", acled_id):
        problems.append(RowProblem(number, "event_id_cnty", f"{acled_id!r} is not an ACLED event id"))
    attributes: dict[str, Any] = {}
    for name, value in cell.items():
        if name in HELD_BY_EVENT or not value or name not in COLUMNS + OLDER_COLUMNS:
            continue
        if name in INTEGER_ATTRIBUTES:
            try:
                attributes[name] = int(value)
            except ValueError:
                problems.append(RowProblem(number, name, f"{value!r} is not a whole number"))
            continue
        attributes[name] = value
    kind = cell.get("sub_event_type") or cell.get("event_type") or "Event"
    location = cell.get("location", "")
    props["title"] = f"{kind}: {location}" if location else kind
    props["category"] = category_slug(cell.get("event_type", ""))
    names = (location, cell.get("admin1"), cell.get("country"))
    props["place"] = ", ".join(dict.fromkeys(name for name in names if name))
    actors = [cell.get("actor1", ""), *_split(cell.get("assoc_actor_1", ""))]
    actors += [cell.get("actor2", ""), *_split(cell.get("assoc_actor_2", ""))]
    props["actors"] = list(dict.fromkeys(a for a in actors if a))
    props["description"] = cell.get("notes", "")
    props["sources"] = [{"outlet": outlet} for outlet in _split(cell.get("source", ""))]
    props["lang"] = "en"
    props["external_id"] = EXTERNAL_PREFIX + acled_id
    props["attributes"] = attributes
    feature = {
        "type": "Feature",
        "id": ID_PREFIX + acled_id,
        "geometry": geometry,
        "properties": props,
        "row": number,
    }
    return feature, problems


# ---------------------------------------------------------------------------- writing


def feature_row(feature: dict[str, Any]) -> list[str]:
    """One Feature as an ACLED row: the date, point, notes and sources from the event as it is
    now, the other columns as the file that brought it had them, or derived where it had none."""
    props = feature.get("properties") or {}
    kept: dict[str, Any] = dict(props.get("attributes") or {})
    external = str(props.get("external_id") or "")
    day, code = _acled_day(props)
    lon, lat = _point(feature.get("geometry"))
    actors = list(props.get("actors") or [])
    current: dict[str, Any] = {
        "event_id_cnty": external.removeprefix(EXTERNAL_PREFIX)
        if external.startswith(EXTERNAL_PREFIX)
        else str(feature.get("id") or ""),
        "event_date": day.isoformat() if day else "",
        "year": day.year if day else "",
        "time_precision": code,
        "latitude": _coordinate(lat),
        "longitude": _coordinate(lon),
        "notes": str(props.get("description") or ""),
        "source": "; ".join(s.get("outlet") or s.get("url") or "" for s in props.get("sources") or []),
    }
    derived: dict[str, Any] = {
        "event_type": str(props.get("category") or "").replace("-", " ").capitalize(),
        "actor1": actors[0] if actors else "",
        "actor2": actors[1] if len(actors) > 1 else "",
        "assoc_actor_1": "; ".join(actors[2:]),
        "location": str(props.get("place") or "").split(",")[0].strip(),
    }
    names_at = admin_names_at
    if names_at and lon is not None and lat is not None and not (kept.get("admin1") and kept.get("country")):
        # An event not from an ACLED file: its region and country from the point, as ACLED names them.
        admin1, country = names_at(lon, lat)
        derived.update({k: v for k, v in (("admin1", admin1), ("country", country)) if v})
    cells = []
    for name in COLUMNS:
        value = current[name] if name in current else kept.get(name, derived.get(name, ""))
        cells.append("" if value is None else str(value))
    return [defuse(cell) for cell in cells]


def _acled_day(props: dict[str, Any]) -> tuple[date | None, str]:
    """The day ACLED would code and its time_precision: a day is 1, a span of up to 7 days 2 (its
    middle day), a month 3 (the 15th); longer spans and years are 3 at their middle day."""
    start, end, precision = props.get("start"), props.get("end"), props.get("date_precision")
    if not isinstance(start, str):
        return None, ""
    first = _first_day(start)
    last = _last_day(end if isinstance(end, str) else start)
    if precision == "day" and first == last:
        return first, "1"
    middle = first + (last - first) / 2
    if precision == "day" and (last - first).days <= 6:
        return middle, "2"
    return middle, "3"


def _first_day(text: str) -> date:
    parts = [int(p) for p in text.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _last_day(text: str) -> date:
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return date(*parts)
    if len(parts) == 2:
        following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return following - timedelta(days=1)
    return date(parts[0], 12, 31)


def _point(geometry: dict[str, Any] | None) -> tuple[float | None, float | None]:
    """A point's coordinates, or a line's or area's representative point (inside it)."""
    if not geometry:
        return None, None
    if geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        return float(lon), float(lat)
    import shapely

    inside = shapely.from_geojson(json.dumps(geometry)).representative_point()
    return float(inside.x), float(inside.y)


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:.5f}".rstrip("0").rstrip(".")


def write_acled(batches: Iterable[Sequence[bytes]]) -> Iterator[bytes]:
    """ACLED-compatible CSV (its 31 columns, CRLF, UTF-8), one chunk per batch of Features."""
    return write_rows(batches, COLUMNS, feature_row)
