"""The adapter through which flowlight's handlers read a Prefect 1 run.

Where Prefect 1's context lacks what the handlers rely on, the adapter supplies it: run ids when
a FlowRunner is used without `flow.run()`, one task run id per run and per mapped child, values
written by a flow's or a mapped parent's handlers. These tests run real Prefect 1.4.1 in its venv;
the ones that need no Prefect run here.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from tests.otel.receivers import SpanView

from flowlight import Flow, task
from flowlight.utilities import _prefect1

from .conftest import EngineRun, run_scenarios, scenario_env
from .shapes import trace_shapes

# Scenarios a FlowRunner completes in one pass (retries need flow.run()'s loop).
ONE_PASS_SCENARIOS = ("success", "failure", "skip", "trigger_failure", "mapping", "mapping_failure")


def test_a_prefect1_flow_runner_used_directly_still_gives_one_trace_per_run(
    prefect1_python: Path, prefect1_run: EngineRun, executor: str, tmp_path: Path
) -> None:
    """Without `flow.run()` Prefect 1's context has no flow_run_id: the adapter makes one on the
    flow's first transition, every task run inherits it, and the traces have the structure of
    those of `flow.run()` (a FlowRunner starts the flow from Pending rather than Scheduled)."""
    direct = run_scenarios(
        prefect1_python,
        "prefect",
        ONE_PASS_SCENARIOS,
        tmp_path,
        ("--runner", "flow_runner", "--executor", executor),
    )
    assert direct.outcomes == {name: prefect1_run.outcomes[name] for name in ONE_PASS_SCENARIOS}
    by_flow = trace_shapes(prefect1_run.received.spans())
    for flow, shapes in trace_shapes(direct.received.spans()).items():
        root = shapes[0]
        assert root.path == (flow,) and root.events[0] == "Pending->Running"
        shapes[0] = dataclasses.replace(root, events=("Scheduled->Running", *root.events[1:]))
        assert shapes == by_flow[flow], flow
    for span in direct.received.spans():
        uuid.UUID(span.attributes["cicd.pipeline.run.id"])


def traces_of(run: EngineRun) -> list[list[SpanView]]:
    by_trace: dict[str, list[SpanView]] = {}
    for span in run.received.spans():
        by_trace.setdefault(span.trace_id, []).append(span)
    return list(by_trace.values())


def test_each_scheduled_run_of_a_prefect1_flow_is_a_trace_of_its_own(
    prefect1_python: Path, tmp_path: Path
) -> None:
    """Prefect 1's `flow.run()` of a scheduled flow gives every run the same flow_run_id; the
    adapter gives each run its own, so two runs are two traces (not the second nested in the
    first), each with its flow span as root and its own run and task run ids, as on flowlight."""
    runs = {
        engine: run_scenarios(python, engine, ("schedule",), tmp_path / engine)
        for engine, python in (("prefect", prefect1_python), ("flowlight", Path(sys.executable)))
    }
    for engine, run in runs.items():
        traces = traces_of(run)
        assert len(traces) == 2, engine
        run_ids = set()
        for spans in traces:
            (root,) = [span for span in spans if not span.parent_span_id]
            (ping,) = [span for span in spans if span.name == "ping"]
            assert root.name == "schedule" and ping.parent_span_id == root.span_id, engine
            assert root.event_names == ping.event_names == ["Running", "Success"], engine
            run_ids.add(root.attributes["cicd.pipeline.run.id"])
            assert (
                ping.attributes["cicd.pipeline.run.id"] == root.attributes["cicd.pipeline.run.id"]
            )
        assert len(run_ids) == 2, engine


def test_task_run_ids_are_derived_from_the_flow_run_slug_and_map_index(
    prefect1_run: EngineRun,
) -> None:
    """Any process can compute a task run's id from what Prefect 1 passes to every task run (flow
    run id, task slug, map index), so ids agree across processes without coordination."""
    checked = 0
    for span in prefect1_run.received.spans():
        if span.attributes.get("flowlight.run.kind") != "task":
            continue
        expected = _prefect1.task_run_id_for(
            span.attributes["cicd.pipeline.run.id"],
            span.attributes["flowlight.task.slug"],
            span.attributes.get("flowlight.task.map_index"),
        )
        assert span.attributes["cicd.pipeline.task.run.id"] == expected
        checked += 1
    assert checked >= 20


def test_flowlight_objects_are_not_taken_for_prefect1_ones() -> None:
    """A flowlight flow and task are not Prefect 1 objects, and asking does not import Prefect."""
    with Flow("plain") as flow:
        task(lambda: 1)()
    for obj in (flow, *flow.tasks, object(), None):
        assert not _prefect1.is_prefect1_object(obj)
        assert not _prefect1.is_prefect1_flow(obj)
    with pytest.raises(TypeError, match="not a Prefect 1 Flow or Task"):
        _prefect1.run_context(flow)


FLOWLIGHT_ONLY_RUN = """
import sys
from flowlight import Flow, task
import flowlight.otel
from flowlight.utilities.notifications import webhook_notifier
from flowlight.engine.state import Failed

