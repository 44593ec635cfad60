"""A genuine Prefect 1.4.1 flow, instrumented with `flowlight.otel.instrument(flow)`, gives the
same traces, logs and metrics as the same flow run on flowlight.

The scenarios (tests/prefect1/scenarios.py) are written once against Prefect 1's API and run once
per engine, each in its own process, exporting over OTLP/HTTP into a receiver here. Traces are
compared by structure: span names, parentage, events in order, status and final state.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .conftest import TRACED_SCENARIOS, EngineRun, run_scenarios
from .shapes import SpanShape, label_of, trace_shapes

# Flow names of the scenarios, as the scenario script names them.
FLOW_NAMES = {
    "success": "success",
    "failure": "failure",
    "retries": "retries",
    "skip": "skip",
    "trigger_failure": "trigger-failure",
    "mapping": "mapping",
    "mapping_failure": "mapping-failure",
    "loop": "loop",
    "handler_raises": "handler-raises",
}

RAN = ("Pending->Running", "Running->Success")
FLOW_OK = ("Scheduled->Running", "Running->Success")
FLOW_FAILED = ("Scheduled->Running", "Running->Failed")


def failed_once(error: str) -> tuple[str, ...]:
    return ("Pending->Running", "Running->Failed", f"exception:{error}")


def retried(error: str) -> tuple[str, ...]:
    return ("Running->Failed", f"exception:{error}", "Failed->Retrying", "Retrying->Running")


# What each trace must look like, whichever engine ran it: path of span names -> events.
EXPECTED_EVENTS: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
    "success": {("success",): FLOW_OK, ("success", "extract"): RAN, ("success", "load"): RAN},
    "failure": {("failure",): FLOW_FAILED, ("failure", "bad"): failed_once("ValueError")},
    "retries": {
        ("retries",): FLOW_FAILED,
        ("retries", "flaky"): (
            "Pending->Running",
            *retried("ValueError"),
            *retried("ValueError"),
            "Running->Success",
        ),
        ("retries", "always"): (
            "Pending->Running",
            *retried("ValueError"),
            "Running->Failed",
            "exception:ValueError",
        ),
        # On Prefect 1 it first runs in the local runner's third pass over the tasks.
        ("retries", "report"): RAN,
    },
    "skip": {
        ("skip",): FLOW_OK,
        ("skip", "skipper"): ("Pending->Running", "Running->Skipped", "exception:SKIP"),
        ("skip", "after"): ("Pending->Skipped",),
    },
    "trigger-failure": {
        ("trigger-failure",): FLOW_FAILED,
        ("trigger-failure", "bad"): failed_once("ValueError"),
        ("trigger-failure", "down"): ("Pending->TriggerFailed", "exception:TRIGGERFAIL"),
        ("trigger-failure", "cleanup"): RAN,
    },
    "mapping": {
        ("mapping",): FLOW_OK,
        ("mapping", "double"): ("Pending->Mapped",),
        ("mapping", "double", "double[0]"): RAN,
        ("mapping", "double", "double[1]"): RAN,
        ("mapping", "double", "double[2]"): RAN,
        ("mapping", "total"): RAN,
    },
    "mapping-failure": {
        ("mapping-failure",): FLOW_FAILED,
        ("mapping-failure", "inverse"): ("Pending->Mapped",),
        ("mapping-failure", "inverse", "inverse[0]"): RAN,
        ("mapping-failure", "inverse", "inverse[1]"): failed_once("ZeroDivisionError"),
        ("mapping-failure", "inverse", "inverse[2]"): RAN,
    },
    "loop": {
        ("loop",): FLOW_OK,
        ("loop", "countdown"): (
            *("Pending->Running", "Running->Looped") * 2,
            "Pending->Running",
            "Running->Success",
        ),
    },
    # The user's handler raised, so the bridge (after it) never saw the task's last transition:
    # it ends the span at the flow's end from the flow's final states.
    "handler-raises": {
        ("handler-raises",): FLOW_FAILED,
        ("handler-raises", "work"): failed_once("RuntimeError"),
    },
}

# Spans whose status must be ERROR; every other span must not be.
EXPECTED_ERRORS = {
    ("failure",),
    ("failure", "bad"),
    ("retries",),
    ("retries", "always"),
    ("trigger-failure",),
    ("trigger-failure", "bad"),
    ("trigger-failure", "down"),
    ("mapping-failure",),
    ("mapping-failure", "inverse"),  # a child failed: the Mapped parent's span is an ERROR
    ("mapping-failure", "inverse", "inverse[1]"),
    ("handler-raises",),
    ("handler-raises", "work"),
}


def shapes_of(run: EngineRun) -> dict[str, list[SpanShape]]:
    return trace_shapes(run.received.spans())


def test_every_flow_run_is_exactly_one_trace_on_both_engines(
    prefect1_run: EngineRun, flowlight_run: EngineRun
) -> None:
    """One trace per flow run, with the flow run's span as its only root, on either engine."""
    for run in (prefect1_run, flowlight_run):
        spans = run.received.spans()
        assert len({span.trace_id for span in spans}) == len(TRACED_SCENARIOS), run.engine
        assert sorted(shapes_of(run)) == sorted(FLOW_NAMES.values()), run.engine


