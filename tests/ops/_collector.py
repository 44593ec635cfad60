"""An offline structural check of an OpenTelemetry Collector configuration.

The collector itself runs in tests/stack (built from collector-config/otelcol), where its own
`validate` and startup prove the file loads. This check stays because it is instant and states
the rules our file must keep beyond loading, as far as a table can know them:
- the sections and component ids (`type` or `type/name`) are ones our distribution has, and
  each component's top-level keys are keys it takes;
- every component a pipeline names is defined, every defined one is used, every extension is
  enabled; a pipeline has receivers and exporters;
- each component is used only for signals it supports, and a connector is an exporter in a
  pipeline of its input signal and a receiver in a pipeline of its output signal;
- memory_limiter comes first in every pipeline, and batch, where there is one, last;
- a pipeline whose exporter keeps a queue on disk has no batch processor: the processor holds
  accepted data in memory, where a crash loses it (the queue batches instead);
- a sending queue's storage is an enabled file_storage extension;
- every listening endpoint binds 0.0.0.0 with a port (inside a container, localhost is unreachable).

Its limits: the key tables cover only the components we use, one level deep; value types,
durations and nested keys are not checked.
"""

from __future__ import annotations

from typing import Any

ALL_SIGNALS = frozenset({"traces", "metrics", "logs"})

# component type -> (top-level keys it accepts, signals it handles)
RECEIVERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "otlp": (frozenset({"protocols"}), ALL_SIGNALS),
}
PROCESSORS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "memory_limiter": (
        frozenset(
            {
                "check_interval",
                "limit_mib",
                "spike_limit_mib",
                "limit_percentage",
                "spike_limit_percentage",
            }
        ),
        ALL_SIGNALS,
    ),
    "batch": (
        frozenset(
            {
                "timeout",
                "send_batch_size",
                "send_batch_max_size",
                "metadata_keys",
                "metadata_cardinality_limit",
            }
        ),
        ALL_SIGNALS,
    ),
}
_EXPORTER_HELPER = frozenset({"timeout", "sending_queue", "retry_on_failure", "batcher"})
_CLIENT = frozenset(
    {"endpoint", "tls", "headers", "compression", "auth", "read_buffer_size", "write_buffer_size"}
)
EXPORTERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "otlp": (
        _EXPORTER_HELPER | _CLIENT | {"keepalive", "balancer_name", "wait_for_ready"},
        ALL_SIGNALS,
    ),
    "otlphttp": (
        _EXPORTER_HELPER
        | _CLIENT
        | {"traces_endpoint", "metrics_endpoint", "logs_endpoint", "encoding"},
        ALL_SIGNALS,
    ),
    "prometheus": (
        frozenset(
            {
                "endpoint",
                "tls",
                "namespace",
                "const_labels",
                "send_timestamps",
                "metric_expiration",
                "resource_to_telemetry_conversion",
                "enable_open_metrics",
                "add_metric_suffixes",
            }
        ),
        frozenset({"metrics"}),
    ),
    "debug": (frozenset({"verbosity", "sampling_initial", "sampling_thereafter"}), ALL_SIGNALS),
}
# connector type -> (keys, signal it consumes as an exporter, signal it produces as a receiver)
CONNECTORS: dict[str, tuple[frozenset[str], str, str]] = {
    "spanmetrics": (
        frozenset(
            {
                "histogram",
                "dimensions",
                "exclude_dimensions",
                "dimensions_cache_size",
                "aggregation_temporality",
                "metrics_flush_interval",
                "metrics_expiration",
                "namespace",
                "exemplars",
                "events",
                "resource_metrics_key_attributes",
                "resource_metrics_cache_size",
            }
        ),
        "traces",
        "metrics",
    ),
}
EXTENSIONS: dict[str, frozenset[str]] = {
    "health_check": frozenset(
        {"endpoint", "path", "tls", "check_collector_pipeline", "response_body"}
    ),
    "file_storage": frozenset({"directory", "timeout", "compaction", "fsync", "create_directory"}),
}
SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")


def component_type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def problems(config: dict[str, Any]) -> list[str]:
    """Everything wrong with `config` that the tables above can tell; empty when none."""
    found: list[str] = []
    unknown_sections = set(config) - {*SECTIONS, "service"}
    if unknown_sections:
        found.append(f"unknown top-level sections {sorted(unknown_sections)}")
    sections = {name: dict(config.get(name) or {}) for name in SECTIONS}
    found += _component_keys(sections)
    service = config.get("service") or {}
    pipelines: dict[str, dict[str, list[str]]] = service.get("pipelines") or {}
    if not pipelines:
        found.append("service.pipelines is empty")
    used: dict[str, set[str]] = {name: set() for name in SECTIONS}
    connector_roles: dict[str, dict[str, set[str]]] = {}
    for pipeline_id, pipeline in pipelines.items():
        found += _pipeline(pipeline_id, pipeline, sections, used, connector_roles)
    for connector_id, (_, consumes, produces) in (
        (cid, CONNECTORS[component_type(cid)])
        for cid in sections["connectors"]
        if component_type(cid) in CONNECTORS
    ):
        roles = connector_roles.get(connector_id, {"exporter": set(), "receiver": set()})
        if consumes not in roles["exporter"]:
            found.append(f"connector {connector_id} is not an exporter of any {consumes} pipeline")
        if produces not in roles["receiver"]:
            found.append(f"connector {connector_id} is not a receiver of any {produces} pipeline")
    for section in ("receivers", "processors", "exporters"):
        for component_id in set(sections[section]) - used[section]:
            found.append(f"{section[:-1]} {component_id} is defined but in no pipeline")
    enabled = list(service.get("extensions") or [])
    for extension_id in enabled:
        if extension_id not in sections["extensions"]:
            found.append(f"service.extensions names {extension_id}, which is not defined")
    for extension_id in set(sections["extensions"]) - set(enabled):
        found.append(f"extension {extension_id} is defined but not in service.extensions")
    found += _queues(sections["exporters"], enabled, sections["extensions"])
    found += _endpoints(sections)
    return found


