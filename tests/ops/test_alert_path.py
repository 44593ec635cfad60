"""The alert path, end to end, with real servers: a flowlight flow fails and retries in a process
whose bridge serves a Prometheus scrape endpoint; a real Prometheus scrapes it and evaluates the
shipped rule file; a real Alertmanager posts the alerts to a webhook in the test.

Scrape rather than remote write: Prometheus 2.42 (Debian 12) has no OTLP receiver, and the
remote-write exporter names metrics differently from the scrape exporter and the collector, so
the dashboards could not serve both. A process that must be alerted on stays alive and is scraped;
short-lived runs go through the collector, whose prometheus exporter Prometheus scrapes in turn.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from ._promql import dashboard_expressions
from ._servers import Server, WebhookReceiver, get_json, query, wait_until
from .conftest import FlowProcess

FLOW = "nightly-etl"
ALERT_BOUND_S = 30


def _wait_for_discovery(prom: Server, flow: FlowProcess) -> None:
    """Prometheus has found its Alertmanager and scrapes the flow process.

    Before that, an alert could be dropped (Alertmanager not yet discovered) or a change missed.
    """
    wait_until(
        lambda: get_json(f"{prom.url}/api/v1/alertmanagers")["data"]["activeAlertmanagers"],
        timeout=30,
        what="Prometheus to discover its Alertmanager",
    )
    wait_until(
        lambda: query(prom.url, f'up{{instance="{flow.target}"}} == 1'),
        timeout=30,
        what="the flow process's scrape target to be up",
    )


def _wait_for_first_run_series(prom: Server) -> None:
    """Prometheus has scraped the first (healthy) run's series: Failed at 0, retries of load."""
    wait_until(
        lambda: (
            query(prom.url, f'flowlight_flow_runs_total{{flow="{FLOW}", state="Failed"}} == 0')
            and query(prom.url, f'flowlight_task_retries_total{{flow="{FLOW}", task="load"}}')
        ),
        timeout=30,
        what="the first run's series (Failed at 0, retries of load) in Prometheus",
    )


def _assert_flow_alerts(failed: dict[str, Any], retries: dict[str, Any]) -> None:
    """Both alerts carry the flow's (and the task's) labels and say what happened."""
    assert failed["labels"] == {
        "alertname": "FlowlightFlowRunFailed",
        "flow": FLOW,
        "severity": "critical",
    }
    assert failed["annotations"]["summary"] == f"Flow {FLOW} has a failed run."
    assert retries["labels"] == {
        "alertname": "FlowlightTaskRetryRateHigh",
        "flow": FLOW,
        "task": "load",
        "severity": "warning",
    }
    retried = re.search(
        rf"of flow {FLOW} was retried (\d+) times", retries["annotations"]["description"]
    )
    assert retried is not None and int(retried[1]) >= 3, retries["annotations"]


def test_failed_run_and_retries_reach_the_webhook_through_alertmanager(
    alert_path: tuple[Server, Server], flow_process: FlowProcess, webhook: WebhookReceiver
) -> None:
    """A healthy run raises no alert; a later run whose task fails all four attempts (three
    retries) makes FlowlightFlowRunFailed and FlowlightTaskRetryRateHigh reach the webhook
    through Alertmanager within 30 s, labelled with the flow (and the task)."""
    prom, _ = alert_path
    assert flow_process.first_state == "Success"
    _wait_for_discovery(prom, flow_process)
    _wait_for_first_run_series(prom)
    assert query(prom.url, "ALERTS") == [], "the healthy first run must not raise an alert"
    assert webhook.firing_alerts() == []

    assert flow_process.run_flow(failing_attempts=4) == "Failed"
    started = time.monotonic()
    failed = webhook.wait_for_alert("FlowlightFlowRunFailed", timeout=ALERT_BOUND_S)
    failed_after = time.monotonic() - started
    retries = webhook.wait_for_alert("FlowlightTaskRetryRateHigh", timeout=ALERT_BOUND_S)
    retries_after = time.monotonic() - started
    print(
        "\nalert at the webhook after the failed run: "
        f"FlowRunFailed {failed_after:.2f} s, TaskRetryRateHigh {retries_after:.2f} s"
    )

    _assert_flow_alerts(failed, retries)
    fired = {alert["labels"]["alertname"] for alert in webhook.firing_alerts()}
    assert fired == {"FlowlightFlowRunFailed", "FlowlightTaskRetryRateHigh"}


@pytest.mark.parametrize("flow_process", [4], indirect=True)
def test_a_process_whose_first_run_failed_before_any_scrape_still_alerts(
    alert_path: tuple[Server, Server], flow_process: FlowProcess, webhook: WebhookReceiver
) -> None:
    """A fresh process's first run failed (three retries) before Prometheus even started, so
    Prometheus first sees its series at Failed=1 and retries=3, with no change to increase()
    over. The rules count the whole value of a series that is new, as they must for short-lived
    processes: both alerts still reach the webhook, and the dashboard shows the failed run."""
    prom, _ = alert_path
    assert flow_process.first_state == "Failed"
    _wait_for_discovery(prom, flow_process)
    failed = webhook.wait_for_alert("FlowlightFlowRunFailed", timeout=ALERT_BOUND_S)
    retries = webhook.wait_for_alert("FlowlightTaskRetryRateHigh", timeout=ALERT_BOUND_S)
    _assert_flow_alerts(failed, retries)

    (runs_by_state,) = [e for e in dashboard_expressions() if "Flow runs by final state" in e.where]
    shown = {
        r["metric"]["state"]: float(r["value"][1]) for r in query(prom.url, runs_by_state.promql)
    }
    assert shown.get("Failed") == 1, f"the dashboard shows {shown} for the failed first run"


def test_every_dashboard_query_returns_series_from_a_real_flow(
    alert_path: tuple[Server, Server], flow_process: FlowProcess
) -> None:
    """Each dashboard target and variable query, run against what Prometheus scraped from the
    bridge after a successful and a failed run, returns at least one series: no panel of the
    dashboard stays empty for a metric or label the bridge does not export."""
    prom, _ = alert_path
    _wait_for_discovery(prom, flow_process)
    _wait_for_first_run_series(prom)
    assert flow_process.run_flow(failing_attempts=4) == "Failed"
    expressions = dashboard_expressions()

    def without_data() -> list[str]:
        return [e.where for e in expressions if not query(prom.url, e.promql)]

    try:
        wait_until(
            lambda: not without_data(), timeout=30, what="every dashboard query to return data"
        )
    except AssertionError as error:
        raise AssertionError(f"dashboard queries without data: {without_data()}") from error
