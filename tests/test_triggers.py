"""Triggers judge upstream states (a mapped upstream counts as its children)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowlight import triggers
from flowlight.engine import signals
from flowlight.engine.state import Failed, Mapped, Skipped, State, Success, TriggerFailed

OK, BAD, SKIP = Success(), Failed(), Skipped()


def _verdict(trigger: Callable[..., bool], states: list[State]) -> str:
    try:
        trigger({i: s for i, s in enumerate(states)})
    except signals.TRIGGERFAIL:
        return "triggerfail"
    except signals.SKIP:
        return "skip"
    except signals.PAUSE:
        return "pause"
    return "run"


@pytest.mark.parametrize(
    ("trigger", "states", "verdict"),
    [
        (triggers.all_successful, [OK, SKIP], "run"),
        (triggers.all_successful, [OK, BAD], "triggerfail"),
        (triggers.all_finished, [OK, BAD], "run"),
        (triggers.always_run, [BAD], "run"),
        (triggers.all_failed, [BAD, BAD], "run"),
        (triggers.all_failed, [BAD, OK], "triggerfail"),
        (triggers.any_successful, [BAD, OK], "run"),
        (triggers.any_successful, [BAD, BAD], "triggerfail"),
        (triggers.any_failed, [OK, BAD], "run"),
        (triggers.any_failed, [OK, OK], "triggerfail"),
        (triggers.not_all_skipped, [SKIP, OK], "run"),
        (triggers.not_all_skipped, [SKIP, SKIP], "skip"),
        (triggers.manual_only, [OK], "pause"),
        (triggers.some_successful(at_least=2), [OK, OK, BAD], "run"),
        (triggers.some_successful(at_least=0.9), [OK, OK, BAD], "triggerfail"),
        (triggers.some_failed(at_most=1), [OK, BAD, BAD], "triggerfail"),
        (triggers.some_failed(at_least=1, at_most=1), [OK, BAD], "run"),
    ],
)
def test_trigger_verdicts(trigger: Callable[..., bool], states: list[State], verdict: str) -> None:
    assert _verdict(trigger, states) == verdict


def test_a_mapped_upstream_counts_as_its_children() -> None:
    parent = Mapped(map_states=[OK, BAD])
    assert _verdict(triggers.all_successful, [parent]) == "triggerfail"
    assert _verdict(triggers.any_failed, [parent]) == "run"


def test_default_trigger_message_names_the_trigger() -> None:
    with pytest.raises(signals.TRIGGERFAIL) as caught:
        triggers.all_successful({0: BAD})
    assert isinstance(caught.value.state, TriggerFailed)
    assert caught.value.state.message == (
        'Trigger was "all_successful" but some of the upstream tasks failed.'
    )


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
