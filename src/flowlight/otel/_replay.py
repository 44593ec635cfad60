"""Send the local OTLP JSON files to a collector: what was spooled, or written while offline.

Each file is first renamed aside, so runs that keep writing start a fresh file and no line is sent
twice; lines the collector refused go back into the spool. Requests are sent as they were stored,
over the configured protocol, so the collector receives the same bytes an exporter would have sent.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from flowlight.otel._config import BridgeSettings, read_settings
from flowlight.otel._otlp_json import SIGNALS, Signal, request_from_json_line

__all__ = ["ReplayReport", "replay"]

_GRPC_METHODS: dict[Signal, str] = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}


@dataclass
class ReplayReport:
    """How many export requests per signal were sent, and how many were kept for later."""

    sent: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not any(self.kept.values())


def replay(
    directory: str | os.PathLike[str] | None = None,
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    timeout_s: float = 10.0,
) -> ReplayReport:
    """Send every request in `directory` (default: the bridge's) to the configured collector.

    Raises ValueError when no collector endpoint is configured (there would be nowhere to send).
    """
    settings = read_settings(endpoint=endpoint, protocol=protocol, telemetry_dir=directory)
    if not settings.uses_collector:
        raise ValueError(
            "flowlight.otel replay needs a collector: set OTEL_EXPORTER_OTLP_ENDPOINT "
            "(or pass endpoint=...) to where the files should go"
        )
    report = ReplayReport()
    for signal in SIGNALS:
        target = settings.endpoints[signal]
        path = settings.telemetry_dir / f"{signal}.jsonl"
        if target is None or not path.exists():
            continue
        aside = path.with_name(f"{path.name}.replaying-{os.getpid()}")
        path.rename(aside)
        sent, refused = 0, []
        send = _sender(settings, signal, target, timeout_s)
        for line in aside.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                send(request_from_json_line(signal, line))
                sent += 1
            except Exception as error:
                refused.append(line)
                report.errors.append(f"{signal}: {error}")
        if refused:
            with open(path, "a", encoding="utf-8") as handle:
                handle.writelines(line + "\n" for line in refused)
        aside.unlink()
        report.sent[signal] = sent
        report.kept[signal] = len(refused)
    return report


def _sender(settings: BridgeSettings, signal: Signal, target: str, timeout_s: float) -> Any:
    headers = _headers(signal)
    if settings.protocols[signal] == "grpc":
        return _grpc_sender(signal, target, headers, timeout_s)

    def post(request: Message) -> None:
        import requests

        response = requests.post(
            target,
            data=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf", **headers},
            timeout=timeout_s,
        )
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"{target} answered HTTP {response.status_code}")

    return post


def _grpc_sender(signal: Signal, target: str, headers: dict[str, str], timeout_s: float) -> Any:
    import grpc

    parsed = urllib.parse.urlparse(target if "://" in target else f"http://{target}")
    address = parsed.netloc or parsed.path
    channel = (
        grpc.secure_channel(address, grpc.ssl_channel_credentials())
        if parsed.scheme == "https"
        else grpc.insecure_channel(address)
    )
    call = channel.unary_unary(
        _GRPC_METHODS[signal],
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=lambda data: data,
    )
    metadata = [(key.lower(), value) for key, value in headers.items()]

    def export(request: Message) -> None:
        call(request, timeout=timeout_s, metadata=metadata or None)

    return export


def _headers(signal: Signal) -> dict[str, str]:
    """OTEL_EXPORTER_OTLP_HEADERS and the per-signal variable: `key=value,key2=value2`."""
    headers: dict[str, str] = {}
    for name in ("OTEL_EXPORTER_OTLP_HEADERS", f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS"):
        for pair in os.environ.get(name, "").split(","):
            if "=" in pair:
                key, value = pair.split("=", 1)
                headers[urllib.parse.unquote(key.strip())] = urllib.parse.unquote(value.strip())
    return headers
