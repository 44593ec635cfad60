"""The gauges behind the stuck and late alerts, scraped from the bridge's real Prometheus
endpoint: runs in progress and the oldest one's start while a run is open, the last success once
it ends, and a scheduled flow's next due time from its schedule."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import flowlight.otel as otel
from flowlight import Flow, task
from flowlight.schedules import IntervalSchedule


@pytest.fixture
def scrape_url(tmp_path: Path) -> Iterator[str]:
    telemetry = otel.configure(telemetry_dir=str(tmp_path), prometheus_port=0)
    assert telemetry.prometheus is not None
    yield telemetry.prometheus.url
    otel.shutdown()


def gauge(url: str, name: str, flow: str) -> float | None:
    for line in requests.get(url, timeout=10).text.splitlines():
        if line.startswith(name + "{") and f'flow="{flow}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def test_an_open_run_is_in_progress_since_its_start_then_counts_as_the_last_success(
    scrape_url: str,
) -> None:
    started, release = threading.Event(), threading.Event()

    def wait() -> None:
        started.set()
        release.wait(30)

    flow = otel.instrument(Flow("stuck", tasks=[task(wait, name="wait")]))
    before = time.time()
    runner = threading.Thread(target=flow.run)
    runner.start()
    try:
        assert started.wait(30)
        assert gauge(scrape_url, "flowlight_flow_runs_in_progress", "stuck") == 1
        oldest = gauge(scrape_url, "flowlight_flow_run_oldest_start_seconds", "stuck")
        assert oldest is not None and before <= oldest <= time.time()
        assert gauge(scrape_url, "flowlight_flow_last_success_seconds", "stuck") is None
    finally:
        release.set()
        runner.join(30)
    assert gauge(scrape_url, "flowlight_flow_runs_in_progress", "stuck") == 0
    assert gauge(scrape_url, "flowlight_flow_run_oldest_start_seconds", "stuck") == 0
    last_success = gauge(scrape_url, "flowlight_flow_last_success_seconds", "stuck")
    assert last_success is not None and oldest <= last_success <= time.time()
    assert gauge(scrape_url, "flowlight_flow_next_scheduled_start_seconds", "stuck") == 0


def test_a_failed_run_is_no_success(scrape_url: str) -> None:
    def explode() -> None:
        raise ValueError("nope")

    otel.instrument(Flow("broken", tasks=[task(explode, name="x")])).run()
    assert gauge(scrape_url, "flowlight_flow_runs_in_progress", "broken") == 0
    assert gauge(scrape_url, "flowlight_flow_last_success_seconds", "broken") is None


def test_a_scheduled_flow_says_when_its_next_run_is_due(scrape_url: str) -> None:
    hourly = IntervalSchedule(
        start_date=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
        interval=datetime.timedelta(hours=1),
    )
    flow = otel.instrument(Flow("hourly", tasks=[task(lambda: 1, name="x")], schedule=hourly))
    flow.run(run_on_schedule=False)
    (due,) = hourly.next(1)
    assert gauge(scrape_url, "flowlight_flow_next_scheduled_start_seconds", "hourly") == (
        due.timestamp()
    )
