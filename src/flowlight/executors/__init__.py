"""Executors: where task runs execute. The flow runner submits task runs and waits on them.

`LocalExecutor` (the default) runs them one by one in the calling thread; `LocalDaskExecutor`
on local threads or processes; `DaskExecutor` on a dask.distributed cluster. Pass one to
`flow.run(executor=...)` or `Flow(..., executor=...)`.

Each executor is imported on first use, so a flow run on the default executor does not pay for
the pools, asyncio or dask that the others need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flowlight.executors.base import Executor
from flowlight.executors.local import LocalExecutor

if TYPE_CHECKING:
    from flowlight.executors.dask import DaskExecutor
    from flowlight.executors.local_dask import LocalDaskExecutor
    from flowlight.executors.worker_plugin import TelemetryWorkerPlugin

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalDaskExecutor",
    "LocalExecutor",
    "TelemetryWorkerPlugin",
]

# The worker plugin subclasses distributed's WorkerPlugin, so it in particular must wait.
_ON_DEMAND = {
    "DaskExecutor": "flowlight.executors.dask",
    "LocalDaskExecutor": "flowlight.executors.local_dask",
    "TelemetryWorkerPlugin": "flowlight.executors.worker_plugin",
}


def __getattr__(name: str) -> Any:
    module = _ON_DEMAND.get(name)
    if module is None:
        raise AttributeError(f"module 'flowlight.executors' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
