"""Schedules: interval and cron start times (time zones and DST changes as Prefect 1.4.1's clocks
document them), scheduled flow runs driven by a fake engine clock, bad input at construction, and
a scheduled process that stops cleanly on Ctrl-C."""

from __future__ import annotations

import datetime
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from tests.engine._recording import FakeClock

import flowlight
from flowlight import Flow, task
from flowlight.engine.clock import use_clock
from flowlight.engine.state import State
from flowlight.schedules import CronSchedule, IntervalSchedule

BERLIN = "Europe/Berlin"
HOUR = datetime.timedelta(hours=1)


def _iso(times: list[pendulum.DateTime]) -> list[str]:
    return [t.isoformat() for t in times]


# -- IntervalSchedule ------------------------------------------------------------------------


def test_interval_starts_at_start_date_and_stops_at_end_date() -> None:
    """The first start time is start_date itself; end_date is the last one allowed (inclusive)."""
    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    schedule = IntervalSchedule(start_date=start, interval=HOUR, end_date=start.add(hours=3))
    assert _iso(schedule.next(10, after=start.subtract(days=1))) == [
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T01:00:00+00:00",
        "2026-01-01T02:00:00+00:00",
        "2026-01-01T03:00:00+00:00",
    ]


def test_interval_next_is_strictly_after_the_given_time() -> None:
    """A time that falls exactly on a start time is not repeated; one between two gives the next."""
    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    schedule = IntervalSchedule(start_date=start, interval=HOUR)
    assert _iso(schedule.next(2, after=start.add(hours=2))) == [
        "2026-01-01T03:00:00+00:00",
        "2026-01-01T04:00:00+00:00",
    ]
    assert _iso(schedule.next(1, after=start.add(hours=2, minutes=1))) == [
        "2026-01-01T03:00:00+00:00"
    ]


def test_daily_interval_keeps_local_time_across_a_dst_change() -> None:
    """Whole days are added in wall-clock time (Prefect 1's IntervalClock): a daily 09:00 run in
    Berlin stays at 09:00 local when clocks go forward on 29 March 2026, so in UTC it moves from
    08:00 to 07:00."""
    schedule = IntervalSchedule(
        start_date=pendulum.datetime(2026, 3, 27, 9, tz=BERLIN), interval=datetime.timedelta(days=1)
    )
    times = schedule.next(4, after=pendulum.datetime(2026, 3, 1, tz="UTC"))
    assert [t.in_timezone(BERLIN).hour for t in times] == [9, 9, 9, 9]
    assert [t.in_timezone("UTC").hour for t in times] == [8, 8, 7, 7]


def test_hourly_interval_counts_elapsed_hours_across_a_dst_change() -> None:
    """Intervals under a day are elapsed time: across the spring-forward hour the local clock
    jumps from 01:00 to 03:00, one hour apart."""
    schedule = IntervalSchedule(
        start_date=pendulum.datetime(2026, 3, 29, 0, tz=BERLIN), interval=HOUR
    )
    times = schedule.next(4, after=pendulum.datetime(2026, 3, 28, tz="UTC"))
    assert _iso(times) == [
        "2026-03-29T00:00:00+01:00",
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T04:00:00+02:00",
    ]


# -- CronSchedule ------------------------------------------------------------------------------


def test_cron_in_a_time_zone_keeps_local_time_across_dst() -> None:
    """ "0 9 * * *" in Europe/Berlin fires at 09:00 local time on both sides of the change, and
    start_date itself counts when it matches the expression."""
    start = pendulum.datetime(2026, 3, 28, 9, tz=BERLIN)
    schedule = CronSchedule("0 9 * * *", start_date=start, timezone=BERLIN)
    times = schedule.next(3, after=start.subtract(days=3))
    assert _iso(times) == [
        "2026-03-28T09:00:00+01:00",
        "2026-03-29T09:00:00+02:00",
        "2026-03-30T09:00:00+02:00",
    ]
    assert [t.in_timezone("UTC").hour for t in times] == [8, 7, 7]


