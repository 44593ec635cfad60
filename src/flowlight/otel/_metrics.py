"""The metric contract: the instruments dashboards and alert rules are built on, and nothing else.

Names, units, attributes and buckets are fixed here and written down in
docs/telemetry-reference.md; changing one breaks every dashboard built on it. Attributes are
low-cardinality only (flow, task, state, notifier, outcome): never a run id or a map index.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from flowlight.utilities.redaction import redact, registered_secret_count

__all__ = ["DURATION_BUCKETS_S", "FlowMetrics", "PrometheusEndpoint", "start_prometheus_endpoint"]

DURATION_BUCKETS_S: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
)  # fmt: skip


# Task duration attribute sets kept ready (flows x tasks x final states is small; the bound only
# guards a process that runs flows with ever new task names).
_ATTRIBUTE_SETS_KEPT = 4096


class _Tally:
    """A counter kept in this process and read by an observable counter at each collection.

    An SDK counter's `add` validates and hashes its attribute set on every call (about 10 µs);
    a transition only needs one added to a number under a lock. The exported stream is the same
    monotonic sum, read when a reader collects (a periodic export, a flush, a Prometheus scrape),
    so it is never staler than a synchronous counter's would be.
    """

    def __init__(
        self, meter: Meter, name: str, keys: tuple[str, ...], unit: str, description: str
    ) -> None:
        self._keys = keys
        self._counts: dict[tuple[str, ...], int] = {}
        self._lock = threading.Lock()
        meter.create_observable_counter(
            name, callbacks=[self._observe], unit=unit, description=description
        )

    def add(self, amount: int, *values: str) -> None:
        """Add `amount` to the series whose attribute values (in `keys` order) are `values`."""
        with self._lock:
            self._counts[values] = self._counts.get(values, 0) + amount

    def _observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            counts = list(self._counts.items())
        # Labels are masked when read, not when counted: a task's name may hold a secret that
        # the task reads only after its first transition was counted.
        merged: dict[tuple[str, ...], int] = {}
        for values, count in counts:
            masked = tuple(redact(value) for value in values)
            merged[masked] = merged.get(masked, 0) + count
        return [
            Observation(count, dict(zip(self._keys, values, strict=True)))
            for values, count in merged.items()
        ]


class _FlowClock:
    """Per flow: the runs in progress in this process (and when each started), when a run last
    succeeded, and when a scheduled flow's next run is due; read by observable gauges.

    Times are epoch seconds, so a rule compares them with Prometheus's `time()`.
    """

    def __init__(self, meter: Meter) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, dict[str, float]] = {}
        self._last_success: dict[str, float] = {}
        self._next_start: dict[str, float] = {}
        meter.create_observable_gauge(
            "flowlight.flow_runs.in_progress",
            callbacks=[self._in_progress],
            unit="{run}",
            description="Flow runs started and not yet finished in this process, by flow.",
        )
        meter.create_observable_gauge(
            "flowlight.flow_run.oldest_start",
            callbacks=[self._oldest_start],
            unit="s",
            description=(
                "Start time (Unix epoch seconds) of the oldest flow run still in progress, by "
                "flow; 0 when none is."
            ),
        )
        meter.create_observable_gauge(
            "flowlight.flow.last_success",
            callbacks=[self._last_success_time],
            unit="s",
            description="End time (Unix epoch seconds) of the flow's last successful run.",
        )
        meter.create_observable_gauge(
            "flowlight.flow.next_scheduled_start",
            callbacks=[self._next_scheduled_start],
            unit="s",
            description=(
                "When (Unix epoch seconds) a scheduled flow's next run is due, as its schedule "
                "says at the start and end of each run; 0 for a flow with no run due."
            ),
        )

    def started(self, flow: str, run_id: str, at: float, next_start: float | None) -> None:
        with self._lock:
            self._running.setdefault(flow, {})[run_id] = at
            self._set_next_start(flow, next_start)

    def finished(
        self, flow: str, run_id: str, succeeded: bool, at: float, next_start: float | None
    ) -> None:
        with self._lock:
            self._running.get(flow, {}).pop(run_id, None)
            if succeeded:
                self._last_success[flow] = at
            self._set_next_start(flow, next_start)

    def _set_next_start(self, flow: str, next_start: float | None) -> None:
        """NaN: the flow has no schedule (nothing to say); None: its schedule has ended (drop
        the series, so no run is expected); else the time the next run is due."""
        if next_start is None:
            self._next_start.pop(flow, None)
        elif next_start == next_start:  # not NaN
            self._next_start[flow] = next_start

    def _in_progress(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            counts = {flow: len(runs) for flow, runs in self._running.items()}
        return [Observation(n, {"flow": redact(flow)}) for flow, n in counts.items()]

    def _oldest_start(self, _options: CallbackOptions) -> Iterable[Observation]:
        # 0, not absent, when no run is open: the series exists from the flow's first run on
        # (the SDK drops NaN), and the rules read only values above 0.
        with self._lock:
            oldest = {
                flow: min(runs.values()) if runs else 0.0 for flow, runs in self._running.items()
            }
        return [Observation(t, {"flow": redact(flow)}) for flow, t in oldest.items()]

    def _last_success_time(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            times = dict(self._last_success)
        return [Observation(t, {"flow": redact(flow)}) for flow, t in times.items()]

    def _next_scheduled_start(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:  # 0 for a flow with no run due (no schedule, or one that ended)
            times = {flow: self._next_start.get(flow, 0.0) for flow in self._running}
        return [Observation(t, {"flow": redact(flow)}) for flow, t in times.items()]


class FlowMetrics:
    """Records the contract's instruments from what the state handler sees.

    Use `for_meter`: an SDK meter hands back the instrument it already has for a name, callbacks
    and all, so a second `FlowMetrics` on the same meter would count where nobody reads.
    """

    def __init__(self, meter: Meter) -> None:
        self.flow_runs = _Tally(
            meter,
            "flowlight.flow_runs",
            ("flow", "state"),
            unit="{run}",
            description="Finished flow runs, by flow and final state.",
        )
        self.task_runs = _Tally(
            meter,
            "flowlight.task_runs",
            ("flow", "task", "state"),
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
        self.task_retries = _Tally(
            meter,
            "flowlight.task_retries",
            ("flow", "task"),
            unit="{retry}",
            description="Retries scheduled for task runs (transitions into Retrying).",
        )
        self.state_transitions = _Tally(
            meter,
            "flowlight.state_transitions",
            ("flow", "task", "state"),
            unit="{transition}",
            description=(
                "State transitions seen by the bridge, by flow, task (empty for the flow's own) "
                "and new state."
            ),
        )
        self.notifications = _Tally(
            meter,
            "flowlight.notifications",
            ("notifier", "outcome"),
            unit="{notification}",
            description="Notifications by notifier and outcome: sent, failed, suppressed.",
        )
        self.flow_clock = _FlowClock(meter)
        self._duration_attributes: dict[tuple[str, str, str, int], dict[str, str]] = {}

    @classmethod
    def for_meter(cls, meter: Meter) -> FlowMetrics:
        """The one `FlowMetrics` recording into `meter`, made on first use."""
        with _by_meter_lock:
            found = _by_meter.get(meter)
            if found is None:
                found = _by_meter[meter] = cls(meter)
            return found

    def flow_started(
        self, flow: str, run_id: str = "", at: float = 0.0, next_start: float | None = None
    ) -> None:
        """Create the flow's Success, Failed and Crashed series at 0, so `increase()` has a
        first sample, and count the run as in progress from `at` (epoch seconds)."""
        for state in ("Success", "Failed", "Crashed"):
            self.flow_runs.add(0, flow, state)
        self.flow_clock.started(flow, run_id, at, next_start)

    def flow_crashed(self, flow: str) -> None:
        """Count a run of `flow` whose process died mid-run (found by a later process)."""
        self.flow_runs.add(1, flow, "Crashed")

    def transition(self, flow: str, task: str, state: str) -> None:
        self.state_transitions.add(1, flow, task, state)

    def retry(self, flow: str, task: str) -> None:
        self.task_retries.add(1, flow, task)

    def task_finished(self, flow: str, task: str, state: str, seconds: float) -> None:
        self.task_runs.add(1, flow, task, state)
        # One attribute set per (flow, task, state), masked once per set of registered secrets
        # rather than for every task run.
        key = (flow, task, state, registered_secret_count())
        attributes = self._duration_attributes.get(key)
        if attributes is None:
            if len(self._duration_attributes) >= _ATTRIBUTE_SETS_KEPT:
                self._duration_attributes.clear()
            attributes = {"flow": redact(flow), "task": redact(task), "state": state}
            self._duration_attributes[key] = attributes
        self.task_run_duration.record(seconds, attributes)

    def flow_finished(
        self,
        flow: str,
        state: str,
        seconds: float,
        run_id: str = "",
        *,
        succeeded: bool = False,
        at: float = 0.0,
        next_start: float | None = None,
    ) -> None:
        self.flow_clock.finished(flow, run_id, succeeded, at, next_start)
        self.flow_runs.add(1, flow, state)
        self.flow_run_duration.record(seconds, {"flow": redact(flow), "state": state})

    def notification(self, notifier: str, outcome: str) -> None:
        self.notifications.add(1, notifier, outcome)


_by_meter: weakref.WeakKeyDictionary[Meter, FlowMetrics] = weakref.WeakKeyDictionary()
_by_meter_lock = threading.Lock()


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
