"""The cache works when task runs execute in other processes: the flow runner passes the stored
states to each cacheable run (`context["caches"]`, Prefect 1's name) and keeps the `Cached` states
runs return, so the cache lives in the flow's process whatever the executor."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable

import pytest
from tests.executors import clusters

from flowlight import Flow, Parameter, task
from flowlight.engine import cache_validators
from flowlight.engine.cache import get_cache_storage
from flowlight.engine.state import Cached, State
from flowlight.executors import Executor

HOUR = datetime.timedelta(hours=1)

pytestmark = pytest.mark.usefixtures("fresh_cache")

# The executor tests' two-worker cluster (one for this module) and process executors.
dask_cluster = clusters.dask_cluster
process_executor = clusters.process_executor


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
