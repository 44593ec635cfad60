"""One message per root cause: a failing task with `max_retries=2` and a task downstream of it,
alerted with `only_states=[Failed]` on both tasks and the flow. Prefect 1's behaviour (the
default) sends five messages: three attempts, the downstream TriggerFailed and the flow. With
`root_cause=True` (or the action form with `is_final_failure & ~is_upstream_failure`) it sends
two: the final failure, and the flow's message naming every failed task."""

from __future__ import annotations

from typing import Any

import pytest

from flowlight import Flow, task
from flowlight.engine.state import Failed
from flowlight.utilities.notifications import (
    callback_factory,
    is_final_failure,
    is_upstream_failure,
    slack_notifier,
    webhook_action,
    webhook_notifier,
)

from .servers import FakeClock, HttpReceiver


def explode() -> None:
    raise ConnectionError("warehouse unreachable")


def report(value: Any) -> None:
    return None


def five_message_flow(handler: Any) -> Flow:
    with Flow("nightly-etl", state_handlers=[handler]) as flow:
        loaded = task(
            explode, name="load", max_retries=2, retry_delay=1, state_handlers=[handler]
        )()
        task(report, name="report", state_handlers=[handler])(loaded)
    return flow


def test_by_default_the_scenario_sends_five_messages_as_prefect_1_does(
    receiver: HttpReceiver, engine_clock: FakeClock
) -> None:
    flow = five_message_flow(webhook_notifier(url=receiver.url(), only_states=[Failed]))
    assert flow.run().is_failed()
    bodies = [r.json() for r in receiver.wait_for(5)]
    assert len(receiver.requests) == 5
    assert [((b["task"] or {}).get("full_name"), b["state"]["type"]) for b in bodies] == [
        ("load", "Failed"),
        ("load", "Failed"),
        ("load", "Failed"),
        ("report", "TriggerFailed"),
        (None, "Failed"),
    ]


def test_with_root_cause_the_scenario_sends_two_and_the_flow_names_what_failed(
    receiver: HttpReceiver, engine_clock: FakeClock, records: list[Any]
) -> None:
    notifier = webhook_notifier(
        url=receiver.url(),
        only_states=[Failed],
        root_cause=True,
        trace_url_template="http://localhost:16686/trace/{trace_id}",
    )
    assert five_message_flow(notifier).run().is_failed()
    task_alert, flow_alert = (r.json() for r in receiver.wait_for(2))
    assert len(receiver.requests) == 2
    assert task_alert["task"]["full_name"] == "load" and task_alert["task"]["run_count"] == 3
    assert flow_alert["task"] is None
    assert flow_alert["flow"]["failed_task_count"] == 2
    assert [
        (t["full_name"], t["state"], t["upstream_failed"])
        for t in flow_alert["flow"]["failed_tasks"]
    ] == [("load", "Failed", False), ("report", "TriggerFailed", True)]
    assert flow_alert["text"].splitlines()[3:6] == [
        "Failed tasks (2):",
        "- load: Error during execution of task: ConnectionError('warehouse unreachable')",
        "- report: not run, an upstream task failed",
    ]
    held = [r.reason for r in records if r.outcome == "suppressed"]
    assert len(held) == 3
    assert held.count("root cause only: a retry follows this failure") == 2


def test_the_action_form_with_composed_checks_sends_the_same_two(
    receiver: HttpReceiver, engine_clock: FakeClock
) -> None:
    alert = callback_factory(
        webhook_action(url=receiver.url()), is_final_failure & ~is_upstream_failure
    )
    five_message_flow(alert).run()
    bodies = [r.json() for r in receiver.wait_for(2)]
    assert len(receiver.requests) == 2
    assert [(b["task"] or {}).get("full_name") for b in bodies] == ["load", None]


def test_the_setting_turns_root_cause_on_for_every_notifier(
    receiver: HttpReceiver, engine_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWLIGHT__NOTIFICATIONS__ROOT_CAUSE", "true")
    secrets = {"SLACK_WEBHOOK_URL": receiver.url("/services/T0/B0/root-cause-1")}
    five_message_flow(slack_notifier(only_states=[Failed])).run(context={"secrets": secrets})
    texts = [r.json()["text"] for r in receiver.wait_for(2)]
    assert len(receiver.requests) == 2
    assert texts[1].startswith("Flow 'nightly-etl' is now Failed.")
    assert "- report: not run, an upstream task failed" in texts[1]


def test_the_flow_alert_names_failed_mapped_children_by_index(receiver: HttpReceiver) -> None:
    def odd_fails(x: int) -> int:
        if x % 2:
            raise ValueError(f"row {x} is odd")
        return x

    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed], root_cause=True)
    with Flow("wide", state_handlers=[notifier]) as flow:
        task(odd_fails, name="child").map(list(range(5)))
    assert flow.run().is_failed()
    (flow_alert,) = (r.json() for r in receiver.wait_for(1))
    assert [
        (t["full_name"], t["map_index"], t["message"]) for t in flow_alert["flow"]["failed_tasks"]
    ] == [
        ("child[1]", 1, "Error during execution of task: ValueError('row 1 is odd')"),
        ("child[3]", 3, "Error during execution of task: ValueError('row 3 is odd')"),
    ]
