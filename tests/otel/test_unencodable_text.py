"""Text UTF-8 cannot encode (a lone surrogate from `os.fsdecode` of a non-UTF-8 file name) costs
no span, log record or alert: it is written as its escape. Real OTLP receiver, real webhook."""

from __future__ import annotations

import os
from pathlib import Path

from tests.notifications import servers
from tests.notifications.servers import HttpReceiver

import flowlight.otel as otel
from flowlight import Flow, task
from flowlight.engine.state import Failed
from flowlight.otel._stats import STATS
from flowlight.utilities.notifications.delivery import DeliveryPolicy
from flowlight.utilities.notifications.notifiers import webhook_notifier

from .receivers import ReceivedTelemetry, attributes_of

webhook_receiver = servers.receiver

BAD_NAME = os.fsdecode(b"report-\xff.csv")


def surrogate_flow(url: str, tasks: int) -> Flow:
    notify = webhook_notifier(
        url=url,
        only_states=[Failed],
        flood_control=False,
        delivery=DeliveryPolicy(max_attempts=1, timeout=5.0),
    )

    @task
    def fine(i: int) -> int:
        return i

    @task(state_handlers=[notify])
    def read_report() -> None:
        raise FileNotFoundError(f"cannot open {BAD_NAME}")

    with Flow("surrogates") as flow:
        for i in range(tasks):
            fine(i)
        read_report()
    return flow


def test_a_lone_surrogate_in_a_failure_loses_nothing(
    received: ReceivedTelemetry, webhook_receiver: HttpReceiver
) -> None:
    tasks = 50
    state = otel.instrument(surrogate_flow(webhook_receiver.url(), tasks)).run()
    assert state.is_failed()
    expected_spans = tasks + 2
    received.wait_for(
        lambda r: len(r.spans()) >= expected_spans and len(r.log_records()) >= 2 * expected_spans
    )
    otel.shutdown()
    assert len(received.spans()) == expected_spans
    assert len(received.log_records()) == 2 * expected_spans
    assert STATS.snapshot().get("batches_lost", 0) == 0
    failed = next(s for s in received.spans() if s.name == "read_report")
    message = dict(failed.events)["exception"]["exception.message"]
    assert message == "cannot open report-\\udcff.csv"
    failed_records = [
        attributes_of(record.attributes)
        for _resource, record in received.log_records()
        if attributes_of(record.attributes).get("task") == "read_report"
        and attributes_of(record.attributes).get("new_state") == "Failed"
    ]
    assert "report-\\udcff.csv" in failed_records[0]["message"]
    (alert,) = webhook_receiver.wait_for(1)
    assert "report-\\\\udcff.csv" in alert.body.decode()


def test_a_lone_surrogate_reaches_the_local_files_too(local_files: Path) -> None:
    flow = otel.instrument(surrogate_flow("http://127.0.0.1:9/unused", 3))
    flow.run()
    otel.shutdown()
    traces = (local_files / "traces.jsonl").read_text(encoding="utf-8")
    assert "report-\\\\udcff.csv" in traces
    assert STATS.snapshot().get("batches_lost", 0) == 0
