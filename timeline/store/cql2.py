"""CQL2 (OGC API – Features Part 3) filters as SQLAlchemy conditions on events, on both backends.

pygeofilter parses CQL2 text or JSON into an AST; this module walks that AST and builds the WHERE
condition itself, so only the operators and properties listed here can reach SQL: the comparisons
(``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``), ``IS NULL``, ``IN``, ``LIKE``, ``AND``/``OR``/``NOT``
(Basic CQL2), ``S_INTERSECTS`` with a ``BBOX``, and ``T_INTERSECTS`` against the event's own
interval of days (its date precision counted: a month-dated event covers the month). ``start`` and
``end`` compare with dates as the event's first and last day. Anything else is a
:class:`Cql2Error`, which the web layer answers as a 400.

The condition reaches the store as :attr:`~timeline.store.filters.EventFilter.where`, so it is
combined with the request's bbox, window and paging in the one query module.

pygeofilter quirks handled here: its CQL2 text grammar takes ``T_INTERSECTS`` in infix form
(``start T_INTERSECTS INTERVAL('…','…')``), and its CQL2 JSON reader turns ``{"bbox": [a, b, c, d]}``
into an Envelope with its fields in the wrong order (x1=a, x2=b, y1=c, y2=d).

Dates and timestamps, in text and JSON alike, are read here by :func:`read_instant` (RFC 3339,
strictly), never by pygeofilter's reader (dateparser, which guesses: languages, relative words,
the current time for a form it does not know), so a filter means the same written either way.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from lark.exceptions import VisitError
from pygeofilter import ast, values  # type: ignore[import-untyped]
from sqlalchemy import Boolean, ColumnElement, and_, func, not_, or_, true

from timeline.store.filters import EventFilter
from timeline.store.models import Event
from timeline.store.queries import EVENT_GEOM, SRID

LANGUAGES = ("cql2-text", "cql2-json")
# Queryable property -> column (what /queryables lists, and all a filter may name).
PROPERTIES: dict[str, Any] = {
    "id": Event.id,
    "title": Event.title,
    "description": Event.description,
    "place": Event.place,
    "category": Event.category_slug,
    "confidence": Event.confidence,
    "lang": Event.lang,
    "date_precision": Event.date_precision,
    "region": Event.region_code,
    "region_name": Event.region_name,
    "country": Event.country_code,
    "country_name": Event.country_name,
}
SPATIAL = ("geometry",)
TEMPORAL = ("start", "end", "interval")
# Temporal properties that compare with a date (``start >= DATE('2024-08-06')``): the event's days.
DAY_COLUMNS: dict[str, Any] = {"start": Event.first_day, "end": Event.last_day}
_COMPARISONS: dict[type, str] = {
    ast.Equal: "__eq__",
    ast.NotEqual: "__ne__",
    ast.LessThan: "__lt__",
    ast.LessEqual: "__le__",
    ast.GreaterThan: "__gt__",
    ast.GreaterEqual: "__ge__",
}


class Cql2Error(ValueError):
    """A filter that does not parse or uses what is not supported; the message says which."""


def parse(text: str, lang: str = "cql2-text") -> ast.Node:
    """The filter's AST; :class:`Cql2Error` when it does not parse."""
    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json  # type: ignore[import-untyped]

            raw = json.loads(text)
            return parse_json(_prepare_json(raw))
        if lang == "cql2-text":
            return _restore_quotes(_text_parser().parse(_hide_doubled_quotes(text)))
    except Cql2Error:
        raise
    except VisitError as exc:  # lark wraps what a transformer callback raised
        if isinstance(exc.orig_exc, Cql2Error):
            raise exc.orig_exc from None
        raise Cql2Error(f"the filter does not parse as {lang}: {exc.orig_exc}") from None
    except Exception as exc:  # lark's and pygeofilter's errors have no common base
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Cql2Error(f"the filter does not parse as {lang}: {first}") from None
    raise Cql2Error(f"filter-lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")


