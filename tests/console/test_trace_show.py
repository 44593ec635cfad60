"""`flowlight trace show` and `flowlight runs` draw recorded runs from the local store."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.otel.receivers import spans_in

from flowlight.cli.render import duration

from .scripts import PYTHON, RETRY_AND_FAILING_CHILD, clean_env, run_piped, write_script
from .test_cli_run import FLOWLIGHT


def show(tmp_path: Path, *args: str, columns: int = 200) -> str:
    env = clean_env(tmp_path, COLUMNS=str(columns))
    done = run_piped([FLOWLIGHT, *args, "--dir", str(tmp_path / "telemetry")], tmp_path, env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def row(screen: str, label: str) -> list[str]:
    """The cells of the row whose span column is `label` (after the tree's drawing)."""
    for line in screen.splitlines():
        cells = [c for c in re.split(r"\s{2,}", line.strip()) if c]
        if cells and re.sub(r"^[│├└─ ]+", "", cells[0]) == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{screen}")


def recorded_run(tmp_path: Path) -> tuple[str, dict[str, dict[str, object]]]:
    """Run the retry-and-failing-child flow traced; its trace id and its spans by name."""
    script = write_script(tmp_path, RETRY_AND_FAILING_CHILD)
    done = run_piped([PYTHON, str(script), "--traced"], tmp_path, clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    trace_id = json.loads(done.stdout)["trace_id"]
    spans = {s["name"]: s for s in spans_in(tmp_path / "telemetry" / "traces.jsonl")}
    return trace_id, spans


def seconds(span: dict[str, object]) -> float:
    return (int(str(span["endTimeUnixNano"])) - int(str(span["startTimeUnixNano"]))) / 1e9


def test_a_recorded_run_is_drawn_as_its_tree_with_states_durations_and_errors(
    tmp_path: Path,
) -> None:
    trace_id, spans = recorded_run(tmp_path)
    screen = show(tmp_path, "trace", "show", trace_id)
    assert screen.splitlines()[0].startswith(f"trace {trace_id} (6 spans, ")
    labels = [
        re.sub(r"^[│├└─ ]+", "", re.split(r"\s{2,}", line.strip())[0])
        for line in screen.splitlines()[2:]
        if "│" in line and "█" in line
    ]
    assert labels == [
        "console-demo",
        "extract",
        "transform",
        "transform[0]",
        "transform[1]",
        "transform[2]",
    ]
    for name, state in [
        ("console-demo", "Failed"),
        ("extract", "Success"),
        ("transform", "Mapped ✗"),
        ("transform[1]", "Failed"),
        ("transform[2]", "Success"),
    ]:
        cells = row(screen, name)
        assert cells[1] == state, cells
        assert cells[2] == duration(seconds(spans[name])), (name, cells)
    assert "Retrying: Retrying Task (after attempt 1 of 2)" in screen
    assert "ConnectionError: source not ready" in screen
    assert "RuntimeError: cannot transform 2" in screen
    assert "Failed: Error during execution of task: RuntimeError('cannot transform 2')" in screen


def test_the_mapped_parent_covers_its_children_and_is_an_error_when_one_failed(
    tmp_path: Path,
) -> None:
    _, spans = recorded_run(tmp_path)
    parent = spans["transform"]
    children = [spans[f"transform[{i}]"] for i in range(3)]
    assert all(c["parentSpanId"] == parent["spanId"] for c in children)
    assert parent["endTimeUnixNano"] == max(c["endTimeUnixNano"] for c in children)
    assert parent["status"]["code"] == 2
    states = {a["key"]: a["value"] for a in parent["attributes"]}
    assert states["flowlight.state"] == {"stringValue": "Mapped"}


def test_last_and_flow_pick_the_most_recent_run_and_runs_lists_them(tmp_path: Path) -> None:
    first, _ = recorded_run(tmp_path)
    second, _ = recorded_run(tmp_path)
    assert first != second
    assert f"trace {second} " in show(tmp_path, "trace", "show")
    assert f"trace {second} " in show(tmp_path, "trace", "show", "--last")
    assert f"trace {second} " in show(tmp_path, "trace", "show", "--flow", "console-demo")
    assert f"trace {first} " in show(tmp_path, "trace", "show", first[:12])
    listed = show(tmp_path, "runs").splitlines()
    assert [line.split()[-1] for line in listed[1:]] == [first, second]
    assert all("console-demo" in line and "Failed" in line for line in listed[1:])


def _synthetic_map(directory: Path, children: int, failed: set[int]) -> None:
    """A recorded run of `children` mapped children, some failed, with known times: what the
    bridge writes, built by hand so the drawing's numbers are exact."""
    second = 1_000_000_000
    t0 = 1_800_000_000 * second

    def attr(key: str, value: object) -> dict[str, object]:
        if isinstance(value, int):
            return {"key": key, "value": {"intValue": str(value)}}
        return {"key": key, "value": {"stringValue": str(value)}}

    def span(sid: str, parent: str, name: str, start: int, end: int, state: str, **extra: object):
        attributes = [attr("flowlight.state", state)] + [
            attr(k.replace("__", "."), v) for k, v in extra.items()
        ]
        return {
            "traceId": "ab" * 16,
            "spanId": sid,
            "parentSpanId": parent,
            "name": name,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(end),
            "status": {"code": 2 if state == "Failed" else 1},
            "attributes": attributes,
        }

    spans = [
        span("f" * 16, "", "big", t0, t0 + 10 * second, "Failed", flowlight__run__kind="flow"),
        span("e" * 16, "f" * 16, "transform", t0 + second, t0 + 9 * second, "Mapped"),
    ]
    for i in range(children):
        start = t0 + second + i * 4_000_000
        spans.append(
            span(
                f"{i + 1:016x}",
                "e" * 16,
                f"transform[{i}]",
                start,
                start + 2_000_000,
                "Failed" if i in failed else "Success",
                flowlight__task__map_index=i,
            )
        )
    request = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "traces.jsonl").write_text(json.dumps(request) + "\n")


def test_two_thousand_children_fold_into_one_line_and_expand_on_request(tmp_path: Path) -> None:
    _synthetic_map(tmp_path / "telemetry", 2000, {3, 503, 1003, 1503})
    screen = show(tmp_path, "trace", "show")
    assert screen.splitlines()[0] == f"trace {'ab' * 16} (2002 spans, 10.00 s)"
    assert row(screen, "big")[1:3] == ["Failed", "10.00 s"]
    assert row(screen, "transform")[1:3] == ["Mapped", "8.00 s"]
    folded = row(screen, "transform[0..1999]")
    assert folded[1:3] == ["1996 × Success, 4 × Failed", "8.00 s"]  # noqa: RUF001
    for index in (3, 503, 1003, 1503):
        assert row(screen, f"transform[{index}]")[1:3] == ["Failed", "2.0 ms"]
    assert "transform[4]" not in screen
    assert len(screen.splitlines()) < 20
    expanded = show(tmp_path, "trace", "show", "--expand")
    assert "transform[0..1999]" not in expanded
    assert row(expanded, "transform[1999]")[1:3] == ["Success", "2.0 ms"]
    assert len(expanded.splitlines()) == 2 + 2 + 2000


def test_no_store_or_unknown_trace_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    done = run_piped([FLOWLIGHT, "trace", "show"], tmp_path, env)
    assert done.returncode == 2
    assert "no traced run in" in done.stderr and "--trace" in done.stderr
    _synthetic_map(tmp_path / "telemetry", 1, set())
    done = run_piped([FLOWLIGHT, "trace", "show", "--flow", "other"], tmp_path, env)
    assert done.returncode == 2
    assert "no run of flow 'other'" in done.stderr
