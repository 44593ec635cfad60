"""`python -m benchmarks.notifications` still runs (tiny sizes, one repetition); no figure is
asserted, timings belong to the benchmark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_notification_benchmark_runs_end_to_end() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.notifications", "--size", "20", "--repeat", "1"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    assert any("notifier cost per transition" in line for line in lines)
    assert any("flood control on" in line for line in lines)
    assert any("flood control off" in line for line in lines)
