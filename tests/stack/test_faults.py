"""Faults between the bridge, the real collector and the real Jaeger, counted span by span.

Each test runs RUNS flow runs of SPANS_PER_RUN spans (the flow run and two task runs) and then
requires Jaeger to hold exactly RUNS * SPANS_PER_RUN spans, RUNS traces, no span id twice
(Jaeger is asked for raw traces, so a duplicate would show).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.ops._servers import get_text, wait_until
from tests.otel import flows
from tests.otel.receivers import SpanView

import flowlight.otel as otel

from ._jaeger import JaegerQuery, spans_in_files
from ._programs import Program
from .conftest import collector_endpoint
from .test_traces_in_jaeger import comparable

RUNS = 20
SPANS_PER_RUN = 3


def run_flows() -> None:
    for _ in range(RUNS):
        otel.instrument(flows.success_flow()).run()
    otel.shutdown()


def assert_exactly_once(spans: list[SpanView]) -> None:
    twice = [span_id for span_id, n in Counter(s.span_id for s in spans).items() if n > 1]
    assert twice == [], f"{len(twice)} spans arrived more than once"
    assert len(spans) == RUNS * SPANS_PER_RUN
    assert len({s.trace_id for s in spans}) == RUNS


def queued_in_collector(ports: Any) -> float:
    """Batches waiting in the collector's queue for Jaeger (its own otelcol_exporter_queue_size)."""
    text = get_text(f"http://127.0.0.1:{ports.collector_telemetry}/metrics")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("otelcol_exporter_queue_size") and 'exporter="otlp/jaeger"' in line
    )


def test_jaeger_down_while_runs_export_loses_and_doubles_nothing(
    collector_program: Program,
    jaeger_program: Program,
    jaeger_query: JaegerQuery,
    bridge_to: Any,
    ports: Any,
) -> None:
    """Jaeger is stopped while 20 runs export: the collector accepts every span and keeps them
    in its file_storage queue; once Jaeger is started again every span arrives, none twice."""
    service = "flowlight-stack-jaeger-down"
    jaeger_program.stop()
    bridge_to("grpc", service)
    run_flows()
    assert otel.statistics().get("export_failures", 0) == 0, "the collector refused data"
    wait_until(lambda: queued_in_collector(ports) > 0, timeout=30, what="a queue for Jaeger")
    jaeger_program.start()
    spans = jaeger_query.wait_for_spans(service, RUNS * SPANS_PER_RUN, timeout=120, settle=5)
    assert_exactly_once(spans)
    print(f"\nJaeger down: {len(spans)} of {RUNS * SPANS_PER_RUN} spans arrived, once each")


def test_collector_killed_after_accepting_loses_nothing(
    collector_program: Program,
    jaeger_program: Program,
    jaeger_query: JaegerQuery,
    bridge_to: Any,
) -> None:
    """With Jaeger down, 20 runs export to the collector, which accepts them; the collector is
    then killed with SIGKILL in the middle of its retries to Jaeger and started again on the
    same queue directory, and Jaeger comes back: every span arrives, none twice."""
    service = "flowlight-stack-collector-killed"
    jaeger_program.stop()
    bridge_to("grpc", service)
    run_flows()
    assert otel.statistics().get("export_failures", 0) == 0, "the collector refused data"
    collector_program.kill()
    jaeger_program.start()
    collector_program.start()
    spans = jaeger_query.wait_for_spans(service, RUNS * SPANS_PER_RUN, timeout=120, settle=5)
    assert_exactly_once(spans)
    print(f"\ncollector SIGKILLed: {len(spans)} of {RUNS * SPANS_PER_RUN} spans arrived")


def test_collector_down_spools_and_replay_delivers_exactly_once(
    collector_program: Program,
    jaeger_query: JaegerQuery,
    bridge_to: Any,
    ports: Any,
    tmp_path: Path,
) -> None:
    """The collector is down while 20 runs export: the bridge spools every span to its local
    files. `flowlight telemetry replay` then sends them through the restarted collector into
    Jaeger, which holds each once and equal to the spooled copy; a second replay sends
    nothing again."""
    service = "flowlight-stack-spooled"
    collector_program.stop()
    telemetry_dir = bridge_to("grpc", service)
    run_flows()
    spooled = spans_in_files(telemetry_dir)
    assert len(spooled) == RUNS * SPANS_PER_RUN
    collector_program.start()

    def replay() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(Path(sys.executable).with_name("flowlight")),
                "telemetry",
                "replay",
                str(telemetry_dir),
                "--endpoint",
                collector_endpoint(ports, "grpc"),
                "--protocol",
                "grpc",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = replay()
    assert first.returncode == 0, first.stdout + first.stderr
    spans = jaeger_query.wait_for_spans(service, len(spooled), timeout=60, settle=3)
    assert_exactly_once(spans)
    by_id = {s.span_id: s for s in spooled}
    assert [comparable(s) for s in spans] == [comparable(by_id[s.span_id]) for s in spans]
    second = replay()
    assert second.returncode == 0, second.stdout + second.stderr
    assert "traces: sent" not in second.stdout or "traces: sent 0" in second.stdout
    assert len(jaeger_query.wait_for_spans(service, len(spooled), settle=3)) == len(spooled)
    print(f"\ncollector down: spooled {len(spooled)}, replay output: {first.stdout.strip()!r}")
