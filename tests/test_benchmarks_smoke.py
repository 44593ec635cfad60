"""The benchmark's quick mode runs end to end for flowlight and writes results of the stated shape.

No figure is asserted: timings belong to `python -m benchmarks`, not to tests. What is proven is
that every stage runs real flows in fresh processes, that the bridged runs' telemetry is counted
completely, and that the SDK floor produces exactly the telemetry it is compared with.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
SHAPES = {"independent", "chain", "map"}


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("bench") / "quick.json"
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--no-prefect", "--output", str(output)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "| shape | tasks |" in finished.stdout, "the tables are printed"
    results: dict[str, Any] = json.loads(output.read_text())
    return results


def test_quick_mode_records_the_machine_and_what_was_skipped(quick_results: dict[str, Any]) -> None:
    """The results say where and when they were measured, and that Prefect was left out."""
    assert quick_results["schema"] == 1
    assert quick_results["mode"] == "quick"
    assert quick_results["machine"]["cpus"] >= 1
    assert quick_results["date"].endswith("+00:00")
    assert "skipped" in quick_results["prefect"]
    assert "discarding" in quick_results["telemetry_sink"]


def test_every_shape_is_compared_on_flowlight_alone(quick_results: dict[str, Any]) -> None:
    """Each shape has a comparison row with flowlight's figures and no Prefect figures."""
    rows = quick_results["comparison"]
    assert {r["shape"] for r in rows} == SHAPES
    for row in rows:
        assert row["flowlight_seconds"] > 0
        assert row["flowlight_us_per_task"] == pytest.approx(
            row["flowlight_seconds"] / row["n"] * 1e6
        )
        assert row["prefect_seconds"] is None and row["prefect_over_flowlight"] is None
    engines = {r["engine"] for r in quick_results["runs"]}
    assert engines == {"flowlight", "opentelemetry-sdk"}


def test_bridged_runs_record_one_span_per_run_and_the_floor_repeats_them(
    quick_results: dict[str, Any],
) -> None:
    """A bridged run's telemetry is complete (a span for the flow run and each task run or mapped
    child, nothing dropped), the floor produced the same spans, events, lines and points, the
    ideal handler the same spans, events and lines, and the least handler (read against the
    bridge) exactly the bridge's records, attributes, line fields and histogram points."""
    floors = [r for r in quick_results["runs"] if r["handlers"] == "floor"]
    bridged = [r for r in quick_results["runs"] if r["handlers"] == "bridge"]
    ideal = [r for r in quick_results["runs"] if r["handlers"] == "ideal"]
    least = [r for r in quick_results["runs"] if r["handlers"] == "least"]
    assert len(floors) == len(bridged) == len(ideal) == len(least) == len(SHAPES)
    for bridge_run, floor_run, ideal_run, least_run in zip(
        bridged, floors, ideal, least, strict=True
    ):
        counts = bridge_run["telemetry"]
        runs = bridge_run["n"] + 1 + (1 if bridge_run["shape"] == "map" else 0)
        assert counts["spans"] == runs, bridge_run["shape"]
        assert counts["bridge_statistics"]["spans_ended"] == runs
        assert counts["events"] >= 2 * bridge_run["n"]
        assert counts["log_lines"] > 0 and counts["otel_logs"] > 0
        assert counts["counter_total"] >= counts["events"]  # every transition is counted
        produced = floor_run["telemetry"]
        for key in ("spans", "events", "log_lines", "otel_logs"):
            assert produced[key] == counts[key], key
        assert produced["histogram_records"] == counts["histogram_records"]
        # The ideal handler makes one span per run too, and an event and a line per transition.
        made = ideal_run["telemetry"]
        assert made["spans"] == counts["spans"]
        assert made["events"] == made["log_lines"] == made["otel_logs"] == counts["events"]
        # The least handler makes what the bridge makes, but for the counters it leaves out.
        least_made = dict(least_run["telemetry"])
        for key in ("spans", "span_attributes", "events", "event_attributes", "otel_logs"):
            assert least_made[key] == counts[key], key
        for key in ("otel_log_attributes", "log_lines", "log_line_fields", "histogram_records"):
            assert least_made[key] == counts[key], key
    for row in quick_results["handlers"]:
        assert {"none_seconds", "noop_seconds", "ideal_seconds", "bridge_seconds"} <= set(row)
        assert row["least_over_floor"] > 0
        assert row["floor_seconds"] > 0


