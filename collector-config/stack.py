"""The flowlight observability stack as local processes on 127.0.0.1, with the shipped configs.

`make stack` runs `stack.py up` and `make stack-down` runs `stack.py down`: the collector and
Jaeger built from otelcol/ and jaeger/ (by the Makefile, into .stack/bin/), Prometheus and
Alertmanager from the Debian packages. The tests in tests/stack/ import this file too, so both
run the very same configuration files the same way:

- otel-collector.yaml and jaeger.yaml take every address and path from `${env:NAME:-default}`,
  whose defaults are the compose values; `collector_env` and `jaeger_env` set them here;
- Prometheus and Alertmanager cannot read environment variables in their configuration, so
  `prometheus_config` and `alertmanager_config` load the shipped files and replace only the
  compose host names with local addresses (and the rules folder with the repository's).

Standard library and PyYAML only: it runs with the project's venv before flowlight is imported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "collector-config"
RULES = REPO / "dashboards" / "prometheus-rules"
BIN = REPO / ".stack" / "bin"
OTELCOL = BIN / "flowlight-otelcol"
JAEGER = BIN / "jaeger"
# Where `up` keeps logs, data and pids; FLOWLIGHT_STACK_DIR moves it (the tests use their own).
RUN = Path(os.environ.get("FLOWLIGHT_STACK_DIR") or REPO / ".stack" / "run")


@dataclass(frozen=True)
class Ports:
    """Where each program listens on 127.0.0.1 (defaults: the compose ports; Jaeger's own OTLP
    receiver moves aside, since the collector holds 4317/4318 on the same host)."""

    otlp_grpc: int = 4317
    otlp_http: int = 4318
    collector_health: int = 13133
    collector_metrics: int = 8889
    collector_telemetry: int = 8888
    jaeger_otlp_grpc: int = 14317
    jaeger_otlp_http: int = 14318
    jaeger_query_http: int = 16686
    jaeger_query_grpc: int = 16685
    jaeger_health: int = 14133
    prometheus: int = 9090
    alertmanager: int = 9093


def _local(port: int) -> str:
    return f"127.0.0.1:{port}"


def collector_env(ports: Ports, queue_dir: Path, loki_otlp_url: str) -> dict[str, str]:
    """The variables otel-collector.yaml reads, for a collector on 127.0.0.1 sending traces to
    the local Jaeger and logs to `loki_otlp_url` (an OTLP/HTTP base URL)."""
    return {
        "OTELCOL_HEALTH_ENDPOINT": _local(ports.collector_health),
        "OTELCOL_QUEUE_DIR": str(queue_dir),
        "OTELCOL_OTLP_GRPC_ENDPOINT": _local(ports.otlp_grpc),
        "OTELCOL_OTLP_HTTP_ENDPOINT": _local(ports.otlp_http),
        "OTELCOL_PROMETHEUS_ENDPOINT": _local(ports.collector_metrics),
        "OTELCOL_TELEMETRY_HOST": "127.0.0.1",
        "OTELCOL_TELEMETRY_PORT": str(ports.collector_telemetry),
        "JAEGER_OTLP_GRPC_ENDPOINT": _local(ports.jaeger_otlp_grpc),
        "LOKI_OTLP_HTTP_ENDPOINT": loki_otlp_url,
    }


def jaeger_env(ports: Ports) -> dict[str, str]:
    """The variables jaeger.yaml reads, for Jaeger on 127.0.0.1 reading span metrics from the
    local Prometheus."""
    return {
        "JAEGER_HEALTH_ENDPOINT": _local(ports.jaeger_health),
        "JAEGER_QUERY_HTTP_ENDPOINT": _local(ports.jaeger_query_http),
        "JAEGER_QUERY_GRPC_ENDPOINT": _local(ports.jaeger_query_grpc),
        "JAEGER_OTLP_GRPC_ENDPOINT": _local(ports.jaeger_otlp_grpc),
        "JAEGER_OTLP_HTTP_ENDPOINT": _local(ports.jaeger_otlp_http),
        "PROMETHEUS_URL": f"http://{_local(ports.prometheus)}",
    }


def _replace_hosts(document: Any, hosts: dict[str, str]) -> Any:
    """`document` with every string that is (or contains) a compose address replaced."""
    if isinstance(document, dict):
        return {key: _replace_hosts(value, hosts) for key, value in document.items()}
    if isinstance(document, list):
        return [_replace_hosts(value, hosts) for value in document]
    if isinstance(document, str):
        for compose_address, local_address in hosts.items():
            document = document.replace(compose_address, local_address)
    return document


def prometheus_config(
    ports: Ports, *, scrape_interval: str | None = None, flow_process: str | None = None
) -> dict[str, Any]:
    """prometheus.yml with its compose addresses made local and its rules read from the
    repository. `scrape_interval` overrides the global scrape and evaluation intervals (tests);
    `flow_process` is the address of a flowlight process's own scrape endpoint, if any."""
    config: dict[str, Any] = yaml.safe_load((CONFIG / "prometheus.yml").read_text())
    hosts = {
        "otel-collector:8889": _local(ports.collector_metrics),
        "otel-collector:8888": _local(ports.collector_telemetry),
        "alertmanager:9093": _local(ports.alertmanager),
        "host.docker.internal:9464": flow_process or "127.0.0.1:9464",
    }
    config = _replace_hosts(config, hosts)
    config["rule_files"] = [str(RULES / "*.yml")]
    if scrape_interval is not None:
        config["global"]["scrape_interval"] = scrape_interval
        config["global"]["evaluation_interval"] = scrape_interval
    return config


