"""A small ETL flow, traced: a retry, a map, a reduce, and a failure alert handler.

Run it with `make run` (or `python examples/hello_flow.py`). With no OTLP endpoint configured,
the trace, the logs and the metrics are written as OTLP JSON lines under `.flowlight/telemetry/`;
set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector instead. At the end the run's trace
is drawn by `flowlight trace show`, which reads those files.
"""

from __future__ import annotations

import datetime
import os
import shutil
import sys
from pathlib import Path

import flowlight.otel
from flowlight import Flow, Parameter, context, task
from flowlight.cli import main as flowlight_command
from flowlight.engine.state import State

attempts = {"extract": 0}


@task(max_retries=2, retry_delay=datetime.timedelta(seconds=0.2))
def extract(n: int) -> list[int]:
    """Fails on its first attempt on purpose, as a flaky source does; the retry succeeds."""
    attempts["extract"] += 1
    if attempts["extract"] == 1:
        raise ConnectionError("source not ready (a deliberate first failure: watch it retry)")
    return list(range(1, n + 1))


@task
def transform(x: int) -> int:
    return x * x


@task
def load(values: list[int]) -> int:
    total = sum(values)
    context.logger.info(f"loaded {len(values)} rows, total {total}")
    return total


def report(flow: Flow, state: State) -> None:
    print(f"ALERT: {flow.name} ended {state!r}")


with Flow("hello-etl", on_failure=report) as flow:
    n = Parameter("n", default=5)
    load(transform.map(extract(n)))

flowlight.otel.instrument(flow)  # the one line that adds traces, logs and metrics


def flowlight_cli() -> str:
    """What to type for the `flowlight` command: `make run` does not put the venv on PATH."""
    here = Path(sys.executable).parent / "flowlight"
    found = shutil.which("flowlight")
    if not here.exists() or (found and Path(found).resolve() == here.resolve()):
        return "flowlight"
    relative = os.path.relpath(here)
    return str(here) if relative.startswith("..") else relative


if __name__ == "__main__":
    print(
        "Running hello-etl. Its extract task fails on purpose the first time (a flaky source),\n"
        "so you see a failure with its traceback, then the retry that succeeds.\n"
    )
    final = flow.run(parameters={"n": 5})
    print(f"\nflow run finished: {final!r}, trace {final.trace_id}\n")
    flowlight.otel.flush()
    cli = flowlight_cli()
    collector = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if collector:
        # The trace went to the collector, not to the local files `trace show` reads.
        print(
            f"The trace went to the collector at {collector}; with `make stack` read it back\n"
            f"from Jaeger (it arrives within a few seconds):\n"
            f"  curl http://127.0.0.1:16686/api/traces/{final.trace_id}"
        )
    else:
        print(f"$ {cli} trace show {final.trace_id}")
        flowlight_command(["trace", "show", str(final.trace_id)])
    print(
        "\nNext steps:\n"
        f"  {cli} runs\n"
        "      the runs recorded in .flowlight/telemetry/\n"
        f"  {cli} run examples/hello_flow.py --param n=20 --trace\n"
        "      run it again, with live progress\n"
        "  make stack\n"
        "      start a collector, Jaeger, Prometheus and Alertmanager as local processes\n"
        "  docker compose -f collector-config/compose.yaml up -d\n"
        "      or the same stack, with Grafana, in containers\n"
        f"  {cli} telemetry replay --endpoint http://127.0.0.1:4318\n"
        "      then send what was recorded here to it"
    )
