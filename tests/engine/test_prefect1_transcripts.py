"""flowlight's state handlers see what Prefect 1.4.1's saw, transition by transition.

`transcripts/record.py` runs the same flows on either engine and writes down every handler call;
`transcripts/prefect1_4_1.json` is its output on prefect==1.4.1 (checked against a live Prefect
run by tests/prefect1/test_recorded_transcripts.py). Here the script runs on flowlight and each
scenario must give the recorded lines. Two departures, both documented in the README:
- Prefect 1.4.1 orders tasks that share no edge by set iteration (memory addresses), so where two
  tasks are independent only each task's own sequence and the dependency order are compared;
- a paused task never waits on stdin when stdin is not a terminal: the run ends with the task
  Paused and the flow still Running (Prefect 1.4.1 asks, and was recorded answering `y`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).with_name("transcripts")
RECORDED = HERE / "prefect1_4_1.json"
INDEPENDENT_SIBLINGS = "after a failure: the default trigger and all_finished"
PAUSED = "manual_only trigger"
# Scenarios of tasks that share no edge: compared per task, in any order of the tasks.
ORDER_FREE = ("triggers: one returns False, count triggers without upstream tasks",)


@pytest.fixture(scope="module")
def recorded() -> dict[str, list[str]]:
    loaded: dict[str, list[str]] = json.loads(RECORDED.read_text())
    return loaded


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    out = tmp_path_factory.mktemp("transcripts") / "flowlight.json"
    done = subprocess.run(
        [sys.executable, str(HERE / "record.py"), "flowlight", str(out)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, list[str]] = json.loads(out.read_text())
    return found


def test_every_recorded_scenario_was_run(
    recorded: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    assert list(observed) == list(recorded)


@pytest.mark.parametrize(
    "scenario",
    [
        s
        for s in json.loads(RECORDED.read_text())
        if s not in (INDEPENDENT_SIBLINGS, PAUSED, *ORDER_FREE)
    ],
)
def test_handler_calls_and_final_states_match_prefect(
    scenario: str, recorded: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    """Every handler call, final state, message and result, in Prefect's order."""
    assert observed[scenario] == recorded[scenario]


def _lines_of_each(lines: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for line in lines:
        who = line.split(": ", 1)[0]
        grouped.setdefault(who, []).append(line)
    return grouped


@pytest.mark.parametrize("scenario", ORDER_FREE)
def test_tasks_without_edges_each_see_what_prefect_showed_them(
    scenario: str, recorded: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    assert sorted(observed[scenario]) == sorted(recorded[scenario])
    assert _lines_of_each(observed[scenario]) == _lines_of_each(recorded[scenario])
    assert observed[scenario][-1].startswith("final ")


def test_independent_tasks_keep_their_own_sequences_and_the_dependency_order(
    recorded: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    """Downstream of a failure, the two dependents may run in either order."""
    want, got = recorded[INDEPENDENT_SIBLINGS], observed[INDEPENDENT_SIBLINGS]
    assert sorted(got) == sorted(want)
    assert _lines_of_each(got) == _lines_of_each(want)
    source_failed = next(i for i, x in enumerate(got) if x.startswith("task source: Running"))
    for dependent in ("task consumer:", "task tidy:"):
        assert next(i for i, x in enumerate(got) if x.startswith(dependent)) > source_failed
    flow_ends = next(i for i, x in enumerate(got) if x.startswith("flow after-failure-flow: Run"))
    assert all(i < flow_ends for i, x in enumerate(got) if x.startswith("task "))


def test_a_paused_task_ends_the_run_without_asking_when_stdin_is_not_a_terminal(
    recorded: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    """Up to the pause the handlers see Prefect's calls; then the run stops, task Paused."""
    want, got = recorded[PAUSED], observed[PAUSED]
    assert got[:4] == want[:4]
    assert got[3] == 'task publish: Pending() -> Paused("Trigger function is "manual_only"")'
    assert got[4:] == [
        'final flow: Running("Running flow.")',
        "final prepare: " + want[-2].split(": ", 1)[1],
        'final publish: Paused("Trigger function is "manual_only"") '
        "result=PAUSE('Trigger function is \"manual_only\"')",
    ]
