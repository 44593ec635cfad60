"""Replay of damaged or stranded files: every intact request is sent, a line that is not OTLP JSON
(a bad byte, a torn last line) is quarantined and reported once, and files a dead replay left
aside are picked up. Real files, a real OTLP receiver over both protocols."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import flowlight.otel as otel
from flowlight import telemetry_lines
from flowlight.cli import main
from flowlight.otel._otlp_json import request_to_json_line, spans_to_request


def span_lines(*names: str) -> list[bytes]:
    """One OTLP JSON line per span, as the bridge writes them."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    for name in names:
        provider.get_tracer("replay-tests").start_span(name).end()
    provider.shutdown()
    return [
        request_to_json_line(spans_to_request([span])).encode()
        for span in exporter.get_finished_spans()
    ]


def dead_pid() -> int:
    """The pid of a process that has exited."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_bad_lines_are_quarantined_and_every_intact_span_is_sent(
    receiver: Any, telemetry_dir: Path, capsys: Any
) -> None:
    telemetry_dir.mkdir(parents=True)
    good = span_lines("one", "two", "three", "four", "five", "six")
    bad_byte = good[2][:40] + b"\xff" + good[2][41:]
    torn = good[5][: len(good[5]) // 2]
    content = b"\n".join([good[0], good[1], bad_byte, good[3], good[4], torn])
    (telemetry_dir / "traces.jsonl").write_bytes(content)
    argv = [
        "telemetry",
        "replay",
        str(telemetry_dir),
        "--endpoint",
        receiver.endpoint,
        "--protocol",
        receiver.protocol,
    ]

    assert main(argv) == 1
    output = capsys.readouterr()
    assert "traces: sent 4, kept 0, quarantined 2 bad line(s) in traces.jsonl.bad" in output.out
    assert "line 3 is not OTLP JSON" in output.err
    assert "line 6 is not OTLP JSON" in output.err
    assert sorted(s.name for s in receiver.received.spans()) == ["five", "four", "one", "two"]
    assert (telemetry_dir / "traces.jsonl.bad").read_bytes() == bad_byte + b"\n" + torn + b"\n"
    assert not (telemetry_dir / "traces.jsonl").exists()
    assert list(telemetry_dir.glob("*.replaying-*")) == []

    # Reported once: the next replay has nothing to send and succeeds; the bad lines stay kept.
    assert main(argv) == 0
    assert len(receiver.received.spans()) == 4
    assert (telemetry_dir / "traces.jsonl.bad").exists()


def test_a_file_a_dead_replay_left_aside_is_sent(receiver: Any, telemetry_dir: Path) -> None:
    telemetry_dir.mkdir(parents=True)
    stranded = span_lines("left", "behind")
    (telemetry_dir / f"traces.jsonl.replaying-{dead_pid()}").write_bytes(
        b"\n".join(stranded) + b"\n"
    )
    (telemetry_dir / "traces.jsonl").write_bytes(span_lines("fresh")[0] + b"\n")
    report = otel.replay(telemetry_dir, endpoint=receiver.endpoint, protocol=receiver.protocol)
    assert report.complete
    assert report.sent["traces"] == 3
    assert sorted(s.name for s in receiver.received.spans()) == ["behind", "fresh", "left"]
    assert list(telemetry_dir.iterdir()) == []


def test_a_file_a_live_replay_holds_is_left_to_it(receiver: Any, telemetry_dir: Path) -> None:
    """Another replay still running (its process alive) owns its file."""
    telemetry_dir.mkdir(parents=True)
    live = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        held = telemetry_dir / f"traces.jsonl.replaying-{live.pid}"
        held.write_bytes(span_lines("theirs")[0] + b"\n")
        report = otel.replay(telemetry_dir, endpoint=receiver.endpoint, protocol=receiver.protocol)
        assert report.sent == {}
        assert held.exists()
    finally:
        live.communicate(b"")


def replay_argv(receiver: Any, telemetry_dir: Path, *extra: str) -> list[str]:
    return [
        "telemetry",
        "replay",
        str(telemetry_dir),
        "--endpoint",
        receiver.endpoint,
        "--protocol",
        receiver.protocol,
        *extra,
    ]


def test_json_that_is_no_request_of_the_signal_is_quarantined_not_counted_as_sent(
    receiver: Any, telemetry_dir: Path, capsys: Any
) -> None:
    telemetry_dir.mkdir(parents=True)
    good = span_lines("one", "two")
    log_request = b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {}}]}]}]}'
    not_requests = [b"[]", b"null", b'{"a": "' + b"x" * 1000 + b'"}', b'{"resourceSpans": []}']
    lines = [good[0], *not_requests, log_request, good[1]]
    (telemetry_dir / "traces.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    assert main(replay_argv(receiver, telemetry_dir)) == 1
    output = capsys.readouterr()
    assert "traces: sent 2, kept 0, quarantined 5 bad line(s) in traces.jsonl.bad" in output.out
    for number, reason in [
        (2, "JSON array, not an object"),
        (3, "JSON null, not an object"),
        (4, "no traces export request: resourceSpans is missing"),
        (5, "no traces export request: resourceSpans is an empty list"),
        (6, "no traces export request: resourceSpans is missing"),
    ]:
        assert f"traces: traces.jsonl line {number} is not OTLP JSON: {reason}" in output.err
    assert sorted(s.name for s in receiver.received.spans()) == ["one", "two"]
    bad = b"".join(line + b"\n" for line in [*not_requests, log_request])
    assert (telemetry_dir / "traces.jsonl.bad").read_bytes() == bad
    # Nothing waits for a collector: the message says where the bad lines went, not to retry.
    assert "start the collector" not in output.err and "still in" not in output.err
    assert (
        "5 line(s) are not OTLP JSON (why: above) and were not sent; they were moved to "
        f"traces.jsonl.bad in {telemetry_dir}, and a replay never sends them." in output.err
    )


def test_a_line_over_the_limit_is_quarantined_intact_and_the_rest_sent(
    receiver: Any, telemetry_dir: Path, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(telemetry_lines, "MAX_LINE_BYTES", 10_000)
    telemetry_dir.mkdir(parents=True)
    huge = b'{"a": "' + b"x" * 50_000 + b'"}'
    good = span_lines("before", "after")
    (telemetry_dir / "logs.1700000000000000000.jsonl").write_bytes(huge)  # no newline: torn
    (telemetry_dir / "traces.jsonl").write_bytes(b"\n".join([good[0], huge, good[1]]))

    assert main(replay_argv(receiver, telemetry_dir)) == 1
    output = capsys.readouterr()
    assert "traces: sent 2, kept 0, quarantined 1 bad line(s) in traces.jsonl.bad" in output.out
    assert "logs: sent 0, kept 0, quarantined 1 bad line(s) in logs.jsonl.bad" in output.out
    assert (
        "traces: traces.jsonl line 2 is not OTLP JSON: 50,009 bytes long, over the "
        "10,000-byte line limit" in output.err
    )
    assert "logs: logs.1700000000000000000.jsonl line 1 is not OTLP JSON: 50,009" in output.err
    assert "traces.jsonl.bad, logs.jsonl.bad in" in output.err
    assert sorted(s.name for s in receiver.received.spans()) == ["after", "before"]
    assert (telemetry_dir / "traces.jsonl.bad").read_bytes() == huge + b"\n"
    assert (telemetry_dir / "logs.jsonl.bad").read_bytes() == huge + b"\n"


def test_with_keep_bad_lines_are_said_to_stay_where_they_are(
    receiver: Any, telemetry_dir: Path, capsys: Any
) -> None:
    telemetry_dir.mkdir(parents=True)
    content = b"\n".join([span_lines("one")[0], b"[]"]) + b"\n"
    (telemetry_dir / "traces.jsonl").write_bytes(content)

    assert main(replay_argv(receiver, telemetry_dir, "--keep")) == 1
    output = capsys.readouterr()
    assert "traces: sent 1, kept 0, skipped 1 bad line(s) (left in place: --keep)" in output.out
    assert "--keep left them in place" in output.err and "moved" not in output.err
    assert sorted(p.name for p in telemetry_dir.iterdir()) == ["traces.jsonl"]
    assert (telemetry_dir / "traces.jsonl").read_bytes() == content


def test_many_bad_lines_are_listed_up_to_ten_then_counted(
    receiver: Any, telemetry_dir: Path, capsys: Any
) -> None:
    telemetry_dir.mkdir(parents=True)
    (telemetry_dir / "traces.jsonl").write_bytes(b"[]\n" * 25)
    assert main(replay_argv(receiver, telemetry_dir)) == 1
    errors = [e for e in capsys.readouterr().err.splitlines() if e.startswith("error: ")]
    assert len(errors) == 11
    assert errors[-1] == "error: ... and 15 more"
