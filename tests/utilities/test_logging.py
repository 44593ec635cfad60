"""flowlight's own log lines go to stderr as it is when they are written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CODE = """
import io, sys
import flowlight.utilities.logging as lg
lg.get_logger().warning("configured")    # structlog is configured now, with the real stderr
swapped = io.StringIO()
sys.stderr = swapped
lg.get_logger().warning("after the swap", flow="logs")
sys.stderr = sys.__stderr__
print(swapped.getvalue())
"""


def test_log_lines_follow_stderr_when_it_is_replaced_after_configuration() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"event": "after the swap"' in done.stdout
    assert "after the swap" not in done.stderr


RECONFIGURED = """
import structlog
from flowlight.utilities.logging import run_logger

def keep(into):
    def processor(logger, method, event_dict):
        into.append(event_dict["event"])
        raise structlog.DropEvent
    return processor

first, second = [], []
structlog.configure(processors=[keep(first)], cache_logger_on_first_use=True)
logger = run_logger("flowlight.reconfigured")
logger.warning("one")
logger.warning("two")
structlog.configure(processors=[keep(second)], cache_logger_on_first_use=True)
logger.warning("three")
structlog.configure(processors=[keep(first)], cache_logger_on_first_use=False)
logger.warning("four")
print(first, second)
"""


def test_the_run_logger_follows_each_structlog_configuration() -> None:
    """The run logger keeps its structlog logger while the application's configuration caches
    loggers, and writes through a new one as soon as structlog is configured again, cached or
    not."""
    done = subprocess.run(
        [sys.executable, "-c", RECONFIGURED], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['one', 'two', 'four'] ['three']"


RUN_LINES = """
import json, structlog
import flowlight
from flowlight.utilities.logging import run_logger

def keep(into):
    def processor(logger, method, event_dict):
        into.append({**event_dict, "method": method})
        raise structlog.DropEvent
    return processor

first, second = [], []
structlog.configure(processors=[keep(first)], cache_logger_on_first_use=True)
logger = run_logger("flowlight.lines")
with flowlight.context(flow_name="f", flow_run_id="run-1", task_name="t", map_index=3):
    lines = logger.lines_of_run(task="t", trace_id="ab" * 16)
    logger.warning("event", task="t", trace_id="ab" * 16, state="Running")
    lines.write(30, "warning", "event", {"state": "Running"})
structlog.configure(processors=[keep(second)], cache_logger_on_first_use=True)
lines.write(40, "error", "event", {"state": "Failed"})
print(json.dumps([first, second]))
"""


def test_a_runs_lines_write_what_its_run_logger_writes_and_follow_reconfiguration() -> None:
    """`lines_of_run` gathers the run's bindings and fixed fields once: each line holds what the
    run logger's own line holds, and a new structlog configuration is followed."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_LINES], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    first, second = json.loads(done.stdout)
    assert len(first) == 2 and first[0] == first[1]
    assert first[1]["map_index"] == 3 and first[1]["flow_run_id"] == "run-1"
    assert first[1]["trace_id"] == "ab" * 16 and first[1]["state"] == "Running"
    assert second == [{**first[0], "state": "Failed", "method": "error"}]


UNCONFIGURED_LINES = """
import flowlight
from flowlight.utilities.logging import run_logger

logger = run_logger("flowlight.lines")
with flowlight.context(flow_name="f", flow_run_id="run-1"):
    logger.warning("event", state="Running")
    logger.lines_of_run().write(30, "warning", "event", {"state": "Running"})
    logger.lines_of_run().write(20, "info", "event", {"state": "below the level"})
"""


def test_without_structlog_a_runs_lines_are_the_run_loggers_json_lines() -> None:
    done = subprocess.run(
        [sys.executable, "-c", UNCONFIGURED_LINES],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FLOWLIGHT__LOGGING__LEVEL": "WARNING"},
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert len(lines) == 2
    for line in lines:
        del line["timestamp"]
    assert lines[0] == lines[1]
    assert lines[0]["flow_run_id"] == "run-1" and lines[0]["level"] == "warning"
