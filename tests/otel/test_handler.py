"""The handler's promises: it never changes a state or fails a run, and says what went wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import flowlight.otel as otel
from flowlight.otel import _session

from . import flows


class BrokenTracer:
    """Stands in for an SDK that fails: no real SDK can be made to raise on demand."""

    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer broke")


def test_a_failing_bridge_never_turns_a_success_into_a_failure(
    local_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the tracer raising on every span, the flow still succeeds, states are unchanged and
    the bridge counts its errors in statistics()."""
    monkeypatch.setattr(_session.active(), "tracer", BrokenTracer())
    state = otel.instrument(flows.success_flow()).run()
    assert state.is_successful()
    assert all(s.is_successful() for s in state.result.values())
    assert otel.statistics()["handler_errors"] == 6


def test_the_handler_returns_the_proposed_state_itself(local_files: Path) -> None:
    """Whatever it records, the handler hands back the very state object it was given."""
    from flowlight import context
    from flowlight.engine.state import Pending, Running

    flow = flows.success_flow()
    handler = otel.OtelHandler()
    new = Running("Starting task run.")
    with context(flow_run_id="run-1", flow_name="etl"):
        assert handler(flow, Pending(), new) is new
        assert "traceparent" in context
    assert "traceparent" not in context


def test_outside_a_run_the_handler_records_nothing(local_files: Path) -> None:
    """Called by hand with no run in the context, the handler leaves the context alone (a
    traceparent there would become the parent of later, unrelated runs)."""
    from flowlight import context
    from flowlight.engine.state import Pending, Running

    new = Running("Starting task run.")
    assert otel.OtelHandler()(flows.success_flow(), Pending(), new) is new
    assert "traceparent" not in context
    assert otel.statistics()["transitions_outside_runs"] == 1


def test_instrument_refuses_what_is_not_a_flow() -> None:
    with pytest.raises(TypeError, match="needs a Flow"):
        otel.instrument(object())


def test_the_public_names_are_pinned() -> None:
    assert otel.__all__ == [
        "OtelHandler",
        "ReplayReport",
        "Telemetry",
        "active_options",
        "add_trace_context",
        "close_crashed_runs",
        "configure",
        "flush",
        "instrument",
        "redact_secrets",
        "replay",
        "shutdown",
        "statistics",
        "subprocess_environment",
    ]


def test_a_bad_setting_is_reported_when_instrumenting_and_the_flow_still_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A misspelt protocol is logged by instrument() with the variable and the fix; the run
    succeeds and the unrecorded transitions are counted."""
    otel.shutdown()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grcp")
    flow = otel.instrument(flows.success_flow())
    assert "use 'grpc' or 'http/protobuf'" in caplog.text
    assert flow.run().is_successful()
    assert otel.statistics()["handler_errors"] >= 6
