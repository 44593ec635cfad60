"""The task run state machine: retries wait on the clock, timeouts, skips, RETRY is bounded."""

from __future__ import annotations

import datetime
import time
from typing import Any

from _recording import FakeClock

from flowlight import Flow, context, task, triggers
from flowlight.engine import signals
from flowlight.engine.clock import use_clock
from flowlight.engine.state import (
    Retrying,
    Running,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)


def test_retrying_task_waits_until_start_time_and_counts_runs() -> None:
    seen: list[tuple[Any, ...]] = []
    attempts: list[int] = []

    def record(obj: Any, old: State, new: State) -> State:
        if isinstance(new, Retrying):
            seen.append((new.start_time.timestamp(), new.run_count))
        return new

    @task(max_retries=2, retry_delay=datetime.timedelta(minutes=5), state_handlers=[record])
    def flaky() -> int:
        attempts.append(context.task_run_count)
        if len(attempts) < 3:
            raise ValueError("not yet")
        return len(attempts)

    with Flow("r") as flow:
        bound = flaky()
    clock = FakeClock(now=1_000_000.0)
    with use_clock(clock):
        state = flow.run().result[bound]
    assert state.result == 3 and attempts == [1, 2, 3]
    assert seen == [(1_000_300.0, 1), (1_000_600.0, 2)]
    assert clock.slept == [300.0, 300.0]


def test_timeout_ends_in_timed_out_without_waiting_for_the_body() -> None:
    @task
    def slow() -> None:
        time.sleep(3)

    slow.timeout = 0.2  # Task() takes whole seconds; the engine honours a sub-second timeout

    with Flow("to") as flow:
        bound = slow()
    started = time.monotonic()
    state = flow.run().result[bound]
    assert isinstance(state, TimedOut) and time.monotonic() - started < 2.5
    assert repr(state.result) == "TaskTimeoutSignal('Execution timed out.')"


def test_retry_signal_is_bounded_when_max_retries_is_zero(monkeypatch: Any) -> None:
    """Prefect 1.4.1 loops forever here; flowlight stops after the documented limit."""
    monkeypatch.setenv("FLOWLIGHT__TASKS__RETRY_SIGNAL_LIMIT", "3")
    runs: list[int] = []

    @task
    def forever() -> None:
        runs.append(1)
        raise signals.RETRY("again")

    with Flow("rs") as flow:
        bound = forever()
    state = flow.run().result[bound]
    assert len(runs) == 4 and state.is_failed()
    assert "the limit is 3" in str(state.message)


def test_context_names_the_run_for_the_task_body() -> None:
    seen: dict[str, Any] = {}

    @task(tags=["etl"])
    def look() -> None:
        for key in (
            "flow_name",
            "task_name",
            "task_full_name",
            "task_slug",
            "task_tags",
            "map_index",
            "task_run_count",
            "flow_run_id",
            "task_run_id",
            "parameters",
        ):
            seen[key] = context.get(key)

    with Flow("ctx") as flow:
        look()
    flow.run(context={"secrets": {}})
    assert seen["flow_name"] == "ctx" and seen["task_name"] == "look"
    assert seen["task_full_name"] == "look" and seen["task_slug"] == "look-etl-1"
    assert seen["task_tags"] == ["etl"] and seen["map_index"] is None
    assert seen["task_run_count"] == 1 and seen["parameters"] == {}
    assert len(seen["flow_run_id"]) == 36 and seen["flow_run_id"] != seen["task_run_id"]


def test_a_value_a_flow_handler_puts_in_context_reaches_every_task_run() -> None:
    seen: list[Any] = []

    def mark(obj: Any, old: State, new: State) -> State:
        if new.is_running():
            context["traceparent"] = "00-abc-def-01"
        return new

    @task
    def look() -> None:
        seen.append(context.get("traceparent"))

    with Flow("inherit", state_handlers=[mark]) as flow:
        look()
        look()
    flow.run()
    assert seen == ["00-abc-def-01", "00-abc-def-01"]


