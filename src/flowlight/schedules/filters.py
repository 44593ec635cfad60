"""Schedule filters: functions of a candidate start time that say whether it may be used.

A filter has the signature `(datetime) -> bool`; the ones here that take arguments build such
a function. Times of day and dates are read in the candidate's own time zone.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pendulum

__all__ = [
    "at_time",
    "between_dates",
    "between_datetimes",
    "between_times",
    "is_day_of_week",
    "is_month_end",
    "is_month_start",
    "is_weekday",
    "is_weekend",
    "on_date",
    "on_datetime",
]

Filter = Callable[[datetime.datetime], bool]


def on_datetime(dt: datetime.datetime) -> Filter:
    """Only the instant `dt`."""
    return lambda candidate: candidate == dt


def between_datetimes(start: datetime.datetime, end: datetime.datetime) -> Filter:
    """Instants from `start` to `end`, both included."""
    return lambda candidate: start <= candidate <= end


def on_date(month: int, day: int) -> Filter:
    """That day of that month, in any year."""
    return lambda candidate: (candidate.month, candidate.day) == (month, day)


def between_dates(start_month: int, start_day: int, end_month: int, end_day: int) -> Filter:
    """Days from (start_month, start_day) to (end_month, end_day) in any year, both included;
    a start after the end wraps over the new year (`between_dates(10, 15, 3, 31)`)."""
    start, end = (start_month, start_day), (end_month, end_day)

    def _between_dates(candidate: datetime.datetime) -> bool:
        date = (candidate.month, candidate.day)
        if start_month <= end_month:
            return start <= date <= end
        return date >= start or date <= end

    return _between_dates


def at_time(t: datetime.time) -> Filter:
    """Only at time of day `t` (exactly, microseconds included)."""
    return lambda candidate: candidate.time() == t


def between_times(start: datetime.time, end: datetime.time) -> Filter:
    """Times of day from `start` to `end`, both included; a start after the end wraps over
    midnight (`between_times(time(22), time(2))`)."""

    def _between_times(candidate: datetime.datetime) -> bool:
        t = candidate.time()
        if start <= end:
            return start <= t <= end
        return t >= start or t <= end

    return _between_times


def is_weekday(dt: datetime.datetime) -> bool:
    """Monday to Friday."""
    return dt.weekday() < 5


def is_weekend(dt: datetime.datetime) -> bool:
    """Saturday or Sunday."""
    return dt.weekday() > 4


def is_month_end(dt: datetime.datetime) -> bool:
    """The last day of its month."""
    return pendulum.instance(dt).add(days=1).month != dt.month


def is_month_start(dt: datetime.datetime) -> bool:
    """The first day of its month."""
    return dt.day == 1


def is_day_of_week(day_of_week: int) -> Filter:
    """One day of the week, numbered as `datetime.weekday()` does (Monday is 0)."""
    return lambda candidate: candidate.weekday() == day_of_week
