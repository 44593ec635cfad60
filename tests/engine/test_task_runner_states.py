"""The task runner given a starting state, upstream skips, resumes and retry bookkeeping, each
checked against what Prefect 1.4.1's task runner does with the same input."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from _recording import FakeClock, Recorder

from flowlight import Flow, Task, context, task, triggers
from flowlight.core.edge import Edge
from flowlight.engine import signals
from flowlight.engine.clock import use_clock
from flowlight.engine.state import (
    Cached,
    Failed,
    Looped,
    Mapped,
    Paused,
    Resume,
    Retrying,
    Scheduled,
    Skipped,
    State,
    Success,
    TriggerFailed,
)
from flowlight.engine.task_runner import UPSTREAM_SKIPPED, run_task


class Body:
    """A task body that records each call and the run count the context gave it."""

    def __init__(self, outcome: Callable[[int], Any] = lambda n: "done") -> None:
        self.run_counts: list[int] = []
        self.resumed: list[Any] = []
        self.outcome = outcome

    def __call__(self) -> Any:
        self.run_counts.append(context.task_run_count)
        self.resumed.append(context.get("resume"))
        return self.outcome(len(self.run_counts))


def _task(body: Body, **options: Any) -> tuple[Task, Recorder]:
    recorder = Recorder()
    return task(body, name="work", state_handlers=[recorder], **options), recorder


def _run(t: Task, state: State | None = None, upstream: dict[Any, State] | None = None) -> State:
    return run_task(t, {}, upstream or {}, {"task_name": t.name}, state)


@pytest.mark.parametrize(
    "finished",
    [Success("done", result=3), Failed("broke"), Skipped("skip"), Cached("kept", result=1)],
    ids=repr,
)
def test_a_finished_state_is_kept_and_the_task_does_not_run_again(finished: State) -> None:
    body = Body()
    t, recorder = _task(body)
    assert _run(t, finished) is finished
    assert body.run_counts == [] and recorder.lines == []


def test_a_scheduled_state_waits_for_its_start_time_then_runs() -> None:
    body = Body()
    t, recorder = _task(body)
    clock = FakeClock(now=1_000.0)
    with use_clock(clock):
        state = _run(t, Scheduled("later", start_time=1_060.0))
    assert clock.slept == [60.0]
    assert state.result == "done" and body.run_counts == [1]
    assert recorder.lines[0] == '<Task: work>: Scheduled("later") -> Running("Starting task run.")'


def test_a_scheduled_state_without_a_start_time_runs_at_once() -> None:
    body = Body()
    t, _ = _task(body)
    clock = FakeClock()
    with use_clock(clock):
        state = _run(t, Scheduled())
    assert state.result == "done" and clock.slept == []


def test_a_paused_state_waits_for_approval_and_its_own_start_time() -> None:
    body = Body()
    t, recorder = _task(body, trigger=triggers.manual_only)
    clock = FakeClock(now=1_000.0)
    with use_clock(clock):
        waiting = Paused("asked")
        assert _run(t, waiting) is waiting
        not_yet = Paused("until later", start_time=1_010.0)
        assert _run(t, not_yet) is not_yet
        assert body.run_counts == [] and recorder.lines == []
        clock.advance(10)
        state = _run(t, not_yet)  # its time came: it resumes, so manual_only lets it through
    assert state.result == "done" and body.resumed == [True]


def test_a_resumed_task_has_its_trigger_asked_again() -> None:
    """Resuming only tells `manual_only` to pass: a trigger whose upstream failed still fails."""
    asked: list[Any] = []

    def watching(upstream_states: dict[Any, State]) -> bool:
        asked.append(context.get("resume"))
        return triggers.all_successful(upstream_states)

    body = Body()
    t, _ = _task(body, trigger=watching)
    state = _run(t, Resume("go on"), {"x": Failed("upstream broke")})
    assert isinstance(state, TriggerFailed) and asked == [True] and body.run_counts == []
    assert state.message == 'Trigger was "all_successful" but some of the upstream tasks failed.'

    manual, _ = _task(body, trigger=triggers.manual_only)
    assert _run(manual, Resume("approved")).result == "done"
    assert body.resumed == [True]


def test_an_upstream_skip_skips_the_task_unless_skip_on_upstream_skip_is_false() -> None:
    skipping, _ = _task(Body())
    state = _run(skipping, None, {"x": Skipped("not today")})
    assert isinstance(state, Skipped) and state.message == UPSTREAM_SKIPPED
    assert UPSTREAM_SKIPPED == (
        "Upstream task was skipped; if this was not the intended behavior, consider changing "
        "`skip_on_upstream_skip=False` for this task."
    )
    body = Body()
    running, _ = _task(body, skip_on_upstream_skip=False)
    state = _run(running, None, {"x": Skipped("not today")})
    assert state.result == "done" and body.run_counts == [1]


def test_a_mapped_upstream_with_a_skipped_child_skips_a_reduce_but_not_a_mapped_child() -> None:
    up, down = Task(name="up"), Task(name="down")
    parent = Mapped(map_states=[Success(result=1), Skipped("no")])
    reduce_edge = Edge(up, down, key="xs")
    mapped_edge = Edge(up, down, key="x", mapped=True)
    body = Body()
    t, _ = _task(body)
    assert isinstance(_run(t, None, {reduce_edge: parent}), Skipped)
    assert _run(t, None, {mapped_edge: parent}).result == "done"
    assert isinstance(_run(t, None, {reduce_edge: Mapped(map_states=[])}), Success)
    # A key that is not an edge (a direct call of the runner) passes the mapped upstream whole.
    assert isinstance(_run(t, None, {"xs": parent}), Skipped)


def test_starting_from_retrying_counts_on_from_its_run_count() -> None:
    def fail(n: int) -> Any:
        raise ValueError(f"attempt {n}")

    body = Body(fail)
    t, recorder = _task(body, max_retries=3, retry_delay=datetime.timedelta(0))
    clock = FakeClock()
    with use_clock(clock):
        state = _run(t, Retrying("again", run_count=2))
    assert body.run_counts == [3, 4]
    assert clock.slept == [0.0]  # a zero retry_delay retries at once
    assert recorder.of("<Task: work>: Failed")[0] == (
        "<Task: work>: Failed(\"Error during execution of task: ValueError('attempt 1')\") -> "
        'Retrying("Retrying Task (after attempt 3 of 4)")'
    )
    assert isinstance(state, Failed) and state.message == (
        "Error during execution of task: ValueError('attempt 2')"
    )


def test_a_retry_signal_retries_at_its_own_start_time_not_after_retry_delay() -> None:
    """Prefect 1 schedules a RETRY for the signal's start time (now unless given); retry_delay
    is for failures."""
    retries: list[tuple[int, float | None]] = []

    def record(obj: Any, old: State, new: State) -> None:
        if isinstance(new, Retrying):
            retries.append((new.run_count, new.start_epoch()))

    def ask_again(n: int) -> Any:
        if n == 1:
            raise signals.RETRY("soon")
        if n == 2:
            raise signals.RETRY("in a minute", start_time=1_000.0 + 60)
        return n

    body = Body(ask_again)
    t = task(
        body,
        name="work",
        max_retries=3,
        retry_delay=datetime.timedelta(minutes=5),
        state_handlers=[record],
    )
    clock = FakeClock(now=1_000.0)
    with use_clock(clock):
        state = _run(t)
    assert state.result == 3 and body.run_counts == [1, 2, 3]
    assert retries == [(1, None), (2, 1_060.0)]
    assert clock.slept == [60.0]


def test_the_retry_signal_limit_defaults_to_ten_and_says_how_to_change_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLOWLIGHT__TASKS__RETRY_SIGNAL_LIMIT", raising=False)

    def forever(n: int) -> Any:
        raise signals.RETRY("again")

    body = Body(forever)
    t, _ = _task(body)
    state = _run(t)
    assert body.run_counts == list(range(1, 12))
    assert isinstance(state, Failed) and state.message == (
        "Task was retried 10 times and asked for another retry; the limit is 10 (max_retries, "
        "or FLOWLIGHT__TASKS__RETRY_SIGNAL_LIMIT when max_retries is 0)."
    )
    assert isinstance(state.result, signals.RETRY)


def test_max_retries_also_bounds_retry_signals() -> None:
    def forever(n: int) -> Any:
        raise signals.RETRY("again")

    body = Body(forever)
    t, _ = _task(body, max_retries=2, retry_delay=datetime.timedelta(0))
    state = _run(t)
    assert body.run_counts == [1, 2, 3]
    assert str(state.message).startswith("Task was retried 2 times and asked for another retry;")


def test_each_loop_iteration_gets_its_own_retries() -> None:
    """Prefect 1.4.1 starts every loop iteration at run count 1, so each iteration that fails
    once is retried: (loop, run) = (1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)."""
    seen: list[tuple[int, int]] = []
    recorder = Recorder()

    @task(max_retries=1, retry_delay=datetime.timedelta(0), state_handlers=[recorder])
    def looping() -> int:
        loop, run = context.get("task_loop_count", 1), context.task_run_count
        seen.append((loop, run))
        if run == 1:
            raise ValueError("first try of each iteration fails")
        if loop < 3:
            raise signals.LOOP(result=loop)
        return loop

    with Flow("loop-retry") as flow:
        bound = looping()
    with use_clock(FakeClock()):
        state = flow.run().result[bound]
    assert seen == [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)] and state.result == 3
    looped = [line for line in recorder.lines if "-> Looped" in line]
    assert looped == [
        '<Task: looping>: Running("Starting task run.") -> Looped("Task is looping (1)")',
        '<Task: looping>: Running("Starting task run.") -> Looped("Task is looping (2)")',
    ]


def test_a_loop_signal_keeps_its_own_message() -> None:
    def loop_once(n: int) -> Any:
        if n == 1:
            raise signals.LOOP("going round", result=n)
        return n

    t, recorder = _task(Body(loop_once))
    assert _run(t).result == 2
    assert '<Task: work>: Running("Starting task run.") -> Looped("going round")' in recorder.lines


def test_a_handler_that_makes_a_run_loop_continues_from_the_context_loop_count() -> None:
    """A Looped state a handler returns has no loop count of its own: the next iteration's count
    follows the context's (2, then 3), as for a LOOP signal."""
    counts: list[Any] = []

    def loop_twice(obj: Any, old: State, new: State) -> State:
        if new.is_successful() and len(counts) < 3:
            return Looped("again", result=len(counts))
        return new

    def body() -> int:
        counts.append(context.get("task_loop_count"))
        return len(counts)

    t = task(body, name="work", state_handlers=[loop_twice])
    assert _run(t).result == 3
    assert counts == [None, 2, 3]
