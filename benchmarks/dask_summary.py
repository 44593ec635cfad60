"""The traced-Dask stage's runs (see `benchmarks.traced_dask`) as summary rows and a table.

One row per shape: the median CPU seconds of the cluster untraced and traced, what tracing added
per task (median less median, the goal's figure) and, for the spread, the same from each pair of
runs that ran one after the other.
"""

from __future__ import annotations

import statistics
from typing import Any

__all__ = ["TRACED_DASK_HEADER", "traced_dask_rows", "traced_dask_summary"]

TRACED_DASK_HEADER = ["shape", "tasks", "untraced s", "traced s", "+ ms/task"]
TRACED_DASK_HEADER += ["pairs' range ms/task", "pairs", "spans complete"]


def traced_dask_summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A row per shape and size measured; none for results from before the stage existed."""
    rows = []
    for run in runs:
        if run.get("stage") != "dask_traced":
            continue
        plain, traced, n = run["untraced_cpu_seconds"], run["traced_cpu_seconds"], run["n"]
        pairs = [(t - p) / n * 1e3 for p, t in zip(plain, traced, strict=True)]
        rows.append(
            {
                "shape": run["shape"],
                "n": n,
                "untraced_cpu_seconds": statistics.median(plain),
                "traced_cpu_seconds": statistics.median(traced),
                "added_ms_per_task": (statistics.median(traced) - statistics.median(plain))
                / n
                * 1e3,
                "pair_added_ms_per_task": pairs,
                "pairs": len(pairs),
                "spans_complete": run["spans_written"] == [run["spans_per_run"]] * len(traced),
            }
        )
    return rows


def traced_dask_rows(summary: dict[str, Any], fmt: Any) -> list[list[str]]:
    """The table's rows; `fmt` formats a number (the report's `_fmt`)."""
    return [
        [
            r["shape"],
            f"{r['n']:,}",
            fmt(r["untraced_cpu_seconds"], 2),
            fmt(r["traced_cpu_seconds"], 2),
            fmt(r["added_ms_per_task"], 3),
            f"{fmt(min(r['pair_added_ms_per_task']), 3)} to "
            f"{fmt(max(r['pair_added_ms_per_task']), 3)}",
            str(r["pairs"]),
            "yes" if r["spans_complete"] else "NO",
        ]
        for r in summary.get("dask_traced", [])
    ]
