"""`LocalDaskExecutor`: task runs on a pool of threads or processes on this machine.

Prefect 1's LocalDaskExecutor handed a whole graph to one of dask's local schedulers. flowlight's
runner decides what to run next as each task run finishes (that is how triggers, retries and
mapping widths are known), so it needs futures rather than a graph: this executor keeps dask's
local choices (threads or processes, `num_workers` defaulting to the CPU count, processes started
with dask's `multiprocessing.context`, spawn by default) on the standard library's pools.

With processes, every task run is pickled before submission (so a run that cannot travel fails at
once, naming the task and the culprit), its handlers run in the worker process, and a worker
process that dies fails the task runs it had instead of hanging the flow run.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Collection, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from flowlight.executors import _worker_telemetry
from flowlight.executors._futures import CompletionBoard
from flowlight.executors._pickling import UnpicklableRun, pack, run_packed, unpack_state
from flowlight.executors._runs import SubmittedRun
from flowlight.executors.base import Executor, RunFuture

__all__ = ["LocalDaskExecutor"]

# Every name Prefect 1.4.1 accepts (case-insensitively), mapped to the one it stands for.
_SCHEDULERS = {
    "threads": "threads",
    "threading": "threads",
    "processes": "processes",
    "multiprocessing": "processes",
    "synchronous": "synchronous",
    "sync": "synchronous",
    "single-threaded": "synchronous",
}


def _start_method() -> str:
    """dask's `multiprocessing.context` setting when dask is installed, else spawn (its default).

    spawn is the safe choice in a process that already runs threads (the flow runner's, the
    telemetry exporters'); fork would copy their locks in whatever state they are.
    """
    try:
        import dask.config
    except ImportError:
        return "spawn"
    return str(dask.config.get("multiprocessing.context", default="spawn"))


class LocalDaskExecutor(Executor):
    """Runs independent task runs and mapped children at once on local threads or processes.

    `scheduler="threads"` suits tasks that wait (I/O, services, subprocesses): nothing is pickled.
    `scheduler="processes"` suits CPU-bound Python: each task run goes to a worker process.
    `scheduler="synchronous"` runs them one by one in the calling thread (for debugging), as
    Prefect 1's did. Prefect 1's other names for the three are accepted too ("threading",
    "multiprocessing", "sync", "single-threaded", in any case); `scheduler` reads back as one of
    the three.
    """

    def __init__(
        self, scheduler: str = "threads", num_workers: int | None = None, **unsupported: Any
    ) -> None:
        chosen = _SCHEDULERS.get(scheduler.lower()) if isinstance(scheduler, str) else None
        if chosen is None:
            raise ValueError(
                f"LocalDaskExecutor got scheduler={scheduler!r}; use 'threads' (or 'threading'), "
                "'processes' (or 'multiprocessing') or 'synchronous' (or 'sync', "
                "'single-threaded': in order, in the calling thread, as LocalExecutor does)."
            )
        if num_workers is not None and (
            not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 1
        ):
            raise ValueError(
                f"LocalDaskExecutor got num_workers={num_workers!r}; give a whole number >= 1, "
                "or leave it out to use one worker per CPU."
            )
        if unsupported:
            raise TypeError(
                f"LocalDaskExecutor got unknown arguments {sorted(unsupported)}; it takes "
                "scheduler and num_workers."
            )
        self.scheduler = chosen
        self.num_workers = num_workers or os.cpu_count() or 1
        self._pool: concurrent.futures.Executor | None = None
        self._board = CompletionBoard()
        self._telemetry: dict[str, Any] | None = None

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        """Start the pool for one flow run; shut it down (waiting for its work) afterwards."""
        self._board = CompletionBoard()  # nothing a stopped run left unread carries over
        if self.scheduler == "synchronous":
            yield
            return
        self._telemetry = _worker_telemetry.worker_options()
        self._pool = self._new_pool()
        try:
            yield
        finally:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self) -> concurrent.futures.Executor:
        if self.scheduler == "threads":
            return concurrent.futures.ThreadPoolExecutor(
                self.num_workers, thread_name_prefix="flowlight-task"
            )
        return concurrent.futures.ProcessPoolExecutor(
            self.num_workers,
            mp_context=multiprocessing.get_context(_start_method()),
            initializer=_worker_telemetry.configure_worker,
            initargs=(self._telemetry,),
        )

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RunFuture:
        if self.scheduler == "synchronous":
            return self._board.ready(fn(*args, **kwargs))
        if self._pool is None:
            raise RuntimeError(
                "LocalDaskExecutor.submit was called outside `with executor.start():`; the flow "
                "runner starts the executor, so call flow.run(executor=...) instead."
            )
        run = SubmittedRun(fn, args, kwargs)
        if self.scheduler == "threads":
            return self._board.track(run, self._pool.submit(run))
        try:
            payload = pack(run)
        except UnpicklableRun as error:
            return self._board.ready(run.fail(str(error)))
        try:
            inner = self._pool.submit(run_packed, payload)
        except BrokenProcessPool:
            # A worker died: the runs it held fail through their futures; new runs get a new pool.
            self._pool.shutdown(wait=False)
            self._pool = self._new_pool()
            inner = self._pool.submit(run_packed, payload)
        return self._board.track(run, inner, unpack_state)

    def wait_any(self, futures: Collection[RunFuture]) -> list[RunFuture]:
        return self._board.wait_any(futures)

    def __repr__(self) -> str:
        return (
            f"<Executor: LocalDaskExecutor(scheduler={self.scheduler!r}, "
            f"num_workers={self.num_workers})>"
        )
