"""Schedules, results and serializers, targets and checkpoints, control flow and the core task
library agree with Prefect 1.4.1's: tests/prefect1/module_facts.py runs on the real Prefect 1.4.1
and on flowlight, and each fact is compared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .facts import assert_same_facts, facts_on_both_engines

SCRIPT = Path(__file__).with_name("module_facts.py")


@pytest.fixture(scope="module")
def both(
    prefect1_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, Any]]:
    return facts_on_both_engines(SCRIPT, prefect1_python, tmp_path_factory.mktemp("module-facts"))


def test_both_engines_state_the_same_module_facts(
    both: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    assert_same_facts(*both, at_least=80)


def test_the_facts_exercise_what_they_name(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """A comparison of two empty answers would pass: check a few answers themselves."""
    prefect, _ = both
    assert prefect["checkpointing: files"] == ["plain-1.bin", "with_target-3.bin"]
    assert prefect["apply_map"] == [["Success", 3], ["Skipped", None], ["Success", 5]]
    assert prefect["interval: hourly, clocks back"][2] == "2018-11-04T01:00:00-05:00"