def test_cron_takes_its_time_zone_from_start_date() -> None:
    """Without `timezone=`, the start date's zone is used (New York's DST change is 8 March)."""
    start = pendulum.datetime(2026, 3, 6, 9, tz="America/New_York")
    schedule = CronSchedule("0 9 * * *", start_date=start)
    times = schedule.next(4, after=start.subtract(minutes=1))
    assert [t.in_timezone("UTC").hour for t in times] == [14, 14, 13, 13]
    assert "America/New_York" in repr(schedule)


def test_cron_fires_a_repeated_wall_clock_hour_once_when_clocks_go_back() -> None:
    """Prefect 1.4.1's CronClock: on the night clocks go back (25 October 2026 in Berlin) an
    hourly cron fires the repeated 02:00 once, at its second occurrence (after the change), so
    there are two hours between the 01:00 and 02:00 runs."""
    start = pendulum.datetime(2026, 10, 25, 0, 30, tz=BERLIN)
    schedule = CronSchedule("0 * * * *", start_date=start)
    times = schedule.next(4, after=start)
    assert _iso(times) == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]


def test_cron_at_a_time_that_does_not_exist_fires_once_that_day() -> None:
    """02:30 does not exist in Berlin on 29 March 2026: the daily run happens once, just after
    the gap, and the day after at 02:30 again."""
    start = pendulum.datetime(2026, 3, 28, tz=BERLIN)
    schedule = CronSchedule("30 2 * * *", start_date=start)
    times = schedule.next(3, after=start)
    assert [t.date().isoformat() for t in times] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert times[1].in_timezone(BERLIN).hour == 3
    assert times[2].in_timezone(BERLIN).format("HH:mm") == "02:30"


def test_cron_and_interval_respect_end_date() -> None:
    """No start time after end_date."""
    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    schedule = CronSchedule("0 0 * * *", start_date=start, end_date=start.add(days=2))
    assert len(schedule.next(10, after=start.subtract(seconds=1))) == 3


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("cron", ["61 * * * *", "every day", "* * *", ""])
def test_a_cron_string_that_does_not_parse_fails_at_construction(cron: str) -> None:
    """The error names the schedule and shows the expected form."""
    with pytest.raises(ValueError) as raised:
        CronSchedule(cron)
    assert f"CronClock({cron!r})" in str(raised.value)
    assert "minute hour day-of-month month day-of-week" in str(raised.value)


def test_a_time_zone_that_does_not_exist_fails_at_construction() -> None:
    """The error names the schedule and the zone, and gives an example of a valid one."""
    with pytest.raises(ValueError) as raised:
        CronSchedule("0 9 * * *", timezone="Mars/Olympus_Mons")
    message = str(raised.value)
    assert "CronClock('0 9 * * *')" in message
    assert "'Mars/Olympus_Mons'" in message
    assert "Europe/Berlin" in message


@pytest.mark.parametrize("interval", [None, 60])
def test_an_interval_that_is_not_a_timedelta_fails_at_construction(interval: Any) -> None:
    """As in Prefect 1: TypeError for what is not a timedelta, naming the clock and the fix."""
    with pytest.raises(TypeError, match=r"IntervalClock got interval=.*timedelta"):
        IntervalSchedule(interval=interval)


@pytest.mark.parametrize("interval", [datetime.timedelta(0), datetime.timedelta(-1)])
def test_an_interval_that_is_not_positive_fails_at_construction(interval: Any) -> None:
    with pytest.raises(ValueError, match=r"IntervalClock got interval=.*greater than 0"):
        IntervalSchedule(interval=interval)


def test_a_start_date_that_is_not_a_datetime_fails_at_construction() -> None:
    with pytest.raises(TypeError, match=r"IntervalClock got start_date='tomorrow'"):
        IntervalSchedule(start_date="tomorrow", interval=HOUR)  # type: ignore[arg-type]


# -- scheduled flow runs ---------------------------------------------------------------------


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    start = pendulum.datetime(2026, 1, 1, 0, 30, tz="UTC")
    with use_clock(FakeClock(now=start.timestamp())) as fake:
        yield fake


