"""Fixtures for the ops tests: a flowlight process serving the bridge's scrape endpoint, and real
Prometheus and Alertmanager around it. Every process is stopped when its fixture ends."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.notifications.servers import free_port

from ._promql import PROMETHEUS_RULES
from ._servers import (
    Server,
    WebhookReceiver,
    alertmanager,
    get_text,
    prometheus,
    stop_process_group,
    wait_until,
    webhook_receiver,
)

FLOW_PROCESS = Path(__file__).resolve().parent / "flow_process.py"


@dataclass
class FlowProcess:
    """tests/ops/flow_process.py running with the bridge's scrape endpoint on `metrics_url`."""

    process: subprocess.Popen[str]
    metrics_url: str
    target: str
    lines: queue.Queue[str]
    stderr_log: Path
    first_state: str = ""  # final state of the run made before "ready"

    def run_flow(self, failing_attempts: int, timeout: float = 30) -> str:
        """Run the flow once more with task "load" failing its first attempts; its final state."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{failing_attempts}\n")
        self.process.stdin.flush()
        return self.expect("ran", timeout)

    def expect(self, word: str, timeout: float) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"flow process printed no {word!r} line in {timeout} s "
                    f"(exit code {self.process.poll()}); its stderr:\n{self.stderr_log.read_text()}"
                ) from None
            if line.startswith(word + " "):
                return line.split()[1]


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


@contextmanager
def running_flow_process(
    workdir: Path, webhook: WebhookReceiver, first_failures: int = 1
) -> Iterator[FlowProcess]:
    """The flow process, run in `workdir` (made here), after its first run, endpoint serving.
    The first run's task "load" fails its first `first_failures` attempts (1: it succeeds on its
    retry; 4: the run ends Failed)."""
    port = free_port()
    env = {
        **os.environ,
        "FLOWLIGHT__OTEL__PROMETHEUS_PORT": str(port),
        "FLOWLIGHT__OTEL__PROMETHEUS_HOST": "127.0.0.1",
        "FLOW_PROCESS_NOTIFY_URL": webhook.url.replace("/alerts", "/flowlight"),
        "FLOW_PROCESS_FIRST_FAILURES": str(first_failures),
        "OTEL_SERVICE_NAME": "flowlight-ops-test",
    }
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "FLOWLIGHT_OTEL"):
        env.pop(name, None)
    workdir.mkdir()
    stderr_log = workdir / "stderr.log"
    with stderr_log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(FLOW_PROCESS)],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    lines: queue.Queue[str] = queue.Queue()

    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.strip())

    reader = threading.Thread(target=read_stdout, name="flow-process-stdout", daemon=True)
    reader.start()
    address = f"127.0.0.1:{port}"
    flow = FlowProcess(process, f"http://{address}/metrics", address, lines, stderr_log)
    try:
        flow.first_state = flow.expect("ready", timeout=60)
        wait_until(
            lambda: "flowlight_flow_runs_total" in get_text(flow.metrics_url),
            timeout=10,
            what=f"the bridge's scrape endpoint {flow.metrics_url}",
        )
        yield flow
    finally:
        if process.stdin is not None:
            process.stdin.close()
        stop_process_group(process)
        reader.join(timeout=10)  # ends at end of output, once the process is gone
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def flow_process(
    request: pytest.FixtureRequest, tmp_path: Path, webhook: WebhookReceiver
) -> Iterator[FlowProcess]:
    """The flow process after its first run, endpoint serving. The first run's task "load"
    fails once and succeeds on its retry, or, parametrized indirectly with N, fails its first N
    attempts (4: the run ends Failed)."""
    first_failures = int(getattr(request, "param", 1))
    with running_flow_process(tmp_path / "flow", webhook, first_failures) as flow:
        yield flow


@pytest.fixture
def alert_path(
    tmp_path: Path, webhook: WebhookReceiver, flow_process: FlowProcess
) -> Iterator[tuple[Server, Server]]:
    """(Prometheus, Alertmanager): Prometheus scrapes the flow process every second, evaluates
    the shipped rule file and sends alerts to Alertmanager, which posts them to `webhook`."""
    with (
        alertmanager(tmp_path / "alertmanager", webhook.url) as am,
        prometheus(
            tmp_path / "prometheus",
            targets=[flow_process.target],
            alertmanager_url=am.url,
            rule_files=[PROMETHEUS_RULES],
        ) as prom,
    ):
        yield prom, am
