"""flowlight's own log lines go to stderr as it is when they are written."""

from __future__ import annotations

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