def test_memory_growth_and_goals_are_reported(quick_results: dict[str, Any]) -> None:
    """Peak memory is reported per shape and size, and every goal of the issue has a row."""
    growth = quick_results["growth"]
    assert {(r["shape"], r["n"]) for r in growth} == {(s, n) for s in SHAPES for n in (100, 1000)}
    for row in growth:
        assert row["max_rss_mb"] >= row["rss_after_import_mb"] > 0
    goals = {g["goal"]: g for g in quick_results["goals"]}
    assert set(goals) == {
        "prefect_over_flowlight_independent_1000",
        "flowlight_us_per_task_independent_1000",
        "chain_10000_over_chain_1000",
        "bridge_over_floor",
        "files_over_discarding",
        "cold_start_ms_plain",
        "cold_start_ms_traced",
        "traced_peak_rss_over_untraced_100000",
        "peak_rss_mb_independent_100000",
        "peak_rss_mb_map_100000",
        "dask_traced_ms_per_task_independent",
        "dask_traced_ms_per_task_map",
    }
    # Quick mode never reaches the sizes the goals are set at, so it claims nothing about them.
    assert goals["peak_rss_mb_map_100000"]["met"] is None
    assert goals["prefect_over_flowlight_independent_1000"]["met"] is None
    assert goals["bridge_over_floor"]["met"] is None
    assert goals["files_over_discarding"]["met"] is None
    assert goals["traced_peak_rss_over_untraced_100000"]["met"] is None


def test_cold_start_is_measured_in_fresh_interpreters(quick_results: dict[str, Any]) -> None:
    """A fresh process's first flow run, plain and traced, less its second: both goals carry a
    measured value even in quick mode (one process each)."""
    goals = {g["goal"]: g for g in quick_results["goals"]}
    for mode in ("plain", "traced"):
        runs = [
            r for r in quick_results["runs"] if r["stage"] == "cold_start" and r["mode"] == mode
        ]
        assert runs and all(r["first_seconds"] > 0 for r in runs)
        assert goals[f"cold_start_ms_{mode}"]["measured"] is not None


def test_the_default_file_path_is_measured_beside_the_discarding_one(
    quick_results: dict[str, Any],
) -> None:
    """The headline handler table has the bridge on its default path (OTLP JSON files, which it
    really wrote) beside the bridge into discarding exporters, and their ratio."""
    for row in quick_results["handlers"]:
        assert row["files_added_us_per_task"] is not None
        assert row["files_over_discarding"] is not None
    written = [
        run["telemetry"]["file_bytes"]
        for run in quick_results["runs"]
        if run.get("handlers") == "bridge-files" and run["stage"] in ("handlers", "memory")
    ]
    assert written
    for sizes in written:
        assert sizes["traces.jsonl"] > 0 and sizes["logs.jsonl"] > 0


def test_every_measured_run_reports_its_time_in_the_garbage_collector(
    quick_results: dict[str, Any],
) -> None:
    """Flow runs and floors alike carry their collector time, and the handler rows split the
    bridge's and the floor's cost into collector time and the rest."""
    measured = [r for r in quick_results["runs"] if r["stage"] in ("comparison", "handlers")]
    assert measured
    for run in measured:
        assert 0.0 <= run["gc_seconds"] <= run["seconds"], run
        assert len(run["gc_collections_by_generation"]) == 3
    for row in quick_results["handlers"]:
        assert row["floor_gc_us_per_task"] >= 0.0
        assert row["bridge_over_floor_outside_gc"] is not None


