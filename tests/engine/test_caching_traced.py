"""A cached task run is one span, also on its first run, whose last transition is
Success -> Cached: the OpenTelemetry bridge ends the span on the cache step, not before it."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.otel.receivers import spans_in

from flowlight import Flow, task

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def telemetry_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The bridge with no endpoint, writing OTLP JSON lines under a fresh directory."""
    import flowlight.otel as otel

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    directory = tmp_path / "telemetry"
    otel.configure(telemetry_dir=str(directory), service_name="flowlight-cache-tests")
    yield directory
    otel.shutdown()


def test_a_cacheable_task_run_is_one_span_ending_on_the_cache_step(telemetry_dir: Path) -> None:
    """First run: one `fetch` span with events Running, Success, Cached. Second run (a cache
    hit): one `fetch` span with the single event Cached. Both in their flow run's trace."""
    import flowlight.otel as otel

    @task(cache_for=datetime.timedelta(minutes=5))
    def fetch() -> int:
        return 7

    flow = otel.instrument(Flow("cached", tasks=[fetch]))
    flow.run()
    flow.run()
    otel.shutdown()

    spans = spans_in(telemetry_dir / "traces.jsonl")
    fetch_spans = [s for s in spans if s["name"] == "fetch"]
    flow_traces = {s["traceId"] for s in spans if s["name"] == "cached"}
    assert [[e["name"] for e in s.get("events", [])] for s in fetch_spans] == [
        ["Running", "Success", "Cached"],
        ["Cached"],
    ]
    assert {s["traceId"] for s in fetch_spans} == flow_traces
    assert len(flow_traces) == 2
