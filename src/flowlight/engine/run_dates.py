"""The dates a run's context offers, as Prefect 1 sets them: `date` and the day texts around it.

`date` is the run's start (a pendulum datetime in UTC) unless the caller's context gave one (text
that parses, as a scheduler or UI passes it, becomes the datetime it names); `today`,
`yesterday`, `tomorrow` and their `_nodash` forms follow it. Each value made here is `Deferred`:
a run nobody asks for a date loads no pendulum.
"""

from __future__ import annotations

import datetime
import sys
from typing import Any, cast

from flowlight.utilities.context import Deferred

__all__ = ["run_dates"]

# Context key -> (days from `date`, format)
_DAY_TEXTS = {
    "today": (0, "%Y-%m-%d"),
    "yesterday": (-1, "%Y-%m-%d"),
    "tomorrow": (1, "%Y-%m-%d"),
    "today_nodash": (0, "%Y%m%d"),
    "yesterday_nodash": (-1, "%Y%m%d"),
    "tomorrow_nodash": (1, "%Y%m%d"),
}


def run_dates(given: Any, started: float) -> dict[str, Any]:
    """The context's date values for a run started at `started` (epoch seconds). A `date` the
    caller gave is kept (text that parses is replaced by the datetime it names); the day texts
    follow it when it is a pendulum datetime, else the run's start, as in Prefect 1."""
    when = _given_datetime(given)
    dates: dict[str, Any] = {}
    if given is None:
        dates["date"] = Deferred(_utc_date, started)
    elif isinstance(given, str) and when is not None:
        dates["date"] = when
    origin: datetime.datetime | float = when if when is not None else started
    for key, (days, layout) in _DAY_TEXTS.items():
        dates[key] = Deferred(_day_text, (origin, days, layout))
    return dates


def _given_datetime(given: Any) -> datetime.datetime | None:
    """`given` as the datetime the day texts follow: a pendulum datetime, or text that parses
    as one; None for anything else (a plain datetime too, which Prefect 1 does not follow)."""
    if isinstance(given, str):
        import pendulum

        try:
            parsed = pendulum.parse(given)
        except Exception:  # as in Prefect 1: text that is no date leaves the run's start
            return None
        return parsed if isinstance(parsed, datetime.datetime) else None
    loaded = sys.modules.get("pendulum")  # a pendulum datetime means pendulum is imported
    if loaded is not None and isinstance(given, loaded.DateTime):
        return cast(datetime.datetime, given)
    return None


def _utc_date(epoch_seconds: float) -> Any:
    import pendulum

    return pendulum.from_timestamp(epoch_seconds, tz="UTC")


def _day_text(spec: tuple[datetime.datetime | float, int, str]) -> str:
    origin, days, layout = spec
    moment = (
        origin
        if isinstance(origin, datetime.datetime)
        else datetime.datetime.fromtimestamp(origin, tz=datetime.timezone.utc)
    )
    return (moment + datetime.timedelta(days=days)).strftime(layout)
