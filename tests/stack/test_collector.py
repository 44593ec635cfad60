"""The shipped collector configuration, run by the collector built from collector-config/otelcol:
it starts and reports healthy, and a broken copy is refused with the collector's own error."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.ops._servers import get_bytes, get_text

from ._programs import Program, ProgramExited, collector, stack


def test_the_shipped_config_starts_and_reports_healthy(
    collector_program: Program, ports: Any
) -> None:
    """With every address from the environment, the collector validates the shipped file,
    starts, reports "Server available" on its health check and serves its Prometheus exporter
    and its own metrics."""
    health = json.loads(get_bytes(stack.health_urls(ports)["collector"]))
    assert health["status"] == "Server available", health
    assert "otelcol_process_uptime" in get_text(
        f"http://127.0.0.1:{ports.collector_telemetry}/metrics"
    )
    get_bytes(f"http://127.0.0.1:{ports.collector_metrics}/metrics")  # answers 200
    log = collector_program.output()
    assert "Everything is ready" in log
    assert " error " not in log.lower().replace("\t", " "), log


def test_validate_accepts_the_shipped_config(ports: Any, tmp_path: Path) -> None:
    """`flowlight-otelcol validate` (the collector's own checker) accepts the shipped file."""
    program = collector(ports, tmp_path, "http://127.0.0.1:9/otlp")
    checked = subprocess.run(
        [*program.args[:1], "validate", *program.args[1:]],
        env={**os.environ, **program.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


BREAKAGES = {
    # what is broken: (text replaced, replacement, what the collector's error must name)
    "misspelt processor type": ("memory_limiter:\n", "memory_limitter:\n", "memory_limitter"),
    "pipeline names a missing exporter": (
        "exporters: [otlp/jaeger, spanmetrics]",
        "exporters: [otlp/jaegr, spanmetrics]",
        "otlp/jaegr",
    ),
    "misspelt setting": ("send_batch_size: 8192", "send_batch_sise: 8192", "send_batch_sise"),
}


@pytest.mark.parametrize("how", sorted(BREAKAGES))
def test_a_broken_config_is_refused_with_the_collectors_own_error(
    how: str, ports: Any, tmp_path: Path
) -> None:
    """A copy of the shipped file with one typo does not start: the collector exits before it is
    healthy, and the error the helper raises is the collector's, naming the typo."""
    old, new, culprit = BREAKAGES[how]
    shipped = (stack.CONFIG / "otel-collector.yaml").read_text()
    assert old in shipped
    broken = tmp_path / "otel-collector.yaml"
    broken.write_text(shipped.replace(old, new, 1))
    program = collector(ports, tmp_path, "http://127.0.0.1:9/otlp", config=broken)
    with pytest.raises(ProgramExited) as refused:
        program.start(timeout=60)
    message = str(refused.value)
    assert "collector exited before it was ready" in message
    assert culprit in message, message
    assert not program.running()
