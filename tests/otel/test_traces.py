"""Trace structure as a collector receives it, over OTLP/gRPC and OTLP/HTTP (protobuf).

Each test runs a real flow with the bridge attached by `instrument()`, exports with the real OTLP
exporters into a receiver on 127.0.0.1, and reads the decoded protocol messages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import flowlight.otel as otel

from . import flows
from .receivers import ReceivedTelemetry, SpanView, by_name

REPO = Path(__file__).resolve().parents[2]


def run_and_collect(flow: Any, received: ReceivedTelemetry, spans: int) -> list[SpanView]:
    otel.instrument(flow)
    flow.run()
    received.wait_for(lambda r: len(r.spans()) >= spans)
    return received.spans()


def test_a_flow_run_is_one_trace_with_a_child_span_per_task_run(
    received: ReceivedTelemetry,
) -> None:
    """Root span for the flow run, one child per task run, all in one trace; span names are
    the flow and task names; events are the transitions in order; success is not an error."""
    spans = run_and_collect(flows.success_flow(), received, spans=3)
    assert len(spans) == 3
    assert len({s.trace_id for s in spans}) == 1
    named = by_name(spans)
    flow_span = named["etl"][0]
    assert flow_span.parent_span_id == ""
    for task_name in ("extract", "load"):
        task_span = named[task_name][0]
        assert task_span.parent_span_id == flow_span.span_id
        assert task_span.event_names == ["Running", "Success"]
        assert task_span.attributes["cicd.pipeline.task.name"] == task_name
        assert task_span.attributes["cicd.pipeline.task.run.result"] == "success"
        assert task_span.attributes["flowlight.task.slug"] == f"{task_name}-1"
        assert (
            task_span.attributes["cicd.pipeline.run.id"]
            == flow_span.attributes["cicd.pipeline.run.id"]
        )
        assert task_span.status_code == 1  # OK
    assert flow_span.event_names == ["Running", "Success"]
    assert flow_span.attributes["cicd.pipeline.name"] == "etl"
    assert flow_span.attributes["cicd.pipeline.result"] == "success"
    assert flow_span.attributes["flowlight.state"] == "Success"
    assert flow_span.resource["service.name"] == "flowlight-tests"
    running = dict(flow_span.events)["Success"]
    assert running["flowlight.state.old"] == "Running"
    assert running["flowlight.state.message"] == "All reference tasks succeeded."


def test_a_failed_task_span_is_an_error_with_the_exception_recorded(
    received: ReceivedTelemetry,
) -> None:
    """The Failed family sets status ERROR with the state's message, and the exception (type,
    message, stack trace) is an `exception` event right after the Failed event."""
    named = by_name(run_and_collect(flows.failing_flow(), received, spans=2))
    bad = named["bad"][0]
    assert bad.is_error
    assert bad.status_message == "Error during execution of task: ValueError('nope')"
    assert bad.event_names == ["Running", "Failed", "exception"]
    exception = dict(bad.events)["exception"]
    assert exception["exception.type"] == "builtins.ValueError"
    assert exception["exception.message"] == "nope"
    assert "raise ValueError" in exception["exception.stacktrace"]
    assert bad.attributes["cicd.pipeline.task.run.result"] == "failure"
    flow_span = named["fails"][0]
    assert flow_span.is_error
    assert flow_span.status_message == "Some reference tasks failed."


def test_retries_stay_in_one_span_with_an_event_per_attempt(received: ReceivedTelemetry) -> None:
    """A task that fails twice then succeeds is one span: every attempt's transitions are
    events on it, Retrying carries its start time, and the span ends successful."""
    named = by_name(run_and_collect(flows.retrying_flow(), received, spans=2))
    (flaky,) = named["flaky"]
    assert flaky.transition_names == flows.THIRD_ATTEMPT_SUCCEEDS
    retrying = [attrs for name, attrs in flaky.events if name == "Retrying"]
    assert [r["flowlight.run_count"] for r in retrying] == [1, 2]
    assert all("flowlight.retry.start_time" in r for r in retrying)
    assert retrying[0]["flowlight.state.message"] == "Retrying Task (after attempt 1 of 3)"
    assert flaky.attributes["flowlight.run_count"] == 3
    assert not flaky.is_error


def test_skipped_tasks_get_spans_even_when_they_never_ran(received: ReceivedTelemetry) -> None:
    """A SKIP signal and the skip it propagates downstream both give spans; the downstream one
    has a single Skipped event (it never entered Running)."""
    named = by_name(run_and_collect(flows.skipping_flow(), received, spans=3))
    assert named["skipper"][0].event_names[:2] == ["Running", "Skipped"]
    after = named["after"][0]
    assert after.event_names == ["Skipped"]
    assert after.attributes["cicd.pipeline.task.run.result"] == "skip"
    assert not after.is_error
    assert after.parent_span_id == named["skips"][0].span_id


def test_a_trigger_failure_gets_a_span_marked_as_error(received: ReceivedTelemetry) -> None:
    """The downstream task whose trigger failed has a span with one TriggerFailed event, the
    TRIGGERFAIL signal recorded as its exception, and status ERROR."""
    named = by_name(run_and_collect(flows.trigger_failed_flow(), received, spans=3))
    down = named["down"][0]
    assert down.event_names == ["TriggerFailed", "exception"]
    assert down.is_error
    assert "all_successful" in down.status_message
    assert dict(down.events)["exception"]["exception.type"].endswith("TRIGGERFAIL")


def test_each_mapped_child_is_a_span_under_its_mapped_parent(received: ReceivedTelemetry) -> None:
    """Mapping over three values: each child has its own span under the parent's, named
    `double[i]` as Prefect 1 names a mapped child, with its map index attribute; the parent's
    span ends when its last child does, and is an ERROR because a child failed, while its state
    stays Mapped."""
    named = by_name(run_and_collect(flows.mapped_flow(), received, spans=5))
    (parent,) = named["double"]
    children = [named[f"double[{i}]"][0] for i in range(3)]
    assert parent.event_names == ["Mapped"]
    assert parent.parent_span_id == named["mapping"][0].span_id
    assert [c.attributes["flowlight.task.map_index"] for c in children] == [0, 1, 2]
    assert {c.parent_span_id for c in children} == {parent.span_id}
    assert {c.attributes["flowlight.task.parent_run_id"] for c in children} == {
        parent.attributes["cicd.pipeline.task.run.id"]
    }
    failed = [c for c in children if c.is_error]
    assert [c.attributes["flowlight.task.map_index"] for c in failed] == [2]
    assert parent.end_ns == max(c.end_ns for c in children)
    assert parent.is_error
    assert parent.attributes["flowlight.state"] == "Mapped"
    assert parent.attributes["flowlight.map.failed_children"] == 1


def test_a_failing_user_handler_still_ends_the_task_span_as_failed(
    received: ReceivedTelemetry,
) -> None:
    """A user handler that raises fails the task and hides that transition from later handlers;
    the bridge ends the task's span at the flow's end with the task's final state, and counts
    no error of its own."""
    named = by_name(run_and_collect(flows.handler_raises_flow(), received, spans=2))
    work = named["work"][0]
    assert work.is_error
    assert "Unexpected error while calling state handlers" in work.status_message
    assert work.attributes["flowlight.state"] == "Failed"
    assert work.attributes["flowlight.state.reported_by"] == "flow_run"
    assert otel.statistics().get("handler_errors", 0) == 0


def test_instrument_is_idempotent_and_returns_the_flow(received: ReceivedTelemetry) -> None:
    """Instrumenting twice adds one handler per flow and task; the run still makes one span
    per run."""
    flow = flows.success_flow()
    assert otel.instrument(otel.instrument(flow)) is flow
    for obj in (flow, *flow.tasks):
        assert sum(isinstance(h, otel.OtelHandler) for h in obj.state_handlers) == 1
    spans = run_and_collect(flow, received, spans=3)
    assert len(spans) == 3


def test_spans_the_users_code_starts_in_a_task_are_children_of_the_task_span(
    receiver: Any, tmp_path: Path
) -> None:
    """While a task runs its span is the current span, so a span started by the task's own code
    (or by an instrumented library) on the global tracer joins the flow run's trace under the
    task. Run in a fresh interpreter: the global tracer provider can be set once per process."""
    script = """
        import flowlight.otel
        from opentelemetry import trace
        from flowlight import Flow, task

        @task
        def fetch():
            with trace.get_tracer("user-code").start_as_current_span("GET /rows"):
                pass

        with Flow("nested") as flow:
            fetch()
        flowlight.otel.instrument(flow).run()
        assert not trace.get_current_span().get_span_context().is_valid
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    environment.update(
        PYTHONPATH=str(REPO),
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL=receiver.protocol,
        FLOWLIGHT__OTEL__TELEMETRY_DIR=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    receiver.received.wait_for(lambda r: len(r.spans()) >= 3)
    named = by_name(receiver.received.spans())
    user_span = named["GET /rows"][0]
    assert user_span.parent_span_id == named["fetch"][0].span_id
    assert user_span.trace_id == named["nested"][0].trace_id


def test_a_flow_run_inside_the_applications_span_joins_its_trace(
    received: ReceivedTelemetry,
) -> None:
    """`flow.run()` called inside a span of the application's makes the flow run's span its
    child; after the run no flowlight span is left current."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("application")
    with tracer.start_as_current_span("nightly job") as job:
        otel.instrument(flows.handler_raises_flow()).run()
        assert trace.get_current_span() is job
    received.wait_for(lambda r: len(r.spans()) >= 2)
    flow_span = by_name(received.spans())["handler-raises"][0]
    assert flow_span.parent_span_id == format(job.get_span_context().span_id, "016x")
    assert flow_span.trace_id == format(job.get_span_context().trace_id, "032x")
    assert not trace.get_current_span().get_span_context().is_valid


def test_task_tags_are_a_span_attribute(received: ReceivedTelemetry) -> None:
    """A task's tags are recorded as a string array (sorted, as the context holds them)."""
    from flowlight import Flow, task

    @task(tags=["etl", "critical"])
    def load() -> None:
        return None

    with Flow("tagged") as flow:
        load()
    named = by_name(run_and_collect(flow, received, spans=2))
    assert named["load"][0].attributes["flowlight.task.tags"] == ["critical", "etl"]
    assert "flowlight.task.tags" not in named["tagged"][0].attributes


def test_a_cached_task_run_ends_its_span_at_its_own_final_transition(
    received: ReceivedTelemetry,
) -> None:
    """A task with `cache_for` ends `Success -> Cached` (Prefect 1's cache step): its span
    covers both transitions and ends at Cached, not at the flow run's end."""
    import datetime
    import uuid

    from flowlight import Flow, task

    # A key of its own: another test's cached state must not make this run end Cached at once.
    @task(cache_for=datetime.timedelta(minutes=5), cache_key=f"lookup-{uuid.uuid4()}")
    def slow_lookup() -> int:
        return 42

    with Flow("cached") as flow:
        slow_lookup()
    named = by_name(run_and_collect(flow, received, spans=2))
    lookup = named["slow_lookup"][0]
    assert lookup.event_names == ["Running", "Success", "Cached"]
    assert lookup.attributes["flowlight.state"] == "Cached"
    assert "flowlight.state.reported_by" not in lookup.attributes
    assert lookup.end_ns <= named["cached"][0].end_ns
