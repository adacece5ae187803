"""GeoJSON (RFC 7946): strict reading of a document, streamed writing of a FeatureCollection.

Reading refuses what Python's ``json`` module would let through: ``NaN`` and ``Infinity`` (not
JSON) and nesting deep enough to exhaust the parser, which Flask's own parsing turns into a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

MAX_NESTING = 64


class UnreadableDocument(ValueError):
    """The bytes are not a JSON document this service reads; the message says why."""


def load_json(text: str | bytes) -> Any:
    """Parse JSON strictly: NaN and Infinity are not JSON, and absurd nesting is refused early."""

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        value = json.loads(text, parse_constant=refuse_constant)
    except RecursionError:
        raise UnreadableDocument("the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableDocument(f"not valid JSON: {exc}") from None
    if _depth(value) > MAX_NESTING:
        raise UnreadableDocument("the JSON is nested too deeply")
    return value


def _depth(value: Any) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack += [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, level + 1) for v in item]
    return deepest


def write_collection(batches: Iterable[Sequence[bytes]]) -> Iterator[bytes]:
    """An RFC 7946 FeatureCollection in UTF-8, one feature per line, written batch by batch.

    Each batch is joined in one call (the join runs in C over every feature at once) and sent as
    one chunk, so a million features cost a thousand writes, not a million.
    """
    yield b'{"type":"FeatureCollection","features":[\n'
    first = True
    for batch in batches:
        if not batch:
            continue
        if not first:
            yield b",\n"  # on its own: prefixing it would copy the whole batch once more
        yield b",\n".join(batch)
        first = False
    yield b"\n]}\n"
