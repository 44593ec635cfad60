"""Results, serializers, targets and checkpoints, as Prefect 1.4.1's `prefect.engine.result(s)`
and task runner use them (each behaviour below was run on Prefect 1.4.1 with the same calls)."""

from __future__ import annotations

import base64
import datetime
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from flowlight import Flow, context, task
from flowlight.engine.result import NoResult, Result, ResultNotImplementedError
from flowlight.engine.results import (
    ConstantResult,
    FlowlightResult,
    LocalResult,
    PrefectResult,
    SecretResult,
)
from flowlight.engine.serializers import (
    CompressedSerializer,
    DateTimeSerializer,
    JSONSerializer,
    PickleSerializer,
)
from flowlight.engine.state import State, Success

# -- Result and its subclasses ----------------------------------------------------------------


def test_result_equality_compares_type_value_and_location() -> None:
    assert Result(3) == Result(3)
    assert Result(3) != Result(4)
    assert Result(3, location="a") != Result(3)
    assert Result(3) != 3
    assert NoResult != Result()
    assert repr(Result(3)) == "<Result: 3>"


def test_location_templates_are_formatted_from_keywords_or_by_a_callable() -> None:
    assert Result(location="{a}/{b}.txt").format(a=1, b=2).location == "1/2.txt"
    by_callable = Result(location=lambda **kw: f"x{kw['a']}")
    assert by_callable.location is None
    assert by_callable.format(a=1).location == "x1"
    moved = Result(1, location="x").from_value(2)
    assert (moved.value, moved.location) == (2, None)


@pytest.mark.parametrize("operation", ["read", "write", "exists"])
def test_the_base_result_stores_nothing_and_says_which_to_use(operation: str) -> None:
    needs = r"use flowlight\.engine\.results\.LocalResult"
    with pytest.raises(ResultNotImplementedError, match=needs):
        getattr(Result(), operation)("x")


def test_local_result_writes_a_file_and_reads_it_back(tmp_path: Path) -> None:
    result = LocalResult(dir=str(tmp_path), location="{x}.bin")
    written = result.write({"a": 1}, x="foo")
    assert written.location == str(tmp_path / "foo.bin")
    assert result.location == "{x}.bin"  # the configured result is never changed
    assert result.exists("{x}.bin", x="foo") and not result.exists("nope")
    assert result.read("foo.bin").value == {"a": 1}
    assert result.read(written.location).value == {"a": 1}
    assert pickle.loads((tmp_path / "foo.bin").read_bytes()) == {"a": 1}


def test_local_result_without_a_location_writes_a_fresh_file_in_its_dir(tmp_path: Path) -> None:
    first = LocalResult(dir=str(tmp_path)).write(5)
    assert first.location is not None and os.path.dirname(first.location) == str(tmp_path)
    assert LocalResult(dir="relative/x", validate_dir=False).dir == "relative/x"


def test_flowlight_result_keeps_the_json_value_as_its_location() -> None:
    result = FlowlightResult()
    assert PrefectResult is FlowlightResult
    assert result.write({"a": [1, 2]}).location == '{"a": [1, 2]}'
    assert result.read('{"a": 1}').value == {"a": 1}
    assert result.exists("[1]") and not result.exists("{bad")
    dated = FlowlightResult(serializer=DateTimeSerializer())
    when = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    location = dated.write(when).location
    assert location.startswith("2020-01-01T00:00:00")  # "+00:00" or "Z", as pendulum writes UTC
    assert dated.read(location).value == when
    with pytest.raises(TypeError, match="only JSONSerializer or DateTimeSerializer"):
        FlowlightResult(serializer=PickleSerializer())


def test_constant_and_secret_results_cannot_be_written() -> None:
    constant = ConstantResult(value=5)
    assert constant.read("anything") is constant and constant.exists("y")
    with pytest.raises(ValueError, match="Cannot write values to `ConstantResult`"):
        constant.write(3)
    with pytest.raises(ValueError, match="serializer"):
        ConstantResult(serializer=JSONSerializer())

    class Lookup:
        name = "MY_SECRET"

        def run(self, name: str) -> str:
            return f"value of {name}"

    secret = SecretResult(Lookup())
    assert secret.location == "MY_SECRET"
    assert secret.read("OTHER").value == "value of OTHER"
    with pytest.raises(ValueError, match="cannot be written"):
        secret.write(1)


# -- serializers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "serializer",
    [PickleSerializer(), JSONSerializer(), CompressedSerializer(PickleSerializer(), format="gzip")],
    ids=["pickle", "json", "gzip"],
)
def test_serializers_round_trip(serializer: Any) -> None:
    assert serializer.deserialize(serializer.serialize({"x": [1, 2]})) == {"x": [1, 2]}


def test_pickle_serializer_also_reads_base64_pickles() -> None:
    """Prefect 1 kept some pickles base64-encoded; they still read."""
    assert PickleSerializer().deserialize(base64.b64encode(pickle.dumps(42))) == 42


def test_compressed_serializer_needs_one_way_to_compress() -> None:
    with pytest.raises(ValueError, match="either `format`"):
        CompressedSerializer(PickleSerializer())
    with pytest.raises(ValueError, match="not both"):
        CompressedSerializer(PickleSerializer(), format="gzip", compress=lambda b: b)
    with pytest.raises(ImportError, match="Did you mean to use one of"):
        CompressedSerializer(PickleSerializer(), format="no_such_compression_module")
    assert PickleSerializer() == PickleSerializer() != JSONSerializer()


# -- state._result -----------------------------------------------------------------------------


