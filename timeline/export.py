"""Output formats, as a registry keyed by file extension.

Each writer turns a filter into an iterator of text chunks, so the HTTP export and the CLI stream
the same bytes with memory bounded by one batch of events, whatever the size of the database.
Later formats (CSV, GeoPackage, KML) register here beside GeoJSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .features import feature_json
from .queries import EventFilter, events_by_pks, iter_feature_json

BATCH = 2000


@dataclass(frozen=True)
class Format:
    """How one export format is named, served and written."""

    media_type: str
    extension: str
    write: Callable[[Session, EventFilter], Iterator[str]]


def geojson_chunks(session: Session, f: EventFilter) -> Iterator[str]:
    """An RFC 7946 FeatureCollection, one feature per line, written batch by batch.

    Features come as the JSON text cached with each revision (the same mapping, done once at write
    time); events without a cached copy are mapped here.
    """
    yield '{"type":"FeatureCollection","features":[\n'
    separator = ""
    batch: list[tuple[int, str | None]] = []
    for row in iter_feature_json(session, f, batch=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            yield separator + _joined(session, batch)
            separator, batch = ",\n", []
    if batch:
        yield separator + _joined(session, batch)
    yield "\n]}\n"


def _joined(session: Session, rows: list[tuple[int, str | None]]) -> str:
    missing = [pk for pk, text in rows if text is None]
    mapped = {e.pk: feature_json(e) for e in events_by_pks(session, missing)} if missing else {}
    return ",\n".join(text if text is not None else mapped[pk] for pk, text in rows)


FORMATS: dict[str, Format] = {
    "geojson": Format(media_type="application/geo+json", extension="geojson", write=geojson_chunks),
}
