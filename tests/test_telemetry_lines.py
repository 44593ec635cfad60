"""Reading damaged telemetry files: every line that cannot be read is skipped with its reason,
every other line is read, and no line is held in memory beyond the limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowlight import telemetry_lines
from flowlight.telemetry_files import flow_runs, read_spans
from flowlight.telemetry_lines import SkippedLines, UnreadableLine, otlp_document, store_lines

TRACE = "0af7651916cd43dd8448eb211c80319c"


def span_line(label: str, span_id: str = "b7ad6b7169203331", **span: Any) -> bytes:
    """One export request of one flow-run span, as the bridge writes it."""
    document = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE,
                                "spanId": span_id,
                                "name": label,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000001000000000",
                                "attributes": [
                                    {"key": "flowlight.run.kind", "value": {"stringValue": "flow"}}
                                ],
                                **span,
                            }
                        ]
                    }
                ]
            }
        ]
    }
    return json.dumps(document).encode()


WRONG_SHAPES = {
    b"[]": "JSON array, not an object",
    b"null": "JSON null, not an object",
    b"42": "JSON number, not an object",
    b'"text"': "JSON string, not an object",
    b"\xff\xfe{}": "not UTF-8 text",
    b'{"resourceSpans": [{"scopeSp': "not valid JSON",
    b"[" * 100_000: "nested too deeply",
    b'{"a": 1}': "resourceSpans is missing",
    b'{"resourceSpans": []}': "resourceSpans is an empty list",
    b'{"resourceSpans": {"a": 1}}': "resourceSpans is a JSON object, not a list",
    b'{"resourceSpans": [7]}': "resourceSpans[0] is not an object",
    b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}': "traceId is missing",
    span_line("x", spanId=7): "spanId is not a string: 7",
    span_line("x", status=[]): "status is not an object",
    span_line("x", status={"code": "2"}): "status.code is not an integer",
    span_line("x", name=["x"]): "name is not a string",
    span_line("x", startTimeUnixNano="soon"): "startTimeUnixNano is not a 64-bit count",
    span_line("x", endTimeUnixNano=1e400): "endTimeUnixNano is not a 64-bit count",
    span_line("x", attributes={"key": "a"}): "attributes is not a list",
    span_line("x", attributes=[{"key": 1, "value": {}}]): "attributes[0].key is not a string",
    span_line("x", attributes=[{"key": "a", "value": {"intValue": "1x"}}]): "not an integer",
    span_line("x", events=[{"name": "e", "timeUnixNano": None}]): "timeUnixNano is not a 64",
}


@pytest.mark.parametrize("line", list(WRONG_SHAPES), ids=lambda line: repr(line[:30]))
def test_each_unreadable_line_is_skipped_with_its_reason_and_the_others_are_read(
    tmp_path: Path, line: bytes
) -> None:
    (tmp_path / "traces.jsonl").write_bytes(
        span_line("before", "0000000000000001") + b"\n" + line + b"\n" + span_line("after")
    )
    skipped = SkippedLines()
    spans = read_spans(tmp_path, skipped=skipped)
    assert [s.name for s in spans] == ["before", "after"]
    assert list(skipped.by_file) == [tmp_path / "traces.jsonl"]
    (number, reason), *others = skipped.by_file[tmp_path / "traces.jsonl"].items()
    assert number == 2 and not others
    assert WRONG_SHAPES[line] in reason


def test_damaged_rotated_and_live_files_are_each_counted_once_in_one_summary(
    tmp_path: Path,
) -> None:
    (tmp_path / "traces.1700000000000000000.jsonl").write_bytes(
        b"[]\n" + span_line("old", "0000000000000001") + b"\n\xff\n"
    )
    (tmp_path / "traces.jsonl").write_bytes(span_line("new") + b"\nnull\n" + b'{"resourceSp')
    skipped = SkippedLines()
    assert [run.flow for run in flow_runs(tmp_path, skipped)] == ["old", "new"]
    read_spans(tmp_path, TRACE, skipped)  # a second reading, as `trace show` does
    summary = skipped.summary("flowlight runs")
    assert summary is not None
    assert summary.splitlines() == [
        f"flowlight runs: skipped 4 unreadable line(s) of the telemetry files in {tmp_path} "
        "(left as they are; everything else was read):",
        "  traces.1700000000000000000.jsonl: 2 line(s) (line 1: JSON array, not an object; "
        "line 3: not UTF-8 text (byte 1))",
        "  traces.jsonl: 2 line(s) (line 2: JSON null, not an object; "
        "line 3: not valid JSON at column 2 (torn or damaged))",
    ]
    assert SkippedLines().summary("flowlight runs") is None


def test_a_map_index_of_the_wrong_type_is_no_map_index(tmp_path: Path) -> None:
    attribute = {"key": "flowlight.task.map_index", "value": {"stringValue": "three"}}
    (tmp_path / "traces.jsonl").write_bytes(span_line("child", attributes=[attribute]))
    (span,) = read_spans(tmp_path)
    assert span.map_index is None


def test_a_line_over_the_limit_is_never_held_whole(tmp_path: Path) -> None:
    huge = b'{"a": "' + b"x" * 5_000_000 + b'"}'
    path = tmp_path / "traces.jsonl"
    path.write_bytes(b"first\n" + huge + b"\n\n   \nlast")
    pieces: list[bytes] = []
    lines = list(store_lines(path, limit=1000, oversized=pieces.append))
    assert [(line.number, line.raw, line.size) for line in lines] == [
        (1, b"first", 5),
        (2, None, len(huge)),
        (5, b"last", 4),
    ]
    assert b"".join(pieces) == huge + b"\n"  # what a quarantine receives: the line, intact
    assert max(len(piece) for piece in pieces) <= 1024 * 1024


def test_an_oversized_last_line_without_a_newline_gets_one(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    path.write_bytes(b"x" * 3000)
    pieces: list[bytes] = []
    (line,) = store_lines(path, limit=1000, oversized=pieces.append)
    assert (line.raw, line.size) == (None, 3000)
    assert b"".join(pieces) == b"x" * 3000 + b"\n"


def test_read_spans_skips_a_line_over_the_limit(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(telemetry_lines, "MAX_LINE_BYTES", 2000)
    big = span_line("big", status={"message": "m" * 3000})
    (tmp_path / "traces.jsonl").write_bytes(big + b"\n" + span_line("small"))
    skipped = SkippedLines()
    assert [s.name for s in read_spans(tmp_path, skipped=skipped)] == ["small"]
    reason = skipped.by_file[tmp_path / "traces.jsonl"][1]
    assert reason == f"{len(big):,} bytes long, over the 2,000-byte line limit"


def test_a_request_of_another_signal_is_not_one_of_this_signal() -> None:
    with pytest.raises(UnreadableLine, match="no logs export request: resourceLogs is missing"):
        otlp_document(span_line("x"), "logs")
    assert otlp_document(span_line("x"), "traces")["resourceSpans"]
