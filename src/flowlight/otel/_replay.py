"""Send the local OTLP JSON files to a collector: what was spooled, or written while offline.

Each file is first renamed aside, so runs that keep writing start a fresh file and no line is sent
twice; lines the collector refused go back into the spool, lines that are not OTLP JSON are
quarantined beside it, and files a dead replay left aside are picked up. Requests are sent as
they were stored, over the configured protocol, so the collector receives the same bytes an
exporter would have sent.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from flowlight.otel._config import BridgeSettings, read_settings
from flowlight.otel._otlp_json import SIGNALS, Signal, request_from_document
from flowlight.telemetry_files import mark_sent, mark_unsent, signal_files
from flowlight.telemetry_lines import UnreadableLine, otlp_document, store_lines, too_long

if TYPE_CHECKING:
    from google.protobuf.message import Message

__all__ = ["ReplayReport", "replay"]

_GRPC_METHODS: dict[Signal, str] = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}


@dataclass
class ReplayReport:
    """Per signal: export requests sent, kept for a later replay (the collector refused them),
    and quarantined (lines that are not OTLP JSON: moved to `<signal>.jsonl.bad`, never retried;
    `errors` says why, line by line)."""

    sent: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Everything read was sent: nothing kept for later and nothing quarantined now."""
        return not any(self.kept.values()) and not any(self.quarantined.values())


def replay(
    directory: str | os.PathLike[str] | None = None,
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    timeout_s: float = 10.0,
) -> ReplayReport:
    """Send every request in `directory` (default: the bridge's) to the configured collector.

    Files a replay that died left renamed aside (`<signal>.jsonl.replaying-<pid>` of a process
    that is gone) are sent too. A line that is not an OTLP JSON export request of its signal (a
    bad byte, a torn last line from a process killed mid-write, JSON that is not such an object,
    a line over `telemetry_lines.MAX_LINE_BYTES`, copied without being loaded) is moved to
    `<signal>.jsonl.bad` and reported, and every intact line is still sent; a request the
    collector refused goes back into `<signal>.jsonl` for next time.

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
        if target is None:
            continue
        sources = _stranded(path)
        mark_sent(path)  # what the live file holds is being sent now; refusals mark it again
        for source in signal_files(settings.telemetry_dir, signal):  # rotated ones, then live
            aside = source.with_name(f"{source.name}.replaying-{os.getpid()}")
            source.rename(aside)
            sources.append(aside)
        if not sources:
            continue
        send = _sender(settings, signal, target, timeout_s)
        sent, refused = 0, []
        bad = _Quarantine(path.with_name(f"{path.name}.bad"))
        try:
            for source in sources:
                name = source.name.split(".replaying-")[0]  # the name the user knows it by
                for line in store_lines(source, oversized=bad.write):
                    try:
                        if line.raw is None:  # its bytes went to the quarantine as read
                            raise UnreadableLine(too_long(line))
                        raw = line.raw
                        request = _request(signal, raw)
                    except UnreadableLine as error:
                        bad.add(line.raw)
                        report.errors.append(
                            f"{signal}: {name} line {line.number} is not OTLP JSON: {error}"
                        )
                        continue
                    try:
                        send(request)
                        sent += 1
                    except Exception as error:
                        refused.append(raw)
                        report.errors.append(f"{signal}: {error}")
        finally:
            bad.close()
        if refused:
            mark_unsent(path)
            with open(path, "ab") as handle:
                handle.writelines(line + b"\n" for line in refused)
        for source in sources:
            source.unlink()
        report.sent[signal] = sent
        report.kept[signal] = len(refused)
        report.quarantined[signal] = bad.lines
    return report


def _request(signal: Signal, raw: bytes) -> Message:
    """The export request a line holds; UnreadableLine when it holds none (the same rule the
    commands reading the files apply), or when protobuf refuses what it holds."""
    document = otlp_document(raw, signal)
    try:
        return request_from_document(signal, document)
    except Exception as error:
        text = " ".join(str(error).split())
        text = text if len(text) <= 160 else text[:157] + "..."
        raise UnreadableLine(f"not an OTLP {signal} request ({text})") from None


class _Quarantine:
    """`<signal>.jsonl.bad`, opened at the first bad line only (no empty file is left). A line
    over the length limit is written piece by piece as it is read, never held whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self._handle: BinaryIO | None = None

    def write(self, data: bytes) -> None:
        if self._handle is None:
            self._handle = open(self.path, "ab")  # noqa: SIM115 - closed by close()
        self._handle.write(data)

    def add(self, raw: bytes | None) -> None:
        """Count one bad line, and write it unless it was written while read (`raw` None)."""
        if raw is not None:
            self.write(raw + b"\n")
        self.lines += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _stranded(path: Path) -> list[Path]:
    """`<signal>[.<ns>].jsonl.replaying-<pid>` files (the live file or a rotated one, set aside)
    whose replay process is gone, oldest first."""
    found = []
    signal = path.name.split(".")[0]
    for candidate in sorted(path.parent.glob(f"{signal}.*jsonl.replaying-*")):
        pid_text = candidate.name.rsplit("-", 1)[1]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            found.append(candidate)
    return found


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process is not replaying it: a file of ours left from before
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