def _component_keys(sections: dict[str, dict[str, Any]]) -> list[str]:
    found: list[str] = []
    tables: dict[str, dict[str, Any]] = {
        "receivers": {t: keys for t, (keys, _) in RECEIVERS.items()},
        "processors": {t: keys for t, (keys, _) in PROCESSORS.items()},
        "exporters": {t: keys for t, (keys, _) in EXPORTERS.items()},
        "connectors": {t: keys for t, (keys, _, _) in CONNECTORS.items()},
        "extensions": dict(EXTENSIONS),
    }
    for section, components in sections.items():
        for component_id, settings in components.items():
            kind = component_type(component_id)
            if kind not in tables[section]:
                found.append(f"{section[:-1]} type {kind!r} ({component_id}) is not one we know")
                continue
            unknown = set(settings or {}) - tables[section][kind]
            if unknown:
                found.append(f"{component_id} has keys {sorted(unknown)} that {kind} does not take")
    return found


def _pipeline(
    pipeline_id: str,
    pipeline: dict[str, list[str]],
    sections: dict[str, dict[str, Any]],
    used: dict[str, set[str]],
    connector_roles: dict[str, dict[str, set[str]]],
) -> list[str]:
    found: list[str] = []
    signal = component_type(pipeline_id)
    if signal not in ALL_SIGNALS:
        return [f"pipeline {pipeline_id}: {signal!r} is not traces, metrics or logs"]
    for role in ("receivers", "exporters"):
        if not pipeline.get(role):
            found.append(f"pipeline {pipeline_id} has no {role}")
    for role, table in (
        ("receivers", RECEIVERS),
        ("exporters", EXPORTERS),
        ("processors", PROCESSORS),
    ):
        for component_id in pipeline.get(role) or []:
            if component_id in sections[role]:
                used[role].add(component_id)
                supported = table.get(component_type(component_id), (frozenset(), ALL_SIGNALS))[1]
                if signal not in supported:
                    found.append(f"pipeline {pipeline_id}: {component_id} does not handle {signal}")
            elif role != "processors" and component_id in sections["connectors"]:
                roles = connector_roles.setdefault(
                    component_id, {"exporter": set(), "receiver": set()}
                )
                roles[role[:-1]].add(signal)
            else:
                found.append(
                    f"pipeline {pipeline_id} names {role[:-1]} {component_id}, which is not defined"
                )
    processors = [component_type(p) for p in pipeline.get("processors") or []]
    if processors[:1] != ["memory_limiter"]:
        found.append(f"pipeline {pipeline_id}: memory_limiter must be the first processor")
    if "batch" in processors and processors[-1] != "batch":
        found.append(f"pipeline {pipeline_id}: batch must be the last processor")
    persistent = [
        exporter_id
        for exporter_id in pipeline.get("exporters") or []
        if ((sections["exporters"].get(exporter_id) or {}).get("sending_queue") or {}).get(
            "storage"
        )
    ]
    if "batch" in processors and persistent:
        found.append(
            f"pipeline {pipeline_id}: a batch processor keeps accepted data in memory ahead of "
            f"the disk queue of {', '.join(persistent)}; batch in the queue instead"
        )
    return found


def _queues(exporters: dict[str, Any], enabled: list[str], extensions: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for exporter_id, settings in exporters.items():
        storage = ((settings or {}).get("sending_queue") or {}).get("storage")
        if storage is None:
            continue
        if storage not in extensions or component_type(storage) != "file_storage":
            found.append(
                f"{exporter_id}: sending_queue.storage {storage} is not a file_storage extension"
            )
        elif storage not in enabled:
            found.append(f"{exporter_id}: sending_queue.storage {storage} is not enabled")
    return found


def _endpoints(sections: dict[str, dict[str, Any]]) -> list[str]:
    listening: list[tuple[str, str]] = []
    for receiver_id, settings in sections["receivers"].items():
        for protocol, options in ((settings or {}).get("protocols") or {}).items():
            listening.append(
                (f"{receiver_id} {protocol}", str((options or {}).get("endpoint", "")))
            )
    for exporter_id, settings in sections["exporters"].items():
        if component_type(exporter_id) == "prometheus":
            listening.append((exporter_id, str((settings or {}).get("endpoint", ""))))
    for extension_id, settings in sections["extensions"].items():
        if component_type(extension_id) == "health_check":
            listening.append((extension_id, str((settings or {}).get("endpoint", ""))))
    return [
        f"{what} listens on {endpoint!r}; in a container it must be 0.0.0.0:<port>"
        for what, endpoint in listening
        if not (endpoint.startswith("0.0.0.0:") and endpoint.rsplit(":", 1)[1].isdigit())
    ]