def test_the_runs_end_in_the_same_states_on_both_engines(
    prefect1_run: EngineRun, flowlight_run: EngineRun
) -> None:
    """Before comparing telemetry: the flows themselves behaved the same (flow, task and child
    final states)."""
    assert prefect1_run.outcomes == flowlight_run.outcomes
    assert prefect1_run.outcomes["retries"] == {
        "flow": "Failed",
        "tasks": {"flaky": "Success", "always": "Failed", "report": "Success"},
    }


@pytest.mark.parametrize("scenario", TRACED_SCENARIOS)
def test_prefect1_trace_has_the_structure_of_the_flowlight_trace(
    scenario: str, prefect1_run: EngineRun, flowlight_run: EngineRun
) -> None:
    """Span names, parentage, events (name and previous state, in order), status and final
    state are equal span for span; both also match the expected shape of the scenario."""
    flow = FLOW_NAMES[scenario]
    on_prefect1 = shapes_of(prefect1_run)[flow]
    on_flowlight = shapes_of(flowlight_run)[flow]
    assert on_prefect1 == on_flowlight
    assert {shape.path: shape.events for shape in on_prefect1} == EXPECTED_EVENTS[flow]
    for shape in on_prefect1:
        assert (shape.status == "ERROR") == (shape.path in EXPECTED_ERRORS), shape


def test_failed_spans_carry_the_state_message_and_the_exception(prefect1_run: EngineRun) -> None:
    """On Prefect 1 the error status message is the Failed state's message and the exception
    event has the type, message and stack trace of what the task raised."""
    spans = prefect1_run.received.spans()
    (flow_span,) = [s for s in spans if s.name == "failure"]
    (bad,) = [s for s in spans if s.name == "bad" and s.trace_id == flow_span.trace_id]
    assert bad.status_message == "Error during execution of task: ValueError('nope')"
    exception = dict(bad.events)["exception"]
    assert exception["exception.type"] == "builtins.ValueError"
    assert exception["exception.message"] == "nope"
    assert 'raise ValueError("nope")' in exception["exception.stacktrace"]