# The forms a timestamp and a date take: the text grammar's own DATETIME and DATE terminals
# (RFC 3339's extended form and ISO 8601's basic one, ``T`` or a space, an optional fraction and
# zone), so the JSON reader takes exactly what the text reader does.
_TIMESTAMP_FORM = re.compile(
    r"[0-9]{4}-?[0-1][0-9]-?[0-3][0-9]"  # the date
    r"[T ][0-2][0-9]:?[0-5][0-9]:?[0-5][0-9](\.[0-9]+)?"  # the time
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"  # the zone
)
_DATE_FORM = re.compile(r"[0-9]{4}-[0-1][0-9]-[0-3][0-9]")
OPEN_END = ".."


def read_timestamp(value: Any) -> datetime:
    """An RFC 3339 timestamp; :class:`Cql2Error` for anything else (``fromisoformat`` refuses a
    mixed form such as ``2024-0806T10:00:00`` and an impossible hour or day, which is the point)."""
    if isinstance(value, str) and _TIMESTAMP_FORM.fullmatch(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise Cql2Error(
        f"{value!r} is not an RFC 3339 timestamp (YYYY-MM-DDThh:mm:ss, optional .fraction and Z/±hh:mm)"
    )


def read_date(value: Any) -> date:
    """An RFC 3339 full date (``YYYY-MM-DD``); :class:`Cql2Error` for anything else."""
    if isinstance(value, str) and _DATE_FORM.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Cql2Error(f"{value!r} is not a date (YYYY-MM-DD)")


def read_instant(value: Any) -> date | datetime | None:
    """An interval's end: ``..`` (open: None), a date or a timestamp."""
    if value == OPEN_END:
        return None
    if isinstance(value, str) and _DATE_FORM.fullmatch(value):
        return read_date(value)
    if isinstance(value, str) and _TIMESTAMP_FORM.fullmatch(value):
        return read_timestamp(value)
    raise Cql2Error(f"an interval end is a date (YYYY-MM-DD), an RFC 3339 timestamp or '..', not {value!r}")


# pygeofilter's CQL2 text grammar takes NOT only before a predicate, so ``NOT (a OR b)``, which
# CQL2 allows, does not parse; and its INTERVAL takes only two timestamps, where CQL2 also takes
# dates and ``'..'`` for an open end (as the JSON form does). Its own grammar (read from the
# installed package) is used with those rules widened.
_NOT_RULES = (
    '            | "NOT"i predicate                                               -> not_\n'
    '            | "NOT"i "(" predicate ")"                                       -> not_'
)
_NOT_ANY = '            | "NOT"i condition_1                                             -> not_'
_INTERVAL_RULE = '?interval: "INTERVAL" "("  "\'" DATETIME "\'" "," "\'" DATETIME "\'" ")"'
_INTERVAL_ANY_END = (
    '?interval: "INTERVAL" "(" "\'" interval_end "\'" "," "\'" interval_end "\'" ")"\n'
    "?interval_end: DATETIME | DATE | OPEN_END\n"
    'OPEN_END: ".."'
)


@lru_cache(maxsize=1)
def _text_parser() -> Any:
    import os

    from lark import Lark
    from pygeofilter.parsers.cql2_text import parser as shipped  # type: ignore[import-untyped]

    folder = os.path.dirname(shipped.__file__)
    with open(os.path.join(folder, "grammar.lark"), encoding="utf-8") as handle:
        grammar = handle.read()
    if _NOT_RULES not in grammar or _INTERVAL_RULE not in grammar:
        raise RuntimeError("pygeofilter's CQL2 text grammar changed; update timeline.store.cql2")
    return Lark(
        grammar.replace(_NOT_RULES, _NOT_ANY).replace(_INTERVAL_RULE, _INTERVAL_ANY_END),
        parser="lalr",
        maybe_placeholders=False,
        transformer=_transformer(shipped.CQLTransformer)(),
        import_paths=[os.path.dirname(folder)],
    )


def _transformer(shipped: type) -> type:
    """pygeofilter's transformer with dates and timestamps read by :func:`read_instant`'s readers.

    pygeofilter reads every TIMESTAMP and INTERVAL end with dateparser, which tries its language
    rules first: 5 to 25 ms per timestamp, so an INTERVAL cost more than the query it filtered;
    and it took the basic form (``20240806T000000Z``) for the current time.
    """

    class Transformer(shipped):  # type: ignore[misc]
        # lark calls a terminal's method by its name
        def DATETIME(self, token: Any) -> datetime:
            return read_timestamp(str(token))

        def DATE(self, token: Any) -> date:
            return read_date(str(token))

        def OPEN_END(self, _token: Any) -> None:
            return None

    return Transformer


# CQL2 writes a quote inside a string as two (``'O''Brien'``); pygeofilter's grammar does not know
# that escape, so doubled quotes inside strings are hidden from it as this character and restored
# in the literals it returns.
_QUOTE_STANDIN = "\ue000"


def _hide_doubled_quotes(text: str) -> str:
    if _QUOTE_STANDIN in text:
        raise Cql2Error("the filter holds a character reserved for quoting (U+E000)")
    out, inside, i = [], False, 0
    while i < len(text):
        char = text[i]
        if char == "'" and inside and text[i + 1 : i + 2] == "'":
            out.append(_QUOTE_STANDIN)
            i += 2
            continue
        if char == "'":
            inside = not inside
        out.append(char)
        i += 1
    return "".join(out)


def _restore_quotes(node: Any) -> Any:
    """The AST with each hidden quote back in its string literal (pygeofilter nodes are dataclasses)."""
    if isinstance(node, str):
        return node.replace(_QUOTE_STANDIN, "'")
    if isinstance(node, list):
        return [_restore_quotes(n) for n in node]
    if isinstance(node, ast.Node):
        for name, value in vars(node).items():
            if isinstance(value, str | list | ast.Node):
                setattr(node, name, _restore_quotes(value))
    return node


_JSON_INSTANTS = ("date", "timestamp", "interval")


def _prepare_json(node: Any) -> Any:
    """The JSON filter with what pygeofilter's reader gets wrong already read: each ``{"bbox": [...]}``
    as the BBOX function (which it reads in the right order), each ``{"date"}``, ``{"timestamp"}``
    and ``{"interval"}`` as the value :func:`read_instant`'s readers make of it (pygeofilter passes
    values through, and would otherwise ask dateparser)."""
    if isinstance(node, list):
        return [_prepare_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"}:
        box = node["bbox"]
        if not isinstance(box, list) or len(box) != 4:
            raise Cql2Error("a bbox must be four numbers: minLon, minLat, maxLon, maxLat")
        return {"function": {"name": "bbox", "arguments": box}}
    if named := [key for key in _JSON_INSTANTS if key in node]:
        if len(node) != 1:
            raise Cql2Error(f'a {named[0]} is an object with that one member, as {{"{named[0]}": …}}')
        return _json_instant(named[0], node[named[0]])
    return {k: _prepare_json(v) for k, v in node.items()}


def _json_instant(kind: str, value: Any) -> date | datetime | values.Interval:
    if kind == "date":
        return read_date(value)
    if kind == "timestamp":
        return read_timestamp(value)
    if not isinstance(value, list) or len(value) != 2:
        raise Cql2Error('an interval is two ends, as {"interval": ["2024-08-01", ".."]}')
    return values.Interval(read_instant(value[0]), read_instant(value[1]))


def to_condition(node: ast.Node, dialect: str) -> ColumnElement[bool]:
    """The SQL condition for the AST, on ``sqlite`` or ``postgresql``."""
    if isinstance(node, ast.And):
        return and_(to_condition(node.lhs, dialect), to_condition(node.rhs, dialect))
    if isinstance(node, ast.Or):
        return or_(to_condition(node.lhs, dialect), to_condition(node.rhs, dialect))
    if isinstance(node, ast.Not):
        return not_(to_condition(node.sub_node, dialect))
    if type(node) in _COMPARISONS:
        return _comparison(node)
    if isinstance(node, ast.IsNull):
        column = _column(node.lhs)
        # The model keeps an absent text as "", which a GeoJSON reader sees as no value.
        absent = or_(column.is_(None), column == "")
        return not_(absent) if node.not_ else absent
    if isinstance(node, ast.In):
        condition = _column(node.lhs).in_([_literal(v) for v in node.sub_nodes])
        return not_(condition) if node.not_ else condition
    if isinstance(node, ast.Like):
        pattern = _sql_pattern(node)
        column = _column(node.lhs)
        condition = (column.ilike if node.nocase else column.like)(pattern, escape="\\")
        return not_(condition) if node.not_ else condition
    if isinstance(node, ast.GeometryIntersects):
        return _intersects_box(node, dialect)
    if isinstance(node, ast.TimeOverlaps):
        return _overlaps_days(node)
    raise Cql2Error(f"{type(node).__name__} is not supported; use comparisons, IS NULL, IN, LIKE, AND, "
                    "OR, NOT, S_INTERSECTS or T_INTERSECTS")  # fmt: skip


def _comparison(node: ast.Comparison) -> ColumnElement[bool]:
    """A property against a literal: text and numbers as text, ``start``/``end`` against a date."""
    operator = _COMPARISONS[type(node)]
    lhs = node.lhs
    if isinstance(lhs, ast.Attribute) and lhs.name in DAY_COLUMNS:
        day = _day(node.rhs) if isinstance(node.rhs, date) else None
        if day is None:
            raise Cql2Error(f"{lhs.name} compares with a DATE or TIMESTAMP")
        condition: ColumnElement[bool] = getattr(DAY_COLUMNS[lhs.name], operator)(day)
        return condition
    condition = getattr(_column(lhs), operator)(_literal(node.rhs))
    return condition


def _column(node: Any) -> ColumnElement[str]:
    if not isinstance(node, ast.Attribute):
        raise Cql2Error("the left side of a comparison must be a property")
    if node.name not in PROPERTIES:
        raise Cql2Error(f"unknown property {node.name!r}; queryable: {', '.join(PROPERTIES)}")
    column: ColumnElement[str] = PROPERTIES[node.name]
    return column


def _literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Cql2Error(f"compare a property with a string or number, not {type(value).__name__}")
    return str(value)


def _sql_pattern(node: ast.Like) -> str:
    """CQL2's pattern is SQL LIKE's: ``%`` any, ``_`` one, ``\\`` escapes (pygeofilter's own
    single-character wildcard, ``.``, is not CQL2's and is read as a plain dot)."""
    pattern = str(node.pattern)
    if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
        raise Cql2Error("a LIKE pattern cannot end in a lone backslash")
    return pattern


def _box(value: Any) -> tuple[float, float, float, float]:
    if isinstance(value, ast.Function) and value.name.lower() == "bbox" and len(value.arguments) in (4, 6):
        args = [float(a) for a in value.arguments]
        box = (args[0], args[1], args[2], args[3]) if len(args) == 4 else (args[0], args[1], args[3], args[4])
    else:
        raise Cql2Error("S_INTERSECTS takes the geometry property and a BBOX(minLon, minLat, maxLon, maxLat)")
    if not (-180 <= box[0] <= 180 and -180 <= box[2] <= 180 and -90 <= box[1] <= box[3] <= 90):
        raise Cql2Error("the BBOX is outside WGS 84 (longitudes -180..180, latitudes -90..90, south first)")
    return box


def _intersects_box(node: ast.GeometryIntersects, dialect: str) -> ColumnElement[bool]:
    """The event's geometry meets the box, exactly (PostGIS, or SQLite's tl_intersects)."""
    if not (isinstance(node.lhs, ast.Attribute) and node.lhs.name in SPATIAL):
        raise Cql2Error("S_INTERSECTS applies to the geometry property")
    min_lon, min_lat, max_lon, max_lat = _box(node.rhs)
    if min_lon > max_lon:
        raise Cql2Error("a BBOX crossing the antimeridian is not supported; split it in two")
    if dialect == "postgresql":
        envelope = func.ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, SRID)
        return func.ST_Intersects(EVENT_GEOM, envelope, type_=Boolean)
    overlaps = and_(
        Event.max_lon >= min_lon, Event.min_lon <= max_lon, Event.max_lat >= min_lat, Event.min_lat <= max_lat
    )
    inside = and_(
        Event.min_lon >= min_lon, Event.max_lon <= max_lon, Event.min_lat >= min_lat, Event.max_lat <= max_lat
    )
    exact = or_(
        Event.geometry_type == "Point",
        inside,
        func.tl_intersects(Event.geometry, min_lon, min_lat, max_lon, max_lat) == 1,
    )
    return and_(overlaps, exact)


def _day(value: Any) -> date | None:
    if value is None or value == "..":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise Cql2Error("T_INTERSECTS takes a DATE, TIMESTAMP or INTERVAL")


def _overlaps_days(node: ast.TimeOverlaps) -> ColumnElement[bool]:
    """The event's days [first_day, last_day] meet the instant or interval (open ends allowed)."""
    start, end = _interval_days(node)
    conds: list[ColumnElement[bool]] = []
    if end is not None:
        conds.append(Event.first_day <= end)
    if start is not None:
        conds.append(Event.last_day >= start)
    return and_(true(), *conds)


def _interval_days(node: ast.TimeOverlaps) -> tuple[date | None, date | None]:
    """The first and last day a ``T_INTERSECTS`` on the event's interval asks for (None: open)."""
    if not (isinstance(node.lhs, ast.Attribute) and node.lhs.name in TEMPORAL):
        raise Cql2Error(f"T_INTERSECTS applies to the event's interval ({', '.join(TEMPORAL)})")
    rhs = node.rhs
    if isinstance(rhs, values.Interval):
        start, end = _day(rhs.start), _day(rhs.end)
    else:
        start = end = _day(rhs)
    if start and end and start > end:
        raise Cql2Error(f"the interval starts ({start}) after it ends ({end})")
    return start, end


# ---------------------------------------------------------------------------- planning


def apply_to_filter(node: ast.Node, f: EventFilter, dialect: str) -> None:
    """Put the filter on ``f``: its top-level ``T_INTERSECTS`` and category conjuncts as the
    filter's own window and categories (which the spatial-temporal index and the category index
    answer), the rest as extra conditions.

    The same events either way (a window is the event's days meeting it, exactly as
    ``T_INTERSECTS`` on the interval is translated); taking them apart only lets the query plan
    start from an index instead of checking every event in the window's plain comparisons.
    """
    rest: list[ColumnElement[bool]] = []
    window_taken = f.start is not None or f.end is not None
    categories_taken = bool(f.categories)
    for part in _conjuncts(node):
        if not window_taken and (window := _window(part)) is not None:
            f.start, f.end = window
            window_taken = True
        elif not categories_taken and (slugs := _category_list(part)) is not None:
            f.categories = slugs
            categories_taken = True
        else:
            rest.append(to_condition(part, dialect))
    f.where = (*f.where, *rest)


def _is_property(node: Any, name: str) -> bool:
    return isinstance(node, ast.Attribute) and node.name == name


def _conjuncts(node: ast.Node) -> list[ast.Node]:
    if isinstance(node, ast.And):
        return [*_conjuncts(node.lhs), *_conjuncts(node.rhs)]
    return [node]


def _window(node: ast.Node) -> tuple[date | None, date | None] | None:
    """A ``T_INTERSECTS`` on the event's own interval as a window of days, else None."""
    if not isinstance(node, ast.TimeOverlaps):
        return None
    start, end = _interval_days(node)
    return None if start is None and end is None else (start, end)


def _category_list(node: ast.Node) -> list[str] | None:
    """``category = 'x'`` or ``category IN ('x', 'y')`` as the slugs it allows, else None."""
    if isinstance(node, ast.Equal) and _is_property(node.lhs, "category"):
        return [_literal(node.rhs)]
    is_category = isinstance(node, ast.In | ast.Equal) and _is_property(node.lhs, "category")
    if is_category and isinstance(node, ast.In) and not node.not_:
        return [_literal(v) for v in node.sub_nodes]
    return None
