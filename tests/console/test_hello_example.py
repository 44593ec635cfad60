"""`make run`'s example, as a new user sees it on a terminal."""

from __future__ import annotations

from pathlib import Path

from .scripts import PYTHON, REPO, clean_env, run_in_terminal


def test_the_example_explains_its_failure_and_ends_with_the_drawn_trace(tmp_path: Path) -> None:
    status, screen = run_in_terminal(
        [PYTHON, str(REPO / "examples" / "hello_flow.py")], tmp_path, clean_env(tmp_path)
    )
    assert status == 0, screen
    assert "fails on purpose the first time" in screen
    assert "ConnectionError: source not ready" in screen
    assert "Task 'extract': Retrying Task (after attempt 1 of 3); next attempt at" in screen
    assert "task runs: 8 Success" in screen  # the summary block: n, extract, 5 children, load
    drawn = screen[screen.index("$ flowlight trace show ") :]
    for label in ("hello-etl", "├─ extract", "├─ transform", "└─ transform[4]", "└─ load"):
        assert label in drawn, label
    assert "Retrying: Retrying Task (after attempt 1 of 3)" in drawn
    assert drawn.rstrip().endswith("then send what was recorded here to it")
    assert "flowlight telemetry replay --endpoint" in drawn
