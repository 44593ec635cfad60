"""One measured flow run, in a process of its own.

`python -m benchmarks.workload ENGINE SHAPE N HANDLERS`:

ENGINE is `flowlight` or `prefect` (this module also runs in the Prefect 1 virtual environment, so
it imports only the standard library and the engine it is asked for). SHAPE is `independent`
(N unconnected tasks), `chain` (each task takes the previous one's result) or `map` (one task
mapped over N items). HANDLERS is `none`, `noop` (a task state handler that returns the new state),
`bridge` (flowlight's OpenTelemetry bridge, recording into discarding exporters), `bridge-files`
(the bridge on its default path: OTLP JSON files, what `make run` users get), `ideal` (the
floor's SDK calls made from a handler, see `benchmarks.ideal`, into the same exporters) or `least`
(the same telemetry through the bridge's direct SDK objects and nothing else, see
`benchmarks.least`).

Only `flow.run()` is timed, as in the reference script the Prefect 1 figures came from; building
the flow is timed separately. Before it, a one-task flow of the same shape and handlers runs once
in the same process, on both engines alike: what an engine does once per process (lazy imports,
first-use caches, configuring the bridge's pipeline) is then reported as `warmup_seconds` and not
counted as overhead per task. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.gc_time import GcTimer

ENGINES = ("flowlight", "prefect")
SHAPES = ("independent", "chain", "map")
HANDLERS = ("none", "noop", "ideal", "least", "bridge", "bridge-files")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def noop_handler(obj: Any, old_state: Any, new_state: Any) -> Any:
    """The cheapest state handler there is: it accepts every transition as proposed."""
    return new_state


def build_flow(engine: Any, shape: str, n: int, handlers: list[Any]) -> Any:
    """N no-op tasks in the given shape, written with the Prefect 1 API both engines share."""

    as_task: Callable[[Callable[..., Any]], Any] = engine.task(state_handlers=handlers)

    @as_task
    def noop(x: Any = None) -> Any:
        return x

    with engine.Flow("bench") as flow:
        if shape == "independent":
            for _ in range(n):
                noop()
        elif shape == "chain":
            previous = noop()
            for _ in range(n - 1):
                previous = noop(previous)
        elif shape == "map":
            noop.map(list(range(n)))
        else:
            raise ValueError(f"unknown shape {shape!r}; use one of {', '.join(SHAPES)}")
    return flow


def _recording(engine_name: str, handlers: str) -> tuple[Any, Callable[[Any], None]]:
    """For `bridge`, `ideal` and `least`: the counting pipeline, and what puts the handler on a
    flow."""
    if engine_name != "flowlight":
        raise ValueError(f"handlers {handlers!r} record with flowlight's bridge: use flowlight")
    from benchmarks.telemetry import DiscardingPipeline

    bridged = handlers in ("bridge", "bridge-files")
    pipeline = DiscardingPipeline.install(bridge=bridged, files=handlers == "bridge-files")
    if bridged:
        return pipeline, pipeline.instrument
    from benchmarks.ideal import IdealHandler, attach
    from benchmarks.least import LeastHandler

    handler = IdealHandler() if handlers == "ideal" else LeastHandler()
    return pipeline, lambda flow: attach(flow, handler)


def measure(engine_name: str, shape: str, n: int, handlers: str) -> dict[str, Any]:
    """Build and run the flow once; return what was measured."""
    engine = importlib.import_module(engine_name)
    pipeline: Any = None
    instrument: Callable[[Any], None] = lambda flow: None  # noqa: E731
    if handlers in ("bridge", "bridge-files", "ideal", "least"):
        pipeline, instrument = _recording(engine_name, handlers)
    rss_after_import = peak_rss_mb()
    task_handlers = [noop_handler] if handlers == "noop" else []

    warmup = build_flow(engine, shape, 1, task_handlers)
    instrument(warmup)
    started = time.perf_counter()
    warmup.run()
    warmup_seconds = time.perf_counter() - started
    if pipeline is not None:
        pipeline.start_counting()

    started = time.perf_counter()
    flow = build_flow(engine, shape, n, task_handlers)
    instrument(flow)
    build_seconds = time.perf_counter() - started

    with GcTimer() as collector:
        started, cpu_started = time.perf_counter(), time.process_time()
        state = flow.run()
        if pipeline is not None:
            pipeline.flush()  # all export work inside the measurement, as the floor's
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    if not state.is_successful():
        raise SystemExit(f"the {shape} flow of {n} tasks did not succeed: {state!r}")

    record: dict[str, Any] = {
        "engine": engine_name,
        "version": getattr(engine, "__version__", "unknown"),
        "shape": shape,
        "n": n,
        "handlers": handlers,
        "seconds": seconds,
        "us_per_task": seconds / n * 1e6,
        "cpu_seconds": cpu_seconds,
        "build_seconds": build_seconds,
        "warmup_seconds": warmup_seconds,
        "rss_after_import_mb": rss_after_import,
        "max_rss_mb": peak_rss_mb(),
        **collector.as_dict(),
    }
    if pipeline is not None:
        record["telemetry"] = pipeline.finish()
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workload", description=__doc__)
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("shape", choices=SHAPES)
    parser.add_argument("n", type=int)
    parser.add_argument("handlers", choices=HANDLERS)
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"N must be at least 1, got {args.n}")
    print(json.dumps(measure(args.engine, args.shape, args.n, args.handlers)))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
