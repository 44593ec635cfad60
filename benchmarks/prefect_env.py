"""The separate virtual environment with Prefect 1.4.1 that the comparison runs the same flows in.

Created once under `benchmarks/.venv-prefect1` (git-ignored) with the interpreter that runs the
benchmarks, and reused while its marker file names the same Prefect release. Prefect 1 is never
installed into flowlight's own environment: its pins would fight flowlight's dependencies.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

__all__ = ["PREFECT_REQUIREMENT", "PrefectUnavailable", "ensure_prefect_env"]

PREFECT_REQUIREMENT = "prefect==1.4.1"
DEFAULT_LOCATION = Path(__file__).resolve().parent / ".venv-prefect1"
_MARKER = "flowlight-bench-ready"


class PrefectUnavailable(RuntimeError):
    """The Prefect 1 environment could not be created; the message says why and what to do."""


def _python(location: Path) -> Path:
    return location / "bin" / "python"


def ensure_prefect_env(location: Path = DEFAULT_LOCATION, log: bool = True) -> Path:
    """Return the Python of a ready Prefect 1.4.1 environment, creating it on first use."""
    marker = location / _MARKER
    python = _python(location)
    if marker.is_file() and marker.read_text().strip() == PREFECT_REQUIREMENT and python.exists():
        return python
    if log:
        print(f"creating {location.name} with {PREFECT_REQUIREMENT} (once) ...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(location)
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            PREFECT_REQUIREMENT,
        ],
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:
        raise PrefectUnavailable(
            f"pip could not install {PREFECT_REQUIREMENT} into {location}: "
            f"{install.stderr.strip()[-800:]}\nRun with --no-prefect to benchmark flowlight alone."
        )
    check = subprocess.run(
        [str(python), "-c", "import prefect; print(prefect.__version__)"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0 or check.stdout.strip() != PREFECT_REQUIREMENT.split("==")[1]:
        raise PrefectUnavailable(
            f"{PREFECT_REQUIREMENT} installed into {location} but does not import: "
            f"{(check.stderr or check.stdout).strip()[-800:]}"
        )
    marker.write_text(PREFECT_REQUIREMENT + "\n")
    return python
