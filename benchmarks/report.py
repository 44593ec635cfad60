"""Turning raw runs into medians, ratios and goal checks, and printing them as tables.

Every figure here is a median over repetitions of fresh-process runs; ratios are taken between
medians of runs that alternated, so a slow moment of the machine hits both sides alike.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
from collections.abc import Iterable
from typing import Any

from benchmarks.dask_summary import TRACED_DASK_HEADER, traced_dask_rows, traced_dask_summary
from benchmarks.goals import GOALS, goals

__all__ = ["CLOCKS", "GOALS", "machine", "markdown_tables", "summarize"]


# Which measurement the tables use. "cpu" is the process's CPU time (every thread of it, so the
# batch processors' export threads count too): on a shared, loaded machine it measures the work
# done, where wall time also measures the wait for a core. On a quiet machine the two agree for
# the single-threaded runs.
CLOCKS = {"cpu": "cpu_seconds", "wall": "seconds"}


def machine() -> dict[str, Any]:
    """Where the numbers were measured: the ratios travel, the seconds do not."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_gb = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _median(runs: Iterable[dict[str, Any]], key: str = "seconds") -> float | None:
    values = [r[key] for r in runs]
    return statistics.median(values) if values else None


def _select(runs: list[dict[str, Any]], **wanted: Any) -> list[dict[str, Any]]:
    return [r for r in runs if all(r.get(k) == v for k, v in wanted.items())]


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def comparison(
    runs: list[dict[str, Any]], shapes: list[str], sizes: list[int], clock: str
) -> list[dict[str, Any]]:
    rows = []
    for shape in shapes:
        for n in sizes:
            base = {"stage": "comparison", "shape": shape, "n": n, "handlers": "none"}
            flow_runs = _select(runs, engine="flowlight", **base)
            prefect_runs = _select(runs, engine="prefect", **base)
            flow, pref = _median(flow_runs, clock), _median(prefect_runs, clock)
            if flow is None:
                continue
            rows.append(
                {
                    "shape": shape,
                    "n": n,
                    "flowlight_seconds": flow,
                    "flowlight_us_per_task": flow / n * 1e6,
                    "prefect_seconds": pref,
                    "prefect_us_per_task": None if pref is None else pref / n * 1e6,
                    "prefect_over_flowlight": _ratio(pref, flow),
                    "flowlight_wall_seconds": _median(flow_runs),
                    "prefect_wall_seconds": _median(prefect_runs),
                    "flowlight_max_rss_mb": _median(flow_runs, "max_rss_mb"),
                    "prefect_max_rss_mb": _median(prefect_runs, "max_rss_mb"),
                    "repetitions": len(flow_runs),
                }
            )
    return rows


def handler_costs(
    runs: list[dict[str, Any]], shapes: list[str], sizes: list[int], clock: str
) -> list[dict[str, Any]]:
    rows = []
    for shape in shapes:
        for n in sizes:
            stage = {"stage": "handlers", "shape": shape, "n": n}
            none = _median(_select(runs, handlers="none", **stage), clock)
            noop = _median(_select(runs, handlers="noop", **stage), clock)
            ideal = _median(_select(runs, handlers="ideal", **stage), clock)
            least = _median(_select(runs, handlers="least", **stage), clock)
            bridged = _select(runs, handlers="bridge", **stage)
            bridge = _median(bridged, clock)
            files = _median(_select(runs, handlers="bridge-files", **stage), clock)
            floor = _median(_select(runs, handlers="floor", **stage), clock)
            if none is None or bridge is None:
                continue
            added = bridge - none
            collector = {
                name: _median(_select(runs, handlers=name, **stage), "gc_seconds")
                for name in ("none", "ideal", "bridge", "floor")
            }
            rows.append(
                {
                    "shape": shape,
                    "n": n,
                    "none_seconds": none,
                    "noop_seconds": noop,
                    "bridge_seconds": bridge,
                    "floor_seconds": floor,
                    "noop_added_us_per_task": None if noop is None else (noop - none) / n * 1e6,
                    "bridge_added_us_per_task": added / n * 1e6,
                    "files_added_us_per_task": None if files is None else (files - none) / n * 1e6,
                    "files_over_discarding": None if files is None else _ratio(files - none, added),
                    "floor_us_per_task": None if floor is None else floor / n * 1e6,
                    "bridge_over_floor": _ratio(added, floor),
                    "ideal_seconds": ideal,
                    "ideal_added_us_per_task": None if ideal is None else (ideal - none) / n * 1e6,
                    "ideal_over_floor": None if ideal is None else _ratio(ideal - none, floor),
                    "bridge_over_ideal": None if ideal is None else _ratio(added, ideal - none),
                    "least_added_us_per_task": None if least is None else (least - none) / n * 1e6,
                    "least_over_floor": None if least is None else _ratio(least - none, floor),
                    **_outside_collector(n, none, bridge, ideal, floor, collector),
                    "telemetry": bridged[-1].get("telemetry"),
                }
            )
    return rows


