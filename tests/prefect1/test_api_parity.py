"""The public Flow / Task / State / context API gives what Prefect 1.4.1's gives.

`api_probe.py` calls the API (graph queries and edits, task defaults and copies, operators,
`retry_on`, state parents and children, the context, `flow.run(state=..., flow_run_name=...)`,
`terminal_state_handler`, `task_run_name`) and prints what it sees; it runs unchanged but for
the import on Prefect 1.4.1 in its venv and on flowlight, and each probe must see the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO

PROBE_SCRIPT = Path(__file__).with_name("api_probe.py")


def probe_outputs(python: Path, engine: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWLIGHT", "PREFECT__"))}
    env.update(PYTHONPATH=str(REPO / "src"), PREFECT__LOGGING__LEVEL="CRITICAL")
    completed = subprocess.run(
        [str(python), str(PROBE_SCRIPT), engine],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    seen = {}
    for line in completed.stdout.splitlines():
        if line.startswith('{"probe"'):
            record = json.loads(line)
            seen[record["probe"]] = record["seen"]
    return seen


@pytest.fixture(scope="module")
def prefect_seen(prefect1_python: Path) -> dict[str, Any]:
    return probe_outputs(prefect1_python, "prefect")


@pytest.fixture(scope="module")
def flowlight_seen() -> dict[str, Any]:
    return probe_outputs(Path(sys.executable), "flowlight")


def test_every_probe_ran_on_both_engines(
    prefect_seen: dict[str, Any], flowlight_seen: dict[str, Any]
) -> None:
    assert len(prefect_seen) >= 13
    assert set(flowlight_seen) == set(prefect_seen)


@pytest.mark.parametrize(
    "probe",
    [
        "flow_graph_queries",
        "flow_cycles_are_found_by_validate",
        "flow_copy_replace_update",
        "reference_tasks_must_be_in_the_flow",
        "task_defaults_and_copies",
        "task_dependencies_with_flow_argument",
        "operators_build_tasks",
        "retry_on_only_those_exceptions",
        "states_parents_and_children",
        "states_load_stored_results",
        "context_outside_and_inside",
        "run_state_and_names",
        "parameters_as_run_keywords",
    ],
)
def test_the_api_behaves_as_prefect_1(
    probe: str, prefect_seen: dict[str, Any], flowlight_seen: dict[str, Any]
) -> None:
    assert flowlight_seen[probe] == prefect_seen[probe]
