"""The recorded Prefect 1.4.1 transcripts in tests/engine/transcripts are what Prefect 1.4.1 does
today: the recording script runs again on the real package and must write the same file.

Prefect 1.4.1 asks on stdin before resuming a paused task, so the run gets `y` there, as when the
file was recorded. Independent tasks run in set-iteration order on Prefect, so each scenario's
lines are compared as a multiset and per task; the flow's own lines must match in place.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "engine" / "transcripts"
RECORDED = HERE / "prefect1_4_1.json"


def _per_object(lines: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for line in lines:
        grouped.setdefault(line.split(": ", 1)[0], []).append(line)
    return grouped


def test_the_recorded_file_is_what_prefect_1_4_1_does(
    prefect1_python: Path, tmp_path: Path
) -> None:
    out = tmp_path / "prefect.json"
    done = subprocess.run(
        [str(prefect1_python), str(HERE / "record.py"), "prefect", str(out)],
        input="y\n",
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PREFECT__LOGGING__LEVEL": "ERROR"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    live: dict[str, list[str]] = json.loads(out.read_text())
    recorded: dict[str, list[str]] = json.loads(RECORDED.read_text())
    assert list(live) == list(recorded)
    for scenario, lines in recorded.items():
        assert sorted(live[scenario]) == sorted(lines), scenario
        assert _per_object(live[scenario]) == _per_object(lines), scenario
