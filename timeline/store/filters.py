"""What a reader asks of the store: the :class:`EventFilter` every query, count and export takes.

The web layer turns request parameters into a filter (``timeline.web.params``); the store turns a
filter into SQL (``timeline.store.queries``). Keeping the filter a plain value between the two is
what lets the CLI, the benchmarks and the tests ask the same questions without an HTTP request.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from geodata.geometry import BBox

DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class PageKey:
    """Where an event sits in timeline order; a ``next`` link carries the last one of its page.

    Paging by key instead of OFFSET makes every page cost the same: page 10,000 of a million events
    is found by an index seek, not by walking past the 999,900 rows before it (what a GIS client
    following ``next`` links through a whole layer does). The token is opaque to clients.
    """

    first_day: date
    last_day: date
    id: str

    def token(self) -> str:
        raw = f"{self.first_day.isoformat()}|{self.last_day.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> PageKey:
        """The key a token names; :class:`ValueError` for anything a ``next`` link never held."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            first, last, event_id = raw.split("|", 2)
        except (ValueError, UnicodeDecodeError):
            raise ValueError("is not a page token from a next link") from None
        if "\x00" in event_id:  # no event id holds one, and PostgreSQL text cannot
            raise ValueError("is not a page token from a next link")
        try:
            return cls(date.fromisoformat(first), date.fromisoformat(last), event_id)
        except ValueError:
            raise ValueError("is not a page token from a next link") from None


@dataclass
class EventFilter:
    """What a reader asks for. Empty fields mean "no restriction"."""

    bbox: BBox | None = None
    start: date | None = None  # first day of the window
    end: date | None = None  # last day of the window
    categories: list[str] = field(default_factory=list)
    confidences: list[str] = field(default_factory=list)
    text: str | None = None
    limit: int | None = DEFAULT_LIMIT
    offset: int = 0
    # Keyset paging: the page starts after this event in timeline order (first day, last day, id).
    after: PageKey | None = None
    include_drafts: bool = False
    # The region (ISO 3166-2 code "RU-KRS" or name "Kursk Oblast") or country (ISO alpha-2 "RU" or
    # name) an event lies in, as stored on save (timeline.domain.regions); any of them matches.
    regions: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    # Extra SQL conditions on events, ANDed with the rest: an OGC API CQL2 ``filter``, translated by
    # ``timeline.store.cql2``. Opaque here, so they are left out of ``query_args`` (the caller
    # carries the filter text in its links) and the count tables never answer a filter that has them.
    where: tuple[Any, ...] = ()

    def query_args(self) -> list[tuple[str, str]]:
        """The filter as URL parameters (for ``next`` links); paging is left to the caller."""
        args: list[tuple[str, str]] = []
        if self.bbox:
            args.append(("bbox", ",".join(_num(v) for v in self.bbox.as_list())))
        if self.start:
            args.append(("start", self.start.isoformat()))
        if self.end:
            args.append(("end", self.end.isoformat()))
        args += [("category", c) for c in self.categories]
        args += [("confidence", c) for c in self.confidences]
        if self.text:
            args.append(("q", self.text))
        if self.regions:
            args.append(("region", ",".join(self.regions)))
        if self.countries:
            args.append(("country", ",".join(self.countries)))
        return args


# Fields that choose a page of the answer rather than which events are in it.
PAGING_FIELDS = frozenset({"limit", "offset", "after"})
FILTER_FIELDS = frozenset(f.name for f in fields(EventFilter)) - PAGING_FIELDS


def _num(value: float) -> str:
    return repr(value).removesuffix(".0") if value == int(value) else repr(value)
