"""What a person sees on stderr while a flow runs, and what a log shipper gets when no one does."""

from __future__ import annotations

import json
from pathlib import Path

from .scripts import (
    PYTHON,
    RETRY_AND_FAILING_CHILD,
    clean_env,
    run_in_terminal,
    run_piped,
    write_script,
)


def test_on_a_terminal_each_start_finish_retry_and_failure_is_a_line(tmp_path: Path) -> None:
    """INFO by default on a terminal: starts and finishes, the retry with its next start, the
    failures with their tracebacks, the user's own lines, in Prefect 1's shape."""
    script = write_script(tmp_path, RETRY_AND_FAILING_CHILD)
    status, screen = run_in_terminal(
        [PYTHON, str(script)], tmp_path, clean_env(tmp_path, FLOWLIGHT__LOGGING__SUMMARY="false")
    )
    assert status == 0, screen
    messages = [line.split(" | ", 1)[1] for line in screen.splitlines() if " | " in line]
    assert messages[:4] == [
        "Beginning Flow run for 'console-demo'",
        "Task 'extract': Starting task run...",
        "Task 'extract': Exception encountered during task execution!",
        messages[3],
    ]
    assert messages[3].startswith("Task 'extract': Retrying Task (after attempt 1 of 2); next "), (
        messages[3]
    )
    assert "(in 0.2 s)" in messages[3]
    assert "Task 'extract': Finished task run for task with final state: 'Success'" in messages
    assert "transforming item=2" in messages
    assert "Task 'transform[1]': Exception encountered during task execution!" in messages
    assert "Task 'transform[1]': Finished task run for task with final state: 'Failed'" in messages
    assert messages[-1] == "Flow run FAILED: some reference tasks failed."
    assert screen.count("Traceback (most recent call last)") == 2
    assert "ConnectionError: source not ready" in screen
    assert "RuntimeError: cannot transform 2" in screen
    assert "INFO - flowlight.transform | transforming" in screen


def test_the_level_setting_quiets_the_terminal(tmp_path: Path) -> None:
    script = write_script(tmp_path, RETRY_AND_FAILING_CHILD)
    env = clean_env(tmp_path, FLOWLIGHT__LOGGING__LEVEL="ERROR", FLOWLIGHT__LOGGING__SUMMARY="0")
    status, screen = run_in_terminal([PYTHON, str(script)], tmp_path, env)
    assert status == 0, screen
    assert "Starting task run" not in screen
    assert "Retrying" not in screen
    assert "Task 'transform[1]': Exception encountered during task execution!" in screen


def test_off_a_terminal_lines_are_json_at_warning_and_bound_to_the_run(tmp_path: Path) -> None:
    """Piped stderr gets JSON lines (WARNING and up by default), each naming its flow, task, map
    index and run ids; no start/finish chatter and no summary block."""
    script = write_script(tmp_path, RETRY_AND_FAILING_CHILD)
    done = run_piped([PYTHON, str(script)], tmp_path, clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["level"], line["event"].split(":")[0]) for line in lines] == [
        ("error", "Task 'extract'"),
        ("warning", "Task 'extract'"),
        ("error", "Task 'transform[1]'"),
        ("error", "Flow run FAILED"),
    ]
    child = lines[2]
    assert child["flow_name"] == "console-demo"
    assert child["task_name"] == "transform"
    assert child["map_index"] == 1
    assert len(child["task_run_id"]) == 36 and len(child["flow_run_id"]) == 36
    assert "RuntimeError: cannot transform 2" in child["exception"]
    assert "trace_id" not in child  # no bridge, no trace
    assert json.loads(done.stdout) == {"state": "Failed", "trace_id": None}


