"""Branching with `case`, `switch`, `ifelse`, `merge` and `FilterTask`; each expected outcome was
run on Prefect 1.4.1 with the same flow."""

from __future__ import annotations

from typing import Any

import pytest

from flowlight import Flow, case, task
from flowlight.engine.state import State
from flowlight.tasks.control_flow import FilterTask, ifelse, merge, switch


@task
def condition(x: Any) -> Any:
    return x


@task
def branch_a() -> str:
    return "A"


@task
def branch_b() -> str:
    return "B"


@task
def shout(x: str) -> str:
    return x + "!"


def _outcome(flow: Flow) -> dict[str, tuple[str, Any]]:
    def value(state: State) -> Any:
        return (
            type(state.result).__name__ if isinstance(state.result, BaseException) else state.result
        )

    return {
        t.name: (type(s).__name__, value(s))
        for t, s in sorted(flow.run().result.items(), key=lambda kv: kv[0].name)
    }


def _case_flow(value: str) -> Flow:
    with Flow("case") as flow:
        chosen = condition(value)
        with case(chosen, "a"):
            loud = shout(branch_a())
        with case(chosen, "b"):
            b = branch_b()
        merge(loud, b)
    return flow


def test_a_case_block_runs_only_when_the_value_matches() -> None:
    """Only the block's root (branch_a) waits on the comparison; shout follows branch_a."""
    assert _outcome(_case_flow("a")) == {
        "Merge": ("Success", "A!"),
        "branch_a": ("Success", "A"),
        "branch_b": ("Skipped", None),
        "case(a)": ("Success", None),
        "case(b)": ("Skipped", "SKIP"),
        "condition": ("Success", "a"),
        "shout": ("Success", "A!"),
    }


def test_when_no_case_matches_the_merge_is_skipped_with_no_result() -> None:
    outcome = _outcome(_case_flow("z"))
    assert outcome["Merge"] == ("Skipped", None)
    assert outcome["branch_a"] == outcome["shout"] == outcome["branch_b"] == ("Skipped", None)


def test_case_refuses_a_task_as_its_value() -> None:
    with pytest.raises(TypeError, match="`value` cannot be a task"):
        case(branch_a, branch_b)


@pytest.mark.parametrize("truth, ran", [(1, "branch_a"), (0, "branch_b")])
def test_ifelse_runs_one_branch_and_merge_takes_its_result(truth: int, ran: str) -> None:
    with Flow("ifelse") as flow:
        a, b = branch_a(), branch_b()
        ifelse(condition(truth), a, b)
        merged = merge(a, b)
    state = flow.run()
    assert state.result[merged].result == ("A" if ran == "branch_a" else "B")
    skipped = b if ran == "branch_a" else a
    assert state.result[skipped].is_skipped()
    assert "switch" in next(t for t in flow.tasks if t.name.startswith("CompareValue")).tags


def test_switch_runs_the_case_whose_key_matches() -> None:
    with Flow("switch") as flow:
        a, b = branch_a(), branch_b()
        switch(condition("y"), {"x": a, "y": b})
    state = flow.run()
    assert state.result[b].result == "B" and state.result[a].is_skipped()


def test_merge_must_run_after_skipped_branches() -> None:
    with pytest.raises(ValueError, match="skip_on_upstream_skip=False"):
        merge(branch_a, skip_on_upstream_skip=True)


def test_filter_task_drops_none_and_failed_children_by_default() -> None:
    @task
    def maybe(x: int) -> int | None:
        if x == 2:
            raise ValueError("two")
        return None if x == 3 else x

    with Flow("filter") as flow:
        kept = FilterTask()(maybe.map([1, 2, 3, 4]))
        evens = FilterTask(filter_func=lambda x: x % 2 == 0, name="evens")(condition([1, 2, 4]))
    state = flow.run()
    assert state.result[kept].result == [1, 4]
    assert state.result[evens].result == [2, 4]
