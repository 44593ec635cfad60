"""Independent task runs and mapped children run at the same time on the parallel executors.

Each task waits at a meeting point on 127.0.0.1 that opens only when two callers are there at
once. Run one after the other they would never meet (each returns False when its bounded wait
ends); a True from every one proves they ran in parallel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from flowlight import Flow, task, unmapped
from flowlight.executors import Executor

from .rendezvous import Rendezvous, meet


@task
def wait_for_the_other(address: tuple[str, int], who: object = None) -> bool:
    return meet(tuple(address))  # type: ignore[arg-type]


@pytest.fixture
def meeting_point() -> Iterator[Rendezvous]:
    point = Rendezvous(parties=2)
    yield point
    point.close()


def test_independent_tasks_run_in_parallel(
    parallel_executor: Callable[[], Executor], meeting_point: Rendezvous
) -> None:
    """Two tasks with no edge between them are both running before either finishes."""
    with Flow("side by side") as flow:
        first = wait_for_the_other(meeting_point.address, "first")
        second = wait_for_the_other(meeting_point.address, "second")
    state = flow.run(executor=parallel_executor())
    assert state.is_successful()
    assert state.result[first].result is True
    assert state.result[second].result is True


def test_mapped_children_run_in_parallel(
    parallel_executor: Callable[[], Executor], meeting_point: Rendezvous
) -> None:
    """The children of one map are submitted together and run at the same time."""
    with Flow("mapped side by side") as flow:
        children = wait_for_the_other.map(unmapped(meeting_point.address), ["a", "b", "c", "d"])
    state = flow.run(executor=parallel_executor())
    assert state.is_successful()
    assert state.result[children].result == [True, True, True, True]