def test_user_context_is_visible_and_does_not_leak_after_the_run() -> None:
    seen: list[Any] = []

    @task
    def look() -> None:
        seen.append(context.get("team"))

    with Flow("uc") as flow:
        look()
    flow.run(context={"team": "data"})
    assert seen == ["data"] and context.get("team") is None


def _never(upstream_states: Any) -> bool:
    return False


def _broken(upstream_states: Any) -> bool:
    raise ValueError("bad trigger")


def test_a_trigger_returning_false_or_raising_fails_the_task_without_running_it() -> None:
    ran: list[str] = []

    @task
    def up() -> int:
        return 1

    @task(trigger=_never)
    def refused(x: int) -> None:
        ran.append("refused")

    @task(trigger=_broken)
    def crashed(x: int) -> None:
        ran.append("crashed")

    with Flow("tf") as flow:
        u = up()
        a, b = refused(u), crashed(u)
    states = flow.run().result
    assert ran == []
    assert isinstance(states[a], TriggerFailed) and states[a].message == "Trigger failed"
    assert repr(states[a].result) == "TRIGGERFAIL('Trigger failed')"
    assert isinstance(states[b], TriggerFailed)
    assert states[b].message == (
        "Unexpected error while checking task trigger: ValueError('bad trigger')"
    )
    assert isinstance(states[b].result, ValueError)


def test_count_triggers_of_a_task_without_upstream_tasks_let_it_run() -> None:
    """`some_failed` / `some_successful` have nothing to count without upstream tasks: the task
    runs (Prefect 1), while `not_all_skipped` skips it."""

    @task(trigger=triggers.some_failed(at_least=1))
    def after_failures() -> int:
        return 1

    @task(trigger=triggers.some_successful(at_least=1))
    def after_successes() -> int:
        return 2

    @task(trigger=triggers.not_all_skipped)
    def unless_all_skipped() -> int:
        return 3

    with Flow("no-upstream") as flow:
        a, b, c = after_failures(), after_successes(), unless_all_skipped()
    states = flow.run().result
    assert (states[a].result, states[b].result) == (1, 2)
    assert isinstance(states[c], Skipped) and states[c].message == "All upstreams were skipped"


def test_task_runner_alone_makes_one_attempt_and_returns_retrying() -> None:
    """`TaskRunner(task).run()` outside a flow stops at Retrying; the caller runs it again."""
    from flowlight.core.edge import Edge
    from flowlight.core.task import Task
    from flowlight.engine.task_runner import TaskRunner

    calls: list[int] = []

    @task(max_retries=1, retry_delay=datetime.timedelta(0))
    def add(x: int, y: int) -> int:
        calls.append(context.task_run_count)
        if len(calls) == 1:
            raise ValueError("first attempt fails")
        return x + y

    upstream = {
        Edge(Task(), add, key="x"): Success(result=1),
        Edge(Task(), add, key="y"): Success(result=2),
    }
    runner = TaskRunner(add)
    first = runner.run(upstream_states=upstream)
    assert isinstance(first, Retrying) and first.run_count == 1
    second = runner.run(state=first, upstream_states=upstream)
    assert second.is_successful() and second.result == 3
    assert calls == [1, 2]
    running = Running()
    assert runner.run(state=running) is running


def test_task_runner_handlers_follow_the_tasks_and_get_the_runner() -> None:
    from flowlight.core.task import Task
    from flowlight.engine.task_runner import TaskRunner

    seen: list[tuple[str, str]] = []

    def on_task(obj: Any, old: State, new: State) -> State:
        seen.append(("task", type(new).__name__))
        return new

    def on_runner(obj: Any, old: State, new: State) -> State:
        assert isinstance(obj, TaskRunner)
        seen.append(("runner", type(new).__name__))
        return new

    TaskRunner(Task(state_handlers=[on_task]), state_handlers=[on_runner]).run()
    assert seen == [
        ("task", "Running"),
        ("runner", "Running"),
        ("task", "Success"),
        ("runner", "Success"),
    ]
