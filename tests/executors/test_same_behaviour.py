"""Every executor gives the same flow run: same final states, same transitions seen by handlers.

Each scenario runs on the local executor (the reference), on threads, on worker processes and on
a two-worker dask.distributed cluster, with a handler on the flow and every task that writes
down each transition it sees, wherever it runs. Retries, timeouts, triggers, skips, mapping,
looping and signals must come out identical, message for message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowlight import Flow
from flowlight.engine.state import State
from flowlight.executors import Executor, LocalExecutor

from .flows import SCENARIOS
from .recording import TransitionLog


def _shown(value: Any) -> Any:
    """Exceptions by their repr (two equal errors are distinct objects), inside lists too."""
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return repr(value) if isinstance(value, BaseException) else value


def summary(flow: Flow, flow_state: State) -> dict[str, Any]:
    """The flow's final state and each task's, as comparable plain data (keyed by the task's
    slug in the flow)."""
    tasks: dict[str, Any] = {}
    for t, s in flow_state.result.items():
        entry: dict[str, Any] = {
            "state": type(s).__name__,
            "message": s.message,
            "result": _shown(s.result),
        }
        if s.is_mapped():
            entry["children"] = [
                (type(c).__name__, c.message, _shown(c.result)) for c in s.map_states
            ]
        tasks[flow.slugs[t]] = entry
    return {"flow": (type(flow_state).__name__, flow_state.message), "tasks": tasks}


def run_scenario(
    name: str, make_executor: Callable[[], Executor], directory: Path
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    log = TransitionLog(directory / f"{name}.jsonl")
    flow = log.attach(SCENARIOS[name]())
    state = flow.run(executor=make_executor())
    return summary(flow, state), log.transcripts()


_reference: dict[str, tuple[dict[str, Any], dict[str, list[str]]]] = {}


def reference(name: str, directory: Path) -> tuple[dict[str, Any], dict[str, list[str]]]:
    if name not in _reference:
        directory.mkdir(exist_ok=True)
        _reference[name] = run_scenario(name, LocalExecutor, directory)
    return _reference[name]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_final_states_and_handler_transcripts_match_the_local_executor(
    scenario: str, any_executor: Callable[[], Executor], tmp_path: Path
) -> None:
    """Same final state for the flow and every task (and mapped child), and the same ordered
    transitions seen by every run's handlers, as on the local executor."""
    expected_states, expected_transcripts = reference(scenario, tmp_path / "reference")
    (tmp_path / "run").mkdir()
    states, transcripts = run_scenario(scenario, any_executor, tmp_path / "run")
    assert states == expected_states
    assert transcripts == expected_transcripts


def final(name: str, make_executor: Callable[[], Executor], tmp_path: Path) -> dict[str, Any]:
    states, _ = run_scenario(name, make_executor, tmp_path)
    return {slug: (s["state"], s["result"]) for slug, s in states["tasks"].items()}


def test_mapping_runs_each_child_and_chains_maps_item_by_item(
    any_executor: Callable[[], Executor], tmp_path: Path
) -> None:
    """Children of a chained map line up by index, a failed child fails alone, and a reducer
    sees every child's result."""
    states, transcripts = run_scenario("mapping", any_executor, tmp_path)
    tasks = states["tasks"]
    assert tasks["add-1"]["children"] == [
        ("Success", "Task run succeeded.", 102),
        ("Success", "Task run succeeded.", 104),
        ("Success", "Task run succeeded.", 106),
        ("Success", "Task run succeeded.", 108),
    ]
    assert tasks["total-1"]["result"] == 420
    assert [c[0] for c in tasks["one_over-1"]["children"]] == [
        "Success",
        "Failed",
        "Success",
        "Success",
    ]
    assert tasks["count_finished-1"]["result"] == 4
    assert states["flow"][0] == "Success"  # the terminal tasks (reducers) succeeded
    assert transcripts["double[3]"] == [
        "Pending -> Running: Starting task run.",
        "Running -> Success: Task run succeeded.",
    ]


def test_retries_timeouts_triggers_skips_and_loops_end_as_in_prefect_1(
    any_executor: Callable[[], Executor], tmp_path: Path
) -> None:
    """The final states each behaviour must reach, on every executor."""
    retries = final("retries", any_executor, tmp_path)
    assert retries["succeeds_on_third_attempt-1"] == ("Success", 3)
    assert retries["always_fails-1"] == ("Failed", "RuntimeError('broken for good')")
    assert retries["asks_to_retry_once-1"] == ("Success", "done")
    timeouts = final("timeouts", any_executor, tmp_path)
    assert timeouts["outlives_its_timeout-1"][0] == "TimedOut"
    assert timeouts["within_its_timeout-1"] == ("Success", "in time")
    triggers = final("triggers", any_executor, tmp_path)
    assert triggers["downstream-1"][0] == "TriggerFailed"
    assert triggers["cleanup-1"] == ("Success", "cleaned up")
    assert triggers["always_runs-1"] == ("Success", "finished anyway")
    skipping = final("skipping", any_executor, tmp_path)
    assert skipping["downstream-1"][0] == "Skipped"
    assert skipping["runs_after_skip-1"] == ("Success", "got SKIP('nothing to do today')")
    loops = final("looping_and_signals", any_executor, tmp_path)
    assert loops["loop_until_three-1"] == ("Success", 6)
    assert loops["signals_fail-1"][0] == "Failed"
    assert loops["signals_success-1"] == ("Success", 42)
