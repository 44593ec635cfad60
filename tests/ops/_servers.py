"""Real Prometheus, Alertmanager and a webhook receiver on 127.0.0.1, for the alert-path tests.

Prometheus and Alertmanager are the Debian packages that .ci/system-deps.sh installs. Each runs in
its own process group with its storage in a temporary directory, on a free port, and is stopped by
the fixture that started it whatever the test did. Nothing here sleeps for a fixed time: every
wait polls for the event it needs and fails with what it saw when the bound passes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import yaml
from tests.notifications.servers import free_port

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.05
) -> T:
    """Poll `probe` until it returns something truthy (a non-empty result), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = probe()
            if result:
                return result
        except (OSError, ValueError, KeyError) as error:  # server not up yet, half-written file
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what}; last error: {last_error!r}"
            )
        time.sleep(every)


def get_bytes(url: str, timeout: float = 2.0) -> bytes:
    """The body of a 2xx answer; an HTTP error is raised with its connection closed."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as error:
        error.close()
        raise


def get_json(url: str, timeout: float = 2.0) -> Any:
    return json.loads(get_bytes(url, timeout))


def get_text(url: str, timeout: float = 2.0) -> str:
    return get_bytes(url, timeout).decode("utf-8")


@contextmanager
def process_group(
    args: Sequence[str], log: Path, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `args` in a new session; on exit terminate its whole process group, then kill it."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(args), stdout=output, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )
    try:
        yield process
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class WebhookReceiver:
    """Alertmanager's webhook target: a standard-library HTTP server that keeps every POST body."""

    url: str
    payloads: list[dict[str, Any]] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def record(self, payload: dict[str, Any]) -> None:
        with self._arrived:
            self.payloads.append(payload)
            self._arrived.notify_all()

    def firing_alerts(self) -> list[dict[str, Any]]:
        with self._arrived:
            return [
                alert
                for payload in self.payloads
                for alert in payload.get("alerts", [])
                if alert.get("status") == "firing"
            ]

    def wait_for_alert(self, alertname: str, timeout: float) -> dict[str, Any]:
        """The first firing alert named `alertname`, waiting for its POST if needed."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for payload in self.payloads:
                    for alert in payload.get("alerts", []):
                        labels = alert.get("labels", {})
                        if alert.get("status") == "firing" and labels.get("alertname") == alertname:
                            return dict(alert)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no firing {alertname} reached the webhook within {timeout} s; "
                        f"received: {json.dumps(self.payloads)[:2000]}"
                    )
                self._arrived.wait(remaining)


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = WebhookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}/alerts")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.record(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, name="webhook", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def alertmanager(workdir: Path, webhook_url: str) -> Iterator[Server]:
    """Alertmanager that sends every alert to `webhook_url` at once (group_wait 0s)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "route": {
            "receiver": "webhook",
            "group_by": ["alertname", "flow"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "webhook", "webhook_configs": [{"url": webhook_url}]}],
    }
    config_file = workdir / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    args = [
        "prometheus-alertmanager",
        f"--config.file={config_file}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    url = f"http://127.0.0.1:{port}"
    with process_group(args, workdir / "alertmanager.log") as process:
        server = Server(url, process, workdir / "alertmanager.log")
        wait_until(lambda: _ready(server), timeout=20, what=f"Alertmanager ready at {url}")
        yield server


@contextmanager
def prometheus(
    workdir: Path, *, targets: Sequence[str], alertmanager_url: str, rule_files: Sequence[Path]
) -> Iterator[Server]:
    """Prometheus scraping `targets` and evaluating `rule_files` every second."""
    workdir.mkdir(parents=True, exist_ok=True)
    alertmanager_host = urllib.parse.urlparse(alertmanager_url).netloc
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager_host]}]}]},
        "scrape_configs": [
            {"job_name": "flowlight", "static_configs": [{"targets": list(targets)}]},
        ],
    }
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    args = [
        "prometheus",
        f"--config.file={config_file}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--rules.alert.resend-delay=1s",
    ]
    url = f"http://127.0.0.1:{port}"
    with process_group(args, workdir / "prometheus.log") as process:
        server = Server(url, process, workdir / "prometheus.log")
        wait_until(lambda: _ready(server), timeout=30, what=f"Prometheus ready at {url}")
        yield server


def _ready(server: Server) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(
            f"{server.log.stem} exited with {server.process.returncode}:\n{server.log.read_text()}"
        )
    get_bytes(f"{server.url}/-/ready", timeout=1)  # raises until the server answers 200
    return True


def query(prometheus_url: str, promql: str) -> list[dict[str, Any]]:
    """Result vector of an instant query."""
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    answer = get_json(url)
    if answer.get("status") != "success":
        raise AssertionError(f"Prometheus rejected {promql!r}: {answer}")
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result
