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
