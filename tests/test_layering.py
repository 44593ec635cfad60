"""The engine knows nothing of OpenTelemetry: running a flow does not import it."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from flowlight import Flow, task
@task
def one():
    return 1
with Flow("plain") as flow:
    one()
assert flow.run().is_successful()
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"opentelemetry", "flowlight.otel"})
print(loaded)
"""


def test_running_a_flow_imports_no_opentelemetry_module() -> None:
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert "flowlight.otel" not in done.stdout
