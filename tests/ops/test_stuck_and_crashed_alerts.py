"""Stuck and crashed runs, end to end with real servers: a flowlight process whose run hangs is
scraped by a real Prometheus evaluating the shipped rules, and FlowlightFlowRunStuck reaches the
webhook through a real Alertmanager; then the process is killed with SIGKILL, a second flowlight
process (a watchdog) closes the run as Crashed, and FlowlightFlowRunCrashed reaches the webhook.

The stuck threshold is the shipped rule's with 1800 s replaced by 5 s (nothing else changed),
so the test does not wait half an hour. The time from the kill to the crash alert is printed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import yaml
from tests.notifications.servers import free_port

from ._promql import PROMETHEUS_RULES
from ._servers import WebhookReceiver, alertmanager, get_text, prometheus, wait_until

REPO = Path(__file__).resolve().parents[2]
HANGING = textwrap.dedent(
    """
    import time
    import flowlight.otel
    from flowlight import Flow, task

    def hang():
        print("hanging", flush=True)
        time.sleep(600)

    flowlight.otel.instrument(Flow("hung-etl", tasks=[task(hang, name="hang")])).run()
    """
)
WATCHDOG = textwrap.dedent(
    """
    import sys
    import flowlight.otel

    print("closed", flowlight.otel.close_crashed_runs(), flush=True)
    sys.stdin.read()  # serve the scrape endpoint until the test is done
    """
)


def rules_with_short_stuck_threshold(directory: Path) -> Path:
    document = yaml.safe_load(PROMETHEUS_RULES.read_text())
    for rule in document["groups"][0]["rules"]:
        if rule["alert"] == "FlowlightFlowRunStuck":
            assert "> 1800" in rule["expr"]
            rule["expr"] = rule["expr"].replace("> 1800", "> 5")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def flowlight_process(code: str, store: Path, port: int, log: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    env.update(
        FLOWLIGHT__OTEL__TELEMETRY_DIR=str(store),
        FLOWLIGHT__OTEL__PROMETHEUS_PORT=str(port),
        FLOWLIGHT__OTEL__PROMETHEUS_HOST="127.0.0.1",
        PYTHONPATH=str(REPO / "src"),
    )
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def test_a_hung_run_alerts_as_stuck_and_once_killed_as_crashed(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    store = tmp_path / "telemetry"
    hung_port, watchdog_port = free_port(), free_port()
    targets = [f"127.0.0.1:{hung_port}", f"127.0.0.1:{watchdog_port}"]
    rules = rules_with_short_stuck_threshold(tmp_path / "rules")
    hung = flowlight_process(HANGING, store, hung_port, tmp_path / "hung.log")
    watchdog = None
    try:
        assert hung.stdout is not None and hung.stdout.readline().strip() == "hanging"
        with (
            alertmanager(tmp_path / "alertmanager", webhook.url) as am,
            prometheus(
                tmp_path / "prometheus",
                targets=targets,
                alertmanager_url=am.url,
                rule_files=[rules],
            ),
        ):
            stuck = webhook.wait_for_alert("FlowlightFlowRunStuck", timeout=90)
            assert stuck["labels"]["flow"] == "hung-etl"
            assert stuck["annotations"]["summary"] == (
                "A run of flow hung-etl has been in progress for over 30 minutes."
            )

            hung.send_signal(signal.SIGKILL)
            hung.wait(30)
            killed_at = time.monotonic()
            watchdog = flowlight_process(WATCHDOG, store, watchdog_port, tmp_path / "dog.log")
            assert watchdog.stdout is not None
            assert watchdog.stdout.readline().strip() == "closed 1"
            wait_until(
                lambda: 'state="Crashed"' in get_text(f"http://{targets[1]}/metrics"),
                timeout=10,
                what="the watchdog's endpoint to serve the Crashed count",
            )
            crashed = webhook.wait_for_alert("FlowlightFlowRunCrashed", timeout=90)
            seconds = time.monotonic() - killed_at
    finally:
        for process in (hung, watchdog):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(30)
    assert crashed["labels"] == {
        "alertname": "FlowlightFlowRunCrashed",
        "flow": "hung-etl",
        "severity": "critical",
    }
    print(f"from SIGKILL to FlowlightFlowRunCrashed at the webhook: {seconds:.1f} s")
