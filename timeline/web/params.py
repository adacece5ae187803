"""Request parameters become store filters here, and nowhere else.

Every reader endpoint (the read API, the downloads, the clusters and the density strip) calls
:func:`parse_filters`, so ``bbox=…&start=2024-08`` means the same on each, and a parameter that
cannot be understood is a 400 naming it (:class:`~timeline.infra.errors.BadParameter`) before any
SQL runs.
"""

from __future__ import annotations

import math
import re
from typing import Protocol

from geodata.dates import DateError, PartialDate, parse_partial_date
from geodata.geometry import GeometryError, parse_bbox
from timeline.domain.input_gate import integer_problem, text_problem
from timeline.domain.regions import COUNTRY_NAME_LENGTH, REGION_NAME_LENGTH
from timeline.infra.errors import BadParameter
from timeline.store.aggregates import MAX_ZOOM
from timeline.store.db import DbSession
from timeline.store.filters import DEFAULT_LIMIT, EventFilter, PageKey
from timeline.store.models import CONFIDENCES
from timeline.store.queries import ORDERS, unknown_categories

MAX_LIMIT = 10_000
MAX_TEXT_QUERY = 200


class ArgSource(Protocol):
    """Anything with ``getlist`` (a werkzeug MultiDict) can carry filter parameters."""

    def getlist(self, key: str) -> list[str]: ...


def parse_filters(args: ArgSource, *, max_limit: int | None = MAX_LIMIT) -> EventFilter:
    """Read filter parameters; raise :class:`BadParameter` naming the first one that is wrong.

    ``max_limit=None`` lifts the page size cap (streamed exports return everything by default).
    """
    f = EventFilter(limit=DEFAULT_LIMIT if max_limit else None)
    if bbox := _single(args, "bbox"):
        try:
            numbers = [float(v) for v in bbox.split(",")]
        except ValueError:
            raise BadParameter("bbox", "must be four numbers: minLon,minLat,maxLon,maxLat") from None
        if not all(math.isfinite(n) for n in numbers):
            raise BadParameter("bbox", "numbers must be finite")
        try:
            f.bbox = parse_bbox(numbers)
        except GeometryError as exc:
            raise BadParameter("bbox", str(exc)) from None
    if start := _single(args, "start"):
        f.start = _date_param("start", start).first_day
    if end := _single(args, "end"):
        f.end = _date_param("end", end).last_day
    if f.start and f.end and f.start > f.end:
        raise BadParameter("start", f"start {f.start} is after end {f.end}")
    f.categories = _list(args, "category")
    f.confidences = _list(args, "confidence")
    for value in f.confidences:
        if value not in CONFIDENCES:
            raise BadParameter("confidence", f"must be one of {', '.join(CONFIDENCES)}, got {value!r}")
    f.regions = _places(args, "region", REGION_CODE, REGION_NAME_LENGTH)
    f.countries = _places(args, "country", COUNTRY_CODE, COUNTRY_NAME_LENGTH)
    if text := _single(args, "q"):
        if len(text) > MAX_TEXT_QUERY:
            raise BadParameter("q", f"is longer than {MAX_TEXT_QUERY} characters")
        f.text = text.strip() or None
    if (limit := _single(args, "limit")) is not None:
        f.limit = int_param("limit", limit, 1, max_limit)
    if (offset := _single(args, "offset")) is not None:
        f.offset = int_param("offset", offset, 0, None)
    if (after := _single(args, "after")) is not None:
        if f.offset:
            raise BadParameter("after", "cannot be combined with offset")
        try:
            f.after = PageKey.from_token(after)
        except ValueError as exc:
            raise BadParameter("after", str(exc)) from None
    return f


