"""Running one measurement in a fresh subprocess and reading back its JSON line.

A fresh process per run keeps runs independent (no warm caches, no garbage left by the previous
run) and makes `ru_maxrss` the peak of exactly one run. Both engines log at ERROR only, as in the
reference measurements of Prefect 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "REPOSITORY",
    "BenchmarkFailed",
    "run_cold_start",
    "run_floor",
    "run_traced_dask",
    "run_workload",
]

REPOSITORY = Path(__file__).resolve().parent.parent
# A generous bound per run: the largest default run (100,000 tasks) takes seconds, Prefect's
# 1,000-chain about 20 s.
_TIMEOUT_S = 900


class BenchmarkFailed(RuntimeError):
    """A measured run exited with an error; the message carries its command and stderr."""


def _environment() -> dict[str, str]:
    """The caller's environment without the settings that change what a run records, so every
    run measures flowlight's documented defaults."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "FLOWLIGHT__OTEL__", "FLOWLIGHT__LOGGING__"))
    }
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPOSITORY), env.get("PYTHONPATH", "")) if p
    )
    env["PREFECT__LOGGING__LEVEL"] = "ERROR"
    env["FLOWLIGHT__LOGGING__LEVEL"] = "ERROR"
    env.pop("FLOWLIGHT_OTEL", None)  # the bridge is on only where a run asks for it
    return env


def _run_json(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    finished = subprocess.run(
        command,
        cwd=REPOSITORY,
        env=env or _environment(),
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if finished.returncode != 0 or not lines:
        raise BenchmarkFailed(
            f"{' '.join(command)} exited with {finished.returncode}:\n"
            f"{finished.stderr.strip()[-2000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_workload(
    engine: str, shape: str, n: int, handlers: str, python: Path | str | None = None
) -> dict[str, Any]:
    """One flow run of `engine` (see `benchmarks.workload`), in the interpreter `python`."""
    interpreter = str(python or sys.executable)
    return _run_json([interpreter, "-m", "benchmarks.workload", engine, shape, str(n), handlers])


def run_cold_start(mode: str) -> dict[str, Any]:
    """A fresh interpreter's first flow run, `plain` or `traced` (see `benchmarks.cold_start`).

    Measured as a user's interpreter runs it, with compiled bytecode cached: a first, discarded
    run writes it even when the caller set PYTHONDONTWRITEBYTECODE (otherwise every run would
    compile flowlight's modules anew, some 30 ms more than any user pays after their first run).
    """
    env = _environment()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "benchmarks.cold_start", mode]
    _run_json(command, env)
    return _run_json(command, env)


def run_floor(counts: dict[str, Any]) -> dict[str, Any]:
    """The SDK floor for the telemetry a bridged run reported (see `benchmarks.floor`)."""
    wanted = {k: v for k, v in counts.items() if k != "bridge_statistics"}
    return _run_json([sys.executable, "-m", "benchmarks.floor", json.dumps(wanted)])


def run_traced_dask(n: int, repetitions: int) -> list[dict[str, Any]]:
    """Both shapes of `n` tasks untraced and traced on a fresh two-worker Dask cluster,
    alternating `repetitions` times (see `benchmarks.traced_dask`): a figure per shape."""
    command = [sys.executable, "-m", "benchmarks.traced_dask", "--json"]
    command += ["--tasks", str(n), "--repeat", str(repetitions)]
    figures: list[dict[str, Any]] = _run_json(command)["figures"]
    return figures
