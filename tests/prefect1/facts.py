"""One runner for "facts compared on both engines": a facts script (module_facts.py,
parity_facts.py) runs on the real Prefect 1.4.1 and on flowlight, each writing its facts as JSON,
and every fact must agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parents[2] / "src"


def quiet_env(home: Path) -> dict[str, str]:
    """A bare environment: no settings of the caller's, Prefect's own logging at ERROR, and
    this checkout's flowlight first on the path (not whichever one is installed)."""
    return {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "PREFECT__LOGGING__LEVEL": "ERROR",
        "PYTHONPATH": str(SOURCE),
    }


def facts_of(script: Path, python: Path, engine: str, out: Path) -> dict[str, Any]:
    """Run `script` on `engine` with `python`; the facts it wrote to `out`, keyed by name."""
    done = subprocess.run(
        [str(python), str(script), engine, str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=out.parent,
        env=quiet_env(out.parent),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(out.read_text())
    return found


def facts_on_both_engines(
    script: Path, prefect1_python: Path, here: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Prefect 1.4.1's facts, flowlight's facts), each run in `here`."""
    return (
        facts_of(script, prefect1_python, "prefect", here / "prefect.json"),
        facts_of(script, Path(sys.executable), "flowlight", here / "flowlight.json"),
    )


def assert_same_facts(prefect: dict[str, Any], flowlight: dict[str, Any], at_least: int) -> None:
    """Both engines state the same facts, in the same order, and more than `at_least` of them
    (so that a script which stopped early cannot pass)."""
    assert list(flowlight) == list(prefect)
    assert len(prefect) > at_least
    differing = {name: (prefect[name], flowlight[name]) for name in prefect}
    differing = {k: v for k, v in differing.items() if v[0] != v[1]}
    assert differing == {}, "fact: (Prefect 1.4.1, flowlight)"
