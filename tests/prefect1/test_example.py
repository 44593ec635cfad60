"""examples/prefect1_flow.py, the README's "Already on Prefect 1?" example, as a user runs it:
first unchanged on Prefect 1.4.1, then with its imports moved to flowlight."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from .conftest import REPO, scenario_env

EXAMPLE = REPO / "examples" / "prefect1_flow.py"

# What the example prints after its run (ids and timings left out).
EXPECTED_TREE = [
    "  nightly-etl [ERROR] Running -> Failed",
    "    extract [ok] Running -> Failed -> exception -> Retrying -> Running -> Success",
    "    invert [ERROR] Mapped",
    "      invert[0] [ERROR] Running -> Failed -> exception",
    "      invert[1] [ok] Running -> Success",
    "      invert[2] [ok] Running -> Success",
    "    load [ERROR] TriggerFailed -> exception",
    "    n [ok] Running -> Success",
]


def run_example(python: Path, script: Path, tmp: Path, env: dict[str, str]) -> list[str]:
    """Run it as a user would, in `tmp`: telemetry goes to ./.flowlight/telemetry there."""
    env = {key: value for key, value in env.items() if key != "FLOWLIGHT__OTEL__TELEMETRY_DIR"}
    env["PREFECT__LOGGING__LEVEL"] = "CRITICAL"  # Prefect 1 logs to stdout, the tracebacks too
    completed = subprocess.run(
        [str(python), str(script)],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout.splitlines()


def test_the_readme_example_traces_and_alerts_a_prefect1_flow(
    prefect1_python: Path, tmp_path: Path, webhook_server: Any
) -> None:
    """On Prefect 1.4.1 the two added lines give the run's trace (read back from the local OTLP
    file) and a Slack alert for the failed run, whose URL is a Prefect 1 local secret."""
    slack_url = webhook_server.url("/services/T0000/B0000/XXXXXXXX")
    env = scenario_env(
        "", "prefect", tmp_path, PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=slack_url
    )
    lines = run_example(prefect1_python, EXAMPLE, tmp_path, env)
    assert lines[0] == "alert: slack sent HTTP 200 OK"
    assert lines[1] == "flow run finished: Failed: Some reference tasks failed."
    assert lines[2].startswith("trace ")
    assert lines[3:] == EXPECTED_TREE
    (post,) = webhook_server.wait_for(1)
    text = post.json()["text"]
    assert text.startswith("Flow 'nightly-etl' is now Failed.")
    assert f"Trace: {lines[2].split()[1].rstrip(':')}" in text


def test_the_same_example_moves_to_flowlight_by_changing_its_imports(
    tmp_path: Path, webhook_server: Any
) -> None:
    """With `prefect` replaced by `flowlight` in its two import lines and nothing else, the
    example runs on flowlight's engine with the same trace and the same alert."""
    source = EXAMPLE.read_text()
    moved = source.replace(
        "from prefect import Flow, Parameter, task\nfrom prefect.engine.state import Failed\n",
        "from flowlight import Flow, Parameter, task\nfrom flowlight.engine.state import Failed\n",
    )
    assert not [
        line for line in moved.splitlines() if line.startswith(("from prefect", "import prefect"))
    ]
    script = tmp_path / "flowlight_flow.py"
    script.write_text(moved)
    slack_url = webhook_server.url("/services/T0000/B0000/XXXXXXXX")
    env = scenario_env(
        "", "flowlight", tmp_path, FLOWLIGHT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=slack_url
    )
    lines = run_example(Path(sys.executable), script, tmp_path, env)
    assert lines[0] == "alert: slack sent HTTP 200 OK"
    assert lines[1] == "flow run finished: Failed: Some reference tasks failed."
    assert lines[3:] == EXPECTED_TREE
    (post,) = webhook_server.wait_for(1)
    assert post.json()["text"].startswith("Flow 'nightly-etl' is now Failed.")
