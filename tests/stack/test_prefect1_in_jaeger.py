"""A Prefect 1.4.1 flow, run by real Prefect 1 with `flowlight.otel.instrument(flow)` (the shared
scenarios of tests/prefect1, in their own venv), exported over OTLP/HTTP to the real collector and
read back from the real Jaeger."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.otel.flows import THIRD_ATTEMPT_SUCCEEDS
from tests.otel.receivers import by_name
from tests.prefect1.conftest import SCENARIO_SCRIPT, ensure_prefect1_venv, scenario_env

from ._jaeger import JaegerQuery
from ._programs import Program
from .conftest import collector_endpoint


def test_a_prefect1_flow_instrumented_by_flowlight_reaches_jaeger(
    collector_program: Program, jaeger_query: JaegerQuery, ports: Any, tmp_path: Path
) -> None:
    """Prefect 1's run of the "retries" scenario (a task that succeeds on its third attempt, one
    that fails both, one downstream) is one trace in Jaeger: a span per task run under the flow
    run's span, every attempt's transitions as events, the failing task an error."""
    python = ensure_prefect1_venv()
    env = scenario_env(collector_endpoint(ports, "http/protobuf"), "prefect", tmp_path)
    completed = subprocess.run(
        [str(python), str(SCENARIO_SCRIPT), "prefect", "retries"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    spans = jaeger_query.wait_for_spans(env["OTEL_SERVICE_NAME"], 4)
    assert len(spans) == 4 and len({s.trace_id for s in spans}) == 1
    named = by_name(spans)
    (flow_span,) = named["retries"]
    assert flow_span.parent_span_id == "" and flow_span.is_error
    for task_name in ("flaky", "always", "report"):
        (span,) = named[task_name]
        assert span.parent_span_id == flow_span.span_id
    flaky = named["flaky"][0]
    assert flaky.transition_names == THIRD_ATTEMPT_SUCCEEDS
    assert not flaky.is_error
    always = named["always"][0]
    assert always.is_error and "exception" in always.event_names
    assert flow_span.resource["service.name"] == "scenarios-on-prefect"
