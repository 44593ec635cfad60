"""Clocks: the sources of candidate start times a `Schedule` filters and adjusts.

Each clock yields `ClockEvent`s in order, strictly after a given time ("now" by default, read
from the engine's clock so a test clock moves schedules too). An event carries the clock's
`parameter_defaults` and `labels`, so one schedule can start runs with different parameters.

Bad input is rejected when the clock is built (a cron string that does not parse, a time zone
that does not exist, an interval that is not positive), naming the clock.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pendulum

from flowlight.engine.clock import get_clock

__all__ = ["Clock", "ClockEvent", "CronClock", "DatesClock", "IntervalClock", "RRuleClock"]

_DEFAULT_INTERVAL_START = (2019, 1, 1)
"""Prefect 1's anchor for an interval clock without a start date (UTC midnight)."""


def _instance(value: Any, owner: str, name: str) -> pendulum.DateTime | None:
    if value is None:
        return None
    if isinstance(value, pendulum.DateTime):
        return value
    if isinstance(value, datetime.datetime):
        converted: pendulum.DateTime = pendulum.instance(value)
        return converted
    raise TypeError(f"{owner} got {name}={value!r}; give a datetime (or None).")


def _now(tz: Any = "UTC") -> pendulum.DateTime:
    return pendulum.from_timestamp(get_clock().now(), tz=tz)


