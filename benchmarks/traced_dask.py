"""`python -m benchmarks.traced_dask`: what tracing adds per task on a two-worker Dask cluster.

Issue 15, goal 4. Each shape (independent no-op tasks, one task mapped over as many items) runs on
a LocalCluster of two single-threaded worker processes, untraced and traced (the bridge on its
default path: OTLP JSON files in a temporary directory; the workers configured and flushed by the
executor), alternating, `--repeat` times. Each run is measured in CPU seconds of this process (the
client and the scheduler) and both workers together: on a machine shared with other work, wall
time measures the wait for a core as well.

After each shape's runs, every traced run's trace is read back from the files (the live ones and
the rotated ones): the figure is only worth something if nothing was dropped, so each trace must
hold one span per task run (and per mapped child) plus the flow run's.

`--json` prints one JSON line with a figure per shape (what `python -m benchmarks` reads); without
it, a line per shape and the goal's verdict.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.executors import SHAPES, two_worker_cluster
from flowlight import Flow
from flowlight.executors import DaskExecutor

__all__ = ["TRACED_DASK_GOAL_MS", "cluster_cpu_seconds", "traced_dask"]

TRACED_DASK_GOAL_MS = 0.5


def cluster_cpu_seconds(client: Any, run: Callable[[], Any]) -> float:
    """CPU seconds `run` costs this process (client and scheduler) and every worker together:
    on a machine shared with other work, wall time measures the wait for a core as well."""

    def worker_cpu() -> float:
        return float(sum(client.run(time.process_time).values()))

    started, workers_started = time.process_time(), worker_cpu()
    run()
    return time.process_time() - started + worker_cpu() - workers_started


def spans_per_trace(directory: Path, flow_name: str) -> list[int]:
    """How many spans each trace of the flow `flow_name` holds in the directory's OTLP JSON
    files (the live one and the rotated ones)."""
    from flowlight.telemetry_files import read_spans, spans_by_trace

    return [
        len(spans)
        for spans in spans_by_trace(read_spans(directory)).values()
        if any(span.name == flow_name and not span.parent_id for span in spans)
    ]


def traced_dask(
    shapes: list[str], n: int, client: Any, address: str, repeat: int
) -> list[dict[str, Any]]:
    """A figure per shape: each run's CPU seconds untraced and traced (alternating), the spans
    each traced run wrote, and what tracing added in ms per task (median traced run less median
    untraced run)."""
    import flowlight.otel

    def one_run(flow: Flow) -> Callable[[], None]:
        def run() -> None:
            state = flow.run(executor=DaskExecutor(address=address))
            if not state.is_successful():
                raise RuntimeError(f"benchmark flow did not succeed: {state!r}")

        return run

    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="flowlight-bench-") as directory:
        flowlight.otel.configure(telemetry_dir=directory)
        try:
            for shape in shapes:
                plain, traced = SHAPES[shape](n), flowlight.otel.instrument(SHAPES[shape](n))
                plain_cpu, traced_cpu = [], []
                for _ in range(repeat):
                    plain_cpu.append(cluster_cpu_seconds(client, one_run(plain)))
                    traced_cpu.append(cluster_cpu_seconds(client, one_run(traced)))
                added = statistics.median(traced_cpu) - statistics.median(plain_cpu)
                flowlight.otel.flush()  # the flow's process; the executor flushed the workers
                figures.append(
                    {
                        "shape": shape,
                        "n": n,
                        "spans_per_run": n + 1 + (1 if shape == "map" else 0),
                        "spans_written": spans_per_trace(Path(directory), traced.name),
                        "untraced_cpu_seconds": plain_cpu,
                        "traced_cpu_seconds": traced_cpu,
                        "added_ms_per_task": added / n * 1e3,
                    }
                )
        finally:
            flowlight.otel.shutdown()
    return figures


def print_figure(figure: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(figure), flush=True)
        return
    plain, traced = figure["untraced_cpu_seconds"], figure["traced_cpu_seconds"]
    print(
        f"dask cpu (2 workers)         {figure['shape']:<12} "
        f"untraced {statistics.median(plain):7.3f} s   traced {statistics.median(traced):7.3f} s"
        f"   spans per traced run {figure['spans_written']} of {figure['spans_per_run']}",
        flush=True,
    )
    added = figure["added_ms_per_task"]
    verdict = "met" if added <= TRACED_DASK_GOAL_MS else "NOT met"
    print(
        f"goal: tracing on dask adds <= {TRACED_DASK_GOAL_MS} ms of cpu per task "
        f"({figure['shape']}): {added:.3f} ms, {verdict}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    shapes = [shape for shape in args.shapes.split(",") if shape]
    with two_worker_cluster() as (cluster, client):
        figures = traced_dask(shapes, args.tasks, client, cluster.scheduler_address, args.repeat)
    if args.json:
        print(json.dumps({"figures": figures}), flush=True)
    else:
        for figure in figures:
            print_figure(figure, as_json=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
