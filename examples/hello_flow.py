"""A small ETL flow, traced: retries, a map, a reduce, and a failure alert handler.

Run it with `make run` (or `python examples/hello_flow.py`). With no OTLP endpoint configured,
the trace, the logs and the metrics are written as OTLP JSON lines under `.flowlight/telemetry/`;
set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector instead.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import flowlight.otel
from flowlight import Flow, Parameter, context, task
from flowlight.engine.state import State

attempts = {"extract": 0}


@task(max_retries=2, retry_delay=datetime.timedelta(seconds=0.2))
def extract(n: int) -> list[int]:
    """Fails on its first attempt, as a flaky source does; the retry succeeds."""
    attempts["extract"] += 1
    if attempts["extract"] == 1:
        raise ConnectionError("source not ready")
    return list(range(1, n + 1))


@task
def transform(x: int) -> int:
    return x * x


@task
def load(values: list[int]) -> int:
    total = sum(values)
    print(f"loaded {len(values)} rows, total {total} (flow run {context.flow_run_id})")
    return total


def report(flow: Flow, state: State) -> None:
    print(f"ALERT: {flow.name} ended {state!r}")


with Flow("hello-etl", on_failure=report) as flow:
    n = Parameter("n", default=5)
    load(transform.map(extract(n)))

flowlight.otel.instrument(flow)  # the one line that adds traces, logs and metrics

def context_trace_id() -> str | None:
    """The trace id of the last flow run, as the bridge recorded it in the flow's logs."""
    logs = Path(".flowlight/telemetry/logs.jsonl")
    if not logs.exists():
        return None
    last = logs.read_text().strip().splitlines()[-1]
    ids = [r["traceId"] for rl in json.loads(last)["resourceLogs"]
           for sl in rl["scopeLogs"] for r in sl["logRecords"] if r.get("traceId")]
    return ids[-1] if ids else None


def print_trace(path: Path, trace_id: str | None) -> None:
    """Print the flow run's spans as a tree with their events, read back from the OTLP file."""
    if not path.exists():
        return
    spans = [
        span
        for line in path.read_text().splitlines()
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
        if trace_id is None or span["traceId"] == trace_id
    ]
    children: dict[str | None, list[dict]] = {}
    ids = {s["spanId"] for s in spans}
    for s in spans:
        parent = s.get("parentSpanId") or None
        children.setdefault(parent if parent in ids else None, []).append(s)

    def show(span: dict, depth: int) -> None:
        events = " -> ".join(e["name"] for e in span.get("events", []))
        status = "ERROR" if span.get("status", {}).get("code") == 2 else "ok"
        print(f"{'  ' * depth}{span['name']} [{status}] {events}")
        for child in sorted(children.get(span["spanId"], []), key=lambda c: c["startTimeUnixNano"]):
            show(child, depth + 1)

    print(f"trace {trace_id} in {path}:")
    for root in children.get(None, []):
        show(root, 1)


if __name__ == "__main__":
    final = flow.run(parameters={"n": 5})
    print(f"flow run finished: {final!r}")
    for t, s in sorted(final.result.items(), key=lambda kv: kv[0].name):
        print(f"  {t.name:<10} {s!r}")
    print_trace(Path(".flowlight/telemetry/traces.jsonl"), context_trace_id())
