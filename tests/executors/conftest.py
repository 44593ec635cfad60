"""Fixtures: every executor by name, and a real two-worker dask.distributed cluster per module
(both from `clusters.py`, which the engine and notifier tests import too)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowlight.executors import Executor

from .clusters import dask_cluster, executor_factory, process_executor

__all__ = ["any_executor", "dask_cluster", "parallel_executor", "process_executor"]

EXECUTORS = ["local", "synchronous", "threads", "processes", "dask"]
PARALLEL_EXECUTORS = ["threads", "processes", "dask"]


@pytest.fixture(params=EXECUTORS)
def any_executor(request: pytest.FixtureRequest) -> Callable[[], Executor]:
    """Each executor in turn, as a factory (an executor is started once per flow run)."""
    return executor_factory(request.param, request)


@pytest.fixture(params=PARALLEL_EXECUTORS)
def parallel_executor(request: pytest.FixtureRequest) -> Callable[[], Executor]:
    return executor_factory(request.param, request)