class ClockEvent:
    """One candidate start time, with the parameters and labels of the clock that made it.

    An event equals a datetime with the same start time, so `schedule.next(...)` results and
    clock events compare directly with datetimes; events order by start time.
    """

    def __init__(
        self,
        start_time: datetime.datetime,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.start_time = start_time
        self.parameter_defaults = parameter_defaults or {}
        self.labels = labels

    def __eq__(self, other: object) -> bool:
        if isinstance(other, datetime.datetime):
            return self.start_time == other
        if not isinstance(other, ClockEvent):
            return False
        return (self.start_time, self.parameter_defaults, self.labels) == (
            other.start_time,
            other.parameter_defaults,
            other.labels,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable and equal to datetimes

    def _start(self, other: object, op: str) -> datetime.datetime:
        if isinstance(other, ClockEvent):
            return other.start_time
        if isinstance(other, datetime.datetime):
            return other
        raise TypeError(
            f"'{op}' not supported between instances of 'ClockEvent' and {type(other).__name__}"
        )

    def __lt__(self, other: object) -> bool:
        return self.start_time < self._start(other, "<")

    def __gt__(self, other: object) -> bool:
        return self.start_time > self._start(other, ">")

    def __repr__(self) -> str:
        return f"<ClockEvent {self.start_time} labels={self.labels} {self.parameter_defaults}>"


class Clock:
    """Base of all clocks: optional `start_date`/`end_date` (inclusive), the parameters and
    labels given to each event. Subclasses implement `events`."""

    def __init__(
        self,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        owner = type(self).__name__
        self.start_date = _instance(start_date, owner, "start_date")
        self.end_date = _instance(end_date, owner, "end_date")
        self.parameter_defaults = parameter_defaults or {}
        self.labels = labels

    def _event(self, when: datetime.datetime) -> ClockEvent:
        return ClockEvent(when, parameter_defaults=self.parameter_defaults, labels=self.labels)

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        """Events strictly after `after` (default: now), in order."""
        raise NotImplementedError(
            f"{type(self).__name__} does not say when it fires: Clock is a base class; use "
            "IntervalClock, CronClock, DatesClock or RRuleClock, or subclass Clock and "
            "implement events(after)."
        )


class IntervalClock(Clock):
    """Every `interval`, counted from `start_date` (default: 2019-01-01 00:00 UTC, as in
    Prefect 1), so the start times do not depend on when the process started.

    Whole days are added in the start date's wall-clock time (a daily 09:00 run stays at 09:00
    local across a DST change); the rest as elapsed time (an hourly run stays hourly in UTC).
    """

    def __init__(
        self,
        interval: datetime.timedelta,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        if not isinstance(interval, datetime.timedelta):
            raise TypeError(
                f"IntervalClock got interval={interval!r}; give a datetime.timedelta, e.g. "
                "interval=timedelta(minutes=5)."
            )
        if interval.total_seconds() <= 0:
            raise ValueError(
                f"IntervalClock got interval={interval!r}; the interval must be greater than 0, "
                "e.g. interval=timedelta(minutes=5)."
            )
        self.interval = interval
        super().__init__(start_date, end_date, parameter_defaults, labels)

    def __repr__(self) -> str:
        return f"<IntervalClock: every {self.interval}>"

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        start = self.start_date or pendulum.datetime(*_DEFAULT_INTERVAL_START, tz="UTC")
        floor = _now() if after is None else pendulum.instance(after)
        step = self.interval.total_seconds()
        # jump straight to the first interval at or after `floor` (strictly after it when it
        # falls exactly on one), instead of walking from the start date
        skipped = (floor - start).total_seconds() / step
        k = 0 if skipped < 0 else int(skipped) + 1
        days = self.interval.days
        seconds = step - days * 86400
        while True:
            when = start.add(days=k * days, seconds=k * seconds)
            k += 1
            if when < floor:
                continue
            if self.end_date is not None and when > self.end_date:
                return
            yield self._event(when)


class CronClock(Clock):
    """On a cron expression, evaluated in the start date's time zone (or `timezone`, a
    flowlight addition; default UTC), so "0 9 * * *" means 09:00 local across DST changes.

    Cron follows the wall clock: when clocks go back, a repeated time fires once (the second
    time, after the change, as in Prefect 1.4.1); a time that does not exist fires at the first
    time after the gap. `day_or=False`
    makes day-of-month and day-of-week both required (croniter's switch).
    """

    def __init__(
        self,
        cron: str,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
        day_or: bool | None = None,
        timezone: str | None = None,
    ) -> None:
        from croniter import croniter

        owner = f"CronClock({cron!r})"
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ValueError(
                f"{owner}: not a valid cron expression; use five fields "
                "'minute hour day-of-month month day-of-week', e.g. '0 9 * * 1-5'."
            )
        if timezone is not None:
            try:
                pendulum.timezone(timezone)
            except Exception:
                raise ValueError(
                    f"{owner} has time zone {timezone!r}, which does not exist; use an IANA "
                    "name such as 'Europe/Berlin' or 'UTC'."
                ) from None
        self.cron = cron
        self.day_or = True if day_or is None else day_or
        self.timezone = timezone
        super().__init__(start_date, end_date, parameter_defaults, labels)
        if timezone is not None and self.start_date is not None:
            self.start_date = self.start_date.in_timezone(timezone)

    @property
    def timezone_name(self) -> str:
        """The zone the expression is read in."""
        if self.timezone is not None:
            return self.timezone
        name = getattr(self.start_date, "timezone_name", None)
        return name or "UTC"

    def __repr__(self) -> str:
        return f"<CronClock: {self.cron!r} in {self.timezone_name}>"

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        from croniter import croniter

        tz = self.timezone_name
        floor = _now(tz) if after is None else pendulum.instance(after).in_timezone(tz)
        if self.start_date is not None:
            # one second before start_date, so start_date itself fires when it matches
            floor = max(floor, self.start_date.subtract(seconds=1).in_timezone(tz))
        base = floor
        if base.microsecond:  # a time inside a second counts as that whole second
            base = base.replace(microsecond=0).add(seconds=1)
        it = croniter(self.cron, base, day_or=self.day_or)
        last_wall_time = None
        while True:
            wall_time = pendulum.instance(it.get_next(datetime.datetime)).in_timezone(tz).naive()
            if last_wall_time is not None and wall_time <= last_wall_time:
                continue  # clocks went back: a wall-clock time fires once
            last_wall_time = wall_time
            # a wall time that happens twice fires at its second occurrence, after the change
            # (pendulum's default fold, and what Prefect 1's CronClock does)
            when = pendulum.datetime(
                wall_time.year,
                wall_time.month,
                wall_time.day,
                wall_time.hour,
                wall_time.minute,
                wall_time.second,
                wall_time.microsecond,
                tz=tz,
            )
            if when <= floor:
                continue
            if self.end_date is not None and when > self.end_date:
                return
            yield self._event(when)


class DatesClock(Clock):
    """Fires on each of `dates` (its start and end dates are the earliest and latest)."""

    def __init__(
        self,
        dates: list[datetime.datetime],
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        dates = list(dates)
        if not dates:
            raise ValueError("DatesClock got no dates; give at least one datetime.")
        super().__init__(min(dates), max(dates), parameter_defaults, labels)
        self.dates = dates

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        floor = _now() if after is None else after
        for when in sorted(self.dates):
            if when > floor:
                yield self._event(when)


class RRuleClock(Clock):
    """Fires on the dates of an iCalendar recurrence rule (a `dateutil.rrule` or `rruleset`)."""

    def __init__(
        self,
        rrule_obj: Any,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        from dateutil import rrule

        if not isinstance(rrule_obj, rrule.rrulebase):
            raise TypeError(
                f"RRuleClock got {rrule_obj!r}; give a dateutil.rrule.rrule or rruleset."
            )
        super().__init__(start_date, end_date, parameter_defaults, labels)
        self.rrule_obj = rrule_obj

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        inclusive = after is None
        floor: datetime.datetime = _now() if after is None else after
        if self.start_date is not None and floor < self.start_date:
            floor, inclusive = self.start_date, True
        # the rule's own datetimes decide whether comparisons are naive or aware
        first: datetime.datetime = next(iter(self.rrule_obj), floor)
        if floor.tzinfo is not None and first.tzinfo is None:
            floor = floor.replace(tzinfo=None)
        elif floor.tzinfo is None and first.tzinfo is not None:
            floor = floor.replace(tzinfo=first.tzinfo)
        for when in self.rrule_obj.xafter(floor, inc=inclusive):
            if self.end_date is not None and when > self.end_date:
                return
            yield self._event(pendulum.instance(when))
