"""Looping: a task that raises LOOP runs again, with the loop number and the last loop's result in
the context; handlers see every iteration (spec transcript "LOOP three times")."""

from __future__ import annotations

from typing import Any

from _recording import Recorder

import flowlight
from flowlight import Flow, task
from flowlight.engine import signals
from flowlight.engine.state import Failed, Looped, Mapped, State, Success


def test_loop_three_times_matches_the_spec_transcript() -> None:
    """Each iteration is `Running -> Looped("loop N")`, then the next starts from
    `Pending("Looping task (on loop index N)")`; the Looped -> Pending step is not reported."""
    rec = Recorder()

    @task(state_handlers=[rec])
    def looper() -> int:
        count: int = flowlight.context.get("task_loop_count", 1)
        if count < 3:
            raise signals.LOOP(message=f"loop {count}", result=count)
        return count

    with Flow("lp", state_handlers=[rec]) as flow:
        looper()
    state = flow.run()

    assert rec.lines == [
        '<Flow: name=lp>: Scheduled() -> Running("Running flow.")',
        '<Task: looper>: Pending() -> Running("Starting task run.")',
        '<Task: looper>: Running("Starting task run.") -> Looped("loop 1")',
        '<Task: looper>: Pending("Looping task (on loop index 1)") '
        '-> Running("Starting task run.")',
        '<Task: looper>: Running("Starting task run.") -> Looped("loop 2")',
        '<Task: looper>: Pending("Looping task (on loop index 2)") '
        '-> Running("Starting task run.")',
        '<Task: looper>: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Flow: name=lp>: Running("Running flow.") -> Success("All reference tasks succeeded.")',
    ]
    final = next(iter(state.result.values()))
    assert repr(final) == 'Success("Task run succeeded.")'
    assert final.result == 3


def test_each_iteration_reads_its_loop_count_and_the_previous_result_from_context() -> None:
    """`task_loop_count` is 1 on the first run and +1 per loop; `task_loop_result` holds the
    result the previous iteration gave its LOOP signal (absent on the first run)."""
    seen: list[tuple[Any, Any]] = []

    @task
    def accumulate() -> int:
        count = flowlight.context.get("task_loop_count")
        previous = flowlight.context.get("task_loop_result")
        seen.append((count, previous))
        total = (previous or 0) + 10
        if total < 40:
            raise signals.LOOP(result=total)
        return total

    with Flow("acc") as flow:
        accumulate()
    state = flow.run()
    assert seen == [(None, None), (2, 10), (3, 20), (4, 30)]
    assert next(iter(state.result.values())).result == 40


def test_handlers_see_looped_states_with_their_loop_count_and_result() -> None:
    """The Looped state a handler receives carries `loop_count` (the iteration that looped) and
    the LOOP signal's result."""
    looped: list[tuple[int | None, Any]] = []

    def watch(obj: Any, old: State, new: State) -> State:
        if isinstance(new, Looped):
            looped.append((new.loop_count, new.result))
        return new

    @task(state_handlers=[watch])
    def looper() -> str:
        count: int = flowlight.context.get("task_loop_count", 1)
        if count < 3:
            raise signals.LOOP(result=f"r{count}")
        return "done"

    with Flow("lc") as flow:
        looper()
    flow.run()
    assert looped == [(1, "r1"), (2, "r2")]


def test_a_long_loop_does_not_grow_the_stack() -> None:
    """Loops are iterations of one loop in the runner, not recursion: 3,000 iterations (three
    times Python's default recursion limit) finish."""

    @task
    def countdown() -> int:
        remaining = flowlight.context.get("task_loop_result", 3000)
        if remaining > 0:
            raise signals.LOOP(result=remaining - 1)
        return int(flowlight.context["task_loop_count"])

    with Flow("long") as flow:
        countdown()
    final = next(iter(flow.run().result.values()))
    assert isinstance(final, Success)
    assert final.result == 3001


def test_mapped_children_loop_independently() -> None:
    """Each mapped child has its own loop counter: child i loops i times, and its handler calls
    carry its map_index."""
    rec = Recorder()

    @task(state_handlers=[rec])
    def climb(target: int) -> int:
        count: int = flowlight.context.get("task_loop_count", 1)
        if count <= target:
            raise signals.LOOP(message=f"loop {count}", result=count)
        return count

    with Flow("maploop") as flow:
        result = climb.map([0, 2])
    state = flow.run()
    parent = state.result[result]
    assert isinstance(parent, Mapped)
    assert parent.result == [1, 3]
    assert rec.of("<Task: climb>[0]") == [
        '<Task: climb>[0]: Pending() -> Running("Starting task run.")',
        '<Task: climb>[0]: Running("Starting task run.") -> Success("Task run succeeded.")',
    ]
    assert [line for line in rec.of("<Task: climb>[1]") if "Looped" in line] == [
        '<Task: climb>[1]: Running("Starting task run.") -> Looped("loop 1")',
        '<Task: climb>[1]: Running("Starting task run.") -> Looped("loop 2")',
    ]


def test_a_failure_after_some_loops_fails_the_task() -> None:
    """An exception in a later iteration ends the run Failed like any other failure."""

    @task
    def fragile() -> int:
        count: int = flowlight.context.get("task_loop_count", 1)
        if count == 3:
            raise ValueError("broke on loop 3")
        raise signals.LOOP(result=count)

    with Flow("fragile") as flow:
        fragile()
    state = flow.run()
    final = next(iter(state.result.values()))
    assert isinstance(final, Failed)
    assert repr(final) == (
        "Failed(\"Error during execution of task: ValueError('broke on loop 3')\")"
    )
    assert repr(state) == 'Failed("Some reference tasks failed.")'


def test_a_handler_can_stop_a_loop() -> None:
    """A handler's return value is the state the run uses: turning Looped into Success ends the
    loop with that result."""

    def stop_after_two(obj: Any, old: State, new: State) -> State:
        if isinstance(new, Looped) and new.loop_count == 2:
            return Success("stopped by handler", result=new.result)
        return new

    @task(state_handlers=[stop_after_two])
    def forever() -> None:
        raise signals.LOOP(result=flowlight.context.get("task_loop_count", 1))

    with Flow("stop") as flow:
        forever()
    final = next(iter(flow.run().result.values()))
    assert repr(final) == 'Success("stopped by handler")'
    assert final.result == 2


def test_the_loop_result_is_passed_downstream_only_when_the_loop_ends() -> None:
    """Downstream tasks wait for the loop to finish and receive the final result."""

    @task
    def looper() -> int:
        count: int = flowlight.context.get("task_loop_count", 1)
        if count < 4:
            raise signals.LOOP(result=count)
        return count * 100

    @task
    def after(x: int) -> int:
        return x + 1

    with Flow("down") as flow:
        result = after(looper())
    assert flow.run().result[result].result == 401
