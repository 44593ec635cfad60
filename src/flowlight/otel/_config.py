"""Where telemetry goes: settings from `OTEL_*` and `FLOWLIGHT__OTEL__*`, read once per configure.

The standard OpenTelemetry variables decide the service, the resource, the endpoints (one for all
signals or one per signal), the protocol, headers and whether the SDK is on at all. flowlight's own
settings cover what the standard does not: where the local files go, how long a flow run's end may
wait for its telemetry, and the Prometheus scrape endpoint.
"""

from __future__ import annotations

import logging
import math
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

# OTEL_BSP_MAX_EXPORT_BATCH_SIZE's and OTEL_BLRP_MAX_EXPORT_BATCH_SIZE's default.
_DEFAULT_BATCH_SIZE = 512

# OTEL_METRIC_EXPORT_INTERVAL's and OTEL_METRIC_EXPORT_TIMEOUT's defaults (milliseconds).
_DEFAULT_METRIC_INTERVAL_MS = 60_000.0
_DEFAULT_METRIC_TIMEOUT_MS = 30_000.0

_log = logging.getLogger("flowlight.otel")


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
    otlp_timeouts_s: dict[Signal, float | None] = field(default_factory=dict)
    span_batch_size: int = _DEFAULT_BATCH_SIZE
    log_batch_size: int = _DEFAULT_BATCH_SIZE
    # The SDK's limits to give explicitly, for the OTEL_*_LIMIT variables it could not use.
    span_limits: dict[str, int] = field(default_factory=dict)
    log_limits: dict[str, int] = field(default_factory=dict)
    metric_export_interval_ms: float = _DEFAULT_METRIC_INTERVAL_MS
    metric_export_timeout_ms: float = _DEFAULT_METRIC_TIMEOUT_MS
    exemplar_filter_unusable: bool = False

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

    Raises ValueError naming the variable or argument when a value cannot be used: an argument
    follows the same rules as its environment variable, and a flag must be a real bool (a string
    such as "false" is refused rather than read as true).
    """
    _check_arguments(
        endpoint=endpoint,
        protocol=protocol,
        service_name=service_name,
        telemetry_dir=telemetry_dir,
        prometheus_port=prometheus_port,
        prometheus_host=prometheus_host,
        flush_timeout_s=flush_timeout_s,
        record_values=record_values,
    )
    endpoints: dict[Signal, str | None] = {}
    protocols: dict[Signal, str] = {}
    for signal in SIGNALS:
        chosen = _protocol(signal, protocol)
        protocols[signal] = chosen
        endpoints[signal] = _endpoint(signal, chosen, endpoint)
    port = prometheus_port
    if port is None:
        port = _number("prometheus_port", None, int, minimum=0, maximum=65535)
    _check_resource_attributes()
    sdk_disabled = _standard_flag("OTEL_SDK_DISABLED")
    unusable_limits = _unusable_limits()
    directory = Path(telemetry_dir) if telemetry_dir else default_directory()
    if not sdk_disabled:
        _check_directory(directory, explicit=telemetry_dir is not None)
    return BridgeSettings(
        sdk_disabled=sdk_disabled,
        endpoints=endpoints,
        protocols=protocols,
        export_timeout_s=_number("export_timeout", 3.0, float, above=0),
        telemetry_dir=directory,
        flush_timeout_s=(
            float(flush_timeout_s)
            if flush_timeout_s is not None
            else _number("flush_timeout", 5.0, float, above=0)
        ),
        retry_after_s=_number("retry_after", 30.0, float, minimum=0),
        prometheus_host=prometheus_host
        or str(setting("otel", "prometheus_host", default="127.0.0.1")),
        prometheus_port=port,
        otel_logs=_flag("logs", os.environ.get("OTEL_LOGS_EXPORTER", "").lower() != "none"),
        console_logs=_flag("console_logs", True),
        record_values=record_values if record_values is not None else _flag("record_values", False),
        service_name=service_name,
        otlp_timeouts_s={signal: _standard_timeout(signal) for signal in SIGNALS},
        span_batch_size=_standard_batch_size("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
        log_batch_size=_standard_batch_size("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"),
        span_limits=_limits(_SPAN_LIMITS, unusable_limits),
        log_limits=_limits(_LOG_LIMITS, unusable_limits),
        metric_export_interval_ms=_standard_millis(
            "OTEL_METRIC_EXPORT_INTERVAL", _DEFAULT_METRIC_INTERVAL_MS, infinite_ok=True
        ),
        metric_export_timeout_ms=_standard_millis(
            "OTEL_METRIC_EXPORT_TIMEOUT", _DEFAULT_METRIC_TIMEOUT_MS
        ),
        exemplar_filter_unusable=_exemplar_filter_unusable(),
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
    if not base.lower().startswith(("http://", "https://")):
        raise ValueError(
            f"flowlight.otel: OTLP endpoint {base!r} is not an http:// or https:// URL; write it "
            "as 'http://127.0.0.1:4318' (http/protobuf) or 'http://127.0.0.1:4317' (grpc)"
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


def _number(
    key: str,
    default: Any,
    kind: type,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> Any:
    value = setting("otel", key, default=default)
    if value is None:
        return None
    return _checked_number(
        env_name("otel", key), value, kind, minimum=minimum, maximum=maximum, above=above
    )


def _checked_number(
    name: str,
    value: Any,
    kind: type,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> Any:
    """`value` as `kind` if it is a finite number within the bounds, else a ValueError naming
    `name` (a variable or an argument), the value and what is accepted."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"flowlight.otel: {name} is {value!r}; it must be a number")
    if not math.isfinite(value):
        raise ValueError(f"flowlight.otel: {name} is {value!r}; it must be a finite number")
    if kind is int and not float(value).is_integer():
        raise ValueError(f"flowlight.otel: {name} is {value!r}; it must be a whole number")
    out_of_range = (
        (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
        or (above is not None and not value > above)
    )
    if out_of_range:
        bounds = [
            f">= {minimum:g}" if minimum is not None else "",
            f"<= {maximum:g}" if maximum is not None else "",
            f"> {above:g}" if above is not None else "",
        ]
        allowed = " and ".join(b for b in bounds if b)
        raise ValueError(f"flowlight.otel: {name} is {value!r}; it must be {allowed}")
    return kind(value)


def _check_arguments(**arguments: Any) -> None:
    """Refuse a `configure()` argument its environment variable would not accept."""

    def refuse(option: str, accepted: str) -> None:
        raise ValueError(
            f"flowlight.otel: configure({option}=...) is {arguments[option]!r}; {accepted}"
        )

    for option in ("endpoint", "protocol", "service_name", "prometheus_host"):
        value = arguments[option]
        if value is not None and (not isinstance(value, str) or not value.strip()):
            refuse(option, "give a non-empty text, or None to take it from the environment")
    endpoint = arguments["endpoint"]
    if endpoint is not None and not endpoint.strip().lower().startswith(("http://", "https://")):
        refuse("endpoint", "give an http:// or https:// URL such as 'http://127.0.0.1:4318'")
    directory = arguments["telemetry_dir"]
    if directory is not None and (
        not isinstance(directory, (str, os.PathLike)) or not os.fspath(directory)
    ):
        refuse("telemetry_dir", "give a directory path (a str or a Path)")
    port = arguments["prometheus_port"]
    if port is not None:
        _checked_number("configure(prometheus_port=...)", port, int, minimum=0, maximum=65535)
        if not isinstance(port, int):
            refuse("prometheus_port", "give a whole number from 0 to 65535")
    timeout = arguments["flush_timeout_s"]
    if timeout is not None:
        _checked_number("configure(flush_timeout_s=...)", timeout, float, above=0)
    record_values = arguments["record_values"]
    if record_values is not None and not isinstance(record_values, bool):
        refuse("record_values", "give True or False")


def _check_directory(directory: Path, *, explicit: bool) -> None:
    """Refuse (an argument) or warn about (the environment's or the default) a telemetry
    directory that cannot be written: every batch kept locally would be lost. Nothing is created
    here; the files make the directory when they first write."""
    problem = directory_problem(directory)
    if problem is None:
        return
    if explicit:
        raise ValueError(
            f"flowlight.otel: configure(telemetry_dir=...) is {str(directory)!r}, but {problem}; "
            "give a directory flowlight can create or write to"
        )
    _log.warning(
        "flowlight.otel: the telemetry directory %s (%s, or the default) cannot be used: %s. "
        "Telemetry kept in local files will be lost: set %s to a writable directory",
        directory,
        env_name("otel", "telemetry_dir"),
        problem,
        env_name("otel", "telemetry_dir"),
    )


def directory_problem(directory: Path) -> str | None:
    """Why files cannot be written in `directory` (made if missing), or None when they can."""
    path = directory.absolute()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        named = "it" if existing == path else str(existing)
        return f"{named} is a file, not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        verb = "written to" if existing == path else "created"
        return f"it cannot be {verb} (no write permission on {existing})"
    return None


# The standard OTEL_* variables follow OpenTelemetry's own rule for a value it cannot use: warn
# and use the default (the SDK's environment-variable specification), never fail.


def _standard_flag(name: str) -> bool:
    """A boolean OTEL_* variable: only `true` (any case) is true; a value other than true, false
    or empty warns and counts as false, as the specification asks."""
    raw = os.environ.get(name, "")
    value = raw.strip().lower()
    if value not in ("true", "false", ""):
        _log.warning(
            "flowlight.otel: %s=%r is not allowed: use true or false; treating it as false",
            name,
            raw,
        )
    return value == "true"


def _standard_timeout(signal: Signal) -> float | None:
    """The export timeout the user chose (seconds, as the Python SDK reads it), or None."""
    chosen: float | None = None
    for name in ("OTEL_EXPORTER_OTLP_TIMEOUT", f"OTEL_EXPORTER_OTLP_{signal.upper()}_TIMEOUT"):
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if value > 0 and value != float("inf"):
            chosen = value
        else:
            _log.warning(
                "flowlight.otel: %s=%r is not allowed: it must be a positive number of seconds; "
                "using flowlight's bounded export time instead",
                name,
                raw,
            )
    return chosen


def _standard_batch_size(name: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return _DEFAULT_BATCH_SIZE
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        _log.warning(
            "flowlight.otel: %s=%r is not allowed: it must be a whole number >= 1; using %d",
            name,
            raw,
            _DEFAULT_BATCH_SIZE,
        )
        return _DEFAULT_BATCH_SIZE
    return value


def _check_resource_attributes() -> None:
    """Warn about OTEL_RESOURCE_ATTRIBUTES entries the SDK will drop (it keeps the rest)."""
    raw = os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if not raw.strip():
        return
    bad = [
        entry for entry in raw.split(",") if "=" not in entry or not entry.split("=", 1)[0].strip()
    ]
    if bad:
        _log.warning(
            "flowlight.otel: OTEL_RESOURCE_ATTRIBUTES=%r has entries that are not key=value with "
            "a non-empty key (%s); they are ignored. Write key1=value1,key2=value2",
            raw,
            ", ".join(repr(entry) for entry in bad),
        )


def _standard_millis(name: str, default: float, *, infinite_ok: bool = False) -> float:
    """A time in milliseconds the SDK reads from `name`: > 0 (the SDK raises on 0 or less, which
    took the whole bridge down), else a warning and `default`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if value > 0 and (infinite_ok or math.isfinite(value)):
        return value
    _log.warning(
        "flowlight.otel: %s=%r is not allowed: it must be a number of milliseconds > 0; using %g",
        name,
        raw,
        default,
    )
    return default


# The SDK's SpanLimits and LogRecordLimits arguments, each with the variable it reads and the
# variable whose value it takes when its own is not set (else: 128, or no limit for a length).
_SPAN_LIMITS: dict[str, tuple[str, str | None]] = {
    "max_attributes": ("OTEL_ATTRIBUTE_COUNT_LIMIT", None),
    "max_events": ("OTEL_SPAN_EVENT_COUNT_LIMIT", None),
    "max_links": ("OTEL_SPAN_LINK_COUNT_LIMIT", None),
    "max_span_attributes": ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT"),
    "max_event_attributes": ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT"),
    "max_link_attributes": ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT"),
    "max_attribute_length": ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", None),
    "max_span_attribute_length": (
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    ),
}
_LOG_LIMITS: dict[str, tuple[str, str | None]] = {
    "max_attributes": ("OTEL_ATTRIBUTE_COUNT_LIMIT", None),
    "max_attribute_length": ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", None),
    "max_log_record_attributes": (
        "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
        "OTEL_ATTRIBUTE_COUNT_LIMIT",
    ),
    "max_log_record_attribute_length": (
        "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    ),
}
_NO_LIMIT = -1  # the SDK's SpanLimits.UNSET and LogRecordLimits.UNSET
_DEFAULT_COUNT_LIMIT = 128


def _unusable_limits() -> set[str]:
    """The OTEL_*_LIMIT variables set to something other than a whole number >= 0 or empty
    (where the SDK raises, and took the whole bridge down), each warned about once."""
    names = {name for table in (_SPAN_LIMITS, _LOG_LIMITS) for name, _ in table.values()}
    unusable = set()
    for name in sorted(names):
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        try:
            usable = int(raw) >= 0
        except ValueError:
            usable = False
        if not usable:
            unusable.add(name)
            _log.warning(
                "flowlight.otel: %s=%r is not allowed: it must be a whole number >= 0 (empty for "
                "no limit); using its default",
                name,
                raw,
            )
    return unusable


def _limits(table: dict[str, tuple[str, str | None]], unusable: set[str]) -> dict[str, int]:
    """Explicit values for the limits whose variable is unusable: what the SDK takes when that
    variable is not set (the others are left for the SDK to read)."""
    chosen: dict[str, int] = {}
    for argument, (name, fallback) in table.items():
        if name not in unusable:
            continue
        value = _NO_LIMIT if "LENGTH" in name else _DEFAULT_COUNT_LIMIT
        if fallback is not None and fallback not in unusable:
            raw = os.environ.get(fallback, "").strip()
            if raw:
                value = int(raw)
        chosen[argument] = value
    return chosen


_EXEMPLAR_FILTERS = ("trace_based", "always_on", "always_off")


def _exemplar_filter_unusable() -> bool:
    """True (after a warning) when OTEL_METRICS_EXEMPLAR_FILTER names no filter (the SDK
    raises); the default, trace_based, is then given explicitly."""
    raw = os.environ.get("OTEL_METRICS_EXEMPLAR_FILTER")
    if raw is None or raw in _EXEMPLAR_FILTERS:
        return False
    _log.warning(
        "flowlight.otel: OTEL_METRICS_EXEMPLAR_FILTER=%r is not allowed: use %s; using %s",
        raw,
        ", ".join(_EXEMPLAR_FILTERS),
        _EXEMPLAR_FILTERS[0],
    )
    return True
