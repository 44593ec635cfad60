"""The README's alerting example (examples/alert_handler.py) runs and prints what the README
shows: one message for the task that failed for good, one for the flow, with the run's trace."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "alert_handler.py"
_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")


def _normalised(lines: list[str]) -> list[str]:
    return [_IDS.sub("<id>", line) for line in lines]


def _readme_output() -> list[str]:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```text\n(--- received POST.*?)```", readme, flags=re.S)
    assert len(blocks) == 1, "the README shows the example's output once"
    return str(blocks[0]).strip().splitlines()


def test_the_alert_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "src")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout.strip().splitlines()
    assert _normalised(printed) == _normalised(_readme_output())
    traces = {line for line in printed if line.startswith("Trace: ")}
    assert len(traces) == 1, "both messages link the one trace of the run"
    assert (tmp_path / ".flowlight" / "telemetry").is_dir(), "the exporters wrote the run"
