"""Metrics by the collector's route: the bridge pushes OTLP to the real collector, whose Prometheus
exporter the real Prometheus (Debian) scrapes with the shipped prometheus.yml and rule file; its
alerts go through the real Alertmanager (shipped alertmanager.yml) to a webhook in the test.
Jaeger's Monitor API reads the collector's span metrics from that Prometheus.

Only the addresses of the shipped Prometheus and Alertmanager files are made local (see
collector-config/stack.py), with 1 s scrape, evaluation and grouping so the test is quick.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.notifications.servers import free_port
from tests.ops._promql import dashboard_expressions, prometheus_rule_expressions
from tests.ops._servers import WebhookReceiver, get_json, query, wait_until, webhook_receiver

import flowlight.otel as otel
from flowlight import Flow, Parameter, context, task
from flowlight.utilities.notifications.notifiers import webhook_notifier

from ._programs import Program, stack

FLOW = "nightly-etl"
SERVICE = "flowlight-stack-metrics"


@task(max_retries=3, retry_delay=timedelta(milliseconds=10))
def load(failing_attempts: int) -> str:
    attempt = int(context.get("task_run_count", 1))
    if attempt <= failing_attempts:
        raise RuntimeError(f"warehouse unavailable (attempt {attempt})")
    return "loaded"


def nightly_etl(notify_url: str) -> Flow:
    """The flow, with a webhook notifier so the notification metrics have data too."""
    with Flow(FLOW, state_handlers=[webhook_notifier(url=notify_url)]) as flow:
        load(Parameter("failing_attempts"))
    return otel.instrument(flow)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def prometheus_route(
    ports: Any, tmp_path: Path, collector_program: Program, webhook: WebhookReceiver
) -> Iterator[str]:
    """Alertmanager and Prometheus running the shipped files; yields Prometheus's URL."""
    workdir = tmp_path / "route"
    workdir.mkdir()
    (workdir / "alertmanager.yml").write_text(
        yaml.safe_dump(stack.alertmanager_config(webhook.url, group_wait="0s"))
    )
    # The shipped file also scrapes a long-running flow process: none runs here.
    config = stack.prometheus_config(
        ports, scrape_interval="1s", flow_process=f"127.0.0.1:{free_port()}"
    )
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    urls = stack.health_urls(ports)
    alertmanager = Program(
        "alertmanager",
        stack.alertmanager_args(workdir / "alertmanager.yml", workdir / "am-data", ports),
        {},
        urls["alertmanager"],
        workdir / "alertmanager.log",
    )
    prometheus = Program(
        "prometheus",
        [
            *stack.prometheus_args(workdir / "prometheus.yml", workdir / "prom-data", ports),
            "--rules.alert.resend-delay=1s",
        ],
        {},
        urls["prometheus"],
        workdir / "prometheus.log",
    )
    try:
        alertmanager.start()
        prometheus.start()
        url = f"http://127.0.0.1:{ports.prometheus}"
        wait_until(
            lambda: get_json(f"{url}/api/v1/alertmanagers")["data"]["activeAlertmanagers"],
            timeout=30,
            what="Prometheus to discover its Alertmanager",
        )
        wait_until(
            lambda: query(url, 'up{job="otel-collector"} == 1'),
            timeout=30,
            what="Prometheus to scrape the collector's exporter",
        )
        yield url
    finally:
        prometheus.stop()
        alertmanager.stop()


def without_comparison(promql: str) -> str:
    """An alert expression without its final threshold: the figures it compares."""
    return re.sub(r"\)\s*(>=?|<=?|==|!=)\s*[\d.]+\s*$", ")", promql.strip())


def test_a_failed_flow_alerts_through_the_collector_and_every_query_has_data(
    prometheus_route: str, bridge_to: Any, webhook: WebhookReceiver, ports: Any
) -> None:
    """A successful run and then a run whose task fails all four attempts, pushed to the
    collector: FlowlightFlowRunFailed and FlowlightTaskRetryRateHigh reach the webhook through
    Prometheus and Alertmanager; every dashboard query and the figures of the alert rules that
    can have data within a test (not the 6 h and 300 s ones) return series scraped from the
    collector; Jaeger's Monitor API returns call rates for the flow's service."""
    bridge_to("grpc", SERVICE)
    flow = nightly_etl(webhook.url.replace("/alerts", "/flowlight"))
    assert type(flow.run(parameters={"failing_attempts": 1})).__name__ == "Success"
    assert type(flow.run(parameters={"failing_attempts": 4})).__name__ == "Failed"
    otel.shutdown()  # flushes the metrics to the collector

    failed = webhook.wait_for_alert("FlowlightFlowRunFailed", timeout=60)
    retries = webhook.wait_for_alert("FlowlightTaskRetryRateHigh", timeout=60)
    assert failed["labels"] == {
        "alertname": "FlowlightFlowRunFailed",
        "flow": FLOW,
        "severity": "critical",
    }
    assert retries["labels"]["task"] == "load"

    series = query(prometheus_route, f'flowlight_flow_runs_total{{flow="{FLOW}"}}')
    assert {s["metric"]["job"] for s in series} == {SERVICE}, "collector-routed, by service"
    runs = {s["metric"]["state"]: s["value"][1] for s in series}
    assert {state: n for state, n in runs.items() if n != "0"} == {"Success": "1", "Failed": "1"}

    expressions = [(e.where, e.promql) for e in dashboard_expressions()] + [
        (e.where, without_comparison(e.promql))
        for e in prometheus_rule_expressions()
        if "FlowRunFailed" in e.where or "TaskRetryRateHigh" in e.where
    ]

    def without_data() -> list[str]:
        return [where for where, promql in expressions if not query(prometheus_route, promql)]

    try:
        wait_until(lambda: not without_data(), timeout=30, what="every query to return data")
    except AssertionError as error:
        raise AssertionError(f"queries without data: {without_data()}") from error

    # A call rate needs the span metrics' counter to grow between two scrapes: one more run,
    # flushed by the collector after the first runs' figures were scraped.
    bridge_to("grpc", SERVICE)
    assert type(flow.run(parameters={"failing_attempts": 0})).__name__ == "Success"
    otel.shutdown()

    def call_rates() -> list[Any]:
        monitor = f"http://127.0.0.1:{ports.jaeger_query_http}/api/metrics/calls?" + (
            urllib.parse.urlencode(
                {
                    "service": SERVICE,
                    "spanKind": "internal",  # the bridge's spans; the API's default is server
                    "endTs": int(time.time() * 1000),
                    "lookback": 600_000,
                    "step": 5_000,
                    "ratePer": 60_000,
                }
            )
        )
        metrics = get_json(monitor, timeout=10)["metrics"]
        return [m for m in metrics if any(p.get("gaugeValue") for p in m["metricPoints"])]

    # The span metrics are flushed every 15 s (metrics_flush_interval).
    try:
        wait_until(call_rates, timeout=90, what="Jaeger's Monitor API to return call rates")
    except AssertionError as error:
        span_metrics = query(
            prometheus_route,
            'count by (__name__, service_name) ({__name__=~"traces_span_metrics.*"})',
        )
        raise AssertionError(f"{error}; span metrics in Prometheus: {span_metrics}") from None
