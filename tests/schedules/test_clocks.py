"""Clocks, filters and adjustments composed into a `Schedule`, as Prefect 1.4.1's
`prefect.schedules` builds them. The expected times were measured on Prefect 1.4.1 with the same
calls (2019-01-03 was a Thursday; New York's clocks changed on 11 March and 4 November 2018)."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pendulum
import pytest
from dateutil import rrule
from tests.engine._recording import FakeClock

from flowlight import Flow, Parameter, task
from flowlight.engine.clock import use_clock
from flowlight.schedules import Schedule, adjustments, clocks, filters

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
NEW_YORK = "America/New_York"


def _iso(events: Any, n: int | None = None) -> list[str]:
    items = itertools.islice(events, n) if n is not None else events
    return [getattr(e, "start_time", e).isoformat() for e in items]


# -- clocks ----------------------------------------------------------------------------------


def test_interval_clock_without_start_date_counts_from_2019() -> None:
    """No start date: intervals are counted from 2019-01-01 UTC, so an `after` between two
    start times gives the next one, whatever day the process started."""
    clock = clocks.IntervalClock(DAY)
    assert clock.start_date is None
    assert _iso(clock.events(after=pendulum.datetime(2025, 1, 5, 1)), 2) == [
        "2025-01-06T00:00:00+00:00",
        "2025-01-07T00:00:00+00:00",
    ]


def test_interval_clock_keeps_microseconds_of_its_start_date() -> None:
    start = pendulum.datetime(2018, 1, 1, 0, 0, 0, 1)
    clock = clocks.IntervalClock(HOUR, start_date=start)
    assert _iso(clock.events(after=pendulum.datetime(2000, 1, 1)), 2) == [
        "2018-01-01T00:00:00.000001+00:00",
        "2018-01-01T01:00:00.000001+00:00",
    ]


def test_hourly_interval_clock_repeats_the_local_hour_when_clocks_go_back() -> None:
    start = pendulum.datetime(2018, 11, 3, 23, tz=NEW_YORK)
    assert _iso(clocks.IntervalClock(HOUR, start_date=start).events(after=start), 4) == [
        "2018-11-04T00:00:00-04:00",
        "2018-11-04T01:00:00-04:00",
        "2018-11-04T01:00:00-05:00",
        "2018-11-04T02:00:00-05:00",
    ]


def test_cron_clock_reads_the_expression_in_utc_without_a_start_date() -> None:
    clock = clocks.CronClock("0 * * * *")
    after = pendulum.datetime(2018, 3, 11, tz=NEW_YORK)
    assert [t.hour for t in (e.start_time for e in itertools.islice(clock.events(after), 3))] == [
        6,
        7,
        8,
    ]


def test_cron_clock_rounds_a_start_date_inside_a_second_up() -> None:
    clock = clocks.CronClock("0 0 * * *", start_date=pendulum.datetime(2050, 1, 1, 0, 0, 0, 1))
    assert _iso(clock.events(), 1) == ["2050-01-02T00:00:00+00:00"]


def test_cron_clock_day_or_false_needs_both_day_fields() -> None:
    """`day_or=False`: "the 8th to 14th *and* a Friday", i.e. each second Friday."""
    clock = clocks.CronClock("0 0 8-14 * 5", day_or=False)
    assert _iso(clock.events(after=pendulum.datetime(2019, 1, 1)), 2) == [
        "2019-01-11T00:00:00+00:00",
        "2019-02-08T00:00:00+00:00",
    ]


def test_dates_clock_fires_on_its_dates_after_the_given_time() -> None:
    dates = [
        pendulum.datetime(2019, 1, 3),
        pendulum.datetime(2019, 1, 1),
        pendulum.datetime(2019, 1, 2),
    ]
    clock = clocks.DatesClock(dates, parameter_defaults={"x": 1}, labels=["a"])
    assert (clock.start_date, clock.end_date) == (dates[1], dates[0])
    events = list(clock.events(after=pendulum.datetime(2019, 1, 1)))
    assert _iso(events) == ["2019-01-02T00:00:00+00:00", "2019-01-03T00:00:00+00:00"]
    assert [(e.parameter_defaults, e.labels) for e in events] == [({"x": 1}, ["a"])] * 2


def test_rrule_clock_starts_no_earlier_than_its_start_date() -> None:
    rule = rrule.rrule(rrule.DAILY, count=5, dtstart=pendulum.datetime(2019, 1, 1))
    clock = clocks.RRuleClock(rule, start_date=pendulum.datetime(2019, 1, 3))
    assert _iso(clock.events(after=pendulum.datetime(2018, 1, 1))) == [
        "2019-01-03T00:00:00+00:00",
        "2019-01-04T00:00:00+00:00",
        "2019-01-05T00:00:00+00:00",
    ]


def test_a_clock_event_compares_with_datetimes_by_start_time() -> None:
    when = pendulum.datetime(2019, 1, 1)
    event = clocks.ClockEvent(when, parameter_defaults={"a": 1})
    assert event == when
    assert event < when.add(days=1) and not event > when
    assert event != clocks.ClockEvent(when)
    with pytest.raises(TypeError, match=r"'<' not supported"):
        assert event < 1


def test_the_base_clock_says_it_fires_nowhere_and_how_to_fix_it() -> None:
    with pytest.raises(NotImplementedError, match="use IntervalClock, CronClock"):
        next(clocks.Clock().events())


def test_rrule_clock_refuses_what_is_not_a_rule() -> None:
    with pytest.raises(TypeError, match=r"dateutil\.rrule\.rrule or rruleset"):
        clocks.RRuleClock("FREQ=DAILY")


# -- filters and adjustments -------------------------------------------------------------------


def _days(n: int) -> list[pendulum.DateTime]:
    return [pendulum.datetime(2019, 1, 1).add(days=i) for i in range(n)]


def test_day_filters() -> None:
    days = _days(35)
    assert [d.day for d in days if filters.is_weekend(d)][:4] == [5, 6, 12, 13]
    assert all(filters.is_weekday(d) != filters.is_weekend(d) for d in days)
    assert [d.isoformat()[:10] for d in days if filters.is_month_end(d)] == ["2019-01-31"]
    assert [d.isoformat()[:10] for d in days if filters.is_month_start(d)] == [
        "2019-01-01",
        "2019-02-01",
    ]
    assert [d.day for d in days[:7] if filters.is_day_of_week(2)(d)] == [2]
    assert [d.day for d in days[:4] if filters.on_date(1, 3)(d)] == [3]


def test_range_filters_include_both_ends_and_wrap_around() -> None:
    hours = [pendulum.datetime(2019, 1, 1).add(hours=i) for i in range(24)]
    night = filters.between_times(datetime.time(22), datetime.time(2))
    assert [h.hour for h in hours if night(h)] == [0, 1, 2, 22, 23]
    winter = filters.between_dates(10, 15, 3, 31)
    assert winter(pendulum.datetime(2019, 3, 31)) and winter(pendulum.datetime(2019, 10, 15))
    assert not winter(pendulum.datetime(2019, 4, 1))
    window = filters.between_datetimes(pendulum.datetime(2019, 1, 2), pendulum.datetime(2019, 1, 3))
    assert [d.day for d in _days(4) if window(d)] == [2, 3]
    assert [d.day for d in _days(4) if filters.on_datetime(pendulum.datetime(2019, 1, 2))(d)] == [2]
    assert filters.at_time(datetime.time(9))(pendulum.datetime(2019, 1, 1, 9))


def test_next_weekday_moves_a_weekend_start_to_monday_at_the_same_local_time() -> None:
    saturday = pendulum.datetime(2019, 1, 5, 9, tz=NEW_YORK)
    assert adjustments.next_weekday(saturday).isoformat() == "2019-01-07T09:00:00-05:00"
    assert adjustments.next_weekday(saturday.add(days=2)) == saturday.add(days=2)
    assert adjustments.add(HOUR)(saturday) == saturday.add(hours=1)


# -- Schedule ----------------------------------------------------------------------------------


def test_schedule_filters_then_adjusts() -> None:
    """Hourly, weekdays only, at 09:00 or 15:00, never on 8 January, moved three hours later."""
    schedule = Schedule(
        clocks=[clocks.IntervalClock(HOUR)],
        filters=[filters.is_weekday],
        or_filters=[
            filters.between_times(datetime.time(9), datetime.time(9)),
            filters.at_time(datetime.time(15)),
        ],
        not_filters=[filters.between_dates(1, 8, 1, 8)],
        adjustments=[adjustments.add(datetime.timedelta(hours=3))],
    )
    assert _iso(schedule.next(6, after=pendulum.datetime(2019, 1, 3))) == [
        "2019-01-03T12:00:00+00:00",
        "2019-01-03T18:00:00+00:00",
        "2019-01-04T12:00:00+00:00",
        "2019-01-04T18:00:00+00:00",
        "2019-01-07T12:00:00+00:00",
        "2019-01-07T18:00:00+00:00",
    ]


def test_schedule_merges_clocks_in_time_order_keeping_each_clocks_parameters() -> None:
    """Two clocks interleave; the same instant from two clocks with different parameters is
    two events (Prefect 1.4.1 collapses only equal events)."""
    schedule = Schedule(
        clocks=[
            clocks.IntervalClock(DAY),
            clocks.IntervalClock(
                datetime.timedelta(hours=12),
                start_date=pendulum.datetime(2019, 1, 3),
                parameter_defaults={"p": 2},
            ),
        ]
    )
    events = schedule.next(4, after=pendulum.datetime(2019, 1, 1), return_events=True)
    assert [(e.start_time.isoformat(), e.parameter_defaults) for e in events] == [
        ("2019-01-02T00:00:00+00:00", {}),
        ("2019-01-03T00:00:00+00:00", {"p": 2}),
        ("2019-01-03T00:00:00+00:00", {}),
        ("2019-01-03T12:00:00+00:00", {"p": 2}),
    ]
    assert schedule.start_date == pendulum.datetime(2019, 1, 3)
    assert schedule.end_date is None


def test_schedule_needs_a_list_of_clocks() -> None:
    with pytest.raises(TypeError, match="clocks should be a list of clocks"):
        Schedule(clocks=clocks.IntervalClock(DAY))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"each must be a flowlight\.schedules\.clocks\.Clock"):
        Schedule(clocks=["0 * * * *"])  # type: ignore[list-item]
    assert Schedule(clocks=[]).next(3) == []


def test_a_clocks_parameter_defaults_are_the_scheduled_runs_parameters() -> None:
    """As in Prefect 1.4.1's `flow.run()`, each run takes the parameter defaults of the clock
    that made its start time, over the values given to `flow.run`."""
    seen: list[tuple[str, Any]] = []

    @task
    def record(value: Any) -> None:
        from flowlight import context

        seen.append((str(context["scheduled_start_time"]), value))

    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    schedule = Schedule(
        clocks=[
            clocks.DatesClock([start.add(hours=1)], parameter_defaults={"x": "from clock"}),
            clocks.DatesClock([start.add(hours=2)]),
        ]
    )
    with Flow("parametrised", schedule=schedule) as flow:
        record(Parameter("x", default="default"))
    with use_clock(FakeClock(now=start.timestamp())):
        flow.run()
    assert seen == [
        ("2026-01-01 01:00:00+00:00", "from clock"),
        ("2026-01-01 02:00:00+00:00", "default"),
    ]