def test_tracing_on_a_dask_cluster_is_measured_with_every_span_written(
    quick_results: dict[str, Any],
) -> None:
    """Each shape ran untraced and traced on the two-worker cluster; every traced run's trace in
    the default files holds a span per task run (and mapped child) and the flow run's. Quick
    mode's 100 tasks are below the goal's size, so its rows claim nothing."""
    runs = [r for r in quick_results["runs"] if r["stage"] == "dask_traced"]
    assert {r["shape"] for r in runs} == {"independent", "map"}
    for run in runs:
        pairs = quick_results["plan"]["dask_traced_repetitions"]
        assert len(run["untraced_cpu_seconds"]) == len(run["traced_cpu_seconds"]) == pairs
        assert all(seconds > 0 for seconds in run["traced_cpu_seconds"])
        assert run["spans_written"] == [run["spans_per_run"]] * pairs
    rows = {r["shape"]: r for r in quick_results["dask_traced"]}
    assert set(rows) == {"independent", "map"}
    assert all(row["spans_complete"] for row in rows.values())
    goals = {g["goal"]: g for g in quick_results["goals"]}
    for shape, row in rows.items():
        assert row["n"] == 100 and row["pairs"] == 1
        goal = goals[f"dask_traced_ms_per_task_{shape}"]
        assert goal["measured"] is None and goal["met"] is None
        assert goal["target"] == 0.5 and goal["better"] == "lower"


def test_results_from_before_the_dask_stage_still_summarize(
    quick_results: dict[str, Any], tmp_path: Path
) -> None:
    """`--summarize` on a results file without the Dask stage's runs reports its goals as not
    measured instead of failing."""
    older = json.loads(json.dumps(quick_results))
    older["runs"] = [r for r in quick_results["runs"] if r["stage"] != "dask_traced"]
    del older["plan"]["dask_traced_tasks"], older["plan"]["dask_traced_repetitions"]
    path = tmp_path / "older.json"
    path.write_text(json.dumps(older))
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--summarize", str(path)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "| dask_traced_ms_per_task_map | — | <= 0.50 | not measured |" in finished.stdout
    goals = {g["goal"]: g for g in json.loads(path.read_text())["goals"]}
    assert goals["dask_traced_ms_per_task_independent"]["met"] is None


def test_the_collector_timer_counts_collections_inside_its_block_only() -> None:
    import gc

    sys.path.insert(0, str(REPOSITORY))
    try:
        from benchmarks.gc_time import GcTimer
    finally:
        sys.path.remove(str(REPOSITORY))

    with GcTimer() as timer:
        gc.collect()
    inside = list(timer.collections)
    gc.collect()
    # Another thread of the suite may set off a collection of its own inside the block too.
    assert inside[2] >= 1
    assert timer.seconds[2] > 0.0
    assert timer.collections == inside, "a collection after the block was counted"
    assert timer.as_dict()["gc_seconds"] == sum(timer.seconds)


def test_the_dask_goal_is_the_medians_difference_and_lost_spans_fail_it() -> None:
    """At 1,000 tasks or more the goal's figure is median traced less median untraced CPU, per
    task; a traced run whose trace lacks spans does not meet the goal, however cheap it was."""
    sys.path.insert(0, str(REPOSITORY))
    try:
        from benchmarks.dask_summary import traced_dask_summary
        from benchmarks.goals import goals
    finally:
        sys.path.remove(str(REPOSITORY))

    def run(shape: str, written: list[int]) -> dict[str, Any]:
        return {
            "stage": "dask_traced",
            "shape": shape,
            "n": 1000,
            "spans_per_run": 1001,
            "spans_written": written,
            "untraced_cpu_seconds": [3.0, 3.4, 3.1],
            "traced_cpu_seconds": [3.3, 3.2, 3.5],
        }

    rows = traced_dask_summary([run("independent", [1001] * 3), run("map", [1001, 1001, 990])])
    assert rows[0]["added_ms_per_task"] == pytest.approx(0.2)
    assert rows[0]["pair_added_ms_per_task"] == pytest.approx([0.3, -0.2, 0.4])
    summary = {"comparison": [], "handlers": [], "growth": [], "dask_traced": rows}
    found = {g["goal"]: g for g in goals(summary)}
    assert found["dask_traced_ms_per_task_independent"]["met"] is True
    assert found["dask_traced_ms_per_task_map"]["measured"] == pytest.approx(0.2)
    assert found["dask_traced_ms_per_task_map"]["met"] is False