def _scheduled_flow(schedule: Any, log: list[str], work: Any = None) -> Flow:
    def on_flow(obj: Any, old: State, new: State) -> State:
        start = getattr(old, "start_time", None)
        log.append(f"flow {type(old).__name__}({start}) -> {type(new).__name__}")
        return new

    @task
    def tick() -> str:
        when = str(flowlight.context["scheduled_start_time"])
        log.append(f"task at {when}")
        if work is not None:
            work()
        return when

    return Flow("ticker", schedule=schedule, tasks=[tick], state_handlers=[on_flow])


def test_a_scheduled_flow_runs_each_start_time_in_turn_until_end_date(clock: FakeClock) -> None:
    """`flow.run()` on a scheduled flow waits (on the engine clock) for each start time and runs
    once per start: the flow handler sees Scheduled with that start time, then Running, ...;
    the context's scheduled_start_time is the start; the last run's state is returned."""
    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    log: list[str] = []
    flow = _scheduled_flow(
        IntervalSchedule(start_date=start, interval=HOUR, end_date=start.add(hours=3)), log
    )
    state = flow.run()
    assert log == [
        "flow Scheduled(2026-01-01 01:00:00+00:00) -> Running",
        "task at 2026-01-01 01:00:00+00:00",
        "flow Running(None) -> Success",
        "flow Scheduled(2026-01-01 02:00:00+00:00) -> Running",
        "task at 2026-01-01 02:00:00+00:00",
        "flow Running(None) -> Success",
        "flow Scheduled(2026-01-01 03:00:00+00:00) -> Running",
        "task at 2026-01-01 03:00:00+00:00",
        "flow Running(None) -> Success",
    ]
    assert clock.slept == [1800.0, 3600.0, 3600.0]
    assert state.is_successful()
    assert next(iter(state.result.values())).result == "2026-01-01 03:00:00+00:00"


def test_run_on_schedule_false_runs_once_now(clock: FakeClock) -> None:
    """`flow.run(run_on_schedule=False)` ignores the schedule: one run, no waiting."""
    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    log: list[str] = []
    flow = _scheduled_flow(IntervalSchedule(start_date=start, interval=HOUR), log)
    state = flow.run(run_on_schedule=False)
    assert [line for line in log if line.startswith("task")] == [
        f"task at {next(iter(state.result.values())).result}"
    ]
    assert clock.slept == []
    assert state.is_successful()


def test_config_flows_run_on_schedule_false_runs_once_now(clock: FakeClock) -> None:
    """Not told, flow.run() asks config.flows.run_on_schedule as Prefect 1 does, so one
    setting can make every scheduled flow run once now (a run_on_schedule argument wins)."""
    from flowlight.utilities.configuration import set_temporary_config

    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    log: list[str] = []
    flow = _scheduled_flow(IntervalSchedule(start_date=start, interval=HOUR), log)
    with set_temporary_config({"flows.run_on_schedule": False}):
        state = flow.run()
    assert len([line for line in log if line.startswith("task")]) == 1
    assert clock.slept == []
    assert state.is_successful()


def test_a_schedule_with_no_start_time_left_refuses_to_run(clock: FakeClock) -> None:
    """As in Prefect 1.4.1, a schedule that ended before now raises instead of running; the
    error says how to run once anyway."""
    start = pendulum.datetime(2025, 1, 1, tz="UTC")
    log: list[str] = []
    flow = _scheduled_flow(
        IntervalSchedule(start_date=start, interval=HOUR, end_date=start.add(hours=1)), log
    )
    with pytest.raises(ValueError, match=r"Flow has no more scheduled runs.*run_on_schedule"):
        flow.run()
    assert log == []
    assert flow.run(run_on_schedule=False).is_successful()


def test_start_times_missed_by_a_long_run_are_skipped(clock: FakeClock) -> None:
    """A run that outlasts several intervals is followed by the next start time after it ends,
    not by a burst of catch-up runs (Prefect 1 asks its schedule for the next time after now)."""
    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    log: list[str] = []
    runs = {"n": 0}

    def slow_first_run() -> None:
        runs["n"] += 1
        if runs["n"] == 1:
            clock.advance(2.5 * 3600)

    flow = _scheduled_flow(
        IntervalSchedule(start_date=start, interval=HOUR, end_date=start.add(hours=5)),
        log,
        slow_first_run,
    )
    flow.run()
    assert [line for line in log if line.startswith("task")] == [
        "task at 2026-01-01 01:00:00+00:00",
        "task at 2026-01-01 04:00:00+00:00",
        "task at 2026-01-01 05:00:00+00:00",
    ]


