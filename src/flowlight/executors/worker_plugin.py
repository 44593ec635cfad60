"""`TelemetryWorkerPlugin`: each Dask worker records task runs' telemetry where the flow's does.

`DaskExecutor` registers it by itself when the flow's process records telemetry. Register it
yourself on a cluster that other clients share, or with settings of your own::

    client.register_plugin(TelemetryWorkerPlugin(endpoint="http://collector:4318"))

A worker that joins later (an adaptive cluster, a restarted worker) is set up as it starts.
"""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin

from flowlight.executors import _worker_telemetry

__all__ = ["TelemetryWorkerPlugin"]


class TelemetryWorkerPlugin(WorkerPlugin):
    """Calls `flowlight.otel.configure(**options)` on each worker, and flushes when it leaves.

    The options are `configure()`'s keyword arguments (endpoint, protocol, service_name, ...).
    """

    name = "flowlight-telemetry"
    idempotent = False

    def __init__(self, **options: Any) -> None:
        self.options = options

    @classmethod
    def like_this_process(cls) -> TelemetryWorkerPlugin | None:
        """A plugin with the settings the bridge is active with here; None if it is not."""
        options = _worker_telemetry.worker_options()
        return None if options is None else cls(**options)

    def setup(self, worker: Any) -> None:
        _worker_telemetry.configure_worker(self.options)

    def teardown(self, worker: Any) -> None:
        _worker_telemetry.flush_worker()

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.options.items() if k != _worker_telemetry._ORIGIN_PID}
        return f"TelemetryWorkerPlugin({shown})"
