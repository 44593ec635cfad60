"""`flowlight trace show` and `flowlight runs` on a damaged store, on names that carry terminal
escape codes, and on option values that make no sense: they read what they can, say once what
they skipped, print file data escaped, and refuse bad options with a usage error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .scripts import PYTHON, clean_env, run_piped, write_script
from .test_cli_run import FLOWLIGHT
from .test_trace_show import recorded_run

HOSTILE_NAMES = r"""
import flowlight.otel
from flowlight import Flow, task

@task(name="load\x1b[31m[bold]red[/]\u202e")
def load():
    raise ValueError("boom \x1b[2J\x1b[H cleared \x07")

with Flow("etl\x1b[2J[/]") as flow:
    load()

flowlight.otel.instrument(flow)
flow.run()
"""


def flowlight(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(tmp_path, COLUMNS="200")
    return run_piped([FLOWLIGHT, *args, "--dir", str(tmp_path / "telemetry")], tmp_path, env)


def test_damaged_lines_in_live_and_rotated_files_are_skipped_and_said_once(
    tmp_path: Path,
) -> None:
    trace_id, _ = recorded_run(tmp_path)
    store = tmp_path / "telemetry"
    intact = {args: flowlight(tmp_path, *args).stdout for args in [("runs",), ("trace", "show")]}
    live = store / "traces.jsonl"
    whole_line = live.read_bytes().splitlines()[0]
    with open(live, "ab") as handle:  # what torn writes and bad bytes leave behind
        handle.write(b"\xff\xfe not text\n[]\nnull\n42\n" + whole_line[: len(whole_line) // 2])
    (store / "traces.1700000000000000000.jsonl").write_bytes(
        b'{"resourceSpans": 3}\n{"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}]}\n'
    )
    lines = len(live.read_bytes().splitlines())

    for args in [("runs",), ("trace", "show"), ("trace", "show", trace_id)]:
        done = flowlight(tmp_path, *args)
        assert done.returncode == 0, done.stderr
        assert done.stdout == intact[args[:2]]  # every intact line still read
        assert "Traceback" not in done.stderr
        command = " ".join(["flowlight", *args[:2]])
        assert done.stderr.count(f"{command}: skipped") == 1, done.stderr
        assert f"{command}: skipped 7 unreadable line(s) of the telemetry files in {store}" in (
            done.stderr
        )
        assert (
            f"  traces.jsonl: 5 line(s) (line {lines - 4}: not UTF-8 text (byte 1); "
            f"line {lines - 3}: JSON array, not an object; "
            f"line {lines - 2}: JSON null, not an object; "
            f"line {lines - 1}: JSON number, not an object; "
            f"line {lines}: not valid JSON" in done.stderr
        )
        assert (
            "  traces.1700000000000000000.jsonl: 2 line(s) (line 1: no traces export request: "
            "resourceSpans is a JSON number, not a list; line 2: "
            "resourceSpans[0].scopeSpans[0].spans[0].traceId is missing)" in done.stderr
        )


def test_a_store_of_nothing_but_damage_says_so_and_finds_no_run(tmp_path: Path) -> None:
    store = tmp_path / "telemetry"
    store.mkdir()
    (store / "traces.jsonl").write_bytes(b"[]\n")
    done = flowlight(tmp_path, "runs")
    assert done.returncode == 0
    assert done.stdout.startswith("no flow runs recorded in")
    assert "flowlight runs: skipped 1 unreadable line(s)" in done.stderr
    done = flowlight(tmp_path, "trace", "show")
    assert done.returncode == 2
    assert "no traced run in" in done.stderr
    assert "flowlight trace show: skipped 1 unreadable line(s)" in done.stderr


def test_escape_codes_and_markup_in_names_and_messages_are_printed_escaped(
    tmp_path: Path,
) -> None:
    script = write_script(tmp_path, HOSTILE_NAMES)
    done = run_piped([PYTHON, str(script)], tmp_path, clean_env(tmp_path))
    assert done.returncode == 0, done.stderr

    runs = flowlight(tmp_path, "runs")
    assert runs.returncode == 0, runs.stderr
    assert "etl\\x1b[2J[/]" in runs.stdout

    shown = flowlight(tmp_path, "trace", "show")
    assert shown.returncode == 0, shown.stderr
    assert "etl\\x1b[2J[/]" in shown.stdout
    assert "load\\x1b[31m[bold]red[/]\\u202e" in shown.stdout
    assert "boom \\x1b[2J\\x1b[H cleared \\x07" in shown.stdout
    for output in (runs.stdout, shown.stdout):
        assert "\x1b" not in output and "\u202e" not in output and "\x07" not in output


def test_a_name_that_cannot_be_encoded_is_printed_escaped(tmp_path: Path) -> None:
    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "bad\udcffname\u2028next",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [
            {"key": "flowlight.run.kind", "value": {"stringValue": "flow"}},
            {"key": "flowlight.state", "value": {"stringValue": "Success\x1b[5m"}},
        ],
    }
    store = tmp_path / "telemetry"
    store.mkdir()
    line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
    (store / "traces.jsonl").write_text(line + "\n")
    for args in [("runs",), ("trace", "show")]:
        done = flowlight(tmp_path, *args)
        assert done.returncode == 0, done.stderr
        assert "bad\\udcffname\\u2028next" in done.stdout
        assert "Success\\x1b[5m" in done.stdout


def test_runs_refuses_a_count_below_one(tmp_path: Path) -> None:
    for value in ("0", "-5", "two"):
        done = flowlight(tmp_path, "runs", "-n", value)
        assert done.returncode == 2
        assert (
            f"argument --limit/-n: must be a whole number of runs, 1 or more; got '{value}'"
            in done.stderr
        )
        assert "Traceback" not in done.stderr
    assert flowlight(tmp_path, "runs", "-n", "1").returncode == 0
