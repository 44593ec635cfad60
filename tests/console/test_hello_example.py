"""`make run`'s example, as a new user sees it on a terminal."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.otel.receivers import HttpReceiver

from .scripts import PYTHON, REPO, clean_env, run_in_terminal, run_piped


def test_the_example_explains_its_failure_and_ends_with_the_drawn_trace(tmp_path: Path) -> None:
    status, screen = run_in_terminal(
        [PYTHON, str(REPO / "examples" / "hello_flow.py")], tmp_path, clean_env(tmp_path)
    )
    assert status == 0, screen
    assert "fails on purpose the first time" in screen
    assert "ConnectionError: source not ready" in screen
    assert "Task 'extract': Retrying Task (after attempt 1 of 3); next attempt at" in screen
    assert "task runs: 8 Success" in screen  # the summary block: n, extract, 5 children, load
    drawn = screen[screen.index(" trace show ") :]
    for label in ("hello-etl", "├─ extract", "├─ transform", "└─ transform[4]", "└─ load"):
        assert label in drawn, label
    assert "Retrying: Retrying Task (after attempt 1 of 3)" in drawn
    assert drawn.rstrip().endswith("then send what was recorded here to it")
    assert "flowlight telemetry replay --endpoint" in drawn


def test_the_next_steps_name_a_flowlight_command_that_runs_without_an_activated_venv(
    tmp_path: Path,
) -> None:
    path = "/usr/bin:/bin"  # `make run` leaves the venv's bin off PATH
    done = run_piped(
        [PYTHON, str(REPO / "examples" / "hello_flow.py")], tmp_path, clean_env(tmp_path, PATH=path)
    )
    assert done.returncode == 0, done.stderr
    steps = done.stdout[done.stdout.index("Next steps:") :].splitlines()
    runs = next(line.split() for line in steps if line.split()[1:] == ["runs"])
    assert shutil.which(runs[0], path=path), runs
    shown = done.stdout[done.stdout.index("$ ") :].split()[1]
    assert shown == runs[0]


def test_pointed_at_a_collector_it_says_where_the_trace_went_instead_of_failing_to_draw_it(
    tmp_path: Path,
) -> None:
    collector = HttpReceiver().start()
    try:
        env = clean_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint)
        done = run_piped([PYTHON, str(REPO / "examples" / "hello_flow.py")], tmp_path, env)
    finally:
        collector.stop()
    assert done.returncode == 0, done.stderr
    assert "no trace" not in done.stderr
    trace_id = {span.trace_id for span in collector.received.spans()}
    assert len(trace_id) == 1, trace_id
    assert f"collector at {collector.endpoint}" in done.stdout
    assert f"/api/traces/{trace_id.pop()}" in done.stdout
