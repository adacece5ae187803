"""(s) Full-text search: ``q`` through the full-text index (migration 0009) beside the LIKE it replaced.

The baseline is what ``q`` was before the index, measured in the same run on the same rows: the
case-folded substring LIKE over title, description and place (``queries.like_text_condition``), in
the same statements otherwise (the page of 100 in timeline order, and its count). Ours is
``page_and_count`` as ``/api/events`` calls it (the index's capped count that chooses the plan
included), through SQLAlchemy in the process, on either database.

The generated story has no rare words: each of its words is in thousands of events. So the rare
word is written into twenty events for the measurement, in a transaction that is rolled back
afterwards (the index takes them in as it takes any write; nothing is left behind). The other
questions: a town's name (in one event's title in thirteen), a common word (in most English
descriptions), and the common word in the (a) viewport and month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, literal, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from timeline.store.filters import EventFilter
from timeline.store.models import Event
from timeline.store.queries import conditions, filtered_events, like_text_condition, page_and_count

from .backends import app_session
from .measure import Row, median_p95, timed, warn, windows

RARE = "Zyxwortbeleg"  # in no generated event
RARE_EVENTS = 20
TOWN = "Tyotkino"
COMMON = "troops"
BASELINE_BUDGET_S = 10.0  # the LIKE reads every row: fewer samples once past this
BASELINE_TIMEOUT_S = 60


def _samples(
    fn: Callable[[], Any], reps: int, budget_s: float = BASELINE_BUDGET_S
) -> tuple[list[float], Any]:
    """Up to ``reps`` timings in ms, and the first call's result. Whatever the first call costs, it
    is one sample (the LIKE over a million rows takes minutes on PostgreSQL); more are taken while
    the time spent stays under ``budget_s``. Warm-up is the caller's."""
    ms, first = timed(fn)
    samples, spent = [ms], ms
    while len(samples) < reps and spent + samples[-1] < budget_s * 1000:
        ms, _ = timed(fn)
        samples.append(ms)
        spent += ms
    return samples, first


def _like_page_and_count(session: Session, f: EventFilter) -> tuple[list[Any], int]:
    """The baseline: the same page and count, q answered by the LIKE over every row.

    On PostgreSQL each statement may run BASELINE_TIMEOUT_S at most (tl_casefold, which the LIKE
    folds every row with, takes minutes over a million descriptions): one cut short raises, and
    the row then shows the limit as the baseline, a lower bound, with a warning.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text(f"SET LOCAL statement_timeout = '{BASELINE_TIMEOUT_S}s'"))
    where = [*conditions(replace(f, text=None), dialect), like_text_condition(f.text or "", dialect)]
    page = select(Event.pk).where(*where).order_by(Event.first_day, Event.last_day, Event.id).limit(f.limit)
    count = select(func.count()).select_from(Event).where(*where)
    return list(session.scalars(page)), int(session.scalar(count) or 0)


def _add_rare_events(session: Session) -> None:
    """Copies of the first RARE_EVENTS events with the rare word in their titles (rolled back later)."""
    columns = [c for c in Event.__table__.c if c.name != "pk"]
    values = [
        (c.concat(f"-{RARE.lower()}") if c.name == "id" else literal(f"{RARE}: ").concat(c))
        if c.name in ("id", "title")
        else c
        for c in columns
    ]
    first = select(*values).order_by(Event.pk).limit(RARE_EVENTS)
    session.execute(insert(Event.__table__).from_select([c.name for c in columns], first))


def bench_search(app: Flask, reps: int) -> tuple[list[Row], dict[str, str]]:
    """(s1-s4) each question, ours against the LIKE, and the events each matched (must be equal)."""
    window = windows(1)[0]
    questions = {
        f"s1 q={RARE} (a rare word: {RARE_EVENTS} events)": EventFilter(text=RARE),
        f"s2 q={TOWN} (a town's name: 1 event in 13)": EventFilter(text=TOWN),
        f"s3 q={COMMON} (a common word)": EventFilter(text=COMMON),
        f"s4 q={COMMON} in the (a) viewport and month": replace(window, text=COMMON),
    }
    rows: list[Row] = []
    plans: dict[str, str] = {}
    with app.app_context():
        session = app_session()
        _add_rare_events(session)
        try:
            for name, f in questions.items():
                page_and_count(session, f, keys_only=True)  # warms the caches for both
                ours, (_, ours_n) = _samples(lambda f=f: page_and_count(session, f, keys_only=True), reps)
                like, like_n = _baseline(session, f, reps, name)
                medians = _medians(ours, like)
                rows.append(Row(f"{name}, page+count, median — vs the LIKE it replaced", *medians))
                rows.append(
                    Row(f"{name}: events matched — vs the LIKE's (must be equal)", ours_n, like_n, "events")
                )
                if like_n is not None and ours_n != like_n:
                    warn(f"{name}: the index matched {ours_n} events, the LIKE {like_n}")
            ranked = EventFilter(text=TOWN)
            by_rank = partial(page_and_count, session, ranked, keys_only=True, order="relevance")
            ours, _ = _samples(by_rank, reps)
            plain, _ = _samples(partial(page_and_count, session, ranked, keys_only=True), reps)
            name = f"s5 q={TOWN}&sort=relevance, page+count, median — vs timeline order"
            rows.append(Row(name, *_medians(ours, plain)))
            plans = _plans(session, questions)
        finally:
            session.rollback()
            session.close()
    return rows, plans


def _baseline(session: Session, f: EventFilter, reps: int, name: str) -> tuple[list[float], int | None]:
    """The LIKE's timings and count; on PostgreSQL a statement cut short by BASELINE_TIMEOUT_S gives
    the limit as its one sample (a lower bound) and no count. The rare events survive: the
    timeout ends only a savepoint."""
    try:
        with session.begin_nested():
            like, (_, n) = _samples(partial(_like_page_and_count, session, f), reps)
        return like, n
    except OperationalError:
        warn(f"{name}: the LIKE was stopped after {BASELINE_TIMEOUT_S} s; its figure is a lower bound")
        return [BASELINE_TIMEOUT_S * 1000.0], None


def _medians(ours: list[float], baseline: list[float]) -> tuple[float, float]:
    return median_p95(ours)[0], median_p95(baseline)[0]


def _plans(session: Session, questions: dict[str, EventFilter]) -> dict[str, str]:
    """The plans of our page statements (the probe's choice made), for RESULTS.md."""
    from .queries import dialect_of

    dialect = dialect_of(session)
    return {
        f"ours: filtered_events, {name.split(' ', 1)[1]}": dialect.explain_statement(
            session, filtered_events(session, f)
        )
        for name, f in questions.items()
    }
