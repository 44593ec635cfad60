"""The cache works when task runs execute in other processes: the flow runner passes the stored
states to each cacheable run (`context["caches"]`, Prefect 1's name) and keeps the `Cached` states
runs return, so the cache lives in the flow's process whatever the executor."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flowlight import Flow, Parameter, task
from flowlight.engine import cache_validators
from flowlight.engine.cache import InMemoryCacheStorage, get_cache_storage, set_cache_storage
from flowlight.engine.state import Cached, State
from flowlight.executors import DaskExecutor, Executor, LocalDaskExecutor

HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    previous = get_cache_storage()
    set_cache_storage(InMemoryCacheStorage())
    yield
    set_cache_storage(previous)


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    """A real dask.distributed cluster of two worker processes on 127.0.0.1."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    yield cluster
    cluster.close()


@pytest.fixture(params=["processes", "dask"])
def process_executor(request: pytest.FixtureRequest) -> Callable[[], Executor]:
    """A factory for an executor whose task runs happen in other processes."""
    if request.param == "processes":
        return lambda: LocalDaskExecutor(scheduler="processes", num_workers=2)
    cluster = request.getfixturevalue("dask_cluster")
    return lambda: DaskExecutor(address=cluster.scheduler_address)


@task(cache_for=HOUR)
def worker_pid() -> int:
    return os.getpid()


@task(cache_for=HOUR, cache_validator=cache_validators.all_inputs)
def tagged(x: int) -> tuple[int, int]:
    return (x, os.getpid())


def _only(state: State) -> State:
    (final,) = state.result.values()
    return final


def test_a_result_cached_on_a_worker_is_reused_by_the_next_flow_run(
    process_executor: Callable[[], Executor],
) -> None:
    """The first run executes on a worker process and ends Cached; the second flow run (new
    executor, new workers) ends Cached with the first run's result instead of running again."""
    flow = Flow("pid", tasks=[worker_pid])
    first = _only(flow.run(executor=process_executor()))
    second = _only(flow.run(executor=process_executor()))
    assert isinstance(first, Cached) and isinstance(second, Cached)
    assert first.result != os.getpid()  # it really ran elsewhere
    assert second.result == first.result
    assert [s.result for s in get_cache_storage().get("worker_pid")] == [first.result]


def test_mapped_children_on_workers_cache_per_item(
    process_executor: Callable[[], Executor],
) -> None:
    """Children cached on workers in one flow run are found by the matching children of the
    next run; a new item runs."""
    with Flow("items") as flow:
        items = Parameter("items")
        result = tagged.map(items)
    first = flow.run(parameters={"items": [1, 2]}, executor=process_executor())
    second = flow.run(parameters={"items": [2, 1, 3]}, executor=process_executor())
    before = dict(first.result[result].result)
    after = second.result[result].result
    assert after[0] == (2, before[2])
    assert after[1] == (1, before[1])
    assert after[2][0] == 3
    assert all(isinstance(s, Cached) for s in second.result[result].map_states)