def _outside_collector(
    n: int,
    none: float,
    bridge: float,
    ideal: float | None,
    floor: float | None,
    collector: dict[str, float | None],
) -> dict[str, Any]:
    """The handler figures split into time in the garbage collector and the rest.

    The bridge's code is what runs outside the collector; the collector's share depends on how
    much the run itself keeps alive, which a tight loop does not have.
    """
    if any(collector[name] is None for name in ("none", "bridge")):
        return {}
    none_gc, bridge_gc = collector["none"] or 0.0, collector["bridge"] or 0.0
    floor_gc, ideal_gc = collector["floor"], collector["ideal"]
    plain_code = none - none_gc
    bridge_code = (bridge - bridge_gc) - plain_code
    floor_code = None if floor is None or floor_gc is None else floor - floor_gc
    ideal_code = None if ideal is None or ideal_gc is None else (ideal - ideal_gc) - plain_code
    return {
        "bridge_gc_added_us_per_task": (bridge_gc - none_gc) / n * 1e6,
        "ideal_gc_added_us_per_task": None if ideal_gc is None else (ideal_gc - none_gc) / n * 1e6,
        "floor_gc_us_per_task": None if floor_gc is None else floor_gc / n * 1e6,
        "bridge_over_floor_outside_gc": _ratio(bridge_code, floor_code),
        "ideal_over_floor_outside_gc": _ratio(ideal_code, floor_code),
    }


def growth(
    runs: list[dict[str, Any]], shapes: list[str], sizes: list[int], clock: str
) -> list[dict[str, Any]]:
    rows = []
    for shape in shapes:
        previous: dict[str, Any] | None = None
        for n in sizes:
            chosen = _select(runs, stage="memory", shape=shape, n=n, handlers="none")
            if not chosen:
                continue
            row: dict[str, Any] = {
                "shape": shape,
                "n": n,
                "seconds": _median(chosen, clock),
                "us_per_task": (_median(chosen, clock) or 0.0) / n * 1e6,
                "wall_seconds": _median(chosen),
                "build_seconds": _median(chosen, "build_seconds"),
                "max_rss_mb": _median(chosen, "max_rss_mb"),
                "rss_after_import_mb": _median(chosen, "rss_after_import_mb"),
                "seconds_over_previous": None,
                "kib_per_added_task": None,
            }
            if previous is not None:
                row["seconds_over_previous"] = _ratio(row["seconds"], previous["seconds"])
                added = n - previous["n"]
                row["kib_per_added_task"] = (
                    (row["max_rss_mb"] - previous["max_rss_mb"]) * 1024 / added
                )
            rows.append(row)
            previous = row
    return rows


def summarize(runs: list[dict[str, Any]], plan: dict[str, Any]) -> dict[str, Any]:
    shapes = plan["shapes"]
    clock = CLOCKS[plan["clock"]]
    summary: dict[str, Any] = {
        "comparison": comparison(runs, shapes, plan["flowlight_sizes"], clock),
        "handlers": handler_costs(runs, shapes, plan["handler_sizes"], clock),
        "growth": growth(runs, shapes, plan["memory_sizes"], clock),
    }
    summary["cold_start"] = {
        mode: _ms(_median(_select(runs, stage="cold_start", mode=mode), "one_time_seconds"))
        for mode in ("plain", "traced")
    }
    summary["traced_memory"] = {
        n: _ratio(
            _median(_select(runs, stage="memory", n=n, handlers="bridge-files"), "max_rss_mb"),
            _median(
                _select(runs, stage="memory", shape="independent", n=n, handlers="none"),
                "max_rss_mb",
            ),
        )
        for n in plan.get("traced_memory_sizes", [])
    }
    summary["dask_traced"] = traced_dask_summary(runs)
    summary["goals"] = goals(summary)
    return summary


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e3


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _comparison_rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in summary["comparison"]:
        ratio = r["prefect_over_flowlight"]
        rows.append(
            [
                r["shape"],
                f"{r['n']:,}",
                _fmt(r["flowlight_seconds"], 3),
                _fmt(r["flowlight_us_per_task"]),
                _fmt(r["prefect_seconds"], 2),
                _fmt(r["prefect_us_per_task"]),
                _fmt(ratio) + (" x" if ratio else ""),
                _fmt(r["flowlight_max_rss_mb"]),
                _fmt(r["prefect_max_rss_mb"]),
            ]
        )
    return rows


def _handler_rows(summary: dict[str, Any]) -> list[list[str]]:
    return [
        [
            r["shape"],
            f"{r['n']:,}",
            _fmt(r["none_seconds"] / r["n"] * 1e6),
            _fmt(r["noop_added_us_per_task"]),
            _fmt(r.get("files_added_us_per_task")),
            _fmt(r["bridge_added_us_per_task"]),
            _fmt(r.get("files_over_discarding"), 2),
            _fmt(r["ideal_added_us_per_task"]),
            _fmt(r["floor_us_per_task"]),
            _fmt(r["bridge_over_floor"], 2),
            _fmt(r["ideal_over_floor"], 2),
            _fmt(r["bridge_over_ideal"], 2),
            _fmt(r.get("least_added_us_per_task")),
            _fmt(r.get("least_over_floor"), 2),
        ]
        for r in summary["handlers"]
    ]


