"""Dates with precision, without Flask."""

from datetime import date

import pytest

from geodata.dates import DateError, PartialDate, parse_partial_date


@pytest.mark.parametrize(
    ("text", "precision", "first", "last"),
    [
        ("2024", "year", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024-10", "month", date(2024, 10, 1), date(2024, 10, 31)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("2023-02", "month", date(2023, 2, 1), date(2023, 2, 28)),
        ("2024-11-11", "day", date(2024, 11, 11), date(2024, 11, 11)),
        ("2024-02-29", "day", date(2024, 2, 29), date(2024, 2, 29)),
    ],
)
def test_a_date_covers_every_day_of_its_precision(text, precision, first, last):
    parsed = parse_partial_date(text)
    assert parsed.precision == precision
    assert (parsed.first_day, parsed.last_day) == (first, last)
    assert parsed.isoformat() == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-02-30", "has 29 days"),
        ("2023-02-29", "has 28 days"),
        ("2024-13", "month 13 does not exist"),
        ("2024-00", "month 0 does not exist"),
        ("2024-11-00", "has 30 days"),
        ("24-11-11", "not an ISO 8601 date"),
        ("2024/11/11", "not an ISO 8601 date"),
        ("2024-11-11T10:00", "not an ISO 8601 date"),
        ("", "not an ISO 8601 date"),
        ("0000", "year must be 0001 or later"),
    ],
)
def test_impossible_dates_are_refused_not_rolled_over(text, reason):
    with pytest.raises(DateError, match=reason):
        parse_partial_date(text)


@pytest.mark.parametrize("value", [2024, None, 20.5, ["2024"]])
def test_non_strings_are_refused(value):
    with pytest.raises(DateError, match="ISO 8601 date string"):
        parse_partial_date(value)


def test_coarser_precision_keeps_the_containing_period():
    day = parse_partial_date("2024-11-11")
    assert day.at_precision("month") == PartialDate(date(2024, 11, 1), "month")
    assert day.at_precision("year").isoformat() == "2024"
