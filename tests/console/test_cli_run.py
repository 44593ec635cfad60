"""`flowlight run`, `--version` and `python -m flowlight`, through the installed entry point."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from .scripts import PYTHON, clean_env, run_in_terminal, run_piped, write_script

FLOWLIGHT = shutil.which("flowlight", path=str(Path(sys.executable).parent)) or "flowlight"

GOOD = """
import json
from flowlight import Flow, Parameter, task

@task
def double(n, factor):
    return n * factor

@task
def show(value, label):
    print(json.dumps({"label": label, "value": value}))

with Flow("arith") as flow:
    n, factor = Parameter("n", default=2), Parameter("factor", default=1.5)
    show(double(n, factor), Parameter("label", default="x"))

if __name__ == "__main__":
    raise SystemExit("the command must not run the file's main block")
"""

FAILING = """
from flowlight import Flow, task

@task
def boom():
    raise ValueError("nope")

with Flow("fails") as flow:
    boom()
"""

TWO_FLOWS = """
from flowlight import Flow, task

@task
def one():
    print("one ran")

@task
def two():
    print("two ran")

with Flow("first") as first:
    one()
with Flow("second") as second:
    two()
"""


def flowlight(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    done = run_piped([FLOWLIGHT, *args], tmp_path, clean_env(tmp_path))
    return done.returncode, done.stdout, done.stderr


def test_a_flow_file_runs_with_typed_parameters_and_exits_0(tmp_path: Path) -> None:
    write_script(tmp_path, GOOD, "arith.py")
    status, out, err = flowlight(tmp_path, "run", "arith.py", "--param", "n=4", "-p", "label=7")
    assert status == 0, err
    assert json.loads(out) == {"label": "7", "value": 6.0}  # a str parameter keeps "7" as text


def test_a_failing_flow_exits_1(tmp_path: Path) -> None:
    write_script(tmp_path, FAILING, "failing.py")
    status, _, err = flowlight(tmp_path, "run", "failing.py")
    assert status == 1
    assert "ValueError: nope" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "missing.py"], "no such file: missing.py"),
        (["run", "no_such_module_xyz"], "no module named 'no_such_module_xyz'"),
        (["run", "arith.py:nope"], "arith.py has no flow named 'nope'; its flows: flow ('arith')"),
        (["run", "two.py"], "two.py defines 2 flows (first, second); pick one with two.py:NAME"),
        (["run", "arith.py", "--param", "m=1"], "flow 'arith' has no parameter 'm'"),
        (
            ["run", "arith.py", "--param", "n=abc"],
            "parameter 'n' of flow 'arith' expects int like its default 2, got 'abc'",
        ),
        (["run", "arith.py", "--param", "n"], "--param 'n' is not NAME=VALUE"),
    ],
)
def test_what_cannot_start_exits_2_naming_the_culprit(
    tmp_path: Path, args: list[str], says: str
) -> None:
    write_script(tmp_path, GOOD, "arith.py")
    write_script(tmp_path, TWO_FLOWS, "two.py")
    status, out, err = flowlight(tmp_path, *args)
    assert status == 2, (out, err)
    assert says in err
    assert "Traceback" not in err


def test_a_flow_is_picked_by_variable_or_flow_name(tmp_path: Path) -> None:
    write_script(tmp_path, TWO_FLOWS, "two.py")
    assert flowlight(tmp_path, "run", "two.py:second")[1].strip() == "two ran"
    assert flowlight(tmp_path, "run", "two.py:first")[1].strip() == "one ran"


def test_a_module_runs_by_its_import_name(tmp_path: Path) -> None:
    package = tmp_path / "pipelines"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "arith.py").write_text(GOOD)
    env = clean_env(tmp_path)
    env["PYTHONPATH"] = f"{tmp_path}:{env['PYTHONPATH']}"
    done = run_piped([FLOWLIGHT, "run", "pipelines.arith", "-p", "n=1"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == 1.5


def test_trace_writes_the_run_to_the_local_store(tmp_path: Path) -> None:
    write_script(tmp_path, FAILING, "failing.py")
    status, _, _ = flowlight(tmp_path, "run", "failing.py", "--trace")
    assert status == 1
    assert (tmp_path / "telemetry" / "traces.jsonl").is_file()


def test_version_and_python_dash_m(tmp_path: Path) -> None:
    from flowlight import __version__

    status, out, _ = flowlight(tmp_path, "--version")
    assert (status, out.strip()) == (0, f"flowlight {__version__}")
    done = run_piped([PYTHON, "-m", "flowlight", "--help"], tmp_path, clean_env(tmp_path))
    assert done.returncode == 0
    for command in ("run", "trace", "runs", "telemetry"):
        assert command in done.stdout


def test_on_a_terminal_the_run_shows_progress_and_a_summary(tmp_path: Path) -> None:
    write_script(
        tmp_path,
        """
from flowlight import Flow, task

@task
def items():
    return list(range(40))

@task
def square(x):
    if x == 7:
        raise RuntimeError("seven")
    return x * x

with Flow("progress-demo") as flow:
    square.map(items())
""",
        "mapped.py",
    )
    env = clean_env(tmp_path, FLOWLIGHT__LOGGING__LEVEL="ERROR")
    status, screen = run_in_terminal([FLOWLIGHT, "run", "mapped.py"], tmp_path, env)
    assert status == 1, screen
    # The live line's last drawing counts every run: 1 + 40 children, one of them failed.
    assert "progress-demo" in screen
    assert "done 41/41  running 0  failed 1" in screen
    assert "task runs: 40 Success, 1 Failed" in screen
    assert "square[7]  Error during execution of task: RuntimeError('seven')" in screen