def test_prefect1_task_runs_get_one_id_per_run_and_per_mapped_child(
    prefect1_run: EngineRun,
) -> None:
    """Prefect 1 gives a mapped child its parent's task_run_id and a retried task a new one per
    pass; the bridge's spans still carry one distinct id per task run and child, the same id
    across retries, the parent's id on each child, and the flow run's id on every span."""
    spans = prefect1_run.received.spans()
    task_spans = [s for s in spans if s.attributes.get("flowlight.run.kind") == "task"]
    ids = [s.attributes["cicd.pipeline.task.run.id"] for s in task_spans]
    assert len(set(ids)) == len(ids)
    by_trace: dict[str, set[Any]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, set()).add(span.attributes["cicd.pipeline.run.id"])
    assert all(len(run_ids) == 1 for run_ids in by_trace.values())
    parents = {
        s.span_id: s.attributes["cicd.pipeline.task.run.id"]
        for s in task_spans
        if "flowlight.task.map_index" not in s.attributes
    }
    children = [s for s in task_spans if "flowlight.task.map_index" in s.attributes]
    assert len(children) == 6
    for child in children:
        assert child.attributes["flowlight.task.parent_run_id"] == parents[child.parent_span_id]
    (flaky,) = [s for s in task_spans if s.name == "flaky"]
    assert flaky.attributes["flowlight.run_count"] == 3


def counter_values(run: EngineRun, name: str) -> dict[tuple[tuple[str, Any], ...], float]:
    return {
        tuple(sorted(attributes.items())): run.received.metric_value(name, **attributes)
        for attributes, _point in run.received.metric_points(name)
    }


@pytest.mark.parametrize(
    "metric",
    [
        "flowlight.flow_runs",
        "flowlight.task_runs",
        "flowlight.task_retries",
        "flowlight.state_transitions",
        "flowlight.flow_run.duration",
        "flowlight.task_run.duration",
    ],
)
def test_prefect1_runs_produce_the_same_metrics(
    metric: str, prefect1_run: EngineRun, flowlight_run: EngineRun
) -> None:
    """Every series of the metric contract (same attributes, same counts; for histograms the
    number of recorded durations) is equal on both engines."""
    on_prefect1 = counter_values(prefect1_run, metric)
    assert on_prefect1, f"{metric} was not exported from the Prefect 1 run"
    assert on_prefect1 == counter_values(flowlight_run, metric)


def test_prefect1_metrics_count_what_happened(prefect1_run: EngineRun) -> None:
    """Spot checks of the Prefect 1 figures themselves: two retries of flaky, one of always,
    mapped children counted by their own states and the parent once as Mapped."""
    received = prefect1_run.received
    assert received.metric_value("flowlight.task_retries", flow="retries", task="flaky") == 2
    assert received.metric_value("flowlight.task_retries", flow="retries", task="always") == 1
    assert received.metric_value("flowlight.task_runs", task="inverse", state="Success") == 2
    assert received.metric_value("flowlight.task_runs", task="inverse", state="Failed") == 1
    assert received.metric_value("flowlight.task_runs", task="inverse", state="Mapped") == 1
    assert received.metric_value("flowlight.flow_runs", flow="failure", state="Failed") == 1
    assert received.metric_value("flowlight.flow_runs", flow="success", state="Failed") == 0


def transition_log_lines(run: EngineRun) -> list[dict[str, Any]]:
    return [line for line in run.log_lines if line.get("event") == "flowlight.state_transition"]


def test_prefect1_transitions_are_logged_with_the_ids_of_their_spans(
    prefect1_run: EngineRun,
) -> None:
    """Each transition the bridge saw is one structured log line whose trace_id/span_id are
    those of the span that has the transition as an event."""
    spans = {span.span_id: span for span in prefect1_run.received.spans()}
    lines = transition_log_lines(prefect1_run)
    # A transition the bridge only learnt of from the flow's final states (a user handler before
    # it raised) is an event but was never logged as it happened.
    transition_events = sum(
        sum(1 for name, _ in span.events if name != "exception")
        - (span.attributes.get("flowlight.state.reported_by") == "flow_run")
        for span in spans.values()
    )
    assert len(lines) == transition_events
    for line in lines:
        span = spans[line["span_id"]]
        assert span.trace_id == line["trace_id"]
        assert line["new_state"] in span.event_names
        index = f"[{line['map_index']}]" if line.get("map_index") is not None else ""
        assert (line.get("task") or line["flow"]) + index == span.name


