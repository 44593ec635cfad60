"""Triggers judge upstream states (a mapped upstream counts as its children)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowlight import triggers
from flowlight.engine import signals
from flowlight.engine.state import (
    Failed,
    Mapped,
    Pending,
    Skipped,
    State,
    Success,
    TriggerFailed,
)

OK, BAD, SKIP = Success(), Failed(), Skipped()


def _verdict(trigger: Callable[..., bool], states: list[State]) -> str:
    """What a trigger decided: "run" only when it returned exactly True, "false" when it
    returned False, else the signal it raised."""
    try:
        returned = trigger({i: s for i, s in enumerate(states)})
    except signals.TRIGGERFAIL:
        return "triggerfail"
    except signals.SKIP:
        return "skip"
    except signals.PAUSE:
        return "pause"
    if returned is True:
        return "run"
    return "false" if returned is False else f"returned {returned!r}"


@pytest.mark.parametrize(
    ("trigger", "states", "verdict"),
    [
        (triggers.all_successful, [Success(), Skipped()], "run"),
        (triggers.all_successful, [Success(), Failed()], "triggerfail"),
        (triggers.all_finished, [Success(), Failed()], "run"),
        (triggers.all_finished, [Success(), Pending()], "triggerfail"),
        (triggers.always_run, [Failed()], "run"),
        (triggers.all_failed, [Failed(), Failed()], "run"),
        (triggers.all_failed, [Failed(), Success()], "triggerfail"),
        (triggers.any_successful, [Failed(), Success()], "run"),
        (triggers.any_successful, [Failed(), Failed()], "triggerfail"),
        (triggers.any_failed, [Success(), Failed()], "run"),
        (triggers.any_failed, [Success(), Success()], "triggerfail"),
        (triggers.not_all_skipped, [Skipped(), Success()], "run"),
        (triggers.not_all_skipped, [Skipped(), Skipped()], "skip"),
        (triggers.not_all_skipped, [Skipped(), Failed()], "triggerfail"),
        (triggers.manual_only, [Success()], "pause"),
        (triggers.some_successful(at_least=2), [Success(), Success(), Failed()], "run"),
        (triggers.some_successful(at_least=3), [Success(), Success(), Failed()], "triggerfail"),
        (triggers.some_successful(at_least=0.9), [Success(), Success(), Failed()], "triggerfail"),
        (triggers.some_successful(at_least=0.5), [Success(), Success(), Failed()], "run"),
        (triggers.some_successful(at_most=0), [Failed(), Failed()], "run"),
        (triggers.some_successful(at_most=0), [Failed(), Success()], "triggerfail"),
        (triggers.some_failed(at_most=1), [Success(), Failed(), Failed()], "triggerfail"),
        (triggers.some_failed(at_least=1, at_most=1), [Success(), Failed()], "run"),
        (triggers.some_failed(at_least=1), [Success(), Success()], "triggerfail"),
        (triggers.some_failed(), [Failed(), Failed(), Success()], "run"),
        # A bound below 1 is a fraction of the upstream states: 0.5 of 3 allows 1.5 failures.
        (triggers.some_failed(at_most=0.5), [Failed(), Success(), Success()], "run"),
        (triggers.some_failed(at_most=0.5), [Failed(), Failed(), Success()], "triggerfail"),
        (triggers.some_failed(at_most=0.5), [Failed(), Success()], "run"),
        (triggers.some_failed(at_least=0.5), [Failed(), Success(), Success()], "triggerfail"),
        (triggers.some_failed(at_least=0.5), [Failed(), Failed(), Success()], "run"),
        # From 1 up a bound is a count, even written as a float: 1.0 is one, 1.5 is one and a half.
        (triggers.some_successful(at_least=1.0), [Success(), Failed(), Failed()], "run"),
        (triggers.some_successful(at_most=1.5), [Success(), Success(), Failed()], "triggerfail"),
        (triggers.some_successful(at_most=1.5), [Success(), Failed(), Failed()], "run"),
    ],
)
def test_trigger_verdicts(trigger: Callable[..., bool], states: list[State], verdict: str) -> None:
    assert _verdict(trigger, states) == verdict


@pytest.mark.parametrize(
    ("trigger", "verdict"),
    [
        (triggers.all_successful, "run"),
        (triggers.all_failed, "run"),
        (triggers.all_finished, "run"),
        (triggers.any_successful, "run"),
        (triggers.any_failed, "run"),
        (triggers.some_failed(at_least=1), "run"),
        (triggers.some_successful(at_least=1), "run"),
        (triggers.some_successful(at_least=0.5, at_most=0.5), "run"),
        # "every upstream was skipped" holds when there is none, so the task skips, as in Prefect 1.
        (triggers.not_all_skipped, "skip"),
    ],
)
def test_triggers_of_a_task_without_upstream_tasks(
    trigger: Callable[..., bool], verdict: str
) -> None:
    assert _verdict(trigger, []) == verdict


@pytest.mark.parametrize(
    ("trigger", "verdict"),
    [
        (triggers.any_successful, "triggerfail"),
        (triggers.any_failed, "triggerfail"),
        (triggers.some_failed(at_least=1), "triggerfail"),
        (triggers.some_successful(at_most=0), "run"),
        (triggers.all_successful, "run"),
    ],
)
def test_a_mapped_upstream_without_children_is_an_upstream_with_nothing_to_count(
    trigger: Callable[..., bool], verdict: str
) -> None:
    assert _verdict(trigger, [Mapped(map_states=[])]) == verdict


def test_a_mapped_upstream_counts_as_its_children() -> None:
    parent = Mapped(map_states=[Success(), Failed()])
    assert _verdict(triggers.all_successful, [parent]) == "triggerfail"
    assert _verdict(triggers.any_failed, [parent]) == "run"
    assert _verdict(triggers.some_failed(at_least=1, at_most=1), [parent, Success()]) == "run"
    assert _verdict(triggers.some_failed(at_least=2), [parent, Success()]) == "triggerfail"


def test_one_upstream_state_reached_through_two_edges_counts_once() -> None:
    """Prefect 1 judges the set of upstream states: one failed upstream feeding two arguments of
    the task is one failure, not two."""
    failed = Failed()
    assert _verdict(triggers.some_failed(at_least=2), [failed, failed]) == "triggerfail"
    assert _verdict(triggers.some_failed(at_least=2), [failed, Failed()]) == "run"
    succeeded = Success()
    assert (
        _verdict(triggers.some_successful(at_most=0.5), [succeeded, succeeded, Failed()]) == "run"
    )


# Prefect 1.4.1's messages, which users may match on in their handlers.
PREFECT1_MESSAGES = [
    (
        triggers.all_finished,
        [Pending()],
        signals.TRIGGERFAIL,
        'Trigger was "all_finished" but some of the upstream tasks were not finished.',
    ),
    (
        triggers.all_successful,
        [BAD],
        signals.TRIGGERFAIL,
        'Trigger was "all_successful" but some of the upstream tasks failed.',
    ),
    (
        triggers.all_failed,
        [OK, BAD],
        signals.TRIGGERFAIL,
        'Trigger was "all_failed" but some of the upstream tasks succeeded.',
    ),
    (
        triggers.any_successful,
        [BAD],
        signals.TRIGGERFAIL,
        'Trigger was "any_successful" but none of the upstream tasks succeeded.',
    ),
    (
        triggers.any_failed,
        [OK],
        signals.TRIGGERFAIL,
        'Trigger was "any_failed" but none of the upstream tasks failed.',
    ),
    (
        triggers.not_all_skipped,
        [SKIP, BAD],
        signals.TRIGGERFAIL,
        'Trigger was "not_all_skipped" but some of the upstream tasks failed.',
    ),
    (triggers.not_all_skipped, [SKIP], signals.SKIP, "All upstreams were skipped"),
    (triggers.manual_only, [OK], signals.PAUSE, 'Trigger function is "manual_only"'),
    (
        triggers.some_failed(at_least=1),
        [OK],
        signals.TRIGGERFAIL,
        'Trigger was "some_failed" but thresholds were not met.',
    ),
    (
        triggers.some_successful(at_least=1),
        [BAD],
        signals.TRIGGERFAIL,
        'Trigger was "some_successful" but thresholds were not met.',
    ),
]


@pytest.mark.parametrize(("trigger", "states", "signal", "message"), PREFECT1_MESSAGES)
def test_trigger_messages_are_prefect_1s(
    trigger: Callable[..., bool], states: list[State], signal: type[Exception], message: str
) -> None:
    with pytest.raises(signal) as caught:
        trigger({i: s for i, s in enumerate(states)})
    assert caught.value.state.message == message  # type: ignore[attr-defined]


def test_a_trigger_failure_is_a_triggerfailed_state() -> None:
    with pytest.raises(signals.TRIGGERFAIL) as caught:
        triggers.all_successful({0: BAD})
    assert isinstance(caught.value.state, TriggerFailed)


def test_manual_only_runs_a_resumed_task() -> None:
    from flowlight.utilities.context import use_context

    with use_context({"resume": True}):
        assert _verdict(triggers.manual_only, [OK]) == "run"


def test_count_triggers_carry_their_names() -> None:
    """The task runner and the logs name a trigger by its `__name__`, as Prefect's do."""
    assert triggers.some_failed(at_least=1).__name__ == "some_failed"
    assert triggers.some_successful(at_least=1).__name__ == "some_successful"


def test_a_trigger_written_for_prefect_1_receives_edges_to_states() -> None:
    """Prefect 1 triggers take {edge: state}; flowlight passes the same shape."""
    from flowlight import Flow, task
    from flowlight.core.edge import Edge

    received: list[Any] = []

    def mine(upstream_states: dict[Edge, State]) -> bool:
        received.append(upstream_states)
        return all(s.is_successful() for s in upstream_states.values())

    @task
    def up() -> int:
        return 1

    @task(trigger=mine)
    def down(x: int) -> int:
        return x

    with Flow("t") as flow:
        d = down(up())
    assert flow.run().result[d].result == 1
    (edges,) = received
    assert [e.key for e in edges] == ["x"]
