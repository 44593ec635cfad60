"""The `date` a run's context offers, as Prefect 1 sets it (the day texts follow from it when
read, see `flowlight.utilities.context`).

`date` is the run's start (a pendulum datetime in UTC) unless the caller's context gave one; text
that parses, as a scheduler or UI passes it, becomes the datetime it names. The run's start is
`Deferred`: a run nobody asks for a date loads no pendulum.
"""

from __future__ import annotations

import datetime
from typing import Any

from flowlight.utilities.context import Deferred

__all__ = ["run_dates"]


def run_dates(given: Any, started: float) -> dict[str, Any]:
    """The context's `date` for a run started at `started` (epoch seconds): none when the caller
    gave one to keep, the datetime it names when it gave text that parses."""
    if given is None:
        return {"date": Deferred(_utc_date, started)}
    if isinstance(given, str):
        import pendulum

        try:
            parsed = pendulum.parse(given)
        except Exception:  # as in Prefect 1: text that is no date is kept as it is
            return {}
        if isinstance(parsed, datetime.datetime):
            return {"date": parsed}
    return {}


def _utc_date(epoch_seconds: float) -> Any:
    import pendulum

    return pendulum.from_timestamp(epoch_seconds, tz="UTC")
