"""One span carries a bounded amount of text: a 1.5 MB failure message exports through a gRPC
collector (4 MiB default message limit) with its beginning, its end and a marker."""

from __future__ import annotations

from typing import Any

import pytest

import flowlight.otel as otel
from flowlight import Flow, task
from flowlight.otel._bounds import MESSAGE_LIMIT, STACKTRACE_LIMIT, bounded
from flowlight.otel._stats import STATS

from .receivers import GrpcReceiver, attributes_of


def test_short_text_is_kept_and_long_text_keeps_both_ends() -> None:
    assert bounded("abc", 3) == "abc"
    assert bounded("abcd", 3) == "a…[1 characters cut]…cd"
    long = "B" + "x" * 10_000 + "E"
    cut = bounded(long, 100)
    assert cut.startswith("B" + "x" * 49 + "…[9902 characters cut]…")
    assert cut.endswith("x" * 49 + "E")
    assert len(cut) == 100 + len("…[9902 characters cut]…")


@pytest.fixture
def grpc_receiver(tmp_path: Any) -> Any:
    server = GrpcReceiver()
    server.start()
    STATS.reset()
    otel.configure(
        endpoint=server.endpoint, protocol=server.protocol, telemetry_dir=str(tmp_path / "t")
    )
    yield server
    otel.shutdown()
    server.stop()


def test_a_megabyte_failure_message_exports_through_grpc(grpc_receiver: Any) -> None:
    message = "start-" + "m" * 1_500_000 + "-end"

    @task
    def explode() -> None:
        raise ValueError(message)

    with Flow("huge") as flow:
        explode()
    assert otel.instrument(flow).run().is_failed()
    received = grpc_receiver.received
    received.wait_for(lambda r: len(r.spans()) >= 2 and len(r.log_records()) >= 4)
    otel.shutdown()
    assert STATS.snapshot().get("batches_spooled", 0) == 0
    assert STATS.snapshot().get("export_failures", 0) == 0
    span = next(s for s in received.spans() if s.name == "explode")
    exception = dict(span.events)["exception"]
    assert exception["exception.message"].startswith("start-mmm")
    assert exception["exception.message"].endswith("mmm-end")
    assert "characters cut]…" in exception["exception.message"]
    assert len(exception["exception.message"]) < MESSAGE_LIMIT + 40
    assert len(exception["exception.stacktrace"]) < STACKTRACE_LIMIT + 40
    failed_event = dict(span.events)["Failed"]
    assert len(failed_event["flowlight.state.message"]) < MESSAGE_LIMIT + 40
    assert len(span.status_message) < MESSAGE_LIMIT + 40
    for _resource, record in received.log_records():
        assert len(str(attributes_of(record.attributes).get("message", ""))) < MESSAGE_LIMIT + 40
