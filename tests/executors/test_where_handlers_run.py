"""Task state handlers run where the task runs; flow state handlers run in the flow's process.

The handler writes down the process id of every call it gets, so the test can tell a worker's
calls from the flow process's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flowlight import Flow, task
from flowlight.executors import DaskExecutor, LocalDaskExecutor

from .recording import TransitionLog


@task
def work(x: int) -> int:
    return x * 10


def recorded_flow(log: TransitionLog) -> Flow:
    with Flow("where") as flow:
        work.map([1, 2, 3, 4])
    return log.attach(flow)


def test_on_dask_task_handlers_run_on_the_workers_and_flow_handlers_here(
    dask_cluster: Any, tmp_path: Path
) -> None:
    """Every task transition is seen by a worker process of the cluster, none by this one;
    every flow transition is seen by this process."""
    log = TransitionLog(tmp_path / "calls.jsonl")
    state = recorded_flow(log).run(executor=DaskExecutor(address=dask_cluster.scheduler_address))
    assert state.is_successful()
    from distributed import Client

    with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        worker_pids = set(client.run(os.getpid).values())
    child_pids = {e["pid"] for e in log.entries() if e["kind"] == "task" and "[" in e["run"]}
    assert child_pids and child_pids <= worker_pids
    assert os.getpid() not in child_pids
    assert log.pids("flow") == {os.getpid()}


def test_on_worker_processes_task_handlers_run_in_the_pool(tmp_path: Path) -> None:
    """With scheduler='processes' the mapped children's handlers are called in at most
    num_workers other processes; the flow's handlers in this one."""
    log = TransitionLog(tmp_path / "calls.jsonl")
    executor = LocalDaskExecutor(scheduler="processes", num_workers=2)
    state = recorded_flow(log).run(executor=executor)
    assert state.is_successful()
    child_pids = {e["pid"] for e in log.entries() if e["kind"] == "task" and "[" in e["run"]}
    assert child_pids and os.getpid() not in child_pids
    assert len(child_pids) <= 2
    assert log.pids("flow") == {os.getpid()}


def test_on_threads_every_handler_runs_in_this_process(tmp_path: Path) -> None:
    log = TransitionLog(tmp_path / "calls.jsonl")
    state = recorded_flow(log).run(executor=LocalDaskExecutor(scheduler="threads"))
    assert state.is_successful()
    assert log.pids("task") == {os.getpid()} == log.pids("flow")
