"""Crashed runs: a real flow process is killed with SIGKILL in the middle of a task; its run was
recorded open in the store, and the next process that configures the bridge finds the process
gone and closes the run: the flow span is exported with its own ids, ERROR and the crashed
marker, a Crashed log record joins its trace, and flowlight.flow_runs counts it as Crashed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import flowlight.otel as otel

from .receivers import spans_in

REPO = Path(__file__).resolve().parents[2]
DOOMED = textwrap.dedent(
    """
    import sys, time
    import flowlight.otel
    from flowlight import Flow, task

    def quick():
        return 1

    def hang(x):
        print("hanging", flush=True)
        time.sleep(600)

    with Flow("doomed") as flow:
        hang(task(quick, name="quick")())
    flowlight.otel.instrument(flow).run()
    """
).replace("hang(task(quick", 'task(hang, name="hang")(task(quick')


def start_doomed(store: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    env.update(FLOWLIGHT__OTEL__TELEMETRY_DIR=str(store), PYTHONPATH=str(REPO / "src"))
    return subprocess.Popen(
        [sys.executable, "-c", DOOMED], env=env, stdout=subprocess.PIPE, text=True
    )


def test_a_killed_flow_process_is_closed_as_crashed_by_the_next_process(tmp_path: Path) -> None:
    store = tmp_path / "telemetry"
    doomed = start_doomed(store)
    try:
        assert doomed.stdout is not None and doomed.stdout.readline().strip() == "hanging"
        (open_file,) = (store / "open-runs").glob("*.json")
        recorded = json.loads(open_file.read_text())
        assert recorded["pid"] == doomed.pid and recorded["flow"] == "doomed"
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
    killed_at = time.time()
    assert not (store / "traces.jsonl").exists() or not any(
        s["name"] == "doomed" for s in spans_in(store / "traces.jsonl")
    ), "the killed process never ended its flow span"

    otel.configure(telemetry_dir=str(store), prometheus_port=0)
    try:
        found_at = time.time()
        assert otel.statistics()["crashed_runs_closed"] == 1
        assert otel.flush(10)
        import requests

        telemetry = otel._session.active()
        assert telemetry.prometheus is not None
        scraped = requests.get(telemetry.prometheus.url, timeout=10).text
    finally:
        otel.shutdown()
    assert not list((store / "open-runs").glob("*.json"))
    spans = spans_in(store / "traces.jsonl")
    (flow_span,) = [s for s in spans if s["name"] == "doomed"]
    assert flow_span["spanId"] == recorded["span_id"]
    assert flow_span["traceId"] == recorded["trace_id"]
    assert flow_span["status"]["code"] == 2  # ERROR
    attributes = {a["key"]: a["value"] for a in flow_span["attributes"]}
    assert attributes["flowlight.crashed"] == {"boolValue": True}
    assert attributes["flowlight.state"] == {"stringValue": "Crashed"}
    # The finished task's span was still in the dead process's export batch: it is lost, as
    # the module says; the flow span alone comes back.
    logs = (store / "logs.jsonl").read_text()
    assert "doomed: Crashed" in logs and recorded["trace_id"] in logs
    assert 'flowlight_flow_runs_total{flow="doomed",' in scraped
    crashed = [
        line
        for line in scraped.splitlines()
        if line.startswith("flowlight_flow_runs_total{") and 'state="Crashed"' in line
    ]
    assert len(crashed) == 1 and crashed[0].endswith(" 1.0")
    assert found_at - killed_at < 10


def test_a_live_process_and_a_finished_run_leave_nothing_to_close(tmp_path: Path) -> None:
    store = tmp_path / "telemetry"
    otel.configure(telemetry_dir=str(store))
    try:
        from flowlight import Flow, task

        otel.instrument(Flow("fine", tasks=[task(lambda: 1, name="x")])).run()
        assert not list((store / "open-runs").glob("*.json"))
        assert otel.close_crashed_runs() == 0
    finally:
        otel.shutdown()
