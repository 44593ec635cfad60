"""`FLOWLIGHT_OTEL=1` and a genuine Prefect 1 flow: flowlight cannot trace a flow that Prefect's
own engine runs without patching Prefect, so it says so on stderr (once) as soon as one of its
handlers sees the flow, naming the fix; an instrumented flow gets no such message."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from prefect import Flow, task
    from prefect.engine.state import Failed
    import flowlight.otel
    from flowlight.utilities.notifications import webhook_notifier

    alert = webhook_notifier(url=os.environ["NOTIFY_URL"], only_states=[Failed])

    @task(state_handlers=[alert])
    def load():
        raise ValueError("nope")

    with Flow("legacy", state_handlers=[alert]) as flow:
        load()
    if sys.argv[1] == "instrumented":
        flowlight.otel.instrument(flow)
    flow.run()
    flow.run()
    """
)
HINT = "FLOWLIGHT_OTEL=1 instruments flows run by flowlight's engine only"


def run(python: Path, tmp: Path, mode: str, url: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    env.update(
        FLOWLIGHT_OTEL="1",
        NOTIFY_URL=url,
        PYTHONPATH=str(REPO / "src"),
        FLOWLIGHT__OTEL__TELEMETRY_DIR=str(tmp / "telemetry"),
        PREFECT__LOGGING__LEVEL="ERROR",
    )
    done = subprocess.run(
        [str(python), "-c", SCRIPT, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


@pytest.mark.parametrize("mode", ["plain", "instrumented"])
def test_flowlight_otel_on_a_prefect1_flow_explains_itself_on_stderr(
    prefect1_python: Path, tmp_path: Path, webhook_server: Any, mode: str
) -> None:
    stderr = run(prefect1_python, tmp_path, mode, webhook_server.url("/hook"))
    webhook_server.wait_for(4)  # two runs, each a task and a flow alert: the handlers ran
    if mode == "plain":
        assert stderr.count(HINT) == 1
        assert "flowlight.otel.instrument(flow)" in stderr and "'legacy'" in stderr
    else:
        assert HINT not in stderr
        assert (tmp_path / "telemetry" / "traces.jsonl").exists()