def alertmanager_config(webhook_url: str, *, group_wait: str | None = None) -> dict[str, Any]:
    """alertmanager.yml with its webhook pointed at `webhook_url`; `group_wait` overrides the
    route's wait and interval (tests)."""
    config: dict[str, Any] = yaml.safe_load((CONFIG / "alertmanager.yml").read_text())
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = webhook_url
    if group_wait is not None:
        config["route"]["group_wait"] = group_wait
        config["route"]["group_interval"] = "1s"
    return config


def collector_args(config: Path = CONFIG / "otel-collector.yaml") -> list[str]:
    return [str(OTELCOL), f"--config={config}"]


def jaeger_args(config: Path = CONFIG / "jaeger.yaml") -> list[str]:
    return [str(JAEGER), f"--config={config}"]


def prometheus_args(config: Path, data: Path, ports: Ports) -> list[str]:
    return [
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address={_local(ports.prometheus)}",
        "--web.enable-lifecycle",
    ]


def alertmanager_args(config: Path, data: Path, ports: Ports) -> list[str]:
    return [
        "prometheus-alertmanager",
        f"--config.file={config}",
        f"--storage.path={data}",
        f"--web.listen-address={_local(ports.alertmanager)}",
        "--cluster.listen-address=",
    ]


def health_urls(ports: Ports) -> dict[str, str]:
    """The URL that answers 200 once each program is ready."""
    return {
        "collector": f"http://{_local(ports.collector_health)}/",
        "jaeger": f"http://{_local(ports.jaeger_health)}/status",
        "prometheus": f"http://{_local(ports.prometheus)}/-/ready",
        "alertmanager": f"http://{_local(ports.alertmanager)}/-/ready",
    }


