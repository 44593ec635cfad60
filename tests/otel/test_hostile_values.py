"""Values and objects that break naive text conversion never cost a run its spans.

With `record_values`, parameters and results are written as text: one that contains itself, nests
100,000 deep or has a `__repr__` that raises used to raise inside the handler, and the task's and
the flow's spans were never exported.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import flowlight.otel as otel
from flowlight import Flow, Parameter, task
from flowlight.otel import _handler
from flowlight.otel._stats import STATS

from .receivers import spans_in


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr explodes")


def _self_containing() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


def _deep() -> list[Any]:
    value: list[Any] = []
    for _ in range(100_000):
        value = [value]
    return value


def _attributes(span: dict[str, Any]) -> dict[str, Any]:
    return {item["key"]: next(iter(item["value"].values())) for item in span["attributes"]}


@pytest.fixture
def recording_values(telemetry_dir: Path) -> Any:
    STATS.reset()
    otel.configure(telemetry_dir=str(telemetry_dir), record_values=True)
    yield telemetry_dir
    otel.shutdown()


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (_self_containing, "['<cycle: list>']"),
        (_BadRepr, "<_BadRepr whose repr() raised RuntimeError>"),
        (_deep, "list nested too deep"),
    ],
)
def test_an_unprintable_parameter_or_result_is_shown_as_a_placeholder(
    recording_values: Path, make: Any, shown: str
) -> None:
    @task
    def echo(value: Any) -> Any:
        return value

    with Flow("hostile-values") as flow:
        echo(Parameter("p"))
    state = otel.instrument(flow).run(parameters={"p": make()})
    assert state.is_successful()
    otel.flush()

    spans = {
        span["name"]: _attributes(span) for span in spans_in(recording_values / "traces.jsonl")
    }
    assert set(spans) == {"hostile-values", "p", "echo"}
    assert shown in spans["hostile-values"]["flowlight.parameter.p"]
    assert shown in spans["echo"]["flowlight.result"]
    stats = otel.statistics()
    assert stats["spans_ended"] == 3
    assert "handler_errors" not in stats


def test_an_error_while_recording_the_final_transition_still_ends_the_spans(
    recording_values: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever goes wrong in recording, the spans end (marked) and one WARNING says so."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ending went wrong")

    monkeypatch.setattr(_handler, "_warned_once", type(_handler._warned_once)())
    monkeypatch.setattr(_handler, "end_run_span", broken)

    @task
    def one() -> int:
        return 1

    @task
    def two() -> int:
        return 2

    caplog.set_level(logging.DEBUG, logger="flowlight.otel")
    state = otel.instrument(Flow("broken-ending", tasks=[one, two])).run()
    assert state.is_successful()
    otel.flush()

    spans = {
        span["name"]: _attributes(span) for span in spans_in(recording_values / "traces.jsonl")
    }
    assert set(spans) == {"broken-ending", "one", "two"}
    for attributes in spans.values():
        assert attributes["flowlight.recording_error"] is True
    assert spans["one"]["flowlight.state"] == "Success"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ending went wrong" in warnings[0].getMessage()
    assert "__repr__" in warnings[0].getMessage()
    assert otel.statistics()["handler_errors"] == 3


def test_an_exception_whose_str_raises_is_recorded(recording_values: Path) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise ValueError("no text")

    @task
    def fails() -> None:
        raise Unprintable()

    state = otel.instrument(Flow("odd-texts", tasks=[fails])).run()
    assert state.is_failed()
    otel.flush()
    spans = spans_in(recording_values / "traces.jsonl")
    assert sorted(span["name"] for span in spans) == ["fails", "odd-texts"]
    events = [e for span in spans for e in span.get("events", []) if e["name"] == "exception"]
    assert "<Unprintable whose str() raised ValueError>" in str(events)
    assert "handler_errors" not in otel.statistics()


def test_tags_that_are_not_a_collection_are_one_tag() -> None:
    assert _handler._tag_texts("etl") == ("etl",)
    assert _handler._tag_texts({"b", 1}) == ("1", "b")