def test_a_state_given_a_result_exposes_its_value_and_keeps_the_result() -> None:
    stored = FlowlightResult(value=3, location="3")
    state = Success(result=stored)
    assert state.result == 3
    assert state._result is stored
    plain = Success(result=4)
    assert plain._result == Result(4)
    assert State()._result is NoResult
    plain.result = 7  # a value set later is what `_result` wraps
    assert plain._result == Result(7)


# -- targets and checkpoints in a flow run -----------------------------------------------------


def _flow(tmp_path: Path, calls: list[Any]) -> tuple[Flow, dict[str, Any]]:
    @task(target="{task_name}-{x}.bin", result=LocalResult(dir=str(tmp_path)))
    def with_target(x: int) -> int:
        calls.append(("with_target", x))
        return x * 2

    @task(result=LocalResult(dir=str(tmp_path), location="plain-{task_run_count}.bin"))
    def plain() -> str:
        calls.append("plain")
        return "p"

    @task(checkpoint=False, result=LocalResult(dir=str(tmp_path), location="never.bin"))
    def opted_out() -> str:
        calls.append("opted_out")
        return "n"

    @task(target="no-result-type.txt")
    def target_without_result() -> int:
        calls.append("target_without_result")
        return 1

    with Flow("results") as flow:
        bound = {
            "with_target": with_target(3),
            "plain": plain(),
            "opted_out": opted_out(),
            "target_without_result": target_without_result(),
        }
    return flow, bound


def test_without_checkpointing_nothing_is_written_but_results_carry_the_type(
    tmp_path: Path,
) -> None:
    calls: list[Any] = []
    flow, bound = _flow(tmp_path, calls)
    state = flow.run()
    assert sorted(os.listdir(tmp_path)) == []
    plain = state.result[bound["plain"]]
    assert plain.result == "p"
    assert isinstance(plain._result, LocalResult) and plain._result.location is None


def test_a_target_without_a_storing_result_fails_the_task_saying_so(tmp_path: Path) -> None:
    calls: list[Any] = []
    flow, bound = _flow(tmp_path, calls)
    failed = flow.run().result[bound["target_without_result"]]
    assert failed.is_failed()
    assert failed.message.startswith("Unexpected error: ResultNotImplementedError(")
    assert "target_without_result" not in calls


def test_checkpointing_writes_results_and_an_existing_target_skips_the_run(
    tmp_path: Path,
) -> None:
    calls: list[Any] = []
    flow, bound = _flow(tmp_path, calls)
    with context(checkpointing=True):
        first = flow.run()
    assert sorted(os.listdir(tmp_path)) == ["plain-1.bin", "with_target-3.bin"]
    written = first.result[bound["with_target"]]
    assert written.result == 6 and written._result.location == str(tmp_path / "with_target-3.bin")
    assert first.result[bound["opted_out"]]._result.location is None
    assert ("with_target", 3) in calls

    calls.clear()
    with context(checkpointing=True):
        second = flow.run()
    found = second.result[bound["with_target"]]
    assert type(found).__name__ == "Cached"
    assert found.message == "Result found at task target with_target-3.bin"
    assert found.result == 6
    assert ("with_target", 3) not in calls and "plain" in calls


def test_the_flow_result_is_used_by_tasks_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Flow(result=...)` stores every task's value; the setting turns checkpointing on."""
    monkeypatch.setenv("FLOWLIGHT__FLOWS__CHECKPOINTING", "true")

    @task
    def value() -> int:
        return 41

    flow = Flow("flow result", result=LocalResult(dir=str(tmp_path), location="{task_name}.v"))
    flow.add_task(value)
    state = flow.run().result[value]
    assert state._result.location == str(tmp_path / "value.v")
    assert LocalResult(dir=str(tmp_path)).read("value.v").value == 41


def test_a_checkpoint_that_cannot_be_written_fails_the_task(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    @task(result=LocalResult(dir=str(tmp_path), location="a-file/inside.bin"))
    def value() -> int:
        return 1

    flow = Flow("unwritable", tasks=[value])
    with context(checkpointing=True):
        state = flow.run().result[value]
    assert state.is_failed()
    assert "could not be checkpointed to LocalResult" in state.message


def test_target_and_result_location_clash_warns_and_the_target_wins(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="the target is used"):

        @task(target="t.bin", result=LocalResult(dir=str(tmp_path), location="r.bin"))
        def clash() -> None:
            return None

    assert clash.result.location == "t.bin"


def test_a_target_given_in_task_args_becomes_the_copys_result_location(tmp_path: Path) -> None:
    """`task(task_args={"target": ..., "result": ...})` must store where the target says, as
    when both are given to the task itself; the original task's result is left alone."""

    @task
    def plain() -> int:
        return 1

    @task(result=LocalResult(dir=str(tmp_path)))
    def stored() -> int:
        return 2

    with Flow("targets in task_args"):
        both = plain(task_args={"target": "both.bin", "result": LocalResult(dir=str(tmp_path))})
        only_target = stored(task_args={"target": "copy.bin"})
    assert both.result.location == "both.bin"
    assert only_target.result.location == "copy.bin"
    assert stored.result.location is None


def test_a_parameter_keeps_its_value_as_json_and_is_checkpointed() -> None:
    """Prefect 1 gives every Parameter a PrefectResult with checkpoint=True, so a checkpointed
    run records the value each parameter was given in the state's result location."""
    from flowlight import Parameter
    from flowlight.utilities.configuration import set_temporary_config

    given = Parameter("given")
    assert isinstance(given.result, PrefectResult) and given.checkpoint is True
    flow = Flow("parameters", tasks=[given])
    with set_temporary_config({"flows.checkpointing": True}):
        state = flow.run(parameters={"given": {"a": 1}}).result[given]
    assert state.result == {"a": 1} and state._result.location == '{"a": 1}'
