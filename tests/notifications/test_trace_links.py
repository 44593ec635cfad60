"""Trace ids and links in notifications: from `flowlight.context` (where the OpenTelemetry bridge
puts them), with a URL template from the argument or the setting, and end to end with the real
bridge, which in turn records each delivery on the task's span."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import flowlight
from flowlight import Flow, task
from flowlight.engine.state import Failed, State
from flowlight.utilities.notifications import slack_notifier, webhook_notifier

from .servers import HttpReceiver

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
JAEGER = "http://localhost:16686/trace/{trace_id}"


def put_trace_in_context(obj: Any, old: State, new: State) -> State:
    """What the bridge's flow handler does on Scheduled -> Running."""
    flowlight.context["trace_id"] = TRACE_ID
    flowlight.context["traceparent"] = TRACEPARENT
    return new


def explode() -> None:
    raise ValueError("nope")


def run_failing(notifier: Any) -> None:
    work = task(explode, name="load", state_handlers=[notifier])
    Flow("etl", tasks=[work], state_handlers=[put_trace_in_context]).run()


def test_a_template_argument_turns_the_trace_id_into_a_link(receiver: HttpReceiver) -> None:
    run_failing(
        webhook_notifier(url=receiver.url(), only_states=[Failed], trace_url_template=JAEGER)
    )
    payload = receiver.wait_for(1)[0].json()
    assert payload["trace"] == {
        "trace_id": TRACE_ID,
        "traceparent": TRACEPARENT,
        "url": f"http://localhost:16686/trace/{TRACE_ID}",
    }


def test_the_template_can_come_from_the_setting(
    receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWLIGHT__NOTIFICATIONS__TRACE_URL_TEMPLATE", JAEGER)
    secrets = {"SLACK_WEBHOOK_URL": receiver.url("/services/T/B/trace")}
    work = task(explode, name="load", state_handlers=[slack_notifier(only_states=[Failed])])
    Flow("etl", tasks=[work], state_handlers=[put_trace_in_context]).run(
        context={"secrets": secrets}
    )
    payload = receiver.wait_for(1)[0].json()
    link = f"<http://localhost:16686/trace/{TRACE_ID}|{TRACE_ID}>"
    assert {"type": "mrkdwn", "text": f"Trace {link}"} in payload["blocks"][-1]["elements"]


def test_without_the_bridge_there_is_no_trace_part(receiver: HttpReceiver) -> None:
    work = task(explode, name="load")
    work.state_handlers = [webhook_notifier(url=receiver.url(), only_states=[Failed])]
    Flow("etl", tasks=[work]).run()
    assert receiver.wait_for(1)[0].json()["trace"] is None


def test_with_the_real_bridge_the_alert_carries_the_runs_trace_and_the_span_records_it(
    receiver: HttpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trace id in the alert is the one the bridge gave the run, and the bridge's delivery
    listener adds a `notification.sent` event to the task's span."""
    import flowlight.otel as otel

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    otel.configure(telemetry_dir=str(tmp_path), service_name="flowlight-notification-tests")
    try:
        seen: list[str] = []

        def body() -> None:
            seen.append(flowlight.context["trace_id"])
            raise ValueError("nope")

        notifier = webhook_notifier(url=receiver.url(), only_states=[Failed])
        work = task(body, name="load", state_handlers=[notifier])
        flow = otel.instrument(Flow("etl", tasks=[work]))
        flow.run()
        assert otel.flush(10)
    finally:
        otel.shutdown()
    payload = receiver.wait_for(1)[0].json()
    assert re.fullmatch(r"[0-9a-f]{32}", payload["trace"]["trace_id"])
    assert [payload["trace"]["trace_id"]] == seen
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert "notification.sent" in written
