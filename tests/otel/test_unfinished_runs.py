"""Runs that never reach a final transition still have their spans exported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .receivers import spans_in

CODE = """
import flowlight.otel
from flowlight import Flow, task
from flowlight.triggers import manual_only

@task
def ok():
    return 1

@task(trigger=manual_only)
def approve(x):
    return x

with Flow("needs-approval") as flow:
    approve(ok())
state = flowlight.otel.instrument(flow).run()
print(repr(state))
"""


def _attributes(span: dict[str, object]) -> dict[str, object]:
    found: dict[str, object] = {}
    for item in span.get("attributes", []):  # type: ignore[attr-defined]
        found[item["key"]] = next(iter(item["value"].values()))
    return found


def test_a_paused_flow_runs_span_is_exported_at_exit_marked_unfinished(tmp_path: Path) -> None:
    """The flow run stops Running with a task Paused: no final transition ends its span, so
    the bridge ends it when the process exits, with the state it reached."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "FLOWLIGHT__OTEL__TELEMETRY_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", CODE],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'Running("Running flow.")'
    spans = {str(s["name"]): s for s in spans_in(tmp_path / "traces.jsonl")}
    assert set(spans) == {"needs-approval", "ok", "approve"}
    flow_span = _attributes(spans["needs-approval"])
    assert flow_span["flowlight.unfinished"] is True
    assert flow_span["flowlight.state"] == "Running"
    assert spans["approve"]["events"][0]["name"] == "Paused"
    assert _attributes(spans["approve"])["flowlight.unfinished"] is True
