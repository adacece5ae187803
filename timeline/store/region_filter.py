"""The ``region=`` and ``country=`` conditions of a filter, on the columns every save fills in.

A value is matched as a code (``RU-KRS``, ``RU``; case does not matter) or, case-insensitively, as
the stored name (``Kursk Oblast``, or an ACLED file's own ``Kursk``). The count tables are not keyed
by region, so a filter with either is answered from the rows (``answerable_from_counts`` refuses
every filter field that is not a count key).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_

from timeline.store.filters import EventFilter
from timeline.store.models import Event


def region_conditions(f: EventFilter) -> list[Any]:
    """An OR per list: the event's region is one of ``f.regions``, its country one of ``f.countries``."""
    conds: list[Any] = []
    if f.regions:
        conds.append(_any_of(Event.region_code, Event.region_name, f.regions))
    if f.countries:
        conds.append(_any_of(Event.country_code, Event.country_name, f.countries))
    return conds


def _any_of(code: Any, name: Any, values: list[str]) -> Any:
    codes = sorted({v.strip().upper() for v in values})
    names = sorted({v.strip().lower() for v in values})
    return or_(code.in_(codes), func.lower(name).in_(names))
