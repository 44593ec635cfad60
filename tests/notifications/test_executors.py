"""Notifiers where task runs really execute elsewhere: on threads (the flood-control ledger is
shared and raced) and on a two-worker dask.distributed cluster (the notifier travels pickled with
the task, reads its secret from the run context on the worker, and the bound holds per worker)."""

from __future__ import annotations

from typing import Any

from tests.executors import clusters

from flowlight import Flow, task
from flowlight.engine.state import Failed
from flowlight.executors import DaskExecutor, LocalDaskExecutor
from flowlight.utilities.notifications import slack_notifier, webhook_notifier

from .servers import HttpReceiver

CHILDREN = 40


def fail(x: int) -> None:
    raise ValueError(f"child {x} broke")


def wide_flow(notifier: Any) -> Flow:
    with Flow("wide", state_handlers=[notifier]) as flow:
        task(fail, name="child", state_handlers=[notifier]).map(list(range(CHILDREN)))
    return flow


def test_children_racing_on_threads_send_one_alert_and_one_summary(
    receiver: HttpReceiver,
) -> None:
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed])
    state = wide_flow(notifier).run(executor=LocalDaskExecutor(scheduler="threads", num_workers=8))
    assert state.is_failed()
    child, summary = receiver.wait_for(2)
    assert len(receiver.requests) == 2
    assert child.json()["task"]["name"] == "child"
    assert summary.json()["suppressed"] == [
        {"task": "child", "state": "Failed", "count": CHILDREN - 1}
    ]


# The executor tests' two-worker cluster, one for this module.
dask_cluster = clusters.dask_cluster


def test_on_a_dask_cluster_alerts_come_from_the_workers_at_most_one_per_worker(
    receiver: HttpReceiver, dask_cluster: Any
) -> None:
    """Each worker process keeps its own ledger: between one and two child alerts (two
    workers), then the flow's own alert from the process that called flow.run()."""
    secrets = {"SLACK_WEBHOOK_URL": receiver.url("/services/T0/B0/dask-5be1c7")}
    state = wide_flow(slack_notifier(only_states=[Failed])).run(
        context={"secrets": secrets}, executor=DaskExecutor(address=dask_cluster.scheduler_address)
    )
    assert state.is_failed()
    heads = [r.json()["text"].splitlines()[0] for r in receiver.wait_for(2)]
    child_alerts = [h for h in heads if h.startswith("Task 'child[")]
    assert 1 <= len(child_alerts) <= 2, heads
    assert heads[-1] == "Flow 'wide' is now Failed."
    assert len(heads) == len(child_alerts) + 1
