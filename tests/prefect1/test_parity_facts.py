"""Facts about states, tasks, flows, cache validators and executors agree with Prefect 1.4.1's:
tests/prefect1/parity_facts.py runs on the real Prefect 1.4.1 and on flowlight, and each fact is
compared. The one deliberate difference checked here, a `task_states` key that is not a task of
the flow, is compared the other way round: Prefect ignores it, flowlight refuses it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .facts import assert_same_facts, facts_on_both_engines, quiet_env

SCRIPT = Path(__file__).with_name("parity_facts.py")


@pytest.fixture(scope="module")
def both(
    prefect1_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, Any]]:
    return facts_on_both_engines(SCRIPT, prefect1_python, tmp_path_factory.mktemp("facts"))


def test_both_engines_state_the_same_facts(
    both: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    assert_same_facts(*both, at_least=50)


TASK_STATES_KEYED_BY_THE_FUNCTION = """
import sys
engine = __import__(sys.argv[1])
state_module = __import__(sys.argv[1] + ".engine.state", fromlist=["Success"])

@engine.task
def one():
    return 1

with engine.Flow("keys") as flow:
    bound = one()
try:
    state = flow.run(task_states={one: state_module.Success(result=5)})
    print("ran, result", state.result[bound].result)
except ValueError as refused:
    print("refused:", refused)
"""


def test_a_task_states_key_outside_the_flow_is_ignored_by_prefect_and_refused_by_flowlight(
    prefect1_python: Path, tmp_path: Path
) -> None:
    """The documented departure: Prefect 1.4.1 runs the bound task as if no state were given;
    flowlight stops before running and names the bound copy."""
    outputs = {}
    for python, engine in ((prefect1_python, "prefect"), (Path(sys.executable), "flowlight")):
        done = subprocess.run(
            [str(python), "-c", TASK_STATES_KEYED_BY_THE_FUNCTION, engine],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=quiet_env(tmp_path),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outputs[engine] = done.stdout.strip()
    assert outputs["prefect"] == "ran, result 1"
    assert outputs["flowlight"].startswith("refused: flow.run(task_states=...) got <Task: one>")
    assert "copy bound in the flow" in outputs["flowlight"]
