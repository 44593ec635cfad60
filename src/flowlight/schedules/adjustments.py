"""Schedule adjustments: functions that move a start time that passed the filters.

An adjustment has the signature `(datetime) -> datetime`; a schedule applies its adjustments in
order.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pendulum

from flowlight.schedules.filters import is_weekday

__all__ = ["add", "next_weekday"]


def add(interval: datetime.timedelta) -> Callable[[datetime.datetime], datetime.datetime]:
    """Move each start time later by `interval`."""

    def _add(dt: datetime.datetime) -> datetime.datetime:
        moved: datetime.datetime = pendulum.instance(dt) + interval
        return moved

    return _add


def next_weekday(dt: datetime.datetime) -> datetime.datetime:
    """Move a Saturday or Sunday start to the Monday after, same time; weekdays stay."""
    moved: pendulum.DateTime = pendulum.instance(dt)
    while not is_weekday(moved):
        moved = moved.add(days=1)
    return moved
