"""Interval and cron schedules: each yields the start times of the flow runs it wants.

Bad input is rejected when the schedule is built (a cron string that does not parse, a time
zone that does not exist), naming the schedule, so nothing fails halfway through a run.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pendulum

__all__ = ["CronSchedule", "IntervalSchedule", "Schedule"]


def _as_datetime(value: Any, owner: str, tz: str | None = None) -> pendulum.DateTime:
    if value is None:
        return pendulum.now(tz or "UTC")
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
    """Every `interval`, counting from `start_date` (default: now)."""

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
        step = self.interval.total_seconds()
        elapsed = (after - self.start_date).total_seconds()
        k = 0 if elapsed < 0 else int(elapsed // step) + 1
        while True:
            yield self.start_date.add(seconds=k * step)
            k += 1


class CronSchedule(Schedule):
    """On a cron expression (croniter syntax), evaluated in time zone `timezone` (or that of
    `start_date`), so "0 9 * * *" means 09:00 local time across daylight-saving changes."""

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
        base = max(after, self.start_date).in_timezone(tz)
        it = croniter(self.cron, base)
        while True:
            nxt = it.get_next(datetime.datetime)
            yield pendulum.instance(nxt).in_timezone(tz)