def test_a_cron_scheduled_flow_runs_at_local_times(clock: FakeClock) -> None:
    """A cron schedule in a time zone drives the same loop: two daily runs at 09:00 Berlin."""
    log: list[str] = []
    schedule = CronSchedule(
        "0 9 * * *",
        start_date=pendulum.datetime(2026, 1, 1, tz=BERLIN),
        end_date=pendulum.datetime(2026, 1, 2, 12, tz=BERLIN),
    )
    _scheduled_flow(schedule, log).run()
    assert [line for line in log if line.startswith("task")] == [
        "task at 2026-01-01 09:00:00+01:00",
        "task at 2026-01-02 09:00:00+01:00",
    ]


# -- stopping a scheduled process ------------------------------------------------------------

_SCHEDULED_SCRIPT = """
import sys
import pendulum
from flowlight import Flow, task
from flowlight.schedules import Schedule
from flowlight.schedules.clocks import Clock, ClockEvent


class NowThenHourly(Clock):
    # The first start is the moment the loop first asks, then hourly: however slow the machine,
    # the first run starts at once and the next one is an hour away.
    def __init__(self):
        super().__init__()
        self.first = None

    def events(self, after=None):
        if after is None:
            after = pendulum.now("UTC")
        if self.first is None:
            self.first = after.add(microseconds=1)
        when = self.first
        while when <= after:
            when = when.add(hours=1)
        while True:
            yield ClockEvent(when)
            when = when.add(hours=1)

def on_flow(obj, old, new):
    print("FLOW", type(old).__name__, "->", type(new).__name__, flush=True)
    return new

@task
def work():
    print("RUNNING", flush=True)
    # block until the test answers: the test sends SIGINT first, so the run is in flight
    line = sys.stdin.readline()
    print("TASK GOT", line.strip(), flush=True)
    return line.strip()

schedule = Schedule(clocks=[NowThenHourly()])
flow = Flow("forever", schedule=schedule, tasks=[work], state_handlers=[on_flow])
state = flow.run()
print("EXITING", repr(state), flush=True)
"""


def _start_scheduled_process(tmp_path: Path) -> subprocess.Popen[str]:
    script = tmp_path / "scheduled.py"
    script.write_text(textwrap.dedent(_SCHEDULED_SCRIPT))
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )


def _read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.strip())
        if line.startswith(marker):
            return lines
    raise AssertionError(f"process ended before printing {marker!r}: {lines}")


def test_ctrl_c_during_a_run_finishes_that_run_and_exits_0(tmp_path: Path) -> None:
    """SIGINT while a scheduled run is in flight: the run completes (its task and the flow's final
    handler), no further run starts, and the process exits 0."""
    process = _start_scheduled_process(tmp_path)
    watchdog = threading.Timer(60, process.kill)  # a hung child fails the test, not the suite
    watchdog.start()
    try:
        before = _read_until(process, "RUNNING")
        process.send_signal(signal.SIGINT)
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        out, err = process.communicate(timeout=60)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    lines = before + out.splitlines()
    assert process.returncode == 0, err
    assert lines == [
        "FLOW Scheduled -> Running",
        "RUNNING",
        "TASK GOT go",
        "FLOW Running -> Success",
        'EXITING Success("All reference tasks succeeded.")',
    ]
    assert "KeyboardInterrupt" not in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_while_waiting_for_the_next_run_exits_0_at_once(
    tmp_path: Path, signum: int
) -> None:
    """SIGINT or SIGTERM between runs (the next one is an hour away) stops the wait immediately;
    the process exits 0 with the last run's state."""
    process = _start_scheduled_process(tmp_path)
    watchdog = threading.Timer(60, process.kill)  # a hung child fails the test, not the suite
    watchdog.start()
    try:
        _read_until(process, "RUNNING")
        assert process.stdin is not None
        process.stdin.write("first\n")
        process.stdin.flush()
        _read_until(process, "FLOW Running -> Success")
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.splitlines() == ['EXITING Success("All reference tasks succeeded.")']
