"""`DaskExecutor`: task runs on a dask.distributed cluster, one machine or many.

With no address, each flow run gets a temporary cluster (`cluster_class`, a `LocalCluster` unless
told otherwise, started with `cluster_kwargs` and optionally made adaptive with `adapt_kwargs`);
with an address, flow runs join that cluster's scheduler. Every task run is pickled before it is
submitted, runs with its handlers on a worker, and comes back as a state: a run whose worker
died is rescheduled by the scheduler and, once it has killed too many workers, ends `Failed`.

When the flow's process records telemetry (`flowlight.otel`), the workers are configured to send
theirs to the same place (`TelemetryWorkerPlugin`), flush it in bounded batches and once more
when the flow run ends, so a trace that starts in the flow's process continues on every worker.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import uuid
from collections.abc import Callable, Collection, Iterator
from typing import Any

from flowlight.executors._futures import CompletionBoard, TrackedFuture
from flowlight.executors._pickling import UnpicklableRun, pack, run_packed, unpack_state
from flowlight.executors._runs import SubmittedRun
from flowlight.executors.base import Executor, RunFuture

__all__ = ["DaskExecutor"]

_log = logging.getLogger("flowlight.executors")

# A temporary LocalCluster listens on loopback only, and never takes a fixed dashboard port.
_LOCAL_CLUSTER_DEFAULTS = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as missing:
        raise ImportError(
            "DaskExecutor needs dask.distributed; install flowlight[dask]."
        ) from missing
    return distributed


def _resolve_cluster_class(cluster_class: Any) -> Callable[..., Any]:
    """A cluster class, from the class itself or its import path ('dask_jobqueue.SLURMCluster')."""
    if not isinstance(cluster_class, str):
        return cluster_class  # type: ignore[no-any-return]
    module_name, _, attribute = cluster_class.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as missing:
        raise ValueError(
            f"DaskExecutor got cluster_class={cluster_class!r}, which cannot be imported "
            f"({missing}); give a class or an import path such as 'distributed.LocalCluster'."
        ) from missing
    return found  # type: ignore[no-any-return]


def _flush_workers(client: Any) -> None:
    """Have every worker export what it recorded (workers flush in batches, see
    `_worker_telemetry`), so the flow run's telemetry is complete when the run returns."""
    from flowlight.executors import _worker_telemetry

    try:
        client.run(_worker_telemetry.flush_worker)
    except Exception:
        _log.warning("flowlight: could not flush the workers' telemetry", exc_info=True)


class DaskExecutor(Executor):
    """Runs task runs on dask.distributed workers (Prefect 1's DaskExecutor arguments)."""

    def __init__(
        self,
        address: str | None = None,
        cluster_class: str | Callable[..., Any] | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        adapt_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if address is not None and not isinstance(address, str):
            raise TypeError(
                f"DaskExecutor got address={address!r}; give a scheduler address such as "
                "'tcp://10.0.0.5:8786', or leave it out for a temporary local cluster."
            )
        if address is not None and (cluster_class or cluster_kwargs or adapt_kwargs):
            raise ValueError(
                f"DaskExecutor got address={address!r} together with cluster settings; an "
                "address joins an existing cluster, so drop cluster_class, cluster_kwargs and "
                "adapt_kwargs (or drop the address to start a temporary cluster)."
            )
        if cluster_class is not None and not (
            isinstance(cluster_class, str) or callable(cluster_class)
        ):
            raise TypeError(
                f"DaskExecutor got cluster_class={cluster_class!r}; give a class such as "
                "distributed.LocalCluster or its import path as a string."
            )
        for name, given in (
            ("cluster_kwargs", cluster_kwargs),
            ("adapt_kwargs", adapt_kwargs),
            ("client_kwargs", client_kwargs),
        ):
            if given is not None and not isinstance(given, dict):
                raise TypeError(f"DaskExecutor got {name}={given!r}; give a dict of keywords.")
        self.address = address
        self.cluster_class = cluster_class
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.adapt_kwargs = dict(adapt_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self.client: Any = None
        self._board = CompletionBoard()

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        """Connect (starting a temporary cluster without an address) for one flow run."""
        self._board = CompletionBoard()  # nothing a stopped run left unread carries over
        distributed = _import_distributed()
        client_kwargs = {"set_as_default": False, **self.client_kwargs}
        with contextlib.ExitStack() as stack:
            if self.address is not None:
                target: Any = self.address
            else:
                target = self._start_cluster(distributed)
                stack.callback(target.close)
            client = distributed.Client(target, **client_kwargs)
            stack.callback(client.close)
            # Imported here: the plugin subclasses distributed's WorkerPlugin.
            from flowlight.executors.worker_plugin import TelemetryWorkerPlugin

            plugin = TelemetryWorkerPlugin.like_this_process()
            if plugin is not None:
                client.register_plugin(plugin)
            self.client = client
            try:
                yield
            finally:
                self.client = None
                if plugin is not None:
                    _flush_workers(client)

    def _start_cluster(self, distributed: Any) -> Any:
        if self.cluster_class is None:
            cluster_class: Callable[..., Any] = distributed.LocalCluster
            kwargs = {**_LOCAL_CLUSTER_DEFAULTS, **self.cluster_kwargs}
        else:
            cluster_class = _resolve_cluster_class(self.cluster_class)
            kwargs = dict(self.cluster_kwargs)
        cluster = cluster_class(**kwargs)
        if self.adapt_kwargs:
            cluster.adapt(**self.adapt_kwargs)
        return cluster

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RunFuture:
        if self.client is None:
            raise RuntimeError(
                "DaskExecutor.submit was called outside `with executor.start():`; the flow "
                "runner starts the executor, so call flow.run(executor=...) instead."
            )
        run = SubmittedRun(fn, args, kwargs)
        try:
            payload = pack(run)
        except UnpicklableRun as error:
            return self._board.ready(run.fail(str(error)))
        # Keys start with the task's name: dask groups its statistics (and its dashboard, and
        # its scheduling of many similar tasks) by that prefix, so mapped children share one.
        label = run.context.get("task_name") or getattr(fn, "__name__", "call")
        key = f"{label}-{run.context.get('task_run_id') or uuid.uuid4()}"
        inner = self.client.submit(run_packed, payload, key=key, pure=False)
        return self._board.track(run, inner, unpack_state)

    def wait_any(self, futures: Collection[RunFuture]) -> list[RunFuture]:
        """The finished runs among `futures`; their results are fetched in one round trip."""
        done = self._board.wait_any(futures)
        batch = [
            f
            for f in done
            if isinstance(f, TrackedFuture) and not f.settled and f.inner.status == "finished"
        ]
        if batch and self.client is not None:
            try:
                values = self.client.gather([f.inner for f in batch])
            except Exception:
                return done  # each future then reads (or fails) on its own in result()
            for tracked, value in zip(batch, values, strict=True):
                tracked.settle(value)
        return done

    def __repr__(self) -> str:
        where: Any = self.address or self.cluster_class or "LocalCluster"
        return f"<Executor: DaskExecutor({getattr(where, '__name__', where)})>"
