"""`python -m benchmarks`: run every benchmark, print the tables, write the JSON results.

Five stages, each run in fresh subprocesses:

1. comparison: the same no-op flows (independent, chain, map) on flowlight and on Prefect 1.4.1,
   alternating run by run (five repetitions of flowlight, the first three alternating with
   Prefect); Prefect only at the sizes it finishes in reasonable time (a 1,000-chain takes it
   about 18 s, a 3,000-chain about 4 minutes);
2. handlers: flowlight with no handler, a no-op handler, the OpenTelemetry bridge on its
   default path (OTLP JSON files) and recording into discarding exporters, the ideal handler
   (the floor's calls made from a handler) and the least handler (the same telemetry through the
   bridge's direct SDK objects, with none of its bookkeeping), each bridged run followed by the
   SDK floor for the telemetry it produced;
3. memory: peak RSS and run time at 1,000, 10,000 and 100,000 tasks per shape (three times),
   and 100,000 independent tasks traced into the default files;
4. cold start: a fresh interpreter's first flow run, plain and traced (seven times each);
5. tracing on Dask: 2,000 no-op tasks per shape on a LocalCluster of two worker processes,
   untraced and traced on the default file path, alternating five times, in CPU seconds of the
   client, the scheduler and the workers (one subprocess, about two minutes).

`--quick` runs small sizes once: a smoke test of the whole pipeline, not a measurement.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.measure import (
    REPOSITORY,
    run_cold_start,
    run_floor,
    run_traced_dask,
    run_workload,
)
from benchmarks.prefect_env import PREFECT_REQUIREMENT, PrefectUnavailable, ensure_prefect_env
from benchmarks.report import machine, markdown_tables, summarize
from benchmarks.workload import SHAPES

RESULTS = REPOSITORY / "benchmarks" / "results"

FULL_PLAN: dict[str, Any] = {
    "shapes": list(SHAPES),
    "flowlight_sizes": [100, 1000, 10000],
    "prefect_sizes": [100, 1000],
    "handler_sizes": [1000, 10000],
    "memory_sizes": [1000, 10000, 100000],
    # The traced run on the default file path, beside the untraced one, for the memory goal.
    "traced_memory_sizes": [100000],
    "cold_start_repetitions": 7,
    "repetitions": 5,
    # Prefect's own spread is small next to the ratio, and its runs are most of the time.
    "prefect_repetitions": 3,
    "memory_repetitions": 3,
    # Tracing on a two-worker Dask cluster (issue 15, goal 4): tasks per shape, alternating pairs.
    "dask_traced_tasks": 2000,
    "dask_traced_repetitions": 5,
    "clock": "cpu",
}
QUICK_PLAN: dict[str, Any] = {
    "shapes": list(SHAPES),
    "flowlight_sizes": [100],
    "prefect_sizes": [100],
    "handler_sizes": [100],
    "memory_sizes": [100, 1000],
    "traced_memory_sizes": [1000],
    "cold_start_repetitions": 1,
    "repetitions": 1,
    "prefect_repetitions": 1,
    "memory_repetitions": 1,
    "dask_traced_tasks": 100,
    "dask_traced_repetitions": 1,
    "clock": "cpu",
}


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_plan(
    plan: dict[str, Any], prefect_python: Path | None, progress: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Every run of the plan, each tagged with its stage."""
    runs: list[dict[str, Any]] = []

    def record(stage: str, result: dict[str, Any], rep: int) -> dict[str, Any]:
        result.update(stage=stage, repetition=rep)
        runs.append(result)
        return result

    for rep in range(plan["repetitions"]):
        for shape in plan["shapes"]:
            for n in plan["flowlight_sizes"]:
                if (
                    prefect_python is not None
                    and n in plan["prefect_sizes"]
                    and rep < plan["prefect_repetitions"]
                ):
                    progress(f"[{rep + 1}] comparison {shape} {n:,}: prefect")
                    record(
                        "comparison", run_workload("prefect", shape, n, "none", prefect_python), rep
                    )
                progress(f"[{rep + 1}] comparison {shape} {n:,}: flowlight")
                record("comparison", run_workload("flowlight", shape, n, "none"), rep)

    for rep in range(plan["repetitions"]):
        for shape in plan["shapes"]:
            for n in plan["handler_sizes"]:
                progress(
                    f"[{rep + 1}] handlers {shape} {n:,}: none, noop, ideal, least, "
                    "bridge-files, bridge, floor"
                )
                for handlers in ("none", "noop", "ideal", "least", "bridge-files", "bridge"):
                    bridged = record("handlers", run_workload("flowlight", shape, n, handlers), rep)
                floor = run_floor(bridged["telemetry"])
                floor.update(engine="opentelemetry-sdk", shape=shape, n=n, handlers="floor")
                record("handlers", floor, rep)

    for rep in range(plan["memory_repetitions"]):
        for shape in plan["shapes"]:
            for n in plan["memory_sizes"]:
                progress(f"[{rep + 1}] memory {shape} {n:,}")
                record("memory", run_workload("flowlight", shape, n, "none"), rep)
        for n in plan.get("traced_memory_sizes", []):
            progress(f"[{rep + 1}] memory independent {n:,}, traced into files")
            record("memory", run_workload("flowlight", "independent", n, "bridge-files"), rep)

    for rep in range(plan.get("cold_start_repetitions", 0)):
        progress(f"[{rep + 1}] cold start: plain, traced")
        for mode in ("plain", "traced"):
            record("cold_start", run_cold_start(mode), rep)

    if plan.get("dask_traced_tasks"):
        n, pairs = plan["dask_traced_tasks"], plan["dask_traced_repetitions"]
        progress(f"dask, 2 workers, {n:,} tasks per shape: untraced and traced, {pairs} times")
        for figure in run_traced_dask(n, pairs):
            figure.update(engine="flowlight", executor="dask", handlers="bridge-files")
            record("dask_traced", figure, 0)
    return runs


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of task counts; write them like 100,1000"
        ) from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: task counts must be 1 or more")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument(
        "--no-prefect", action="store_true", help=f"skip the {PREFECT_REQUIREMENT} comparison"
    )
    parser.add_argument("--repetitions", type=int, help="repetitions per measurement")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        metavar="N,N,...",
        help="task counts to compare flowlight at (default 100,1000,10000)",
    )
    parser.add_argument(
        "--prefect-sizes",
        type=_sizes,
        metavar="N,N,...",
        help="which of those to run on Prefect too (default 100,1000; a 3,000-chain takes ~4 min)",
    )
    parser.add_argument("--output", type=Path, help="where to write the JSON results")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        help="what the tables compare: the process's CPU time (default) or wall time",
    )
    parser.add_argument(
        "--summarize",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: recompute the summary and tables of a results file from its runs",
    )
    args = parser.parse_args(argv)
    if args.summarize is not None:
        return resummarize(args.summarize, args.clock)

    plan = dict(QUICK_PLAN if args.quick else FULL_PLAN)
    if args.repetitions is not None:
        if args.repetitions < 1:
            parser.error(f"--repetitions must be at least 1, got {args.repetitions}")
        for key in (
            "repetitions",
            "prefect_repetitions",
            "memory_repetitions",
            "dask_traced_repetitions",
        ):
            plan[key] = args.repetitions
    if args.clock is not None:
        plan["clock"] = args.clock
    if args.sizes is not None:
        plan["flowlight_sizes"] = args.sizes
    if args.prefect_sizes is not None:
        plan["prefect_sizes"] = args.prefect_sizes
        plan["flowlight_sizes"] = sorted(set(plan["flowlight_sizes"]) | set(args.prefect_sizes))
    output = args.output or RESULTS / ("quick.json" if args.quick else "latest.json")

    prefect_python: Path | None = None
    prefect_note = f"{PREFECT_REQUIREMENT} at {plan['prefect_sizes']} tasks per shape"
    if args.no_prefect:
        prefect_note = "skipped (--no-prefect)"
    else:
        try:
            prefect_python = ensure_prefect_env()
        except PrefectUnavailable as error:
            prefect_note = f"unavailable: {error}"
            _progress(f"Prefect comparison skipped: {error}")

    started = datetime.datetime.now(datetime.timezone.utc)
    runs = run_plan(plan, prefect_python, _progress)
    summary = summarize(runs, plan)
    results = {
        "schema": 1,
        "date": started.isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "plan": plan,
        "prefect": prefect_note,
        "telemetry_sink": (
            "discarding exporters behind the SDK's batch processors and periodic metric reader; "
            "structlog JSON lines into a discarding sink"
        ),
        **summary,
        "runs": runs,
    }
    publish(results, output)
    return 0


def publish(results: dict[str, Any], output: Path) -> None:
    """Write the results (and, for the default full results, their tables beside them); print."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1) + "\n")
    tables = markdown_tables(results, results["plan"]["clock"])
    if output.resolve() == (RESULTS / "latest.json").resolve():
        (RESULTS / "latest.md").write_text(tables + "\n")
    spec = results["machine"]
    print(f"{results['date']}, {spec['cpus']} CPUs ({spec['cpu_model']}), "
          f"Python {spec['python']}; Prefect: {results['prefect']}\n")  # fmt: skip
    print(tables)
    print(f"\nresults: {output}")


def resummarize(path: Path, clock: str | None) -> int:
    """Recompute a results file's summary from its runs (after a change to the report)."""
    results = json.loads(path.read_text())
    if clock is not None:
        results["plan"]["clock"] = clock
    results.update(summarize(results["runs"], results["plan"]))
    publish(results, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