def answers(url: str) -> bool:
    """Whether `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status) == 200
    except urllib.error.HTTPError as error:
        error.close()
        return False
    except OSError:
        return False


def wait_ready(name: str, url: str, alive: Callable[[], bool], log: Path, timeout: float) -> None:
    """Poll `url` until it answers 200; fail with the program's log if it exits or the bound
    passes."""
    deadline = time.monotonic() + timeout
    while not answers(url):
        if not alive():
            raise RuntimeError(
                f"{name} exited before it was ready; its log ({log}):\n" + _tail(log)
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{name} not ready at {url} within {timeout} s; its log:\n" + _tail(log)
            )
        time.sleep(0.1)


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# `make stack` / `make stack-down` ------------------------------------------------------------


def _start(name: str, args: list[str], env: dict[str, str]) -> int:
    log = RUN / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            args,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            cwd=RUN,
            start_new_session=True,
        )
    (RUN / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def _alive(pid: int) -> Callable[[], bool]:
    def alive() -> bool:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return finished == 0

    return alive


def up(loki_otlp_url: str, webhook_url: str) -> None:
    for program in (OTELCOL, JAEGER):
        if not program.exists():
            raise SystemExit(f"{program} is missing: run `make stack-binaries` first (needs Go).")
    running = [path.stem for path in RUN.glob("*.pid")] if RUN.exists() else []
    if running:
        raise SystemExit(f"the stack is already running ({', '.join(running)}): make stack-down")
    RUN.mkdir(parents=True, exist_ok=True)
    # FLOWLIGHT_STACK_PORTS: JSON of Ports fields to move, e.g. {"prometheus": 19090}.
    ports = Ports(**json.loads(os.environ.get("FLOWLIGHT_STACK_PORTS") or "{}"))
    (RUN / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config(ports)))
    (RUN / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(webhook_url)))
    programs = {
        "alertmanager": (
            alertmanager_args(RUN / "alertmanager.yml", RUN / "alertmanager-data", ports),
            {},
        ),
        "prometheus": (prometheus_args(RUN / "prometheus.yml", RUN / "prometheus-data", ports), {}),
        "jaeger": (jaeger_args(), jaeger_env(ports)),
        "collector": (collector_args(), collector_env(ports, RUN / "queue", loki_otlp_url)),
    }
    urls = health_urls(ports)
    try:
        for name, (args, env) in programs.items():
            pid = _start(name, args, env)
            wait_ready(name, urls[name], _alive(pid), RUN / f"{name}.log", timeout=60)
    except RuntimeError as error:
        down()
        raise SystemExit(str(error)) from None
    print(
        f"""flowlight stack running (logs and data in {RUN}):
  OTLP in (collector)     grpc http://127.0.0.1:{ports.otlp_grpc}   http http://127.0.0.1:{ports.otlp_http}
  Jaeger query API        http://127.0.0.1:{ports.jaeger_query_http}/api/traces?service=<service>
                          (built from the Go module, Jaeger serves a placeholder page at / instead
                          of the UI, whose assets are not in the module; the API is complete)
  Prometheus              http://127.0.0.1:{ports.prometheus}
  Alertmanager            http://127.0.0.1:{ports.alertmanager}  (webhook -> {webhook_url})
  collector metrics       http://127.0.0.1:{ports.collector_metrics}/metrics
  collector health        http://127.0.0.1:{ports.collector_health}/
Point a flow at it (OTLP/HTTP is the default protocol; for gRPC also set
OTEL_EXPORTER_OTLP_PROTOCOL=grpc and use port {ports.otlp_grpc}):
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{ports.otlp_http} OTEL_SERVICE_NAME=my-flows make run
  curl 'http://127.0.0.1:{ports.jaeger_query_http}/api/traces?service=my-flows'
Stop it with: make stack-down"""
    )


def down() -> None:
    pids = sorted(RUN.glob("*.pid")) if RUN.exists() else []
    for pid_file in pids:
        pid = int(pid_file.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    for pid_file in pids:
        pid = int(pid_file.read_text())
        deadline = time.monotonic() + 15
        while _group_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_exists(pid):
            os.killpg(pid, signal.SIGKILL)
        pid_file.unlink()
        print(f"stopped {pid_file.stem} (pid {pid})")


def _group_exists(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    # Reap it if it is our child (it is not when `down` runs in a later process).
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return True


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument(
        "--loki-otlp-url",
        default=os.environ.get("LOKI_OTLP_HTTP_ENDPOINT", "http://127.0.0.1:3100/otlp"),
        help="OTLP/HTTP base URL the collector sends logs to (they wait in its disk queue "
        "while nothing listens there)",
    )
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("ALERT_WEBHOOK_URL", "http://127.0.0.1:5001/alerts"),
        help="where Alertmanager posts alerts",
    )
    options = parser.parse_args(argv)
    if options.command == "up":
        up(options.loki_otlp_url, options.webhook_url)
    else:
        down()


if __name__ == "__main__":
    main(sys.argv[1:])
