"""The scrape path: the contract's metrics as Prometheus reads them from the bridge's endpoint."""

from __future__ import annotations

from pathlib import Path

import requests

import flowlight.otel as otel

from . import flows


def test_the_prometheus_endpoint_serves_the_contracts_names(tmp_path: Path) -> None:
    """configure(prometheus_port=0) serves /metrics on 127.0.0.1 with the contract's names:
    `_total` counters, `_seconds` histograms with the explicit buckets, descriptions as HELP,
    the resource only in target_info."""
    telemetry = otel.configure(telemetry_dir=str(tmp_path), prometheus_port=0)
    try:
        assert telemetry.prometheus is not None
        assert telemetry.prometheus.host == "127.0.0.1"
        otel.instrument(flows.failing_flow()).run()
        text = requests.get(telemetry.prometheus.url, timeout=10).text
    finally:
        otel.shutdown()
    samples = {
        line.split(" ")[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }

    def sample(prefix: str, **labels: str) -> float:
        matches = [
            value
            for name, value in samples.items()
            if name.startswith(prefix + "{")
            and all(f'{k}="{v}"' in name for k, v in labels.items())
        ]
        assert len(matches) == 1, (prefix, labels, matches)
        return matches[0]

    assert sample("flowlight_flow_runs_total", flow="fails", state="Failed") == 1
    assert sample("flowlight_flow_runs_total", flow="fails", state="Success") == 0
    assert sample("flowlight_task_runs_total", task="bad", state="Failed") == 1
    assert sample("flowlight_task_run_duration_seconds_count", task="bad", state="Failed") == 1
    assert sample("flowlight_task_run_duration_seconds_bucket", task="bad", le="3600.0") == 1
    assert sample("flowlight_state_transitions_total", task="", state="Running") == 1
    assert "# HELP flowlight_flow_runs_total Finished flow runs" in text
    assert "target_info{" in text
    assert "flow_run_id" not in text and "map_index" not in text


def test_a_flow_runs_end_does_not_make_the_next_scrape_serve_a_family_twice(
    tmp_path: Path,
) -> None:
    """The flush at a flow run's end pushes the OTLP readers only; a scrape after two runs
    holds each metric family once."""
    telemetry = otel.configure(telemetry_dir=str(tmp_path), prometheus_port=0)
    try:
        assert telemetry.prometheus is not None
        for _ in range(2):
            otel.instrument(flows.success_flow()).run()
        text = requests.get(telemetry.prometheus.url, timeout=10).text
    finally:
        otel.shutdown()
    help_lines = [line for line in text.splitlines() if line.startswith("# HELP ")]
    assert len(help_lines) == len(set(help_lines))
    assert "# HELP flowlight_flow_runs_total" in text
