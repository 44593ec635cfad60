"""`python -m benchmarks.executors`: what flowlight's executors cost next to raw dask.

10,000 no-op tasks, as 10,000 independent tasks and as one task mapped over 10,000 items:

1. on the threads executor (`LocalDaskExecutor(scheduler="threads")`), next to dask's own
   threaded scheduler computing 10,000 no-op delayed calls with the same number of threads (and,
   as the floor, the standard library's thread pool running the bare no-ops);
2. on a LocalCluster of two worker processes (`DaskExecutor(address=...)`), next to raw
   dask.distributed futures: 10,000 `client.submit` calls of the same no-op, then gathered;
3. on the same cluster, untraced and traced (the bridge on its default path), alternating, in
   CPU seconds of the client, the scheduler and both workers: what tracing adds per task (the
   median of `--repeat` pairs; `benchmarks.traced_dask`, which `python -m benchmarks` runs).

The local executor's figure is printed too, as the floor of the engine itself. Each figure is the
best of `--repeat` runs of `flow.run()` (building the flow is not timed); the ratio is flowlight's
time over raw dask's for the same work.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from flowlight import Flow, task
from flowlight.executors import DaskExecutor, Executor, LocalDaskExecutor, LocalExecutor


def noop(x: int | None = None) -> None:
    return None


noop_task = task(noop, name="noop")


def independent_flow(n: int) -> Flow:
    with Flow(f"{n} independent") as flow:
        for _ in range(n):
            noop_task()
    return flow


def mapped_flow(n: int) -> Flow:
    with Flow(f"map over {n}") as flow:
        noop_task.map(list(range(n)))
    return flow


SHAPES: dict[str, Callable[[int], Flow]] = {"independent": independent_flow, "map": mapped_flow}


def best(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def flowlight_seconds(flow: Flow, make_executor: Callable[[], Executor], repeat: int) -> float:
    def run() -> None:
        state = flow.run(executor=make_executor())
        if not state.is_successful():
            raise RuntimeError(f"benchmark flow did not succeed: {state!r}")

    return best(run, repeat)


def dask_threads_seconds(n: int, threads: int, repeat: int) -> float:
    from dask import compute, delayed  # type: ignore[attr-defined]

    calls = [delayed(noop, pure=False)(i) for i in range(n)]
    return best(
        lambda: compute(  # type: ignore[no-untyped-call]
            *calls, scheduler="threads", num_workers=threads
        ),
        repeat,
    )


def thread_pool_seconds(n: int, threads: int, repeat: int) -> float:
    import concurrent.futures

    def run() -> None:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(noop, i) for i in range(n)]:
                future.result()

    return best(run, repeat)


def dask_futures_seconds(client: Any, n: int, repeat: int) -> float:
    def run() -> None:
        futures = [client.submit(noop, i, pure=False) for i in range(n)]
        client.gather(futures)

    return best(run, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--json", action="store_true", help="print one JSON line per figure")
    args = parser.parse_args()
    n, repeat = args.tasks, args.repeat
    figures: list[dict[str, Any]] = []

    def report(name: str, shape: str, seconds: float, raw: float | None = None) -> None:
        figure = {"executor": name, "shape": shape, "tasks": n, "seconds": round(seconds, 3)}
        figure["tasks_per_second"] = round(n / seconds)
        if raw is not None:
            figure["raw_dask_seconds"] = round(raw, 3)
            figure["ratio_to_raw_dask"] = round(seconds / raw, 2)
        figures.append(figure)
        if args.json:
            print(json.dumps(figure), flush=True)
        else:
            line = f"{name:<28} {shape:<12} {seconds:8.3f} s {n / seconds:10.0f} tasks/s"
            if raw is not None:
                line += f"   raw dask {raw:7.3f} s   ratio {seconds / raw:5.2f}x"
            print(line, flush=True)

    flows = {shape: build(n) for shape, build in SHAPES.items()}
    for shape, flow in flows.items():
        report("local", shape, flowlight_seconds(flow, LocalExecutor, repeat))

    raw_threads = dask_threads_seconds(n, args.threads, repeat)
    for shape, flow in flows.items():
        seconds = flowlight_seconds(
            flow, lambda: LocalDaskExecutor("threads", num_workers=args.threads), repeat
        )
        report(f"threads ({args.threads})", shape, seconds, raw_threads)
    pool = thread_pool_seconds(n, args.threads, repeat)
    print(f"(the standard library's thread pool alone: {pool:.3f} s for the same no-ops)")

    with two_worker_cluster() as (cluster, client):
        raw_futures = dask_futures_seconds(client, n, repeat)
        for shape, flow in flows.items():
            seconds = flowlight_seconds(
                flow, lambda: DaskExecutor(address=cluster.scheduler_address), repeat
            )
            report("dask (2 worker processes)", shape, seconds, raw_futures)
        from benchmarks.traced_dask import print_figure, traced_dask

        for figure in traced_dask(list(flows), n, client, cluster.scheduler_address, repeat):
            print_figure(figure, as_json=args.json)


@contextlib.contextmanager
def two_worker_cluster() -> Iterator[tuple[Any, Any]]:
    """A LocalCluster of two single-threaded worker processes on loopback, and a client of it."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster, set_as_default=False) as client,  # type: ignore[no-untyped-call]
    ):
        yield cluster, client


if __name__ == "__main__":
    main()
