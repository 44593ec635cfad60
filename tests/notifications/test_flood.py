"""Flood control in real flow runs: 1,000 failing mapped children make one alert and one summary,
held-back counts ride along with the next alert, and the policy can be turned off."""

from __future__ import annotations

from typing import Any

import pytest

from flowlight import Flow, task
from flowlight.engine.state import Failed
from flowlight.triggers import all_finished
from flowlight.utilities.notifications import statistics, webhook_notifier

from .servers import HttpReceiver


def fail(x: int) -> None:
    raise ValueError(f"child {x} broke")


def test_a_thousand_failing_children_send_one_alert_and_one_summary(
    receiver: HttpReceiver, records: list[Any]
) -> None:
    """The first child's failure is sent; 999 are held back, counted, and reported once with
    the flow's own final notification."""
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed])
    before = statistics()
    with Flow("wide", state_handlers=[notifier]) as flow:
        task(fail, name="child", state_handlers=[notifier]).map(list(range(1000)))
    assert flow.run().is_failed()
    child, summary = receiver.wait_for(2)
    assert len(receiver.requests) == 2
    assert child.json()["task"]["full_name"] == "child[0]"
    assert child.json()["suppressed"] == []
    flow_payload = summary.json()
    assert flow_payload["task"] is None and flow_payload["state"]["type"] == "Failed"
    assert flow_payload["suppressed"] == [{"task": "child", "state": "Failed", "count": 999}]
    assert "999 x Failed for task 'child'" in flow_payload["text"]
    outcomes = [r.outcome for r in records]
    assert (outcomes.count("sent"), outcomes.count("suppressed")) == (2, 999)
    assert statistics().suppressed - before.suppressed == 999


def test_when_the_flow_state_is_not_wanted_the_summary_is_sent_alone(
    receiver: HttpReceiver,
) -> None:
    """The flow succeeds (its reference task did), so its notice is a `suppressed_summary`."""
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed])
    with Flow("wide", state_handlers=[notifier]) as flow:
        task(fail, name="child", state_handlers=[notifier]).map(list(range(5)))
        done = task(lambda: 1, name="done")()
    flow.set_reference_tasks([done])
    assert flow.run().is_successful()
    _, summary = receiver.wait_for(2)
    payload = summary.json()
    assert payload["event"] == "suppressed_summary"
    assert payload["suppressed"] == [{"task": "child", "state": "Failed", "count": 4}]
    assert summary.headers["X-Flowlight-Event"] == "suppressed_summary"


def test_held_back_counts_ride_along_with_the_next_alert(receiver: HttpReceiver) -> None:
    """Without a flow-level notifier the next task alert carries the summary."""
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed])
    with Flow("wide") as flow:
        children = task(fail, name="child", state_handlers=[notifier]).map(list(range(5)))
        after = task(fail, name="after", state_handlers=[notifier], trigger=all_finished)
        after(7, upstream_tasks=[children])
    flow.run()
    _, second = receiver.wait_for(2)
    assert second.json()["task"]["name"] == "after"
    assert second.json()["suppressed"] == [{"task": "child", "state": "Failed", "count": 4}]


@pytest.mark.parametrize("how", ["argument", "setting"])
def test_flood_control_can_be_turned_off(
    how: str, receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    options: dict[str, Any] = {"url": receiver.url(), "only_states": [Failed]}
    if how == "argument":
        options["flood_control"] = False
    else:
        monkeypatch.setenv("FLOWLIGHT__NOTIFICATIONS__FLOOD_CONTROL", "false")
    notifier = webhook_notifier(**options)
    with Flow("wide") as flow:
        task(fail, name="child", state_handlers=[notifier]).map(list(range(20)))
    flow.run()
    assert len(receiver.wait_for(20)) == 20


def test_each_retry_attempt_is_its_own_alert(receiver: HttpReceiver, engine_clock: Any) -> None:
    """Flood control keys on the attempt number, so a retrying task is not silenced."""
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed])
    work = task(fail, name="flaky", state_handlers=[notifier], max_retries=2, retry_delay=1)
    with Flow("retries") as flow:
        work(1)
    flow.run()
    counts = [r.json()["task"]["run_count"] for r in receiver.wait_for(3)]
    assert counts == [1, 2, 3]
