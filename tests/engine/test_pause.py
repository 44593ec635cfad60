"""Pause and manual approval: PAUSE and the manual_only trigger leave a task Paused; without a
terminal the flow run ends unfinished, and `flow.run(task_states=...)` resumes it (spec transcript
"manual_only trigger").

How to resume: pass the previous run's task states back with the paused task's state replaced,
`flow.run(task_states={**state.result, approve: Resume("Approval given to resume.")})`. Finished
states are kept as they are (those tasks do not run again); tasks that were waiting (Pending) run.
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _recording import Recorder

import flowlight
from flowlight import Flow, task
from flowlight.engine import signals
from flowlight.engine.state import Paused, Pending, Resume, Running, State
from flowlight.triggers import manual_only


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin is not a terminal here (as in CI), even when pytest runs with `-s` in a terminal."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def _approval_flow(rec: Recorder, ran: list[str]) -> tuple[Flow, Any, Any, Any]:
    @task(state_handlers=[rec])
    def ok() -> int:
        ran.append("ok")
        return 1

    @task(state_handlers=[rec], trigger=manual_only)
    def approve(x: int) -> int:
        ran.append("approve")
        return x

    @task(state_handlers=[rec])
    def publish(x: int) -> int:
        ran.append("publish")
        return x + 1

    with Flow("pa", state_handlers=[rec]) as flow:
        first = ok()
        gate = approve(first)
        last = publish(gate)
    return flow, first, gate, last


def test_manual_only_pauses_the_task_and_leaves_the_flow_unfinished() -> None:
    """Without a terminal nothing asks for approval: the task ends `Paused("Trigger function is
    "manual_only"")`, the task after it waits Pending with no transition, and the flow run stays
    Running; its handlers see only Scheduled -> Running."""
    rec = Recorder()
    ran: list[str] = []
    flow, _first, gate, last = _approval_flow(rec, ran)

    state = flow.run()

    assert rec.lines == [
        '<Flow: name=pa>: Scheduled() -> Running("Running flow.")',
        '<Task: ok>: Pending() -> Running("Starting task run.")',
        '<Task: ok>: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Task: approve>: Pending() -> Paused("Trigger function is "manual_only"")',
    ]
    assert isinstance(state, Running) and repr(state) == 'Running("Running flow.")'
    assert not state.is_finished()
    paused = state.result[gate]
    assert isinstance(paused, Paused)
    assert isinstance(paused.result, signals.PAUSE)
    assert type(state.result[last]) is Pending
    assert ran == ["ok"]


def test_resuming_with_the_previous_states_runs_only_what_was_left() -> None:
    """Spec "manual_only trigger", second half: given the previous states with the paused task as
    `Resume("Approval given to resume.")`, the approved task goes Resume -> Running -> Success
    without its trigger being asked again, the waiting task runs, finished tasks do not, and the
    flow succeeds."""
    rec = Recorder()
    ran: list[str] = []
    flow, first, gate, last = _approval_flow(rec, ran)
    paused_run = flow.run()
    rec.lines.clear()

    state = flow.run(task_states={**paused_run.result, gate: Resume("Approval given to resume.")})

    assert rec.lines == [
        '<Flow: name=pa>: Scheduled() -> Running("Running flow.")',
        '<Task: approve>: Resume("Approval given to resume.") -> Running("Starting task run.")',
        '<Task: approve>: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Task: publish>: Pending() -> Running("Starting task run.")',
        '<Task: publish>: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Flow: name=pa>: Running("Running flow.") -> Success("All reference tasks succeeded.")',
    ]
    assert ran == ["ok", "approve", "publish"]
    assert state.result[gate].result == 1
    assert state.result[last].result == 2
    assert state.result[first] is paused_run.result[first]


def test_resuming_with_only_the_paused_task_runs_its_upstream_again() -> None:
    """Only the states given are kept: an upstream whose state is not passed back runs again
    (which is why the previous states should be passed with the Resume)."""
    rec = Recorder()
    ran: list[str] = []
    flow, _first, gate, _last = _approval_flow(rec, ran)
    flow.run()
    state = flow.run(task_states={gate: Resume("Approval given to resume.")})
    assert ran == ["ok", "ok", "approve", "publish"]
    assert state.is_successful()


def test_a_paused_task_stays_paused_when_given_back_without_approval() -> None:
    """Passing the Paused state back as it is changes nothing: the task stays Paused."""
    rec = Recorder()
    ran: list[str] = []
    flow, _first, gate, _last = _approval_flow(rec, ran)
    paused_run = flow.run()
    again = flow.run(task_states=dict(paused_run.result))
    assert isinstance(again.result[gate], Paused)
    assert not again.is_finished()
    assert ran == ["ok"]


def test_pause_signal_pauses_a_running_task_and_resume_runs_its_body_again() -> None:
    """`raise PAUSE(...)` inside a task: Running -> Paused("..."). When resumed, the body runs
    again with `context["resume"]` True and can finish."""
    rec = Recorder()
    resumed_flags: list[Any] = []

    @task(state_handlers=[rec])
    def review() -> str:
        resumed_flags.append(flowlight.context.get("resume"))
        if not flowlight.context.get("resume"):
            raise signals.PAUSE("needs review")
        return "approved"

    with Flow("pp") as flow:
        gate = review()
    paused_run = flow.run()
    assert rec.lines == [
        '<Task: review>: Pending() -> Running("Starting task run.")',
        '<Task: review>: Running("Starting task run.") -> Paused("needs review")',
    ]
    assert not paused_run.is_finished()

    rec.lines.clear()
    state = flow.run(task_states={**paused_run.result, gate: Resume()})
    assert rec.lines == [
        '<Task: review>: Resume() -> Running("Starting task run.")',
        '<Task: review>: Running("Starting task run.") -> Success("Task run succeeded.")',
    ]
    assert resumed_flags == [None, True]
    assert state.result[gate].result == "approved"


def test_a_flow_with_a_paused_task_ends_with_its_other_branches_finished() -> None:
    """Branches that do not depend on the paused task run to the end in the same flow run."""
    ran: list[str] = []

    @task(trigger=manual_only)
    def approve() -> None:
        ran.append("approve")

    @task
    def independent() -> str:
        ran.append("independent")
        return "done"

    with Flow("branches") as flow:
        approve()
        other = independent()
    state = flow.run()
    assert ran == ["independent"]
    assert state.result[other].result == "done"
    assert not state.is_finished()


def test_a_paused_tasks_handlers_are_called_once_for_the_pause() -> None:
    """A Paused task's handlers are called once for the pause; no further calls follow while it
    waits (the run does not poll)."""
    calls: list[str] = []

    def count(obj: Any, old: State, new: State) -> State:
        calls.append(type(new).__name__)
        return new

    @task(trigger=manual_only, state_handlers=[count])
    def approve() -> None:
        return None

    Flow("once", tasks=[approve]).run()
    assert calls == ["Paused"]


def test_with_a_terminal_the_run_asks_and_resumes_on_yes(tmp_path: Path) -> None:
    """With a terminal on stdin the run asks "<Task: approve> is currently Paused; enter 'y' to
    resume:" (Prefect 1's prompt) and, on "y", resumes the task in the same flow.run()."""
    script = tmp_path / "ask.py"
    script.write_text(
        textwrap.dedent(
            """
            from flowlight import Flow, task
            from flowlight.triggers import manual_only

            @task
            def ok():
                return 1

            @task(trigger=manual_only)
            def approve(x):
                return x + 1

            with Flow("pa") as flow:
                approve(ok())
            state = flow.run()
            print("FINAL", repr(state), sorted(repr(s) for s in state.result.values()))
            """
        )
    )
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"y\n")
        done = subprocess.run(
            [sys.executable, str(script)],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 0, done.stderr
    assert "<Task: approve> is currently Paused; enter 'y' to resume:" in done.stdout
    assert (
        'FINAL Success("All reference tasks succeeded.") '
        "['Success(\"Task run succeeded.\")', 'Success(\"Task run succeeded.\")']"
    ) in done.stdout


def test_without_a_terminal_a_paused_flow_process_exits_at_once(tmp_path: Path) -> None:
    """A script run with stdin closed (a cron job, CI) never waits for input: it ends with the
    task Paused and the flow Running (Prefect 1.4.1 raised EOFError here)."""
    script = tmp_path / "noask.py"
    script.write_text(
        textwrap.dedent(
            """
            from flowlight import Flow, task
            from flowlight.triggers import manual_only

            @task(trigger=manual_only)
            def approve():
                return 1

            state = Flow("pa", tasks=[approve]).run()
            print("FINAL", repr(state), [repr(s) for s in state.result.values()])
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "is currently Paused" not in done.stdout
    assert (
        'FINAL Running("Running flow.") [\'Paused("Trigger function is "manual_only"")\']'
        in done.stdout
    )


def test_a_paused_mapped_child_holds_back_only_what_depends_on_it() -> None:
    """A child that raises PAUSE stays Paused inside its Mapped parent; in a chained map only the
    child fed by it waits (Pending, no transition), the other pipelines finish, and the reduce
    step and the flow run wait, as Prefect 1 waits on unfinished mapped children."""
    rec = Recorder()

    @task
    def gate(x: int) -> int:
        if x == 2:
            raise signals.PAUSE("check item 2")
        return x

    @task(state_handlers=[rec])
    def inc(x: int) -> int:
        return x + 1

    @task(state_handlers=[rec])
    def total(xs: list[int]) -> int:
        return sum(xs)

    with Flow("mapped-pause") as flow:
        gated = gate.map([1, 2, 3])
        incremented = inc.map(gated)
        summed = total(incremented)
    state = flow.run()

    gate_children = state.result[gated].map_states
    assert [s.is_successful() for s in gate_children] == [True, False, True]
    assert isinstance(gate_children[1], Paused)
    children = state.result[incremented].map_states
    assert [s.result for s in children] == [2, None, 4]
    assert type(children[1]) is Pending
    assert rec.of("<Task: inc>[1]") == []
    assert rec.of("<Task: total>") == []
    assert type(state.result[summed]) is Pending
    assert not state.is_finished()


def test_the_documented_resume_example_runs_as_written() -> None:
    """docs/mapping-caching-pausing-schedules.md's resume example, run without a terminal,
    prints what the page says."""
    page = Path(__file__).resolve().parents[2] / "docs" / "mapping-caching-pausing-schedules.md"
    code, printed = next(
        (code, printed)
        for code, printed in re.findall(
            r"```python\n(.*?)```\n\n```text\n(.*?)```", page.read_text(), flags=re.S
        )
        if "approval: Resume(" in code
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == printed


def test_a_task_states_key_that_is_not_a_task_of_the_flow_is_refused_naming_the_bound_copy() -> (
    None
):
    """Keyed by the decorated function instead of the copy the call bound, a resume would run
    the task again (Prefect 1.4.1 ignores the key); flowlight refuses it before running."""

    @task(trigger=manual_only)
    def deploy() -> str:
        return "done"

    with Flow("wrong-key") as flow:
        bound = deploy()
    with pytest.raises(ValueError) as refused:
        flow.run(task_states={deploy: Resume()})
    message = str(refused.value)
    assert "<Task: deploy>, which is not a task of flow 'wrong-key'" in message
    assert "copy bound in the flow" in message and "flow.get_tasks(name='deploy')" in message
    with pytest.raises(TypeError, match="not a State"):
        flow.run(task_states={bound: "Resume"})  # type: ignore[dict-item]
    assert flow.run(task_states={bound: Resume()}).result[bound].result == "done"


def test_a_pause_a_handler_turns_into_resume_is_run_within_the_same_flow_run() -> None:
    """As Prefect 1's flow.run() does, a run left unfinished only by tasks that can go on by
    themselves (here a handler answers the pause with Resume) is run again until it finishes;
    every failed attempt is retried too."""
    attempts: list[int] = []

    def approve_then_fail(task: Any, old: State, new: State) -> State:
        if isinstance(new, Paused):
            return Resume("approved by the handler")
        if old.is_running():
            raise signals.FAIL("refused")
        return new

    @task(
        max_retries=2,
        retry_delay=timedelta(0),
        state_handlers=[approve_then_fail],
        trigger=manual_only,
    )
    def gated() -> None:
        attempts.append(1)

    flow = Flow("self-approving", tasks=[gated])
    state = flow.run()
    assert state.is_failed() and state.result[gated].message == "refused"
    assert len(attempts) == 3
