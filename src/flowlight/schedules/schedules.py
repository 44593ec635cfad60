"""Schedules: the start times of a flow's runs, made from clocks, filters and adjustments.

A schedule merges the events of its clocks in time order (an instant two clocks share is used
once), keeps those that pass its filters (all `filters`, at least one of `or_filters` when there
are any, none of `not_filters`), then moves each through its `adjustments` in order.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flowlight.schedules.clocks import Clock, ClockEvent, CronClock, IntervalClock, RRuleClock

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule"]

_MAX_CANDIDATES = 10_000
"""`next()` looks at most this many clock events: clocks are endless and filters may refuse
them all, so a search has to stop somewhere (Prefect 1's bound)."""


class Schedule:
    """Start times from `clocks`, kept by the filters and moved by the adjustments."""

    def __init__(
        self,
        clocks: Iterable[Clock],
        filters: Iterable[Callable[[datetime.datetime], bool]] | None = None,
        or_filters: Iterable[Callable[[datetime.datetime], bool]] | None = None,
        not_filters: Iterable[Callable[[datetime.datetime], bool]] | None = None,
        adjustments: Iterable[Callable[[datetime.datetime], datetime.datetime]] | None = None,
    ) -> None:
        if not isinstance(clocks, Iterable) or isinstance(clocks, (str, Clock)):
            raise TypeError(
                f"Schedule got clocks={clocks!r}; clocks should be a list of clocks, e.g. "
                "Schedule(clocks=[IntervalClock(timedelta(hours=1))])."
            )
        self.clocks = list(clocks)
        for clock in self.clocks:
            if not isinstance(clock, Clock):
                raise TypeError(
                    f"Schedule got {clock!r} among its clocks; each must be a "
                    "flowlight.schedules.clocks.Clock (IntervalClock, CronClock, ...)."
                )
        self.filters = list(filters or [])
        self.or_filters = list(or_filters or [])
        self.not_filters = list(not_filters or [])
        self.adjustments = list(adjustments or [])

    def __repr__(self) -> str:
        return f"<Schedule: {', '.join(repr(c) for c in self.clocks)}>"

    @property
    def start_date(self) -> datetime.datetime | None:
        """The earliest start date of the clocks (None when none has one)."""
        return min((c.start_date for c in self.clocks if c.start_date), default=None)

    @property
    def end_date(self) -> datetime.datetime | None:
        """The latest end date of the clocks (None when none has one)."""
        return max((c.end_date for c in self.clocks if c.end_date), default=None)

    def next(
        self, n: int, after: datetime.datetime | None = None, return_events: bool = False
    ) -> list[Any]:
        """The next `n` start times strictly after `after` (default: now), as datetimes, or as
        `ClockEvent`s (with the clock's parameter defaults and labels) when `return_events`.

        Fewer come back when the clocks end, or when 10,000 candidates were looked at."""
        found: list[Any] = []
        if n <= 0:
            return found
        for looked, event in enumerate(self._clock_events(after), start=1):
            if self._passes_filters(event.start_time):
                event.start_time = self._adjust(event.start_time)
                found.append(event if return_events else event.start_time)
                if len(found) == n:
                    break
            if looked >= _MAX_CANDIDATES:
                break
        return found

    def _clock_events(self, after: datetime.datetime | None) -> Iterator[ClockEvent]:
        merged = heapq.merge(*(clock.events(after=after) for clock in self.clocks))
        # the stream is sorted, so equal events are neighbours: keep the first of each run
        for _, same in itertools.groupby(merged):
            yield next(same)

    def _passes_filters(self, when: datetime.datetime) -> bool:
        return (
            all(keep(when) for keep in self.filters)
            and (not self.or_filters or any(keep(when) for keep in self.or_filters))
            and not any(refuse(when) for refuse in self.not_filters)
        )

    def _adjust(self, when: datetime.datetime) -> datetime.datetime:
        for adjust in self.adjustments:
            when = adjust(when)
        return when


def IntervalSchedule(
    start_date: datetime.datetime | None = None,
    interval: datetime.timedelta | None = None,
    end_date: datetime.datetime | None = None,
) -> Schedule:
    """A schedule of one `IntervalClock`: every `interval` from `start_date`."""
    return Schedule(clocks=[IntervalClock(interval, start_date, end_date)])  # type: ignore[arg-type]


def CronSchedule(
    cron: str,
    start_date: datetime.datetime | None = None,
    end_date: datetime.datetime | None = None,
    day_or: bool | None = None,
    timezone: str | None = None,
) -> Schedule:
    """A schedule of one `CronClock` (see there for time zones and DST)."""
    clock = CronClock(cron, start_date, end_date, day_or=day_or, timezone=timezone)
    return Schedule(clocks=[clock])


def RRuleSchedule(
    rrule_obj: Any,
    start_date: datetime.datetime | None = None,
    end_date: datetime.datetime | None = None,
) -> Schedule:
    """A schedule of one `RRuleClock` (an iCalendar recurrence rule)."""
    return Schedule(clocks=[RRuleClock(rrule_obj, start_date, end_date)])
