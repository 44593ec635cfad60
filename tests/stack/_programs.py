"""The collector and Jaeger built by the Makefile, run as processes on free 127.0.0.1 ports with
the shipped configuration files, the way collector-config/stack.py (`make stack`) runs them.

`ensure_binaries` asks make for the binaries (a no-op when they are up to date) and fails the
test with make's own message when they cannot be built, a missing Go toolchain included: these
tests never skip. Every program runs in its own process group, logs to a file that is appended
across restarts, and is stopped by the fixture that started it whatever the test did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 3600


def _load_stack_module() -> ModuleType:
    path = REPO / "collector-config" / "stack.py"
    spec = importlib.util.spec_from_file_location("flowlight_stack", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


stack: Any = _load_stack_module()


def ensure_binaries() -> None:
    """`make stack-binaries`: builds the collector and Jaeger once per machine (Go build cache)."""
    try:
        built = subprocess.run(
            ["make", "--no-print-directory", "stack-binaries"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        pytest.fail("`make` is not installed: it builds the collector and Jaeger for these tests")
    if built.returncode != 0:
        pytest.fail(
            "could not build the collector and Jaeger (`make stack-binaries`):\n"
            + built.stdout[-3000:]
            + built.stderr[-3000:],
            pytrace=False,
        )
    for binary in (stack.OTELCOL, stack.JAEGER):
        assert binary.exists(), f"make stack-binaries succeeded but {binary} is missing"


def free_ports() -> Any:
    """A stack.Ports with every port a free one, all different: each socket stays bound until
    all are chosen, so the kernel cannot hand the same port out twice."""
    names = [f.name for f in dataclasses.fields(stack.Ports)]
    with contextlib.ExitStack() as held:
        ports = {}
        for name in names:
            sock = held.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports[name] = int(sock.getsockname()[1])
    return stack.Ports(**ports)


class ProgramExited(AssertionError):
    """A program stopped before it was ready; the message is its own output."""


@dataclass
class Program:
    """One of the stack's programs: its command, environment and readiness URL."""

    name: str
    args: list[str]
    env: dict[str, str]
    ready_url: str
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 60) -> Program:
        assert self.process is None or self.process.poll() is not None, f"{self.name} runs"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.args,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        try:
            stack.wait_ready(self.name, self.ready_url, self.running, self.log, timeout)
        except RuntimeError as error:
            self.stop()
            raise ProgramExited(str(error)) from None
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL if it is still there after 15 s."""
        self._signal(signal.SIGTERM, wait=15)
        self._signal(signal.SIGKILL, wait=15)

    def kill(self) -> None:
        """SIGKILL at once: no shutdown, no flush."""
        self._signal(signal.SIGKILL, wait=15)

    def _signal(self, number: int, wait: float) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, number)
            process.wait(timeout=wait)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            if number == signal.SIGKILL:
                raise


def collector(ports: Any, workdir: Path, loki_otlp_url: str, config: Path | None = None) -> Program:
    """The collector with `config` (default: the shipped otel-collector.yaml), not started."""
    args = stack.collector_args() if config is None else stack.collector_args(config)
    return Program(
        name="collector",
        args=args,
        env=stack.collector_env(ports, workdir / "queue", loki_otlp_url),
        ready_url=stack.health_urls(ports)["collector"],
        log=workdir / "collector.log",
    )


def jaeger(ports: Any, workdir: Path) -> Program:
    """Jaeger with the shipped jaeger.yaml, not started."""
    return Program(
        name="jaeger",
        args=stack.jaeger_args(),
        env=stack.jaeger_env(ports),
        ready_url=stack.health_urls(ports)["jaeger"],
        log=workdir / "jaeger.log",
    )


def refused_config(program_args: list[str], env: dict[str, str], timeout: float = 60) -> str:
    """Run a program that must refuse its configuration; its output (it must exit non-zero)."""
    finished = subprocess.run(
        program_args,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0, f"the program accepted the configuration:\n{output[-3000:]}"
    return output
