"""Log records per transition: as OpenTelemetry logs over OTLP, and as structlog lines on stderr,
both carrying the trace and span ids of the run they belong to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import flowlight.otel as otel

from . import flows
from .receivers import ReceivedTelemetry, spans_in

REPO = Path(__file__).resolve().parents[2]


def test_every_transition_is_an_otlp_log_record_linked_to_its_span(
    received: ReceivedTelemetry,
) -> None:
    """A failing flow: one log record per transition (task: Running, Failed; flow: Running,
    Failed), each with the trace and span id of its run's span and a severity that says what
    happened."""
    flow = otel.instrument(flows.failing_flow())
    flow.run()
    received.wait_for(lambda r: len(r.spans()) >= 2 and len(r.log_records()) >= 4)
    spans = {s.span_id: s for s in received.spans()}
    records = [record for _resource, record in received.log_records()]
    assert len(records) == 4
    for record in records:
        span = spans[record.span_id.hex()]
        assert record.trace_id.hex() == span.trace_id
        assert record.event_name == "flowlight.state_transition"
    by_state = {
        (attrs["new_state"], attrs.get("task", "")): record
        for record in records
        for attrs in [{kv.key: kv.value.string_value for kv in record.attributes}]
    }
    failed = by_state[("Failed", "bad")]
    assert failed.severity_text == "ERROR"
    assert failed.body.string_value == (
        "bad: Running -> Failed (Error during execution of task: ValueError('nope'))"
    )
    assert by_state[("Running", "bad")].severity_text == "INFO"


def run_script(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    environment.update(env)
    environment["FLOWLIGHT__OTEL__TELEMETRY_DIR"] = str(tmp_path / "telemetry")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


FLOW_SCRIPT = """
    import sys
    sys.path.insert(0, {repo!r})
    import flowlight.otel
    from tests.otel import flows
    flow = flowlight.otel.instrument(flows.failing_flow())
    flow.run()
"""


def test_structlog_lines_on_stderr_are_json_with_the_trace_ids_of_the_spans(
    tmp_path: Path,
) -> None:
    """With stderr not a terminal the transition events are JSON lines; each carries trace_id and
    span_id as hex, the same ids as the spans written to the local OTLP files."""
    done = run_script(
        FLOW_SCRIPT.format(repo=str(REPO)), tmp_path, FLOWLIGHT__LOGGING__LEVEL="INFO"
    )
    events = [
        json.loads(line)
        for line in done.stderr.splitlines()
        if "flowlight.state_transition" in line
    ]
    assert [(e.get("task", ""), e["new_state"]) for e in events] == [
        ("", "Running"),
        ("bad", "Running"),
        ("bad", "Failed"),
        ("", "Failed"),
    ]
    spans = spans_in(tmp_path / "telemetry" / "traces.jsonl")
    span_ids = {span["spanId"] for span in spans}
    trace_ids = {span["traceId"] for span in spans}
    assert {e["span_id"] for e in events} == span_ids
    assert {e["trace_id"] for e in events} == trace_ids and len(trace_ids) == 1
    failed = events[2]
    assert failed["level"] == "error"
    assert failed["message"] == "Error during execution of task: ValueError('nope')"
    assert failed["task_slug"] == "bad-1"


def test_a_users_own_structlog_configuration_is_kept(tmp_path: Path) -> None:
    """An application that configured structlog gets the bridge's events through its own
    processors and renderer; the bridge does not reconfigure structlog."""
    configure_structlog = """
        import sys
        import structlog
        structlog.configure(
            processors=[structlog.processors.KeyValueRenderer(key_order=["event", "new_state"])],
            logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        )
    """
    script = textwrap.dedent(configure_structlog) + textwrap.dedent(
        FLOW_SCRIPT.format(repo=str(REPO))
    )
    done = run_script(script, tmp_path)
    lines = [line for line in done.stderr.splitlines() if "flowlight.state_transition" in line]
    assert len(lines) == 4
    assert all(line.startswith("event='flowlight.state_transition' new_state=") for line in lines)
    assert "trace_id=" in lines[0]


def test_add_trace_context_links_a_users_log_line_inside_a_task_to_the_task_span(
    local_files: Path,
) -> None:
    """The `add_trace_context` processor gives a user's own log line, written inside a task,
    the trace and span ids of that task run's span."""
    from flowlight import Flow, task

    seen: dict[str, object] = {}

    @task
    def work() -> None:
        seen.update(otel.add_trace_context(None, "info", {"event": "mine"}))

    with Flow("linked") as flow:
        work()
    otel.instrument(flow).run()
    spans = {span["name"]: span for span in spans_in(local_files / "traces.jsonl")}
    assert seen["trace_id"] == spans["work"]["traceId"]
    assert seen["span_id"] == spans["work"]["spanId"]


def test_on_a_terminal_the_engine_lines_replace_the_structured_events(tmp_path: Path) -> None:
    """With stderr a terminal a person reads the engine's lines (Prefect 1's shape, the failure
    with its traceback); the bridge's structured transition events, made for log shippers and
    OpenTelemetry, are not repeated there."""
    import pty

    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    environment.update(
        FLOWLIGHT__OTEL__TELEMETRY_DIR=str(tmp_path / "telemetry"),
        FLOWLIGHT__LOGGING__SUMMARY="false",
        NO_COLOR="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(FLOW_SCRIPT.format(repo=str(REPO)))],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0
    os.close(leader)
    screen = b"".join(chunks).decode(errors="replace")
    assert "flowlight.state_transition" not in screen
    lines = [line for line in screen.splitlines() if " - flowlight." in line]
    assert [line.split(" | ", 1)[1] for line in lines] == [
        "Beginning Flow run for 'fails'",
        "Task 'bad': Starting task run...",
        "Task 'bad': Exception encountered during task execution!",
        "Task 'bad': Finished task run for task with final state: 'Failed'",
        "Flow run FAILED: some reference tasks failed.",
    ]
    assert not any(line.lstrip().startswith("{") for line in screen.splitlines())
    assert "Traceback (most recent call last)" in screen
