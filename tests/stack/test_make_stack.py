"""`make stack` and `make stack-down` (collector-config/stack.py up/down), run as a user runs them,
on free ports and in a temporary directory: the four programs start, a traced example flow shows
up in Jaeger's API, and `down` leaves no process behind."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ._jaeger import JaegerQuery
from ._programs import REPO, free_ports, stack


def _stack(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "collector-config" / "stack.py"), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for whoever inherited it to reap it."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def test_stack_up_runs_a_traced_flow_into_jaeger_and_down_stops_everything(
    binaries: None, tmp_path: Path
) -> None:
    """`up` starts the four programs and prints where they are and how to point a flow at them;
    examples/hello_flow.py, pointed there, is one trace of ten spans in Jaeger; `down` stops
    every program it started and forgets them."""
    ports: Any = free_ports()
    run_dir = tmp_path / "stack"
    env = {
        **os.environ,
        "FLOWLIGHT_STACK_DIR": str(run_dir),
        "FLOWLIGHT_STACK_PORTS": json.dumps(dataclasses.asdict(ports)),
    }
    pids: dict[str, int] = {}
    try:
        up = _stack("up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"http://127.0.0.1:{ports.jaeger_query_http}/api/traces" in up.stdout
        assert f"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{ports.otlp_http}" in up.stdout
        pids = {p.stem: int(p.read_text()) for p in run_dir.glob("*.pid")}
        assert set(pids) == {"collector", "jaeger", "prometheus", "alertmanager"}
        assert stack.answers(stack.health_urls(ports)["prometheus"])

        flow_env = {
            key: value for key, value in env.items() if not key.startswith(("OTEL_", "FLOWLIGHT_"))
        }
        flow_env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{ports.otlp_http}",
            OTEL_SERVICE_NAME="make-stack-example",
        )
        ran = subprocess.run(
            [sys.executable, str(REPO / "examples" / "hello_flow.py")],
            env=flow_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr[-3000:]
        jaeger = JaegerQuery(f"http://127.0.0.1:{ports.jaeger_query_http}")
        spans = jaeger.wait_for_spans("make-stack-example", 10)
        assert len(spans) == 10 and len({s.trace_id for s in spans}) == 1
        assert "hello-etl" in {s.name for s in spans}
    finally:
        down = _stack("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not [name for name, pid in pids.items() if _alive(pid)], "a program outlived down"
    assert list(run_dir.glob("*.pid")) == []
