"""The local store rotates by size and keeps a bounded number of files, but never drops telemetry
a collector has not received yet."""

from __future__ import annotations

from pathlib import Path

from tests.notifications.servers import free_port
from tests.otel.receivers import HttpReceiver

from flowlight.telemetry_files import flow_runs, signal_files

from .scripts import PYTHON, clean_env, run_piped, write_script

MANY_RUNS = """
import sys
import flowlight.otel
from flowlight import Flow, task

@task
def item():
    return list(range(20))

@task
def work(x):
    return x

with Flow("rotating") as flow:
    work.map(item())
flowlight.otel.instrument(flow)
ids = [flow.run().trace_id for _ in range(int(sys.argv[1]))]
flowlight.otel.flush()
print(" ".join(ids))
"""


def run_many(tmp_path: Path, runs: int, **env: str) -> list[str]:
    script = write_script(tmp_path, MANY_RUNS)
    settings = {"FLOWLIGHT__OTEL__MAX_FILE_MB": "0.02", "FLOWLIGHT__OTEL__MAX_FILES": "2", **env}
    done = run_piped([PYTHON, str(script), str(runs)], tmp_path, clean_env(tmp_path, **settings))
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_with_no_collector_the_store_keeps_a_bounded_number_of_files(tmp_path: Path) -> None:
    store = tmp_path / "telemetry"
    ids = run_many(tmp_path, 30)
    for signal in ("traces", "logs"):
        files = signal_files(store, signal)
        rotated = [f for f in files if f.name != f"{signal}.jsonl"]
        assert len(rotated) == 2, [f.name for f in files]
        assert all(f.stat().st_size < 3 * 0.02 * 1024 * 1024 for f in files)
    kept = [run.trace_id for run in flow_runs(store)]
    assert kept == ids[-len(kept) :]  # the most recent runs, in order
    assert 0 < len(kept) < 30


def test_spooled_runs_are_never_dropped_and_a_replay_sends_them_all(tmp_path: Path) -> None:
    store = tmp_path / "telemetry"
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    ids = run_many(tmp_path, 30, OTEL_EXPORTER_OTLP_ENDPOINT=down)
    rotated = [f for f in signal_files(store, "traces") if f.name != "traces.jsonl"]
    assert len(rotated) > 2  # more than MAX_FILES: none of them was sent anywhere
    assert all(".unsent." in f.name for f in rotated)
    assert [run.trace_id for run in flow_runs(store)] == ids
    receiver = HttpReceiver().start()
    try:
        done = run_piped(
            [str(Path(PYTHON).parent / "flowlight"), "telemetry", "replay", str(store)],
            tmp_path,
            clean_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint),
        )
        assert done.returncode == 0, done.stderr
        roots = {s.trace_id for s in receiver.received.spans() if s.name == "rotating"}
    finally:
        receiver.stop()
    assert roots == set(ids)
    assert signal_files(store, "traces") == []


def test_rotation_settings_are_checked(tmp_path: Path) -> None:
    script = write_script(
        tmp_path,
        "import flowlight.telemetry_files as f\n"
        "try:\n    f.rotation_limits()\nexcept ValueError as e:\n    print(e)\n",
    )
    done = run_piped(
        [PYTHON, str(script)], tmp_path, clean_env(tmp_path, FLOWLIGHT__OTEL__MAX_FILES="0")
    )
    assert "FLOWLIGHT__OTEL__MAX_FILES is 0; it must be a whole number, 1 or more" in done.stdout