@task(state_handlers=[webhook_notifier(url=sys.argv[1], only_states=[Failed])])
def work():
    return 1

with Flow("no-prefect-here") as flow:
    work()
state = flowlight.otel.instrument(flow).run()
flowlight.otel.shutdown()
print(type(state).__name__, "prefect" in sys.modules)
"""


def test_flowlight_runs_never_import_prefect_even_where_it_is_installed(
    prefect1_python: Path, tmp_path: Path
) -> None:
    """In the venv that has Prefect 1, a traced and alerted flowlight flow runs without
    `prefect` ever being imported: the support is found only when a Prefect 1 object shows up."""
    completed = subprocess.run(
        [str(prefect1_python), "-c", FLOWLIGHT_ONLY_RUN, "http://127.0.0.1:9/unused"],
        env=scenario_env("", "flowlight", tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.split() == ["Success", "False"]


PREFECT_CONTEXT_AFTER_RUN = """
import json
import prefect
from prefect import Flow, task
import flowlight.otel

seen = {}

@task
def work():
    seen["traceparent"] = prefect.context.get("traceparent")
    seen["task_run_id"] = prefect.context.get("task_run_id")

with Flow("context") as flow:
    work()
flowlight.otel.instrument(flow).run()
flowlight.otel.shutdown()
print(json.dumps({"inside": seen, "after": sorted(prefect.context)}))
"""


def test_handler_values_reach_prefect1_task_code_and_do_not_outlive_the_run(
    prefect1_python: Path, tmp_path: Path
) -> None:
    """Code inside a Prefect 1 task sees the traceparent of its own span in prefect.context
    (so it can propagate the trace), Prefect's own task_run_id is left as Prefect set it, and
    nothing written during the run stays in prefect.context after it."""
    completed = subprocess.run(
        [str(prefect1_python), "-c", PREFECT_CONTEXT_AFTER_RUN],
        env=scenario_env("", "prefect", tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    traceparent = report["inside"]["traceparent"]
    assert traceparent and traceparent.startswith("00-") and len(traceparent.split("-")) == 4
    uuid.UUID(report["inside"]["task_run_id"])
    assert "traceparent" not in report["after"]
    assert "trace_id" not in report["after"]


def test_values_kept_for_other_runs_are_bounded() -> None:
    """A long-lived process forgets the least recently used run first: memory stays bounded
    however many runs it sees, and a run that is still being read stays."""
    table = _prefect1._BoundedTable(3)
    table.put("flow", "traceparent", "00-a-b-01")
    for index in range(10):
        table.put(f"run-{index}", "traceparent", str(index))
        assert table.get("flow", "traceparent") == "00-a-b-01"  # in use: kept
    assert len(table) == 3
    assert table.get("run-0", "traceparent") is None
    assert table.get("run-9", "traceparent") == "9"