def parse_sort(args: ArgSource, f: EventFilter) -> str:
    """The list's order: ``time`` (timeline order, the default, which ``after`` pages through) or
    ``relevance`` (with ``q``: events whose titles hold more of its words first, then timeline order).

    A ranking is paged by ``offset``: a keyset token names a place in timeline order, not in a ranking.
    """
    value = _single(args, "sort") or "time"
    if value not in ORDERS:
        raise BadParameter("sort", f"must be one of {', '.join(ORDERS)}, got {value!r}")
    if value == "relevance" and not f.text:
        raise BadParameter("sort", "relevance ranks by q: give q, the text to search for")
    if value == "relevance" and f.after:
        raise BadParameter("after", "pages in timeline order; page sort=relevance with offset")
    return value


def check_categories(session: DbSession, f: EventFilter) -> None:
    """Refuse a filter on a category that does not exist (most likely a typo that would match nothing)."""
    if unknown := unknown_categories(session, f.categories):
        raise BadParameter("category", f"unknown category {unknown[0]!r}")


def parse_zoom(raw: str | None) -> int:
    """The map zoom level a cluster grid is made for (0 = the whole world in one tile)."""
    if raw is None or raw == "":
        raise BadParameter("zoom", f"is required (0-{MAX_ZOOM})")
    try:
        zoom = int(raw)
    except ValueError:
        raise BadParameter("zoom", f"must be a whole number, got {raw!r}") from None
    if not 0 <= zoom <= MAX_ZOOM:
        raise BadParameter("zoom", f"must be 0-{MAX_ZOOM}, got {zoom}")
    return zoom


def int_param(name: str, value: str, lowest: int, highest: int | None) -> int:
    """A whole number within bounds, or a 400 that says which bounds."""
    try:
        number = int(value)
    except ValueError:
        raise BadParameter(name, f"must be a whole number, got {value!r}") from None
    if problem := integer_problem(number):
        raise BadParameter(name, problem)
    if number < lowest or (highest is not None and number > highest):
        bound = f"{lowest}..{highest}" if highest is not None else f"{lowest} or more"
        raise BadParameter(name, f"must be {bound}, got {number}")
    return number


def _single(args: ArgSource, name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, "may be given only once")
    return checked_text(name, values[0]) if values else None


def checked_text(name: str, value: str) -> str:
    """A parameter's text through the input gate: control characters are a 400, not a query."""
    if problem := text_problem(value):
        raise BadParameter(name, problem)
    return value


def _list(args: ArgSource, name: str) -> list[str]:
    """A repeatable parameter; ``a,b`` and ``name=a&name=b`` mean the same."""
    return [checked_text(name, v) for raw in args.getlist(name) for v in raw.split(",") if v]


# A region's ISO 3166-2 code (or Natural Earth's adm1_code), a country's ISO alpha-2 code, and
# what a place name may hold: letters of any script, digits, spaces and a few marks.
REGION_CODE = re.compile(r"^[A-Za-z]{2,3}-[A-Za-z0-9]{1,10}$")
COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
_PLACE_NAME = re.compile(r"^[^\W_][\w .,'’()/-]*$")
MAX_PLACES = 50


def _places(args: ArgSource, name: str, code: re.Pattern[str], length: int) -> list[str]:
    """``region=``/``country=``: codes or names, comma-separated or repeated; else a 400."""
    values = [v.strip() for v in _list(args, name) if v.strip()]
    if len(values) > MAX_PLACES:
        raise BadParameter(name, f"at most {MAX_PLACES} values, got {len(values)}")
    for value in values:
        if len(value) > length:
            raise BadParameter(name, f"is longer than {length} characters")
        if not (code.match(value) or _PLACE_NAME.match(value)):
            raise BadParameter(
                name, f"{value!r} is neither a code (such as {_EXAMPLE[name]}) nor a place name"
            )
    return values


_EXAMPLE = {"region": "RU-KRS", "country": "RU"}


def _date_param(name: str, value: str) -> PartialDate:
    try:
        return parse_partial_date(value)
    except DateError as exc:
        raise BadParameter(name, str(exc)) from None
