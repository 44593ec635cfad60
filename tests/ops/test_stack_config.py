"""The observability stack's configuration, checked offline: every file parses, the collector
config is structurally sound (see _collector.py for what that covers and what it cannot), and the
pieces of compose.yaml point at each other correctly, with every `${env:NAME:-default}` read as
its default (the compose value). The collector and Jaeger themselves run in tests/stack; Grafana
and Loki never run here; Prometheus's and Alertmanager's own checkers do."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from ._collector import problems
from ._promql import (
    COLLECTOR_CONFIG,
    DASHBOARDS,
    GRAFANA_DATASOURCES,
    PROMETHEUS_RULES,
    PROMTOOL_TESTS,
    load_yaml,
)

COLLECTOR = COLLECTOR_CONFIG / "otel-collector.yaml"
COMPOSE = COLLECTOR_CONFIG / "compose.yaml"
JAEGER = COLLECTOR_CONFIG / "jaeger.yaml"
PINNED_TAG = re.compile(r"^[\w./-]+:v?\d+\.\d+\.\d+$")
ENV_DEFAULT = re.compile(r"\$\{env:(\w+):-([^}]*)\}")


def compose_values(path: Path) -> Any:
    """A config file whose `${env:NAME:-default}` references are read as their defaults, the
    values compose runs it with (native runs set the variables instead)."""
    return yaml.safe_load(ENV_DEFAULT.sub(lambda match: match[2], path.read_text()))


def _shipped_files() -> list[Path]:
    roots = [COLLECTOR_CONFIG, DASHBOARDS, PROMTOOL_TESTS.parent]
    return sorted(
        path
        for root in roots
        for path in root.rglob("*")
        if path.suffix in {".yml", ".yaml", ".json"}
    )


@pytest.mark.parametrize(
    "path", _shipped_files(), ids=lambda p: str(p.relative_to(COLLECTOR_CONFIG.parent))
)
def test_every_shipped_config_file_parses(path: Path) -> None:
    """Each YAML and JSON file under collector-config/, dashboards/ and the promtool tests is a
    non-empty mapping."""
    if path.suffix == ".json":
        document: Any = json.loads(path.read_text())
    else:
        document = load_yaml(path)
    assert isinstance(document, dict) and document, path


def test_collector_config_is_structurally_sound() -> None:
    """The shipped collector configuration has none of the problems _collector.problems() looks
    for."""
    assert problems(compose_values(COLLECTOR)) == []


def test_collector_pipelines_carry_what_the_stack_needs() -> None:
    """Traces go to Jaeger and into the span-metrics connector; metrics (the bridge's and the
    span metrics) go to the Prometheus exporter; logs go to Loki; Jaeger's and Loki's queues
    are on disk and Jaeger's retries never give up."""
    config = compose_values(COLLECTOR)
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["otlp/jaeger", "spanmetrics"]
    assert pipelines["metrics"]["receivers"] == ["otlp", "spanmetrics"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert pipelines["logs"]["exporters"] == ["otlphttp/loki"]
    jaeger = config["exporters"]["otlp/jaeger"]
    assert jaeger["sending_queue"]["storage"] == "file_storage/queue"
    assert jaeger["retry_on_failure"]["max_elapsed_time"] in ("0s", 0)
    assert config["exporters"]["otlphttp/loki"]["sending_queue"]["storage"] == "file_storage/queue"
    # Batched in the disk queues, never in memory ahead of them (tests/stack/test_faults.py).
    assert (
        pipelines["traces"]["processors"] == pipelines["logs"]["processors"] == ["memory_limiter"]
    )
    assert config["exporters"]["prometheus"]["resource_to_telemetry_conversion"]["enabled"] is False


def _break(config: dict[str, Any], how: str) -> dict[str, Any]:
    broken = copy.deepcopy(config)
    pipelines = broken["service"]["pipelines"]
    if how == "undefined exporter":
        pipelines["traces"]["exporters"].append("otlp/tempo")
    elif how == "connector not consumed":
        pipelines["metrics"]["receivers"].remove("spanmetrics")
    elif how == "memory_limiter not first":
        pipelines["metrics"]["processors"].reverse()
    elif how == "batch processor ahead of a disk queue":
        pipelines["traces"]["processors"].append("batch")
    elif how == "queue on a missing extension":
        broken["exporters"]["otlp/jaeger"]["sending_queue"]["storage"] = "file_storage/gone"
    elif how == "misspelt key":
        broken["processors"]["batch"]["send_batch_sise"] = 1
    elif how == "prometheus exporter in a traces pipeline":
        pipelines["traces"]["exporters"].append("prometheus")
    elif how == "receiver on localhost":
        broken["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] = "localhost:4317"
    return broken


@pytest.mark.parametrize(
    "how",
    [
        "undefined exporter",
        "connector not consumed",
        "memory_limiter not first",
        "batch processor ahead of a disk queue",
        "queue on a missing extension",
        "misspelt key",
        "prometheus exporter in a traces pipeline",
        "receiver on localhost",
    ],
)
def test_collector_check_catches_a_broken_config(how: str) -> None:
    """The structural check can fail: each kind of mistake it claims to find, it finds."""
    assert problems(_break(compose_values(COLLECTOR), how)) != []


def test_compose_images_are_pinned_to_exact_versions() -> None:
    """Every service of the stack runs an image with an exact x.y.z tag, never latest."""
    services = load_yaml(COMPOSE)["services"]
    assert set(services) >= {
        "otel-collector",
        "jaeger",
        "prometheus",
        "grafana",
        "loki",
        "alertmanager",
    }
    for name, service in services.items():
        assert PINNED_TAG.match(service["image"]), f"{name}: {service['image']} is not pinned"
        assert "latest" not in service["image"], name


def test_compose_publishes_ports_on_loopback_only_and_mounts_files_that_exist() -> None:
    """No port is published beyond 127.0.0.1, and every file or folder a service mounts from the
    repository exists."""
    for name, service in load_yaml(COMPOSE)["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), f"{name} mounts missing {source}"


def _endpoint(url_or_host: str) -> tuple[str, int]:
    parsed = urlparse(url_or_host if "//" in url_or_host else f"//{url_or_host}")
    assert parsed.hostname is not None and parsed.port is not None, url_or_host
    return parsed.hostname, parsed.port


def test_stack_components_reach_each_other_by_compose_service_name() -> None:
    """Each address one component uses for another names a compose service, and the port is
    the one that service listens on (the collector's own ports come from its config)."""
    services = load_yaml(COMPOSE)["services"]
    collector = compose_values(COLLECTOR)
    prometheus = load_yaml(COLLECTOR_CONFIG / "prometheus.yml")
    listening = {
        "jaeger": {4317, 16686},
        "loki": {3100},
        "prometheus": {9090},
        "alertmanager": {9093},
        "otel-collector": {
            _endpoint(collector["exporters"]["prometheus"]["endpoint"])[1],
            collector["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"][
                "prometheus"
            ]["port"],
        },
    }
    addresses = [
        collector["exporters"]["otlp/jaeger"]["endpoint"],
        collector["exporters"]["otlphttp/loki"]["endpoint"],
        *(s["url"] for s in load_yaml(GRAFANA_DATASOURCES)["datasources"]),
        _jaeger_prometheus(compose_values(JAEGER))["endpoint"],
        *prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"],
        *(
            target
            for job in prometheus["scrape_configs"]
            for config in job["static_configs"]
            for target in config["targets"]
            if not target.startswith("host.docker.internal:")
        ),
    ]
    for address in addresses:
        host, port = _endpoint(address)
        assert host in services, f"{address}: no compose service {host}"
        assert port in listening[host], f"{address}: {host} does not listen on {port}"


def _jaeger_prometheus(jaeger: dict[str, Any]) -> dict[str, Any]:
    """The settings of the Prometheus metric store jaeger_query reads the Monitor tab from."""
    store = jaeger["extensions"]["jaeger_query"]["storage"]["metrics"]
    backend: dict[str, Any] = jaeger["extensions"]["jaeger_storage"]["metric_backends"][store]
    return dict(backend["prometheus"])


def test_jaeger_monitor_tab_reads_the_span_metrics_namespace() -> None:
    """Jaeger queries Prometheus for the span metrics under the namespace the collector's
    connector writes them with."""
    namespace = compose_values(COLLECTOR)["connectors"]["spanmetrics"]["namespace"]
    prometheus = _jaeger_prometheus(compose_values(JAEGER))
    assert prometheus["metric_namespace"] == namespace.replace(".", "_")
    assert prometheus["normalize_calls"] is True


# The Jaeger v2 release each pinned module version of github.com/jaegertracing/jaeger is.
JAEGER_RELEASES = {"v1.75.0": "2.12.0"}


def _required_version(go_mod: Path, module: str) -> str:
    match = re.search(rf"^\s*{re.escape(module)} (v[\w.-]+)", go_mod.read_text(), re.MULTILINE)
    assert match is not None, f"{go_mod} does not require {module}"
    return match[1]


def _debian_version(program: str) -> str:
    shown = subprocess.run(
        [program, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    match = re.search(r"version (\d+\.\d+\.\d+)", shown.stdout + shown.stderr)
    assert match is not None, shown.stdout + shown.stderr
    return match[1]


def test_compose_images_are_the_releases_the_tests_run() -> None:
    """compose.yaml runs what the tests run: the collector release of otelcol/go.mod, the
    Jaeger release of jaeger/go.mod, Prometheus and Alertmanager at the Debian packages'
    versions."""
    images = {name: s["image"] for name, s in load_yaml(COMPOSE)["services"].items()}
    otelcol = _required_version(
        COLLECTOR_CONFIG / "otelcol" / "go.mod", "go.opentelemetry.io/collector/otelcol"
    )
    assert images["otel-collector"] == f"otel/opentelemetry-collector-contrib:{otelcol[1:]}"
    jaeger = _required_version(
        COLLECTOR_CONFIG / "jaeger" / "go.mod", "github.com/jaegertracing/jaeger"
    )
    assert images["jaeger"] == f"jaegertracing/jaeger:{JAEGER_RELEASES[jaeger]}"
    assert images["prometheus"] == f"prom/prometheus:v{_debian_version('prometheus')}"
    assert images["alertmanager"] == (
        f"prom/alertmanager:v{_debian_version('prometheus-alertmanager')}"
    )


def test_every_environment_reference_has_a_default_and_the_native_runner_sets_it() -> None:
    """Each `${env:NAME}` of the collector and Jaeger configs has a default (compose sets
    none), and collector-config/stack.py sets exactly those names for native runs."""
    from tests.stack._programs import free_ports, stack

    ports = free_ports()
    for config, env in (
        (COLLECTOR, stack.collector_env(ports, Path("queue"), "http://127.0.0.1:1/otlp")),
        (JAEGER, stack.jaeger_env(ports)),
    ):
        lines = config.read_text().splitlines()
        text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
        referenced = set(re.findall(r"\$\{env:(\w+)", text))
        with_default = {match[0] for match in ENV_DEFAULT.findall(text)}
        assert referenced == with_default, (
            f"{config.name}: no default for {referenced - with_default}"
        )
        assert referenced == set(env), config.name


def test_prometheus_config_passes_promtool_and_finds_the_mounted_rules(tmp_path: Path) -> None:
    """prometheus.yml, laid out as compose.yaml mounts it (rules in rules/ beside it), passes
    promtool check config, which also loads and checks the rule files it matches."""
    volumes = load_yaml(COMPOSE)["services"]["prometheus"]["volumes"]
    config_target = next(v.split(":")[1] for v in volumes if v.startswith("./prometheus.yml:"))
    rules_target = next(v.split(":")[1] for v in volumes if "prometheus-rules" in v)
    assert Path(rules_target).parent == Path(config_target).parent
    shutil.copy(COLLECTOR_CONFIG / "prometheus.yml", tmp_path / "prometheus.yml")
    (tmp_path / Path(rules_target).name).mkdir()
    shutil.copy(PROMETHEUS_RULES, tmp_path / Path(rules_target).name / PROMETHEUS_RULES.name)
    checked = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 7 rules found" in checked.stdout + checked.stderr


def test_alertmanager_config_passes_amtool() -> None:
    """The shipped Alertmanager configuration passes amtool check-config."""
    checked = subprocess.run(
        ["amtool", "check-config", str(COLLECTOR_CONFIG / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
