"""The metric contract: the instruments dashboards and alert rules are built on, and nothing else.

Names, units, attributes and buckets are fixed here and written down in
docs/telemetry-reference.md; changing one breaks every dashboard built on it. Attributes are
low-cardinality only (flow, task, state, notifier, outcome): never a run id or a map index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.metrics import Meter

__all__ = ["DURATION_BUCKETS_S", "FlowMetrics", "PrometheusEndpoint", "start_prometheus_endpoint"]

DURATION_BUCKETS_S: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
)  # fmt: skip


class FlowMetrics:
    """Records the contract's instruments from what the state handler sees."""

    def __init__(self, meter: Meter) -> None:
        self.flow_runs = meter.create_counter(
            "flowlight.flow_runs",
            unit="{run}",
            description="Finished flow runs, by flow and final state.",
        )
        self.task_runs = meter.create_counter(
            "flowlight.task_runs",
            unit="{run}",
            description=(
                "Finished task runs and mapped children, by flow, task and final state; "
                "a mapped parent counts once as Mapped."
            ),
        )
        self.flow_run_duration = meter.create_histogram(
            "flowlight.flow_run.duration",
            unit="s",
            description="Flow run duration from Running to its final state, in seconds.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS_S),
        )
        self.task_run_duration = meter.create_histogram(
            "flowlight.task_run.duration",
            unit="s",
            description=(
                "Task run duration from its first transition to its final state (retries "
                "included), in seconds."
            ),
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS_S),
        )
        self.task_retries = meter.create_counter(
            "flowlight.task_retries",
            unit="{retry}",
            description="Retries scheduled for task runs (transitions into Retrying).",
        )
        self.state_transitions = meter.create_counter(
            "flowlight.state_transitions",
            unit="{transition}",
            description=(
                "State transitions seen by the bridge, by flow, task (empty for the flow's own) "
                "and new state."
            ),
        )
        self.notifications = meter.create_counter(
            "flowlight.notifications",
            unit="{notification}",
            description="Notifications by notifier and outcome: sent, failed, suppressed.",
        )

    def flow_started(self, flow: str) -> None:
        """Create the flow's Success and Failed series at 0, so `increase()` has a first sample."""
        for state in ("Success", "Failed"):
            self.flow_runs.add(0, {"flow": flow, "state": state})

    def transition(self, flow: str, task: str, state: str) -> None:
        self.state_transitions.add(1, {"flow": flow, "task": task, "state": state})

    def retry(self, flow: str, task: str) -> None:
        self.task_retries.add(1, {"flow": flow, "task": task})

    def task_finished(self, flow: str, task: str, state: str, seconds: float) -> None:
        attributes = {"flow": flow, "task": task, "state": state}
        self.task_runs.add(1, attributes)
        self.task_run_duration.record(seconds, attributes)

    def flow_finished(self, flow: str, state: str, seconds: float) -> None:
        attributes = {"flow": flow, "state": state}
        self.flow_runs.add(1, attributes)
        self.flow_run_duration.record(seconds, attributes)

    def notification(self, notifier: str, outcome: str) -> None:
        self.notifications.add(1, {"notifier": notifier, "outcome": outcome})


@dataclass
class PrometheusEndpoint:
    """A running scrape endpoint: where it listens, and how to stop it."""

    host: str
    port: int
    reader: Any
    server: Any

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_prometheus_endpoint(host: str, port: int) -> PrometheusEndpoint:
    """A Prometheus reader on its own registry, served on host:port (0 picks a free port).

    Its own `CollectorRegistry`, not prometheus_client's global one, so two readers in one process
    never emit duplicate series.
    """
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    reader = PrometheusMetricReader(registry=registry)
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        raise ValueError(
            f"flowlight.otel could not serve Prometheus metrics on {host}:{port} ({error}); "
            "set FLOWLIGHT__OTEL__PROMETHEUS_PORT to a free port, or 0 to pick one"
        ) from error
    return PrometheusEndpoint(host=host, port=int(server.server_port), reader=reader, server=server)
