"""Schedules, results and serializers, targets and checkpoints, control flow and the core task
library agree with Prefect 1.4.1's: tests/prefect1/module_facts.py runs on the real Prefect 1.4.1
and on flowlight, and each fact is compared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("module_facts.py")


def _facts(python: Path, engine: str, out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(SCRIPT), engine, str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=out.parent,
        env={"HOME": str(out.parent), "PATH": "/usr/bin:/bin", "PREFECT__LOGGING__LEVEL": "ERROR"},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(out.read_text())
    return found


@pytest.fixture(scope="module")
def both(
    prefect1_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, Any]]:
    here = tmp_path_factory.mktemp("module-facts")
    return (
        _facts(prefect1_python, "prefect", here / "prefect.json"),
        _facts(Path(sys.executable), "flowlight", here / "flowlight.json"),
    )


def test_both_engines_state_the_same_module_facts(
    both: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    prefect, flowlight = both
    assert list(flowlight) == list(prefect)
    assert len(prefect) > 80
    differing = {name: (prefect[name], flowlight[name]) for name in prefect}
    differing = {k: v for k, v in differing.items() if v[0] != v[1]}
    assert differing == {}, "fact: (Prefect 1.4.1, flowlight)"


def test_the_facts_exercise_what_they_name(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A comparison of two empty answers would pass: check a few answers themselves."""
    prefect, _ = both
    assert prefect["checkpointing: files"] == ["plain-1.bin", "with_target-3.bin"]
    assert prefect["apply_map"] == [["Success", 3], ["Skipped", None], ["Success", 5]]
    assert prefect["interval: hourly, clocks back"][2] == "2018-11-04T01:00:00-05:00"
