"""Where telemetry goes: settings from `OTEL_*` and `FLOWLIGHT__OTEL__*`, read once per configure.

The standard OpenTelemetry variables decide the service, the resource, the endpoints (one for all
signals or one per signal), the protocol, headers and whether the SDK is on at all. flowlight's own
settings cover what the standard does not: where the local files go, how long a flow run's end may
wait for its telemetry, and the Prometheus scrape endpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowlight.otel._otlp_json import SIGNALS, Signal
from flowlight.otel._spool import default_directory
from flowlight.settings import env_name, setting

__all__ = ["PROTOCOLS", "BridgeSettings", "read_settings"]

PROTOCOLS = ("grpc", "http/protobuf")

# The OTLP specification's default; the gRPC exporter needs an explicit choice.
_DEFAULT_PROTOCOL = "http/protobuf"


@dataclass(frozen=True)
class BridgeSettings:
    """Everything `configure()` needs, resolved; one value per signal where OTLP allows it."""

    sdk_disabled: bool
    endpoints: dict[Signal, str | None]
    protocols: dict[Signal, str]
    export_timeout_s: float | None
    telemetry_dir: Path
    flush_timeout_s: float
    retry_after_s: float
    prometheus_host: str
    prometheus_port: int | None
    otel_logs: bool
    console_logs: bool
    record_values: bool
    service_name: str | None = None
    resource_attributes: dict[str, str] = field(default_factory=dict)

    @property
    def uses_collector(self) -> bool:
        return any(self.endpoints.values())


def read_settings(
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    service_name: str | None = None,
    telemetry_dir: str | os.PathLike[str] | None = None,
    prometheus_port: int | None = None,
    prometheus_host: str | None = None,
    flush_timeout_s: float | None = None,
    record_values: bool | None = None,
) -> BridgeSettings:
    """Resolve arguments over `FLOWLIGHT__OTEL__*` over `OTEL_*` over defaults.

    Raises ValueError naming the variable or argument when a value cannot be used.
    """
    endpoints: dict[Signal, str | None] = {}
    protocols: dict[Signal, str] = {}
    for signal in SIGNALS:
        chosen = _protocol(signal, protocol)
        protocols[signal] = chosen
        endpoints[signal] = _endpoint(signal, chosen, endpoint)
    port = prometheus_port
    if port is None:
        port = _number("prometheus_port", None, int)
    return BridgeSettings(
        sdk_disabled=os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true",
        endpoints=endpoints,
        protocols=protocols,
        export_timeout_s=_number("export_timeout", 3.0, float),
        telemetry_dir=Path(telemetry_dir) if telemetry_dir else default_directory(),
        flush_timeout_s=(
            flush_timeout_s
            if flush_timeout_s is not None
            else _number("flush_timeout", 5.0, float) or 5.0
        ),
        retry_after_s=_number("retry_after", 30.0, float) or 0.0,
        prometheus_host=prometheus_host
        or str(setting("otel", "prometheus_host", default="127.0.0.1")),
        prometheus_port=port,
        otel_logs=_flag("logs", os.environ.get("OTEL_LOGS_EXPORTER", "").lower() != "none"),
        console_logs=_flag("console_logs", True),
        record_values=record_values if record_values is not None else _flag("record_values", False),
        service_name=service_name,
    )


def _protocol(signal: Signal, explicit: str | None) -> str:
    name = f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL"
    value = explicit or os.environ.get(name) or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    chosen = (value or _DEFAULT_PROTOCOL).strip().lower()
    if chosen not in PROTOCOLS:
        source = "configure(protocol=...)" if explicit else f"{name} / OTEL_EXPORTER_OTLP_PROTOCOL"
        raise ValueError(
            f"flowlight.otel: {source} is {value!r}; use 'grpc' or 'http/protobuf' "
            "(http/json is not supported)"
        )
    return chosen


def _endpoint(signal: Signal, protocol: str, explicit: str | None) -> str | None:
    """The full URL the exporter posts to (HTTP) or the host URL it dials (gRPC), or None."""
    if not explicit:
        specific = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT", "").strip()
        if specific:
            return specific
    base = (explicit or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")).strip()
    if not base:
        return None
    if "://" not in base:
        raise ValueError(
            f"flowlight.otel: OTLP endpoint {base!r} has no scheme; write it as a URL such as "
            "'http://127.0.0.1:4318' (http/protobuf) or 'http://127.0.0.1:4317' (grpc)"
        )
    if protocol == "http/protobuf":
        return base.rstrip("/") + f"/v1/{signal}"
    return base


def _flag(key: str, default: bool) -> bool:
    value = setting("otel", key, default=default)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    raise ValueError(f"flowlight.otel: {env_name('otel', key)} is {value!r}; use true or false")


def _number(key: str, default: Any, kind: type) -> Any:
    value = setting("otel", key, default=default)
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return None if value is None else kind(value)
    raise ValueError(f"flowlight.otel: {env_name('otel', key)} is {value!r}; it must be a number")
