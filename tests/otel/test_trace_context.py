"""Trace context in and out: a flow run joins the trace named by `flow.run(context=
{"traceparent": ...})` or by OpenTelemetry's environment carrier (TRACEPARENT / TRACESTATE), and
a task hands its span to a subprocess with `subprocess_environment()`, where a flowlight flow run
by a real second interpreter appears beneath it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import flowlight.otel as otel
from flowlight import Flow, task

from .receivers import spans_in

OUTER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OUTER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{OUTER_TRACE}-{OUTER_SPAN}-01"
REPO = Path(__file__).resolve().parents[2]


def run_and_read(local_files: Path, **run: Any) -> dict[str, dict[str, Any]]:
    work = task(lambda: 1, name="load")
    otel.instrument(Flow("etl", tasks=[work])).run(**run)
    assert otel.flush(10)
    return {span["name"]: span for span in spans_in(local_files / "traces.jsonl")}


def test_a_traceparent_in_the_run_context_makes_the_flow_a_child_of_that_span(
    local_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACEPARENT", raising=False)
    spans = run_and_read(local_files, context={"traceparent": TRACEPARENT})
    assert spans["etl"]["traceId"] == OUTER_TRACE
    assert spans["etl"]["parentSpanId"] == OUTER_SPAN
    assert spans["load"]["parentSpanId"] == spans["etl"]["spanId"]


def test_the_environment_carrier_makes_the_flow_a_child_with_its_tracestate(
    local_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEPARENT", TRACEPARENT)
    monkeypatch.setenv("TRACESTATE", "ci=job-17")
    spans = run_and_read(local_files)
    assert (spans["etl"]["traceId"], spans["etl"]["parentSpanId"]) == (OUTER_TRACE, OUTER_SPAN)
    assert spans["etl"]["traceState"] == "ci=job-17"
    assert spans["load"]["traceId"] == OUTER_TRACE


def test_the_run_context_wins_over_the_environment(
    local_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEPARENT", "00-11111111111111111111111111111111-2222222222222222-01")
    spans = run_and_read(local_files, context={"traceparent": TRACEPARENT})
    assert spans["etl"]["traceId"] == OUTER_TRACE


def test_a_malformed_environment_carrier_starts_a_new_trace(
    local_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEPARENT", "not-a-traceparent")
    spans = run_and_read(local_files)
    assert spans["etl"].get("parentSpanId", "") == ""
    assert len(spans["etl"]["traceId"]) == 32


CHILD = textwrap.dedent(
    """
    from flowlight import Flow, task

    Flow("child-job", tasks=[task(lambda: 2, name="step")]).run()
    """
)


def test_a_subprocess_started_with_the_tasks_environment_joins_the_trace(
    local_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real second interpreter runs a flowlight flow with FLOWLIGHT_OTEL=1 into its own
    directory; its flow span is a child of the task span that started it."""
    monkeypatch.delenv("TRACEPARENT", raising=False)
    child_dir = tmp_path / "child-telemetry"

    def launch() -> int:
        env = otel.subprocess_environment()
        for name in [k for k in env if k.startswith(("OTEL_", "FLOWLIGHT"))]:
            del env[name]
        env.update(
            FLOWLIGHT_OTEL="1",
            FLOWLIGHT__OTEL__TELEMETRY_DIR=str(child_dir),
            PYTHONPATH=str(REPO / "src"),
        )
        done = subprocess.run(
            [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.returncode

    launcher = task(launch, name="launch")
    state = otel.instrument(Flow("parent-job", tasks=[launcher])).run()
    assert state.is_successful(), state.result[launcher].message
    assert otel.flush(10)
    outer = {span["name"]: span for span in spans_in(local_files / "traces.jsonl")}
    inner = {span["name"]: span for span in spans_in(child_dir / "traces.jsonl")}
    assert inner["child-job"]["traceId"] == outer["parent-job"]["traceId"]
    assert inner["child-job"]["parentSpanId"] == outer["launch"]["spanId"]
    assert inner["step"]["parentSpanId"] == inner["child-job"]["spanId"]


def test_outside_any_span_the_environment_carries_no_inherited_traceparent(
    local_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEPARENT", TRACEPARENT)
    env = otel.subprocess_environment({"PATH": os.defpath, "TRACEPARENT": TRACEPARENT})
    assert env == {"PATH": os.defpath}
