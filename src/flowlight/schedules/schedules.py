"""Interval and cron schedules: each yields the start times of the flow runs it wants.

Bad input is rejected when the schedule is built (a cron string that does not parse, a time
zone that does not exist), naming the schedule, so nothing fails halfway through a run.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pendulum

from flowlight.engine.clock import get_clock

__all__ = ["CronSchedule", "IntervalSchedule", "Schedule"]


def _as_datetime(value: Any, owner: str, tz: str | None = None) -> pendulum.DateTime:
    if value is None:
        # "now" comes from the engine's clock, so a test clock moves schedules too
        return pendulum.from_timestamp(get_clock().now(), tz=tz or "UTC")
    if isinstance(value, pendulum.DateTime):
        return value
    if isinstance(value, datetime.datetime):
        converted: pendulum.DateTime = pendulum.instance(value, tz=tz or "UTC")
        return converted
    raise TypeError(f"{owner} got start_date={value!r}; give a datetime.")


def _check_timezone(tz: str, owner: str) -> str:
    try:
        pendulum.timezone(tz)
    except Exception:
        raise ValueError(
            f"{owner} has time zone {tz!r}, which does not exist; use an IANA name such as "
            "'Europe/Berlin' or 'UTC'."
        ) from None
    return tz


class Schedule:
    """A source of flow run start times, optionally bounded by `end_date`."""

    def __init__(self, end_date: datetime.datetime | None = None) -> None:
        self.end_date = end_date

    def times_after(self, after: pendulum.DateTime) -> Iterator[pendulum.DateTime]:
        """Start times strictly after `after`, in order (the subclasses' one job)."""
        return iter(())

    def next(self, n: int, after: datetime.datetime | None = None) -> list[pendulum.DateTime]:
        """The next `n` start times after `after` (default: now), within `end_date`."""
        start = _as_datetime(after, repr(self))
        found: list[pendulum.DateTime] = []
        for when in self.times_after(start):
            if self.end_date is not None and when > self.end_date:
                break
            found.append(when)
            if len(found) >= n:
                break
        return found


class IntervalSchedule(Schedule):
    """Every `interval`, counting from `start_date` (default: now); the first start time is
    `start_date` itself."""

    def __init__(
        self,
        start_date: datetime.datetime | None = None,
        interval: datetime.timedelta | None = None,
        end_date: datetime.datetime | None = None,
    ) -> None:
        if not isinstance(interval, datetime.timedelta) or interval.total_seconds() <= 0:
            raise ValueError(
                f"IntervalSchedule got interval={interval!r}; give a positive "
                "datetime.timedelta, e.g. interval=timedelta(minutes=5)."
            )
        super().__init__(end_date)
        self.start_date = _as_datetime(start_date, "IntervalSchedule")
        self.interval = interval

    def __repr__(self) -> str:
        return f"<IntervalSchedule: every {self.interval}>"

    def times_after(self, after: pendulum.DateTime) -> Iterator[pendulum.DateTime]:
        # As in Prefect 1: whole days are added in the start date's wall-clock time (a daily
        # run stays at 09:00 local across a DST change), the rest as elapsed seconds (an hourly
        # run stays hourly in UTC).
        days = self.interval.days
        seconds = self.interval.total_seconds() - days * 86400
        elapsed = (after - self.start_date).total_seconds()
        k = max(0, int(elapsed // self.interval.total_seconds()) - 1)
        while True:
            when = self.start_date.add(days=k * days, seconds=k * seconds)
            if when > after:
                yield when
            k += 1


class CronSchedule(Schedule):
    """On a cron expression (croniter syntax), evaluated in time zone `timezone` (or that of
    `start_date`), so "0 9 * * *" means 09:00 local time across daylight-saving changes.

    Cron follows wall-clock time: when clocks go back, a repeated time fires once (the first
    time); when they go forward, a time that does not exist fires at the first time after it.
    """

    def __init__(
        self,
        cron: str,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        timezone: str | None = None,
    ) -> None:
        from croniter import croniter

        owner = f"CronSchedule({cron!r})"
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ValueError(
                f"{owner}: not a valid cron expression; use five fields "
                "'minute hour day-of-month month day-of-week', e.g. '0 9 * * 1-5'."
            )
        super().__init__(end_date)
        self.cron = cron
        self.timezone = _check_timezone(timezone, owner) if timezone else None
        self.start_date = _as_datetime(start_date, owner, self.timezone)

    def __repr__(self) -> str:
        return f"<CronSchedule: {self.cron!r} in {self.timezone or self.start_date.timezone_name}>"

    def times_after(self, after: pendulum.DateTime) -> Iterator[pendulum.DateTime]:
        from croniter import croniter

        tz = self.timezone or self.start_date.timezone_name or "UTC"
        # croniter yields times strictly after its base: start one second before start_date so
        # that start_date itself is a start time when it matches the expression
        base = max(after, self.start_date.subtract(seconds=1)).in_timezone(tz)
        it = croniter(self.cron, base)
        last_wall_time = None
        while True:
            when = pendulum.instance(it.get_next(datetime.datetime)).in_timezone(tz)
            wall_time = when.naive()
            if last_wall_time is not None and wall_time <= last_wall_time:
                continue  # clocks went back: a wall-clock time fires the first time only
            last_wall_time = wall_time
            yield when
