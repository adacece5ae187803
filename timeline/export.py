"""Output formats, as a registry keyed by file extension.

Each writer turns a filter into an iterator of text chunks, so the HTTP export and the CLI stream
the same bytes with memory bounded by one batch of events, whatever the size of the database.
Later formats (CSV, GeoPackage, KML) register here beside GeoJSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .features import event_to_feature
from .queries import EventFilter, iter_events

BATCH = 1000


@dataclass(frozen=True)
class Format:
    """How one export format is named, served and written."""

    media_type: str
    extension: str
    write: Callable[[Session, EventFilter], Iterator[str]]


def geojson_chunks(session: Session, f: EventFilter) -> Iterator[str]:
    """An RFC 7946 FeatureCollection, one feature per line, built batch by batch."""
    yield '{"type":"FeatureCollection","features":[\n'
    batch: list[str] = []
    separator = ""
    for event in iter_events(session, f, batch=BATCH):
        batch.append(json.dumps(event_to_feature(event), ensure_ascii=False, separators=(",", ":")))
        if len(batch) == BATCH:
            yield separator + ",\n".join(batch)
            separator, batch = ",\n", []
    if batch:
        yield separator + ",\n".join(batch)
    yield "\n]}\n"


FORMATS: dict[str, Format] = {
    "geojson": Format(media_type="application/geo+json", extension="geojson", write=geojson_chunks),
}