def test_prefect1_and_flowlight_log_the_same_transitions(
    prefect1_run: EngineRun, flowlight_run: EngineRun
) -> None:
    """The same multiset of (flow, task, map index, old state, new state, level) log events."""

    def transitions(run: EngineRun) -> Counter[tuple[Any, ...]]:
        return Counter(
            (
                line["flow"],
                line.get("task"),
                line.get("map_index"),
                line["old_state"],
                line["new_state"],
                line["level"],
            )
            for line in transition_log_lines(run)
        )

    assert transitions(prefect1_run) == transitions(flowlight_run)


def test_prefect1_transitions_are_also_exported_as_otel_logs_in_the_trace(
    prefect1_run: EngineRun,
) -> None:
    """The OpenTelemetry log records of a Prefect 1 run carry the trace and span ids of spans of
    that run."""
    spans = {span.span_id: span for span in prefect1_run.received.spans()}
    records = prefect1_run.received.log_records()
    assert records
    for _resource, record in records:
        span = spans[record.span_id.hex()]
        assert record.trace_id.hex() == span.trace_id
    labels = {label_of(span) for span in spans.values()}
    assert "inverse[1]" in labels


# Scenarios whose every task run happens in the local runner's first pass, with no mapping.
ONE_PASS_UNMAPPED = ("success", "failure", "skip", "trigger_failure", "loop")


@pytest.fixture(scope="module")
def on_dask_workers(
    prefect1_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, EngineRun]:
    """The one-pass scenarios and a mapping, on both engines' DaskExecutor with two worker
    processes (one cluster per engine run): task handlers run on the workers."""
    options = ("--executor", "dask-processes")
    scenarios = (*ONE_PASS_UNMAPPED, "mapping")
    return {
        engine: run_scenarios(
            python, engine, scenarios, tmp_path_factory.mktemp(f"{engine}-dask"), options
        )
        for engine, python in (("prefect", prefect1_python), ("flowlight", Path(sys.executable)))
    }


@pytest.mark.parametrize("scenario", ONE_PASS_UNMAPPED)
def test_on_dask_worker_processes_prefect1_traces_match_flowlight(
    scenario: str, on_dask_workers: dict[str, EngineRun]
) -> None:
    """Task runs on Prefect 1's dask worker processes find their flow run's span (its context
    travels in prefect.context): same trees as flowlight's on its own DaskExecutor."""
    flow = FLOW_NAMES[scenario]
    on_prefect1 = shapes_of(on_dask_workers["prefect"])[flow]
    assert on_prefect1 == shapes_of(on_dask_workers["flowlight"])[flow]
    assert {shape.path: shape.events for shape in on_prefect1} == EXPECTED_EVENTS[flow]


def test_on_dask_worker_processes_mapped_children_stay_in_the_flow_runs_trace(
    on_dask_workers: dict[str, EngineRun],
) -> None:
    """The documented limit: a mapped child that runs on another worker than its parent cannot
    see its parent's span, so it hangs under the flow run's span; it is still in the flow run's
    trace, with its parent's task run id, and the rest of the tree is as on flowlight."""
    received = on_dask_workers["prefect"].received.spans()
    (flow_span,) = [s for s in received if s.name == "mapping"]
    spans = [s for s in received if s.trace_id == flow_span.trace_id]
    by_id = {span.span_id: span for span in spans}
    (parent,) = [
        s for s in spans if s.name == "double" and "flowlight.task.map_index" not in s.attributes
    ]
    children = [s for s in spans if "flowlight.task.map_index" in s.attributes]
    assert sorted(c.attributes["flowlight.task.map_index"] for c in children) == [0, 1, 2]
    for child in children:
        assert by_id[child.parent_span_id] in (parent, flow_span)
        assert (
            child.attributes["flowlight.task.parent_run_id"]
            == (parent.attributes["cicd.pipeline.task.run.id"])
        )
        assert child.event_names == ["Running", "Success"]
    assert parent.parent_span_id == flow_span.span_id
