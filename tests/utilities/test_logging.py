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
