"""A worker that dies in the middle of a task run never hangs the flow run.

The task kills its own worker process (SIGKILL: no cleanup, as with the out-of-memory killer).
On worker processes, the run fails naming the task and the flow run goes on. On dask, the
scheduler reruns the task on another worker; a task that kills every worker it lands on ends
Failed once it has killed more than `allowed-failures` of them. Each test is bounded by a timeout,
so a hang fails it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowlight import Flow, task
from flowlight.executors import DaskExecutor, LocalDaskExecutor
from flowlight.triggers import all_finished

from .clusters import start_cluster


@task
def kill_my_worker() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@task
def kill_my_worker_the_first_time(marker: str) -> int:
    """Dies unless `marker` exists; creates it first, so the second attempt succeeds."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid()


@task(trigger=all_finished)
def report(x: object) -> str:
    return "the flow run went on"


@pytest.fixture(scope="module")
def fragile_cluster() -> Iterator[Any]:
    """Two workers; a task is given up after it has killed two of them."""
    cluster = start_cluster(**{"distributed.scheduler.allowed-failures": 1})
    yield cluster
    cluster.close()


@pytest.mark.timeout(60)
def test_a_killed_worker_process_fails_its_task_and_the_flow_run_finishes() -> None:
    """The pool breaks; the lost run is Failed naming the task, and the downstream task runs
    on a fresh pool."""
    with Flow("killed process") as flow:
        doomed = kill_my_worker()
        after = report(doomed)
    state = flow.run(executor=LocalDaskExecutor(scheduler="processes", num_workers=2))
    lost = state.result[doomed]
    assert lost.is_failed()
    assert "Task 'kill_my_worker' did not come back from its worker" in lost.message
    assert "BrokenProcessPool" in lost.message
    assert state.result[after].result == "the flow run went on"
    assert state.is_successful()  # the reference task (report) succeeded


@pytest.mark.timeout(120)
def test_a_task_that_kills_every_dask_worker_ends_failed(fragile_cluster: Any) -> None:
    with Flow("killed worker") as flow:
        doomed = kill_my_worker()
        after = report(doomed)
    state = flow.run(executor=DaskExecutor(address=fragile_cluster.scheduler_address))
    lost = state.result[doomed]
    assert lost.is_failed()
    assert "Task 'kill_my_worker' did not come back from its worker" in lost.message
    assert "KilledWorker" in lost.message
    assert state.result[after].result == "the flow run went on"


@pytest.mark.timeout(120)
def test_a_dask_worker_that_dies_once_has_its_task_rerun_elsewhere(
    fragile_cluster: Any, tmp_path: Path
) -> None:
    """The scheduler reschedules the run of the dead worker; the flow run succeeds."""
    marker = str(tmp_path / "died-once")
    with Flow("worker died once") as flow:
        survivor = kill_my_worker_the_first_time(marker)
    state = flow.run(executor=DaskExecutor(address=fragile_cluster.scheduler_address))
    assert os.path.exists(marker)
    assert state.is_successful()
    assert state.result[survivor].result != os.getpid()
