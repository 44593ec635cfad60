"""Run a snippet in a new Python, for checks of module state a test session has already touched
(the registered secrets, for one): the new interpreter starts with none of it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def printed_by_a_fresh_interpreter(script: str) -> list[str]:
    """The words `script` (dedented) prints, run by a new interpreter that must exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()
