"""Fixtures that run the shared scenarios on real Prefect 1.4.1 and on flowlight, both traced.

Prefect 1.4.1 is not one of flowlight's dependencies, so it gets its own virtual environment,
created once under `.flowlight/test-venvs/prefect1` (git-ignored) with a single pip install of
`prefect==1.4.1` and this repository (editable), and reused while pyproject.toml is unchanged.
Each engine runs in its own subprocess, exporting over OTLP/HTTP (protobuf) into a receiver of
this test session.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.otel.receivers import HttpReceiver, ReceivedTelemetry

REPO = Path(__file__).resolve().parents[2]
PREFECT_REQUIREMENT = "prefect==1.4.1"
VENV_DIR = REPO / ".flowlight" / "test-venvs" / "prefect1"
SCENARIO_SCRIPT = Path(__file__).with_name("scenarios.py")

# Every scenario the comparison covers; `notify` and `schedule` are run on their own by their tests.
TRACED_SCENARIOS = (
    "success",
    "failure",
    "retries",
    "skip",
    "trigger_failure",
    "mapping",
    "mapping_failure",
    "loop",
    "handler_raises",
)


def _venv_python(directory: Path) -> Path:
    return directory / "bin" / "python"


def _wanted_stamp() -> str:
    """What the venv was built from: the requirement and this project's own dependencies."""
    digest = hashlib.sha256(PREFECT_REQUIREMENT.encode())
    digest.update((REPO / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def ensure_prefect1_venv(directory: Path = VENV_DIR) -> Path:
    """The Python of a venv holding prefect==1.4.1 and flowlight; built on first use, then reused.

    A lock file keeps two test sessions from building it at the same time.
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    stamp_file = directory / ".flowlight-stamp"
    wanted = _wanted_stamp()
    with open(directory.parent / "prefect1.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python = _venv_python(directory)
        if python.exists() and stamp_file.exists() and stamp_file.read_text() == wanted:
            return python
        if not python.exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(directory)
        install = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                PREFECT_REQUIREMENT,
                "-e",
                str(REPO),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if install.returncode != 0:
            pytest.fail(
                f"could not install {PREFECT_REQUIREMENT} into {directory}:\n"
                f"{install.stdout[-3000:]}\n{install.stderr[-3000:]}"
            )
        stamp_file.write_text(wanted)
        return python


@pytest.fixture(scope="session")
def prefect1_python() -> Path:
    """The interpreter of the Prefect 1.4.1 test venv."""
    return ensure_prefect1_venv()


@dataclass
class EngineRun:
    """What one engine's run of the scenarios produced."""

    engine: str
    outcomes: dict[str, dict[str, Any]]  # scenario -> final states, printed by the script
    received: ReceivedTelemetry
    log_lines: list[dict[str, Any]]  # the bridge's structured log events from stderr
    stderr: str


def scenario_env(endpoint: str, engine: str, tmp: Path, **extra: str) -> dict[str, str]:
    """The subprocess environment: OTLP/HTTP to `endpoint`, Prefect's own logging at ERROR,
    flowlight's at INFO so that each transition is a log line."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "FLOWLIGHT", "PREFECT__"))
    }
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_SERVICE_NAME=f"scenarios-on-{engine}",
        FLOWLIGHT__OTEL__TELEMETRY_DIR=str(tmp / "telemetry"),
        PREFECT__LOGGING__LEVEL="ERROR",
        FLOWLIGHT__LOGGING__LEVEL="INFO",  # every transition, not only warnings and errors
        PYTHONPATH=str(REPO / "src"),
        **extra,
    )
    return env


def run_scenarios(
    python: Path,
    engine: str,
    scenarios: tuple[str, ...],
    tmp: Path,
    options: tuple[str, ...] = (),
    **extra_env: str,
) -> EngineRun:
    """Run `scenarios` on `engine` with `python` into a fresh receiver; `options` go to the
    script (`--executor ...`, `--runner ...`)."""
    tmp.mkdir(parents=True, exist_ok=True)
    receiver = HttpReceiver().start()
    try:
        completed = subprocess.run(
            [str(python), str(SCENARIO_SCRIPT), engine, *scenarios, *options],
            env=scenario_env(receiver.endpoint, engine, tmp, **extra_env),
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp,
        )
        assert completed.returncode == 0, (
            f"scenarios on {engine} exited {completed.returncode}:\n{completed.stderr[-4000:]}"
        )
        outcomes = {}
        for line in completed.stdout.splitlines():
            if line.startswith("{"):
                outcome = json.loads(line)
                outcomes[outcome.pop("scenario")] = outcome
        assert set(outcomes) == set(scenarios), completed.stdout
        # The script flushed and shut the bridge down before exiting: what was sent has arrived.
        return EngineRun(
            engine=engine,
            outcomes=outcomes,
            received=receiver.received,
            log_lines=structured_log_lines(completed.stderr),
            stderr=completed.stderr,
        )
    finally:
        receiver.stop()


def structured_log_lines(stderr: str) -> list[dict[str, Any]]:
    """The JSON log events on stderr (other lines, such as Prefect's own, are left out)."""
    events = []
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


@pytest.fixture(scope="module", params=["local", "local-dask-threads"])
def executor(request: pytest.FixtureRequest) -> str:
    """Each comparison runs with Prefect 1's default executor and with its dask threads one
    (and flowlight's counterparts), where task runs share the process but not the thread."""
    return str(request.param)


@pytest.fixture(scope="module")
def prefect1_run(
    prefect1_python: Path, executor: str, tmp_path_factory: pytest.TempPathFactory
) -> EngineRun:
    """Every traced scenario run once on Prefect 1.4.1."""
    tmp = tmp_path_factory.mktemp("prefect1-run")
    return run_scenarios(
        prefect1_python, "prefect", TRACED_SCENARIOS, tmp, ("--executor", executor)
    )


@pytest.fixture(scope="module")
def flowlight_run(executor: str, tmp_path_factory: pytest.TempPathFactory) -> EngineRun:
    """The same scenarios, unchanged but for the import, run once on flowlight."""
    tmp = tmp_path_factory.mktemp("flowlight-run")
    return run_scenarios(
        Path(sys.executable), "flowlight", TRACED_SCENARIOS, tmp, ("--executor", executor)
    )


@pytest.fixture
def webhook_server() -> Iterator[Any]:
    """A real HTTP server on 127.0.0.1 recording the POSTs a notifier makes."""
    from tests.notifications.servers import HttpReceiver as WebhookReceiver

    server = WebhookReceiver()
    try:
        yield server
    finally:
        server.close()
