"""The field table: every property of an event, with its limit, default and who may set it.

Everything that reads, writes, trims or refuses an event's fields asks this table: the feature
mapping (limits, defaults, which properties a feature carries), the summary view, the write API
(which fields a client may not set), the conflict merge (which fields are bookkeeping) and the
editor form (``maxlength``). Lengths are read from the columns the values are stored in, so a
limit cannot drift from the schema; a field with no sized column (free text, JSON lists) states
its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String

from timeline.store.models import CONFIDENCES, STATUSES, Event, Source


def column_length(column: Any) -> int:
    """The declared length of a ``String(n)`` column (what the database holds at most)."""
    kind = column.property.columns[0].type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{column} has no declared length")
    return int(kind.length)


@dataclass(frozen=True)
class Field:
    """One property of an event's Feature."""

    name: str
    # Characters at most (for a list: per item); None when the value is not free text.
    max_length: int | None = None
    required: bool = False
    # What a feature that leaves the property out gets.
    default: Any = None
    # One of these values, when the property is a choice.
    choices: tuple[str, ...] = ()
    # Kept by the server: carried in exported features (so they re-import cleanly), never taken
    # from a client, and not part of an event's content when revisions compare versions.
    server_managed: bool = False
    # Carried in the Feature at all (``author`` is not: who wrote what is in the revisions).
    in_feature: bool = True
    # What a map or timeline needs to draw and label the event (``view=summary``).
    summary: bool = False
    # Only an admin may set it (publishing is an admin's decision).
    admin_only: bool = False
    # For a list: how many items at most.
    max_items: int | None = None


# The free-text limits of columns without a declared size.
DESCRIPTION_LENGTH = 20_000
ACTOR_LENGTH = 200
# Per value of ``attributes`` (and per name: NAME_LENGTH).
ATTRIBUTE_LENGTH = 1000
ATTRIBUTE_NAME_LENGTH = 60

FIELDS: tuple[Field, ...] = (
    Field("title", max_length=column_length(Event.title), required=True, summary=True),
    Field("description", max_length=DESCRIPTION_LENGTH, default=""),
    Field("lang", default="en", summary=True),
    Field("start", required=True, summary=True),
    Field("end", summary=True),
    Field("date_precision", summary=True),
    Field("category", default="other", summary=True),
    Field("place", max_length=column_length(Event.place), default="", summary=True),
    Field("actors", max_length=ACTOR_LENGTH, default=(), max_items=100),
    Field("confidence", default="reported", choices=CONFIDENCES, summary=True),
    Field("status", default="published", choices=STATUSES, admin_only=True),
    Field("sources", default=(), max_items=50),
    # Left out of a Feature while empty, so that Features written before they existed stay exact.
    Field("external_id", max_length=column_length(Event.external_id)),
    Field("attributes", max_length=ATTRIBUTE_LENGTH, default={}, max_items=50),
    Field("created_at", server_managed=True),
    Field("updated_at", server_managed=True),
    Field("version", server_managed=True),
    Field("author", server_managed=True, in_feature=False),
)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

# The properties of a Feature, in the order they are written.
PROPERTY_NAMES = tuple(f.name for f in FIELDS if f.in_feature)
# Properties the server keeps, as they appear in a Feature.
SERVER_MANAGED = tuple(f.name for f in FIELDS if f.server_managed and f.in_feature)
# Every name a client may not set, in a Feature or not.
CLIENT_FORBIDDEN = tuple(f.name for f in FIELDS if f.server_managed)
SUMMARY_PROPERTIES = tuple(f.name for f in FIELDS if f.summary)
ADMIN_ONLY = tuple(f.name for f in FIELDS if f.admin_only)

# A source's own fields, limited by the columns of the sources table.
SOURCE_LIMITS: dict[str, int] = {
    "url": column_length(Source.url),
    "outlet": column_length(Source.outlet),
    "title": column_length(Source.title),
}
ID_LENGTH = column_length(Event.id)


def limit(name: str) -> int:
    """The length limit of a free-text field, for messages and the form's ``maxlength``."""
    length = BY_NAME[name].max_length
    if length is None:
        raise KeyError(f"{name} has no length limit")
    return length


def default(name: str) -> Any:
    """The value a feature without this property gets."""
    return BY_NAME[name].default


def max_items(name: str) -> int:
    """How many items a list field holds at most."""
    most = BY_NAME[name].max_items
    if most is None:
        raise KeyError(f"{name} is not a bounded list")
    return most


@dataclass(frozen=True)
class SizeLimits:
    """Bounds on the size of what one request or file may bring, read from the environment."""

    # Positions (vertices) in one event's geometry: 600,000 took 20 s to write and 14 MB a read.
    geometry_positions: int = 50_000
    # Features in one request to the validator or the write API's import.
    features_per_request: int = 10_000

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> SizeLimits:
        return cls(
            geometry_positions=int(env.get("MAX_GEOMETRY_POSITIONS", cls.geometry_positions)),
            features_per_request=int(env.get("MAX_FEATURES_PER_REQUEST", cls.features_per_request)),
        )


SIZE_LIMITS = SizeLimits.from_environment(os.environ)
