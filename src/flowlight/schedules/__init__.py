"""Schedules: when a flow with `Flow(schedule=...)` runs."""

from flowlight.schedules.schedules import CronSchedule, IntervalSchedule, Schedule

__all__ = ["CronSchedule", "IntervalSchedule", "Schedule"]
