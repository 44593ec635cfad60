"""Executors: where task runs execute. The flow runner submits task runs and waits on them.

`LocalExecutor` (the default) runs them one by one in the calling thread; `LocalDaskExecutor`
on local threads or processes; `DaskExecutor` on a dask.distributed cluster. Pass one to
`flow.run(executor=...)` or `Flow(..., executor=...)`. Nothing here imports dask until an
executor that needs it starts.
"""

from typing import Any

from flowlight.executors.base import Executor
from flowlight.executors.dask import DaskExecutor
from flowlight.executors.local import LocalExecutor
from flowlight.executors.local_dask import LocalDaskExecutor

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalDaskExecutor",
    "LocalExecutor",
    "TelemetryWorkerPlugin",
]


def __getattr__(name: str) -> Any:
    # The worker plugin subclasses distributed's WorkerPlugin: import distributed only on demand.
    if name == "TelemetryWorkerPlugin":
        from flowlight.executors.worker_plugin import TelemetryWorkerPlugin

        return TelemetryWorkerPlugin
    raise AttributeError(f"module 'flowlight.executors' has no attribute {name!r}")
