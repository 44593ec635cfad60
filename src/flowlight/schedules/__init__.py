"""Schedules: when a flow with `Flow(schedule=...)` runs.

`Schedule(clocks=[...], filters=[...], adjustments=[...])` is the general form;
`IntervalSchedule` and `CronSchedule` build the common one-clock schedules.
"""

from flowlight.schedules import adjustments, clocks, filters
from flowlight.schedules.schedules import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule

__all__ = [
    "CronSchedule",
    "IntervalSchedule",
    "RRuleSchedule",
    "Schedule",
    "adjustments",
    "clocks",
    "filters",
]