def _collector_rows(summary: dict[str, Any]) -> list[list[str]]:
    return [
        [
            r["shape"],
            f"{r['n']:,}",
            _fmt(r["bridge_added_us_per_task"]),
            _fmt(r.get("bridge_gc_added_us_per_task")),
            _fmt(r.get("ideal_gc_added_us_per_task")),
            _fmt(r["floor_us_per_task"]),
            _fmt(r.get("floor_gc_us_per_task")),
            _fmt(r["bridge_over_floor"], 2),
            _fmt(r.get("bridge_over_floor_outside_gc"), 2),
            _fmt(r.get("ideal_over_floor_outside_gc"), 2),
        ]
        for r in summary["handlers"]
    ]


def _growth_rows(summary: dict[str, Any]) -> list[list[str]]:
    return [
        [
            r["shape"],
            f"{r['n']:,}",
            _fmt(r["seconds"], 3),
            _fmt(r["us_per_task"]),
            _fmt(r["seconds_over_previous"]),
            _fmt(r["build_seconds"], 2),
            _fmt(r["max_rss_mb"]),
            _fmt(r["kib_per_added_task"], 2),
        ]
        for r in summary["growth"]
    ]


def _goal_rows(summary: dict[str, Any]) -> list[list[str]]:
    verdict = {True: "yes", False: "NO", None: "not measured"}
    return [
        [
            g["goal"],
            _fmt(g["measured"], 2),
            ("<= " if g["better"] == "lower" else ">= ") + _fmt(g["target"], 2),
            verdict[g["met"]],
        ]
        for g in summary["goals"]
    ]


def markdown_tables(summary: dict[str, Any], clock: str) -> str:
    """The results as Markdown tables (printed, and pasted into the README); `clock` names the
    measurement the figures are (`cpu` or `wall`)."""
    comparison_header = ["shape", "tasks", "flowlight s", "µs/task"]
    comparison_header += ["Prefect 1.4.1 s", "µs/task", "Prefect / flowlight"]
    comparison_header += ["flowlight peak MB", "Prefect peak MB"]
    handler_header = ["shape", "tasks", "no handlers", "+ no-op handler", "+ bridge, files"]
    handler_header += ["+ bridge, discarding", "files / discarding"]
    handler_header += ["+ ideal handler", "SDK floor", "bridge / floor", "ideal / floor"]
    handler_header += ["bridge / ideal", "+ least handler", "least / floor"]
    collector_header = ["shape", "tasks", "+ bridge", "of it in GC", "ideal's in GC"]
    collector_header += ["SDK floor", "of it in GC", "bridge / floor", "outside GC"]
    collector_header += ["ideal / floor outside GC"]
    growth_header = ["shape", "tasks", "run s", "µs/task", "time / previous size", "build s"]
    growth_header += ["peak RSS MB", "KiB per added task"]
    return "\n".join(
        [
            f"**flowlight vs Prefect 1.4.1** (no handlers; median {clock} seconds of `flow.run()`)",
            "",
            _table(comparison_header, _comparison_rows(summary)),
            "",
            f"**Handlers and the OpenTelemetry bridge** ({clock} µs per task added to a run "
            "without handlers; the SDK floor makes the bridge's telemetry with the bare SDK and "
            "structlog in a loop, the ideal handler makes the same calls from a state handler "
            "during real runs, the least handler makes that telemetry from a handler through the "
            "bridge's direct SDK objects with none of its bookkeeping; "
            '"files" is the bridge\'s default path, OTLP JSON files, '
            '"discarding" its exporters replaced by discarding ones)',
            "",
            _table(handler_header, _handler_rows(summary)),
            "",
            f'**Where the bridge\'s extra cost goes** ({clock} µs per task; "in GC" is time in '
            "Python's garbage collector added to the plain run's, whose full collections walk "
            'every object the run keeps alive; "outside GC" compares the rest)',
            "",
            _table(collector_header, _collector_rows(summary)),
            "",
            f"**Growth** (no handlers, {clock} time; one fresh process per run; peak RSS of the "
            "process)",
            "",
            _table(growth_header, _growth_rows(summary)),
            "",
            "**Tracing on a Dask cluster** (CPU seconds of the client, the scheduler and two "
            "worker processes, median of runs alternating untraced and traced on the default file "
            'path; "+ ms/task" is the medians\' difference per task, the range that of each '
            "pair of runs)",
            "",
            _table(TRACED_DASK_HEADER, traced_dask_rows(summary, _fmt)),
            "",
            "**Goals**",
            "",
            _table(["goal", "measured", "target", "met"], _goal_rows(summary)),
        ]
    )
