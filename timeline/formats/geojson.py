"""GeoJSON (RFC 7946): strict reading of a document or a streamed FeatureCollection, streamed writing.

Reading refuses what Python's ``json`` module would let through: ``NaN`` and ``Infinity`` (not
JSON) and nesting deep enough to exhaust the parser, which Flask's own parsing turns into a 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

import ijson  # type: ignore[import-untyped]  # no stubs; only items/parse/ObjectBuilder are used

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
    if _deeper_than(value, MAX_NESTING):
        raise UnreadableDocument("the JSON is nested too deeply")
    return value


def _deeper_than(value: Any, levels: int) -> bool:
    """Whether ``value`` nests more than ``levels`` deep (a scalar is one level, ``[1]`` two).

    Called on every feature of an import, so it looks no further than it must: it stops at the
    first branch too deep, and a list or object holding only scalars (a coordinate pair, most
    properties) costs one pass over it and no further call.
    """
    if levels < 1:
        return True
    items = value.values() if type(value) is dict else value if type(value) is list else None
    if items is None:
        return False
    if levels < 2:  # any member at all is one level more
        return bool(items)
    return any(type(item) in _CONTAINERS and _deeper_than(item, levels - 1) for item in items)


_CONTAINERS = (dict, list)


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


# ---------------------------------------------------------------------------- streamed reading

# How much of a file's end is looked at to tell whether the "features" array is its last member.
_TAIL_BYTES = 4096
# A FeatureCollection whose last member is its array of Feature objects ends like this.
_ENDS_WITH_FEATURES = re.compile(rb"[}\[]\s*\]\s*}\s*\Z")
_CONSTANTS = ("-Infinity", "NaN", "Infinity")


# A \uXXXX escape of a UTF-16 surrogate, with the backslashes before it (an even number of them
# is an escaped backslash followed by the letter u: text, not an escape).
_SURROGATE_ESCAPE = re.compile(rb"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")
_ESCAPE_LENGTH = 6
# What may still become a low surrogate's escape when the buffer ends inside it.
_LOW_START = re.compile(rb"(\\(u([dD]([c-fC-F][0-9a-fA-F]?)?)?)?)?")


def lone_surrogate(buffer: bytes) -> str | None:
    """The first surrogate escape in ``buffer`` that is not half of a pair (``"d800"``), if any.

    ijson's C parser turns such an escape into "?" without a word, where Python's json keeps it
    and the input gate (timeline.domain.input_gate) refuses it as not Unicode text; so it is looked
    for in the bytes themselves. A pair cut by the buffer's ends, or an escape at its very start
    (whose backslashes may be cut), passes: the reader overlaps its buffers to see those whole.
    """
    high_end = -1  # where the last high surrogate escape ended, waiting for its low half
    high = ""
    for match in _SURROGATE_ESCAPE.finditer(buffer):
        if len(match.group(1)) % 2 == 0 or match.start() == 0:
            continue
        code = match.group(2).decode().lower()
        start = match.end(1) - 1
        if high_end >= 0 and start != high_end:
            return high
        if code < "dc00":  # a high surrogate: its low half must follow at once
            if high_end >= 0:
                return high
            high_end, high = match.end(), code
        elif start == high_end:
            high_end = -1
        else:
            return code
    if high_end >= 0 and not _LOW_START.fullmatch(buffer[high_end : high_end + _ESCAPE_LENGTH]):
        return high
    return None


class _Counting:
    """A binary file that counts the bytes read from it since the last seek (for progress), and
    refuses unpaired surrogate escapes (see :func:`lone_surrogate`)."""

    OVERLAP = 16

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.position = 0
        self._tail = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        if b"\\u" in chunk or self._tail:
            buffer = self._tail + chunk
            if b"\\u" in buffer and (code := lone_surrogate(buffer)) is not None:
                raise UnreadableDocument(
                    f"a string holds an unpaired UTF-16 surrogate (\\u{code}), which is not Unicode "
                    f"text (near byte {self.position:,})"
                )
            self._tail = buffer[-self.OVERLAP :] if chunk else b""
        self.position += len(chunk)
        return chunk

    def seek(self, position: int) -> None:
        self.raw.seek(position)
        self.position = position
        self._tail = b""


class FeatureStream:
    """A FeatureCollection read from a binary file one feature at a time, in bounded memory.

    A whole file read with :func:`load_json` costs several times its size in memory (a million
    features: gigabytes); here only one feature is held at a time. The features are built by ijson's
    C parser. The small members around them (``type``, ``crs``, ``name``…) are read first, by a scan
    of the file's head that stops where the ``features`` array starts; members written after the
    array (files with sorted keys put ``type`` there) are read by a second scan once the features
    have been given out, only when the file's end shows that something follows the array or the
    head had no ``type``. Both scans refuse what :func:`load_json` refuses: invalid JSON, NaN and
    Infinity, and nesting deeper than ``MAX_NESTING`` (checked feature by feature, too).

    The file must be seekable (it is read from its start up to three times); ``size`` and
    ``position`` give how far the reading has got, for a progress bar.
    """

    def __init__(self, source: IO[bytes], max_nesting: int = MAX_NESTING):
        self._file = _Counting(source)
        self.max_nesting = max_nesting
        self.is_object = False  # the document is a JSON object
        self.has_features = False  # with a "features" member that is an array
        self.members: dict[str, Any] = {}  # its members other than "features"
        self.start = 3 if source.read(3) == b"\xef\xbb\xbf" else 0  # a UTF-8 byte order mark
        source.seek(0, 2)
        self.size = source.tell()
        self._file.seek(self.start)
        self._read_head()

    @property
    def position(self) -> int:
        """Bytes of the file read so far by the current scan."""
        return self._file.position

    def features(self) -> Iterator[Any]:
        """Each element of the ``features`` array in order (none if there is no such array).

        When the generator is exhausted the whole file has been read and checked, and ``members``
        holds every member of the collection.
        """
        if not self.has_features:
            return
        self._file.seek(self.start)
        try:
            for feature in ijson.items(self._file, "features.item", use_float=True):
                if isinstance(feature, (dict, list)) and _deeper_than(feature, self.max_nesting - 2):
                    raise UnreadableDocument("the JSON is nested too deeply")
                yield feature
        except ijson.JSONError as exc:
            raise _unreadable(exc, self._file.position) from None
        if "type" not in self.members or not self._ends_with_features():
            self._read_tail()

    def _ends_with_features(self) -> bool:
        self._file.raw.seek(max(self.start, self.size - _TAIL_BYTES))
        return _ENDS_WITH_FEATURES.search(self._file.raw.read()) is not None

    def _events(self) -> Iterator[tuple[str, str, Any]]:
        try:
            yield from ijson.parse(self._file, use_float=True)
        except ijson.JSONError as exc:
            raise _unreadable(exc, self._file.position) from None

    def _read_head(self) -> None:
        """The members before ``features``; a document that is not an object is read to its end."""
        events = self._events()
        first = next(events, None)
        if first is None:
            raise UnreadableDocument("not valid JSON: the file is empty")
        if first[1] != "start_map":
            self._value(events, first, 1)
            for _ in events:  # trailing garbage is refused by the parser
                pass
            return
        self.is_object = True
        for _, event, value in events:
            if event == "end_map":
                break
            key = value
            member = next(events)
            if key == "features" and member[1] == "start_array":
                self.has_features = True
                return  # the features and what follows them are read by features()
            self.members[key] = self._value(events, member, 2)
        for _ in events:
            pass

    def _read_tail(self) -> None:
        """The members after ``features`` (and before it again), the array itself skipped."""
        self._file.seek(self.start)
        events = self._events()
        next(events)  # the collection's start_map
        for _, event, value in events:
            if event == "end_map":
                break
            member = next(events)
            if value == "features" and member[1] == "start_array":
                level = 1
                for _, inner, _ in events:
                    if inner in ("start_map", "start_array"):
                        level += 1
                    elif inner in ("end_map", "end_array"):
                        level -= 1
                        if not level:
                            break
            else:
                self.members[value] = self._value(events, member, 2)

    def _value(self, events: Iterator[tuple[str, str, Any]], first: tuple[str, str, Any], level: int) -> Any:
        """One JSON value whose first event is ``first``, built from the events that follow it."""
        _, event, value = first
        if event not in ("start_map", "start_array"):
            return value
        builder = ijson.ObjectBuilder()
        builder.event(event, value)
        depth = level
        for _, event, value in events:
            builder.event(event, value)
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > self.max_nesting:
                    raise UnreadableDocument("the JSON is nested too deeply")
            elif event in ("end_map", "end_array"):
                depth -= 1
                if depth < level:
                    break
        return builder.value


class CollectionStream:
    """A FeatureCollection already in memory (what a CSV, ACLED or GIS reader builds), given out
    as :class:`FeatureStream` gives a file's, so that it goes through the same import without
    being written as JSON and parsed again. ``position`` and ``size`` count features."""

    def __init__(self, collection: Any):
        self.is_object = isinstance(collection, dict)
        members = collection if isinstance(collection, dict) else {}
        features = members.get("features")
        self.has_features = isinstance(features, list)
        self._features: list[Any] = features if isinstance(features, list) else []
        self.members = {key: value for key, value in members.items() if key != "features"}
        self.size = len(self._features)
        self.position = 0

    def features(self) -> Iterator[Any]:
        """Each feature in order."""
        for index, feature in enumerate(self._features):
            self.position = index + 1
            yield feature


def _unreadable(exc: Exception, position: int) -> UnreadableDocument:
    """ijson's (yajl's) message made readable: its first line, and NaN or Infinity named."""
    lines = str(exc).split("\n")
    reason = lines[0].strip() or "the file ends early"
    if len(lines) >= 3 and "^" in lines[2]:
        column = lines[2].index("^")  # yajl's caret stands at, or just after, the character refused
        for at in (lines[1][column - 1 :], lines[1][column:]):
            for name in _CONSTANTS:
                if at.startswith(name):
                    return UnreadableDocument(f"not valid JSON: {name} is not valid JSON")
    return UnreadableDocument(f"not valid JSON: {reason} (near byte {position:,})")
