"""An existing Prefect 1 flow, traced and alerted by flowlight without being migrated.

Runs on Prefect 1.x (`pip install "flowlight[prefect1]"`, or flowlight next to the Prefect 1 you
have). The flow below is plain Prefect 1 code; the two lines marked "added" are all it takes to
get a trace per run, a log line per transition, the metrics, and a Slack alert when a run fails
(webhook URL from Prefect's own secret: PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL). With no
OTLP endpoint set, telemetry is written as OTLP JSON lines under `.flowlight/telemetry/`.

To move the same flow onto flowlight's engine later, change the imports from `prefect` to
`flowlight` (the module paths are the same).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from prefect import Flow, Parameter, task
from prefect.engine.state import Failed

import flowlight.otel
from flowlight.utilities.notifications import add_delivery_listener, slack_notifier

attempts = {"extract": 0}


@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.1))
def extract(n: int) -> list[int]:
    """Fails on its first attempt, as a flaky source does; the retry succeeds."""
    attempts["extract"] += 1
    if attempts["extract"] == 1:
        raise ConnectionError("source not ready")
    return list(range(n))


@task
def invert(x: int) -> float:
    return 1 / x  # row 0 fails: the run fails, and the alert goes out


@task
def load(values: list[float]) -> int:
    return len(values)


with Flow("nightly-etl") as flow:
    n = Parameter("n", default=3)
    load(invert.map(extract(n)))

flowlight.otel.instrument(flow)  # added: traces, logs and metrics
flow.state_handlers.append(slack_notifier(only_states=[Failed]))  # added: alert on failure


def print_trace(path: Path, flow_name: str) -> None:
    """The last run's spans as a tree with their events, read back from the OTLP JSON file."""
    spans = [
        span
        for line in path.read_text().splitlines()
        for resource_spans in json.loads(line)["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]
    roots = [s for s in spans if not s.get("parentSpanId") and s["name"] == flow_name]
    trace = [s for s in spans if s["traceId"] == roots[-1]["traceId"]]
    children: dict[str, list[dict[str, Any]]] = {}
    for span in trace:
        children.setdefault(span.get("parentSpanId", ""), []).append(span)

    def show(span: dict[str, Any], depth: int) -> None:
        events = " -> ".join(event["name"] for event in span.get("events", []))
        status = "ERROR" if span.get("status", {}).get("code") == 2 else "ok"
        print(f"{'  ' * depth}{span['name']} [{status}] {events}")
        for child in sorted(children.get(span["spanId"], []), key=lambda c: c["name"]):
            show(child, depth + 1)

    print(f"trace {roots[-1]['traceId']}:")
    show(roots[-1], 1)


if __name__ == "__main__":
    add_delivery_listener(
        lambda record: print(f"alert: {record.notifier} {record.outcome} {record.reason}".strip())
    )
    final = flow.run()
    print(f"flow run finished: {type(final).__name__}: {final.message}")
    flowlight.otel.flush()
    print_trace(Path(".flowlight/telemetry/traces.jsonl"), flow.name)
