"""A long-running flowlight process whose metrics Prometheus scrapes (the alert-path tests).

Run as a script with FLOWLIGHT__OTEL__PROMETHEUS_PORT set. It instruments flow "nightly-etl"
with the OpenTelemetry bridge and runs it once, with task "load" failing its first
FLOW_PROCESS_FIRST_FAILURES attempts (default 1: it fails once and succeeds on its retry; 4: all
attempts fail). It then prints "ready" and the run's final state and, for each line read from
standard input (a number N), runs the flow again with "load" failing its first N attempts.
It serves the scrape endpoint until standard input is closed. With FLOW_PROCESS_NOTIFY_URL set,
the flow also has a webhook notifier posting there, so notification metrics are exported too.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import Any

import flowlight.otel
from flowlight import Flow, Parameter, context, task
from flowlight.utilities.notifications.notifiers import webhook_notifier

LOAD_MAX_RETRIES = 3


@task(max_retries=LOAD_MAX_RETRIES, retry_delay=timedelta(milliseconds=10))
def load(failing_attempts: int) -> str:
    attempt = int(context.get("task_run_count", 1))
    if attempt <= failing_attempts:
        raise RuntimeError(f"warehouse unavailable (attempt {attempt})")
    return "loaded"


def build_flow() -> Flow:
    handlers: list[Any] = []
    notify_url = os.environ.get("FLOW_PROCESS_NOTIFY_URL")
    if notify_url:
        handlers.append(webhook_notifier(url=notify_url))
    with Flow("nightly-etl", state_handlers=handlers) as flow:
        failing_attempts = Parameter("failing_attempts")
        load(failing_attempts)
    return flowlight.otel.instrument(flow)


def main() -> None:
    flow = build_flow()
    first_failures = int(os.environ.get("FLOW_PROCESS_FIRST_FAILURES", "1"))
    first = flow.run(parameters={"failing_attempts": first_failures})
    print("ready", type(first).__name__, flush=True)
    for line in sys.stdin:
        state = flow.run(parameters={"failing_attempts": int(line)})
        print("ran", type(state).__name__, flush=True)


if __name__ == "__main__":
    main()
