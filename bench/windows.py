"""(w) Any time window, viewport and page from the counts (issue 11, points 2 and 3).

``python -m bench.windows --events N [--backend sqlite|postgis] [--database URL] [--reps R]``

Each row is the app's own call (``aggregates.clusters``, ``aggregates.weekly_counts``,
``queries.page_and_count``) beside the way the same question was answered before migration 0012,
in the same run on the same data: every matching row read and grouped (clusters, density), counted
(``count(*) OVER ()`` beside the page, as ``page_and_count`` did) and sorted for a page. Each pair's
answers are compared (events counted, the page's ids) and a difference is a warning. Figures are
the median and the 90th percentile, in the process, with no response cache.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Date, String, func, literal, select, tuple_
from sqlalchemy.orm import Session

from geodata.geometry import BBox
from timeline.store import aggregates
from timeline.store.filters import EventFilter, PageKey
from timeline.store.models import Event
from timeline.store.queries import PAGE_KEY_COLUMNS, conditions, page_and_count

from .backends import app_session, for_events
from .generate import generate
from .measure import percentile, timed, warn

MONTH = (date(2024, 8, 1), date(2024, 8, 31))
YEAR = (date(2024, 3, 15), date(2025, 3, 14))  # cuts a week at both ends
QUARTER = (date(2024, 9, 1), date(2024, 11, 30))
VIEWPORT = BBox(34.4, 50.6, 36.6, 51.9)  # about what a zoom-7 map of Kursk shows
WIDE = BBox(33.9, 49.9, 38.9, 52.3)  # a zoom-6 map: most of the region, cut at its edges
PAGES = 60


def _window(span: tuple[date, date], **more: Any) -> EventFilter:
    return EventFilter(start=span[0], end=span[1], limit=None, **more)


def _old_clusters(session: Session, f: EventFilter, zoom: int) -> list[aggregates.Cluster]:
    dialect = session.get_bind().dialect.name
    return aggregates._clusters_from_rows(session, conditions(f, dialect), zoom)


def _old_weekly(session: Session, f: EventFilter) -> list[tuple[int, int]]:
    dialect = session.get_bind().dialect.name
    week = aggregates._week_expression(dialect)
    stmt = select(week, func.count()).where(*conditions(f, dialect)).group_by(week).order_by(week)
    return [(int(w), int(n)) for w, n in session.execute(stmt)]


def _old_page(session: Session, f: EventFilter) -> tuple[list[Any], int]:
    """The page and its count as before: every match found, counted beside the page and sorted (a
    keyset page: the rows after the key, and the count in a statement of its own)."""
    dialect = session.get_bind().dialect.name
    stmt = select(*PAGE_KEY_COLUMNS).where(*conditions(f, dialect))
    stmt = stmt.order_by(Event.first_day, Event.last_day, Event.id).limit(f.limit)
    if f.after is None:
        rows = session.execute(stmt.add_columns(func.count().over())).all()
        return [tuple(r[:4]) for r in rows], int(rows[0][-1]) if rows else 0
    key = f.after
    stmt = stmt.where(
        tuple_(Event.first_day, Event.last_day, Event.id)
        > tuple_(literal(key.first_day, Date), literal(key.last_day, Date), literal(key.id, String))
    )
    count = select(func.count()).select_from(Event).where(*conditions(replace(f, after=None), dialect))
    return [tuple(r) for r in session.execute(stmt)], int(session.scalar(count) or 0)


def _ours_page(session: Session, f: EventFilter) -> tuple[list[Any], int]:
    rows, matched = page_and_count(session, f, keys_only=True)
    return [tuple(r) for r in rows], matched


def _key_of_page(session: Session, f: EventFilter, page: int) -> PageKey:
    """The ``after`` key a visitor holds on page ``page`` (following next links from page 1)."""
    key = None
    for _ in range(page - 1):
        rows, _ = page_and_count(session, replace(f, after=key), keys_only=True)
        key = PageKey(rows[-1][1], rows[-1][2], rows[-1][3])
    assert key is not None
    return key


def _samples(fn: Callable[[], Any], reps: int) -> tuple[list[float], Any]:
    fn()  # warm
    samples, result = [], None
    for _ in range(reps):
        ms, result = timed(fn)
        samples.append(ms)
    return samples, result


def _answer(result: Any) -> Any:
    """What must be equal between ours and the baseline."""
    if isinstance(result, tuple):  # a page and its count
        return [r[3] for r in result[0]], result[1]
    if result and isinstance(result[0], aggregates.Cluster):
        return sum(c.count for c in result)
    return sum(n for _, n in result)


def questions(session: Session) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    s = session
    month, year = _window(MONTH), _window(YEAR)
    month_category = _window(MONTH, categories=["offensive"])
    view = EventFilter(bbox=VIEWPORT, limit=None)
    view_month = replace(view, start=MONTH[0], end=MONTH[1])
    wide = EventFilter(bbox=WIDE, limit=None)
    wide_year = replace(wide, start=YEAR[0], end=YEAR[1])
    quarter = EventFilter(start=QUARTER[0], end=QUARTER[1], limit=100)
    later = replace(quarter, after=_key_of_page(session, quarter, PAGES))
    year_page = EventFilter(start=YEAR[0], end=YEAR[1], limit=100)
    wide_page, view_page = EventFilter(bbox=WIDE, limit=100), EventFilter(bbox=VIEWPORT, limit=100)
    return {
        "w1 clusters, one-month window (zoom 7)": (
            lambda: aggregates.clusters(s, month, 7), lambda: _old_clusters(s, month, 7)),
        "w2 clusters, one-year window (zoom 7)": (
            lambda: aggregates.clusters(s, year, 7), lambda: _old_clusters(s, year, 7)),
        "w3 clusters, one-month window + category (zoom 7)": (
            lambda: aggregates.clusters(s, month_category, 7), lambda: _old_clusters(s, month_category, 7)),
        "w4 clusters, viewport without a window (zoom 7)": (
            lambda: aggregates.clusters(s, view, 7), lambda: _old_clusters(s, view, 7)),
        "w5 clusters, viewport + one month (zoom 8)": (
            lambda: aggregates.clusters(s, view_month, 8), lambda: _old_clusters(s, view_month, 8)),
        "w6 clusters, viewport without a window (zoom 9: finer than the counts, rows)": (
            lambda: aggregates.clusters(s, view, 9), lambda: _old_clusters(s, view, 9)),
        "w4b clusters, wide viewport without a window (zoom 6)": (
            lambda: aggregates.clusters(s, wide, 6), lambda: _old_clusters(s, wide, 6)),
        "w5b clusters, wide viewport + one-year window (zoom 6)": (
            lambda: aggregates.clusters(s, wide_year, 6), lambda: _old_clusters(s, wide_year, 6)),
        "w7 density strip, one-year window": (
            lambda: aggregates.weekly_counts(s, year), lambda: _old_weekly(s, year)),
        "w8 page 1 of a three-month window, limit 100, + numberMatched": (
            lambda: _ours_page(s, quarter), lambda: _old_page(s, quarter)),
        f"w9 page {PAGES} of it through next links": (
            lambda: _ours_page(s, later), lambda: _old_page(s, later)),
        "w10 page 1 of a one-year window, limit 100, + numberMatched": (
            lambda: _ours_page(s, year_page), lambda: _old_page(s, year_page)),
        "w11 page 1 of a wide viewport without a window, limit 100, + numberMatched": (
            lambda: _ours_page(s, wide_page), lambda: _old_page(s, wide_page)),
        "w12 a viewport without a window (zoom-7 size, mostly edge: rows as before), limit 100": (
            lambda: _ours_page(s, view_page), lambda: _old_page(s, view_page)),
    }  # fmt: skip


def fmt(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:,.1f} ms" if ms >= 10 else f"{ms:,.2f} ms"


def run(url: str, reps: int) -> list[str]:
    """The table rows (markdown) for the database at ``url``."""
    from timeline import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CACHE_URL": "none"})
    lines = [
        "| request | ours p50 | ours p90 | before p50 | before p90 | before / ours |",
        "|---|---|---|---|---|---|",
    ]
    with app.app_context():
        session = app_session()
        for name, (ours_fn, old_fn) in questions(session).items():
            ours, ours_result = _samples(ours_fn, reps)
            old, old_result = _samples(old_fn, max(3, reps // 3))
            if _answer(ours_result) != _answer(old_result):
                warn(
                    f"{name}: ours answered {_answer(ours_result)!r:.80}, before {_answer(old_result)!r:.80}"
                )
            o50, o90, b50, b90 = (percentile(x, q) for x, q in ((ours, 50), (ours, 90), (old, 50), (old, 90)))
            ratio = f"{b50 / o50:,.1f}×" if o50 and b50 else "—"
            lines.append(f"| {name} | {fmt(o50)} | {fmt(o90)} | {fmt(b50)} | {fmt(b90)} | {ratio} |")
            print(lines[-1], flush=True)
        session.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.windows", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgis"), default="sqlite")
    parser.add_argument("--database", help="a database URL instead of the suite's own for N events")
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args()
    url = args.database or for_events(args.backend, args.events).url
    if not args.database:
        generate(args.events, url)
    print("\n".join(run(url, args.reps)[:2]))


if __name__ == "__main__":
    main()
