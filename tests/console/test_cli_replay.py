"""`flowlight telemetry replay`: its arguments, errors and `--keep`, through the real command."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.otel.receivers import HttpReceiver

from .scripts import PYTHON, RETRY_AND_FAILING_CHILD, clean_env, run_piped, write_script
from .test_cli_run import FLOWLIGHT


@pytest.fixture
def collector() -> Iterator[HttpReceiver]:
    server = HttpReceiver().start()
    yield server
    server.stop()


def recorded(tmp_path: Path) -> Path:
    """A traced run written to the local store (no collector configured)."""
    script = write_script(tmp_path, RETRY_AND_FAILING_CHILD)
    done = run_piped([PYTHON, str(script), "--traced"], tmp_path, clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    return tmp_path / "telemetry"


def replay(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    done = run_piped([FLOWLIGHT, "telemetry", "replay", *args], tmp_path, clean_env(tmp_path))
    return done.returncode, done.stdout, done.stderr


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    status, _, err = replay(tmp_path, str(tmp_path / "nowhere"), "--endpoint", "http://x:1")
    assert status == 2
    assert f"no telemetry directory at {tmp_path / 'nowhere'}" in err


def test_no_collector_is_an_error_that_names_the_endpoint_flag(tmp_path: Path) -> None:
    store = recorded(tmp_path)
    status, _, err = replay(tmp_path, str(store))
    assert status == 2
    assert "--endpoint" in err and "OTEL_EXPORTER_OTLP_ENDPOINT" in err


def test_keep_sends_everything_and_leaves_the_files(
    tmp_path: Path, collector: HttpReceiver
) -> None:
    store = recorded(tmp_path)
    before = {p.name: p.read_bytes() for p in store.iterdir() if p.is_file()}
    status, out, err = replay(tmp_path, str(store), "--endpoint", collector.endpoint, "--keep")
    assert status == 0, err
    assert re.search(r"^traces: sent [1-9]\d*, kept 0$", out, re.M), out
    assert {p.name: p.read_bytes() for p in store.iterdir() if p.is_file()} == before
    names = {span.name for span in collector.received.spans()}
    assert {"console-demo", "extract", "transform", "transform[1]"} <= names


def test_without_keep_the_sent_files_are_removed(tmp_path: Path, collector: HttpReceiver) -> None:
    store = recorded(tmp_path)
    status, _, err = replay(tmp_path, str(store), "--endpoint", collector.endpoint)
    assert status == 0, err
    assert not list(store.glob("*.jsonl"))
    assert collector.received.spans()


def test_help_says_what_happens_to_the_files(tmp_path: Path) -> None:
    status, out, _ = replay(tmp_path, "--help")
    assert status == 0
    text = " ".join(out.split())
    assert "--keep" in text and "--endpoint" in text
    assert "removed once the collector confirmed every request in it" in text


def test_a_collector_that_is_down_is_reported_once_per_problem_with_what_to_do(
    tmp_path: Path,
) -> None:
    store = recorded(tmp_path)
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, out, err = replay(tmp_path, str(store), "--endpoint", f"http://127.0.0.1:{port}")
    assert status == 1, err
    assert re.search(r"^traces: sent 0, kept [1-9]\d*$", out, re.M), out
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors and len(errors) == len(set(errors)), err
    assert f"still in {store}" in err and "replay again" in err
    assert list(store.glob("*.jsonl"))  # nothing sent, nothing removed
