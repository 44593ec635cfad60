"""Flows the console tests run in a fresh interpreter, and the helpers that run them.

Each test starts a real `python` (or the real `flowlight` command) with stderr on a pseudo-terminal
when it checks what a person sees, or on a pipe when it checks what a log shipper gets.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

RETRY_AND_FAILING_CHILD = """
import datetime, json, sys
import flowlight
from flowlight import Flow, task, context

attempts = {"extract": 0}

@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.2))
def extract():
    attempts["extract"] += 1
    if attempts["extract"] == 1:
        raise ConnectionError("source not ready")
    return [1, 2, 3]

@task
def transform(x):
    context.logger.info("transforming", item=x)
    if x == 2:
        raise RuntimeError("cannot transform 2")
    return x * 10

with Flow("console-demo") as flow:
    transform.map(extract())

if "--traced" in sys.argv:
    import flowlight.otel
    flowlight.otel.instrument(flow)
state = flow.run()
print(json.dumps({"state": type(state).__name__, "trace_id": state.trace_id}))
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user who set nothing: no OTEL_*/FLOWLIGHT* of the test runner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    env["PYTHONPATH"] = str(REPO / "src")
    env["FLOWLIGHT__OTEL__TELEMETRY_DIR"] = str(tmp_path / "telemetry")
    env["COLUMNS"] = "120"
    env.update(extra)
    return env


def write_script(tmp_path: Path, text: str, name: str = "flow_script.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run_in_terminal(
    argv: list[str], tmp_path: Path, env: dict[str, str], timeout: float = 120
) -> tuple[int, str]:
    """Run `argv` with stdout and stderr on a pseudo-terminal; return its exit status and the
    screen's text with the colour codes taken out."""
    child = pexpect.spawn(
        argv[0],
        argv[1:],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=timeout,
        dimensions=(60, 120),
    )
    child.expect(pexpect.EOF)
    child.close()
    status = child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 1)
    return status, ANSI.sub("", child.before or "").replace("\r\n", "\n")


def run_piped(
    argv: list[str], tmp_path: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
    )


PYTHON = sys.executable