def test_with_the_bridge_the_run_logger_carries_the_trace_and_span_ids(tmp_path: Path) -> None:
    script = write_script(tmp_path, RETRY_AND_FAILING_CHILD)
    env = clean_env(tmp_path, FLOWLIGHT__LOGGING__LEVEL="INFO", FLOWLIGHT__OTEL__CONSOLE_LOGS="0")
    done = run_piped([PYTHON, str(script), "--traced"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    trace_id = json.loads(done.stdout)["trace_id"]
    assert isinstance(trace_id, str) and len(trace_id) == 32
    mine = [json.loads(line) for line in done.stderr.splitlines() if '"transforming"' in line]
    assert sorted(line["map_index"] for line in mine) == [0, 1, 2]
    assert {line["trace_id"] for line in mine} == {trace_id}
    assert len({line["span_id"] for line in mine}) == 3  # each child's own span


def test_a_terminal_run_ends_with_a_summary(tmp_path: Path) -> None:
    """Final state, duration, counts by state, the failed child with its message, the trace id
    with the command that draws it and the link, and where the telemetry went."""
    script = write_script(tmp_path, RETRY_AND_FAILING_CHILD)
    env = clean_env(
        tmp_path,
        FLOWLIGHT__LOGGING__LEVEL="WARNING",
        FLOWLIGHT__NOTIFICATIONS__TRACE_URL_TEMPLATE="http://jaeger.local:16686/trace/{trace_id}",
    )
    status, screen = run_in_terminal([PYTHON, str(script), "--traced"], tmp_path, env)
    assert status == 0, screen
    trace_id = json.loads(screen.strip().splitlines()[-1])["trace_id"]
    box = screen[screen.index("flow run console-demo") :]
    assert "Failed  Some reference tasks failed.  in " in box
    assert "task runs: 3 Success, 1 Failed" in box
    failure = "✗ transform[1]  Error during execution of task: RuntimeError('cannot transform 2')"
    assert failure in box
    assert f"trace: {trace_id}  http://jaeger.local:16686/trace/{trace_id}" in box
    assert f"flowlight trace show {trace_id}" in box
    assert f"telemetry: OTLP JSON files in {tmp_path / 'telemetry'}/" in box.replace("│\n│ ", "")


def test_no_summary_and_no_rich_off_a_terminal(tmp_path: Path) -> None:
    script = write_script(
        tmp_path,
        RETRY_AND_FAILING_CHILD
        + "\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('rich', 'graphviz', 'opentelemetry'))))\n",
    )
    done = run_piped([PYTHON, str(script)], tmp_path, clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "flow run console-demo" not in done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_secret_values_are_masked_in_the_engine_lines(tmp_path: Path) -> None:
    script = write_script(
        tmp_path,
        """
from flowlight import Flow, Secret, task

@task
def call():
    raise ValueError("refused " + Secret("TOKEN").get())

with Flow("leaky") as flow:
    call()
flow.run()
""",
    )
    env = clean_env(tmp_path, FLOWLIGHT__CONTEXT__SECRETS__TOKEN="hunter2-xyz")
    done = run_piped([PYTHON, str(script)], tmp_path, env)
    assert "ValueError: refused ********" in done.stderr, done.stderr
    assert "hunter2-xyz" not in done.stderr
    _, screen = run_in_terminal([PYTHON, str(script)], tmp_path, env)
    assert "ValueError: refused ********" in screen
    assert "hunter2-xyz" not in screen


PROGRESS_FLOW = """
from flowlight import Flow, task

@task
def items():
    return list(range(25))

@task
def work(x):
    work.logger.info("working", item=x)
    return x

with Flow("progress-api") as flow:
    work.map(items())
flow.run(progress=True)
"""


def test_flow_run_progress_true_draws_the_live_line_on_a_terminal_only(tmp_path: Path) -> None:
    script = write_script(tmp_path, PROGRESS_FLOW)
    env = clean_env(tmp_path, FLOWLIGHT__LOGGING__SUMMARY="false")
    status, screen = run_in_terminal([PYTHON, str(script)], tmp_path, env)
    assert status == 0, screen
    assert "progress-api" in screen and "done 26/26  running 0  failed 0  retries 0" in screen
    # Task.logger lines carry their run: on the terminal, the task's own logger name.
    assert "INFO - flowlight.work | working item=24" in screen
    done = run_piped([PYTHON, str(script)], tmp_path, env)
    assert done.returncode == 0
    assert "done 26/26" not in done.stderr and done.stderr == ""
