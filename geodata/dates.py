"""Dates with a precision: ``2024``, ``2024-10`` or ``2024-11-11``.

News rarely dates everything to the day. An event known only as "October 2024" must stay
"October 2024" when it is stored, shown and exported, and must still be found by a search for
any day inside that month. So a :class:`PartialDate` keeps what was written and knows the first
and last day it covers; queries compare those days, humans read the text.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Precision = Literal["year", "month", "day"]
PRECISIONS: tuple[Precision, ...] = ("year", "month", "day")

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")


class DateError(ValueError):
    """A date that cannot be read: the message says why, in words an editor understands."""


@dataclass(frozen=True, order=True)
class PartialDate:
    """A calendar date known to the year, month or day."""

    first_day: date
    precision: Precision

    @property
    def last_day(self) -> date:
        """The last day the date covers (31 Dec for a year, month end for a month)."""
        d = self.first_day
        if self.precision == "year":
            return date(d.year, 12, 31)
        if self.precision == "month":
            return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
        return d

    def isoformat(self) -> str:
        """ISO 8601 at the date's own precision."""
        d = self.first_day
        if self.precision == "year":
            return f"{d.year:04d}"
        if self.precision == "month":
            return f"{d.year:04d}-{d.month:02d}"
        return d.isoformat()

    def at_precision(self, precision: Precision) -> PartialDate:
        """The same date read at a coarser precision (used to align an event's end with its start)."""
        d = self.first_day
        if precision == "year":
            return PartialDate(date(d.year, 1, 1), "year")
        if precision == "month":
            return PartialDate(date(d.year, d.month, 1), "month")
        return PartialDate(d, "day")

    def __str__(self) -> str:
        return self.isoformat()


def parse_partial_date(text: object) -> PartialDate:
    """Read ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; raise :class:`DateError` on anything else.

    Impossible dates (``2024-02-30``, ``2024-13``) are refused rather than rolled over, because a
    silently corrected date puts an event in the wrong place on the timeline.
    """
    if not isinstance(text, str):
        raise DateError(f"expected an ISO 8601 date string such as 2024, 2024-10 or 2024-11-11, got {text!r}")
    match = _PATTERN.match(text.strip())
    if not match:
        raise DateError(f"{text!r} is not an ISO 8601 date (use 2024, 2024-10 or 2024-11-11)")
    year = int(match["year"])
    month = int(match["month"]) if match["month"] else None
    day = int(match["day"]) if match["day"] else None
    if year < 1:
        raise DateError(f"{text!r}: year must be 0001 or later")
    if month is not None and not 1 <= month <= 12:
        raise DateError(f"{text!r}: month {month} does not exist")
    if day is not None:
        assert month is not None
        days_in_month = calendar.monthrange(year, month)[1]
        if not 1 <= day <= days_in_month:
            raise DateError(f"{text!r}: {year:04d}-{month:02d} has {days_in_month} days")
        return PartialDate(date(year, month, day), "day")
    if month is not None:
        return PartialDate(date(year, month, 1), "month")
    return PartialDate(date(year, 1, 1), "year")


def precision_of(text: str) -> Precision:
    """The precision an ISO date string is written at."""
    return parse_partial_date(text).precision


def check_precision(value: object) -> Precision:
    """Return ``value`` if it names a precision, else raise :class:`DateError`."""
    if value not in PRECISIONS:
        raise DateError(f"date_precision must be one of {', '.join(PRECISIONS)}, got {value!r}")
    return value
