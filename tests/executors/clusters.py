"""A real two-worker dask.distributed cluster, and executors by name that join it: shared by the
executor tests (through their conftest) and by the engine and notifier tests that run task runs
in other processes.

The cluster takes about a second to start, so `dask_cluster` is module-scoped: each test module
that needs one starts one and shares it between its tests; `DaskExecutor(address=...)` joins it
for each flow run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flowlight.executors import DaskExecutor, Executor, LocalDaskExecutor, LocalExecutor

__all__ = [
    "PROCESS_EXECUTORS",
    "dask_cluster",
    "executor_factory",
    "process_executor",
    "start_cluster",
]

PROCESS_EXECUTORS = ["processes", "dask"]


def start_cluster(**config: Any) -> Any:
    """A LocalCluster of two worker processes on 127.0.0.1, with `config` set while it starts."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(config):
        return LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        )


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    cluster = start_cluster()
    yield cluster
    cluster.close()


def executor_factory(name: str, request: pytest.FixtureRequest) -> Callable[[], Executor]:
    """A factory for the executor called `name`; "dask" joins the module's `dask_cluster`."""
    if name == "local":
        return LocalExecutor
    if name == "synchronous":
        return lambda: LocalDaskExecutor(scheduler="synchronous")
    if name == "threads":
        return lambda: LocalDaskExecutor(scheduler="threads", num_workers=4)
    if name == "processes":
        return lambda: LocalDaskExecutor(scheduler="processes", num_workers=2)
    cluster = request.getfixturevalue("dask_cluster")
    return lambda: DaskExecutor(address=cluster.scheduler_address)


@pytest.fixture(params=PROCESS_EXECUTORS)
def process_executor(request: pytest.FixtureRequest) -> Callable[[], Executor]:
    """Each executor whose task runs happen in other processes, as a factory."""
    return executor_factory(request.param, request)
