"""One trace across processes: task spans made on workers are children of the flow run's span.

The flow's process records into a real OTLP/HTTP receiver on 127.0.0.1. The executor carries the
bridge's settings to its workers, the W3C traceparent travels in each task run's context, and
each worker flushes before returning a result. The receiver must then hold one trace: the flow
run's span at the root, a span per task run under it, a span per mapped child under its parent's.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import flowlight.otel as otel
from flowlight import Flow, task
from flowlight.executors import DaskExecutor, Executor, LocalDaskExecutor
from otel.receivers import HttpReceiver, ReceivedTelemetry, by_name


@task
def extract() -> list[int]:
    return [1, 2, 3]


@task
def transform(x: int) -> int:
    return x * 2


@task
def load(xs: list[int]) -> int:
    return sum(xs)


@task
def worker_pid() -> int:
    return os.getpid()


@pytest.fixture
def received(tmp_path: Path) -> Iterator[ReceivedTelemetry]:
    """The bridge in this process exporting to a fresh OTLP/HTTP receiver."""
    receiver = HttpReceiver().start()
    otel.configure(
        endpoint=receiver.endpoint,
        protocol="http/protobuf",
        telemetry_dir=str(tmp_path / "telemetry"),
        service_name="flowlight-executor-tests",
    )
    yield receiver.received
    otel.shutdown()
    receiver.stop()


def test_a_flow_run_on_workers_is_one_trace_with_correct_parents(
    process_executor: Callable[[], Executor], received: ReceivedTelemetry
) -> None:
    """7 spans (flow, extract, transform and its 3 children, load) in one trace; task spans
    are children of the flow span, mapped children of their parent's span."""
    with Flow("traced etl") as flow:
        load(transform.map(extract()))
    state = otel.instrument(flow).run(executor=process_executor())
    assert state.is_successful()
    received.wait_for(lambda r: len(r.spans()) >= 7)
    spans = received.spans()
    assert len(spans) == 7
    assert len({s.trace_id for s in spans}) == 1
    named = by_name(spans)
    (flow_span,) = named["traced etl"]
    assert flow_span.parent_span_id == ""
    for name in ("extract", "load"):
        (span,) = named[name]
        assert span.parent_span_id == flow_span.span_id
        assert span.event_names == ["Running", "Success"]
    (parent,) = named["transform"]
    children = [named[f"transform[{i}]"][0] for i in range(3)]
    assert parent.parent_span_id == flow_span.span_id
    assert [c.attributes["flowlight.task.map_index"] for c in children] == [0, 1, 2]
    assert {c.parent_span_id for c in children} == {parent.span_id}
    # The children ran in other processes: the parent's span still lasts until the last one.
    assert parent.end_ns >= max(c.end_ns for c in children) - 5_000_000


def test_task_spans_are_recorded_and_flushed_by_the_dask_workers(
    dask_cluster: Any, received: ReceivedTelemetry
) -> None:
    """The span of a task run is made by the worker process that ran it (that worker's bridge
    counted it), and the workers exported it before the flow run returned: it is at the receiver
    the moment the flow run returns, without waiting for any batch delay."""
    with Flow("where spans are made") as flow:
        ran_on = worker_pid()
    from distributed import Client

    with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        before = client.run(lambda: otel.statistics().get("spans_ended", 0))
        state = otel.instrument(flow).run(
            executor=DaskExecutor(address=dask_cluster.scheduler_address)
        )
        after = client.run(lambda: otel.statistics().get("spans_ended", 0))
        worker_pids = client.run(os.getpid)
    assert state.result[ran_on].result in set(worker_pids.values())
    grew = [address for address in after if after[address] > before.get(address, 0)]
    assert len(grew) == 1 and worker_pids[grew[0]] == state.result[ran_on].result
    assert "worker_pid" in {span.name for span in received.spans()}


@task
def kill_my_worker() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.timeout(60)
def test_a_run_lost_with_its_worker_still_ends_its_span_under_the_flow(
    received: ReceivedTelemetry,
) -> None:
    """The worker died before it could export anything; the Failed state made in the flow's
    process passes through the bridge there, so the trace still shows the task, failed, as a
    child of the flow run."""
    with Flow("lost worker") as flow:
        kill_my_worker()
    state = otel.instrument(flow).run(
        executor=LocalDaskExecutor(scheduler="processes", num_workers=1)
    )
    assert state.is_failed()
    spans = by_name(received.spans())
    (flow_span,) = spans["lost worker"]
    (task_span,) = spans["kill_my_worker"]
    assert task_span.trace_id == flow_span.trace_id
    assert task_span.parent_span_id == flow_span.span_id
    assert task_span.is_error
    assert "did not come back from its worker" in task_span.status_message


@task
def step(x: int) -> int:
    return x + 1


@pytest.mark.timeout(120)
def test_a_killed_worker_loses_at_most_the_task_runs_since_its_last_flush(
    received: ReceivedTelemetry,
) -> None:
    """Workers flush every FLUSH_EVERY_RUNS task runs (or every FLUSH_EVERY_S), not after each
    one. A worker killed outright after 3 * FLUSH_EVERY_RUNS + 3 task runs has exported all but
    at most FLUSH_EVERY_RUNS of their spans; the killed run itself is recorded by the flow's
    process."""
    from flowlight.executors._worker_telemetry import FLUSH_EVERY_RUNS

    steps = 3 * FLUSH_EVERY_RUNS + 3
    with Flow("killed after many runs") as flow:
        previous = step(0)
        for _ in range(steps - 1):
            previous = step(previous)
        kill_my_worker(upstream_tasks=[previous])
    state = otel.instrument(flow).run(
        executor=LocalDaskExecutor(scheduler="processes", num_workers=1)
    )
    assert state.is_failed()
    received.wait_for(lambda r: "kill_my_worker" in by_name(r.spans()))
    spans = by_name(received.spans())
    assert steps - FLUSH_EVERY_RUNS <= len(spans.get("step", [])) <= steps
    (killed,) = spans["kill_my_worker"]
    assert killed.is_error
