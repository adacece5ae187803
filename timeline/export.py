"""Output formats, as a registry keyed by file extension.

Each writer turns a filter into an iterator of byte chunks, so the HTTP export and the CLI stream
the same bytes with memory bounded by one batch of events, whatever the size of the database.
Later formats (CSV, GeoPackage, KML) register here beside GeoJSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .features import feature_json
from .queries import EventFilter, cached_feature_json, events_by_pks, iter_feature_json

BATCH = 2000


@dataclass(frozen=True)
class Format:
    """How one export format is named, served and written."""

    media_type: str
    extension: str
    write: Callable[[Session, EventFilter], Iterator[bytes]]


def geojson_chunks(session: Session, f: EventFilter) -> Iterator[bytes]:
    """An RFC 7946 FeatureCollection in UTF-8, one feature per line, written batch by batch.

    Features come as the JSON cached with each revision (the same mapping, done once at write
    time), as bytes straight from the database; events without a cached copy are mapped here.
    """
    yield b'{"type":"FeatureCollection","features":[\n'
    separator = b""
    for batch in iter_feature_json(session, f, batch=BATCH):
        yield separator + _joined(session, batch)
        separator = b",\n"
    yield b"\n]}\n"


def _joined(session: Session, rows: list[tuple[int, bytes | None]]) -> bytes:
    missing = [pk for pk, data in rows if data is None]
    if not missing:
        return b",\n".join(data for _, data in rows)  # type: ignore[misc]
    mapped = _mapped(session, missing)
    return b",\n".join(data if data is not None else mapped[pk] for pk, data in rows)


def _mapped(session: Session, pks: list[int]) -> dict[int, bytes]:
    """Features of events that have no cached copy (written before the cache existed), mapped now."""
    return {e.pk: feature_json(e).encode() for e in events_by_pks(session, pks)}


def features_by_pks(session: Session, pks: list[int]) -> list[bytes]:
    """The Feature JSON of these events, in this order: cached copies, the rest mapped now.

    The read API pages with this, so a page of full features costs one indexed read instead of
    a hundred ORM objects, their sources and the mapping.
    """
    found = cached_feature_json(session, pks)
    missing = [pk for pk in pks if pk not in found]
    if missing:
        found.update(_mapped(session, missing))
    return [found[pk] for pk in pks]


FORMATS: dict[str, Format] = {
    "geojson": Format(media_type="application/geo+json", extension="geojson", write=geojson_chunks),
}
