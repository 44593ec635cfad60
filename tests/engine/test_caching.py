"""Caching: `cache_for` keeps a successful run's result; later runs that the task's validator
accepts end `Cached` without running. Time is a fake clock, so expiry needs no sleeping."""

from __future__ import annotations

import datetime
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _recording import FakeClock, Recorder

from flowlight import Flow, Parameter, Task, task
from flowlight.engine import cache_validators, signals
from flowlight.engine.cache import (
    InMemoryCacheStorage,
    set_cache_storage,
)
from flowlight.engine.clock import use_clock
from flowlight.engine.state import Cached, Failed, Skipped, State

FIVE_MINUTES = datetime.timedelta(minutes=5)

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with use_clock(FakeClock()) as fake:
        yield fake


def _final(state: State, name: str) -> State:
    return next(s for t, s in state.result.items() if t.name == name)


def _counting_flow(
    calls: list[Any], validator: Callable[..., bool] | None = None, **task_args: Any
) -> Flow:
    """A flow `fetch(x=Parameter x, y=Parameter y)` whose task records each real call."""

    @task(cache_for=FIVE_MINUTES, cache_validator=validator, **task_args)
    def fetch(x: int, y: int) -> int:
        calls.append((x, y))
        return x * 10 + y

    with Flow("cache") as flow:
        fetch(Parameter("x", default=1), Parameter("y", default=2))
    return flow


def test_a_cacheable_run_ends_cached_and_the_next_run_reuses_it(clock: FakeClock) -> None:
    """First run: Running -> Success -> Cached (the cache step is a transition, as in Prefect 1).
    Second run within cache_for: Pending -> Cached with the stored result, the body not called."""
    rec = Recorder()
    calls: list[Any] = []
    flow = _counting_flow(calls, state_handlers=[rec])

    first = _final(flow.run(), "fetch")
    assert rec.lines == [
        '<Task: fetch>: Pending() -> Running("Starting task run.")',
        '<Task: fetch>: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Task: fetch>: Success("Task run succeeded.") -> Cached("Task run succeeded.")',
    ]
    assert isinstance(first, Cached) and first.result == 12
    assert first.cached_inputs == {"x": 1, "y": 2}
    assert first.cached_parameters == {"x": 1, "y": 2}
    expiration = first.cached_result_expiration
    assert expiration is not None
    assert expiration.timestamp() == pytest.approx(clock.now() + 300)

    rec.lines.clear()
    clock.advance(299)
    second_flow = flow.run()
    second = _final(second_flow, "fetch")
    assert rec.lines == ['<Task: fetch>: Pending() -> Cached("Task run succeeded.")']
    assert isinstance(second, Cached) and second.result == 12
    assert calls == [(1, 2)]
    assert second_flow.is_successful()


def test_an_expired_cache_runs_the_task_again(clock: FakeClock) -> None:
    """Once cache_for has passed on the engine clock, the task runs and caches anew."""
    calls: list[Any] = []
    flow = _counting_flow(calls)
    flow.run()
    clock.advance(301)
    again = _final(flow.run(), "fetch")
    assert calls == [(1, 2), (1, 2)]
    assert isinstance(again, Cached)
    assert again.cached_result_expiration is not None
    assert again.cached_result_expiration.timestamp() == pytest.approx(clock.now() + 300)


def test_the_cached_result_is_what_downstream_tasks_receive(clock: FakeClock) -> None:
    """A Cached upstream counts as a success and passes its result on."""
    calls: list[int] = []

    @task(cache_for=FIVE_MINUTES)
    def load() -> int:
        calls.append(1)
        return 41

    @task
    def plus_one(x: int) -> int:
        return x + 1

    with Flow("down") as flow:
        result = plus_one(load())
    flow.run()
    state = flow.run()
    assert state.result[result].result == 42
    assert len(calls) == 1


# -- validators -------------------------------------------------------------------------------


def _runs(flow: Flow, *parameter_sets: dict[str, int]) -> list[bool]:
    """For each parameter set, whether the task ended Cached without running (True) or ran."""
    found = []
    for parameters in parameter_sets:
        before = len(flow.calls)  # type: ignore[attr-defined]
        flow.run(parameters=parameters)
        found.append(len(flow.calls) == before)  # type: ignore[attr-defined]
    return found


def _flow_with(validator: Callable[..., bool] | None) -> Flow:
    calls: list[Any] = []
    flow = _counting_flow(calls, validator)
    flow.calls = calls  # type: ignore[attr-defined]
    return flow


@pytest.mark.parametrize(
    ("validator", "expected"),
    [
        (None, [False, True, True, True]),
        (cache_validators.duration_only, [False, True, True, True]),
        (cache_validators.all_inputs, [False, True, False, False]),
        (cache_validators.all_parameters, [False, True, False, False]),
        (cache_validators.partial_inputs_only(["x"]), [False, True, True, False]),
        (cache_validators.partial_parameters_only(["x"]), [False, True, True, False]),
        # as in Prefect 1.4.1: with no validate_on nothing is compared, only expiry counts
        (cache_validators.partial_inputs_only(), [False, True, True, True]),
        (cache_validators.partial_parameters_only(), [False, True, True, True]),
        (cache_validators.never_use, [False, False, False, False]),
    ],
    ids=[
        "default-is-duration_only",
        "duration_only",
        "all_inputs",
        "all_parameters",
        "partial_inputs_only-x",
        "partial_parameters_only-x",
        "partial_inputs_only-none",
        "partial_parameters_only-none",
        "never_use",
    ],
)
def test_each_validator_decides_which_runs_reuse_the_cache(
    clock: FakeClock, validator: Callable[..., bool] | None, expected: list[bool]
) -> None:
    """Runs with (x=1,y=2), the same again, y changed, then x changed: each validator reuses the
    cache exactly when the values it compares are unchanged (and cache_for has not passed)."""
    flow = _flow_with(validator)
    assert (
        _runs(flow, {"x": 1, "y": 2}, {"x": 1, "y": 2}, {"x": 1, "y": 3}, {"x": 2, "y": 3})
        == expected
    )


def test_validators_check_expiry_too() -> None:
    """Every validator except never_use accepts a fresh Cached state with equal values and
    rejects the same state once it has expired."""
    with use_clock(FakeClock(1000.0)) as clock:
        state = Cached(
            result=1,
            cached_inputs={"x": 1},
            cached_parameters={"p": 1},
            cached_result_expiration=1060.0,
        )
        validators = [
            cache_validators.duration_only,
            cache_validators.all_inputs,
            cache_validators.all_parameters,
            cache_validators.partial_inputs_only(["x"]),
            cache_validators.partial_parameters_only(["p"]),
        ]
        assert all(v(state, {"x": 1}, {"p": 1}) for v in validators)
        assert not cache_validators.never_use(state, {"x": 1}, {"p": 1})
        clock.advance(61)
        assert not any(v(state, {"x": 1}, {"p": 1}) for v in validators)


def test_partial_validators_count_a_value_given_on_one_side_only_as_a_change() -> None:
    """Prefect 1.4.1 compares the named values present on each side, so an input that was not
    given before (or is not given now) is a change, even when its value is None."""
    with use_clock(FakeClock(1000.0)):
        state = Cached(result=1, cached_inputs={"x": 1}, cached_parameters={"p": 1})
        by_input = cache_validators.partial_inputs_only(["x", "y"])
        by_parameter = cache_validators.partial_parameters_only(["p", "q"])
        assert by_input(state, {"x": 1, "z": 5}, {}) and by_parameter(state, {}, {"p": 1})
        assert not by_input(state, {"x": 1, "y": None}, {})
        assert not by_parameter(state, {}, {"p": 1, "q": None})
        assert not by_input(state, {}, {}) and not by_parameter(state, {}, {})


def test_a_validator_never_reuses_a_state_that_is_not_cached() -> None:
    """Only Cached states stand in for a run."""
    from flowlight.engine.state import Success

    assert not cache_validators.duration_only(Success(result=1), {}, {})


# -- keys and storage ----------------------------------------------------------------------------


def test_tasks_sharing_a_cache_key_share_results(clock: FakeClock) -> None:
    """Two different tasks with the same cache_key: the second reuses the first's result."""
    calls: list[str] = []

    @task(cache_for=FIVE_MINUTES, cache_key="prices")
    def load_prices() -> list[int]:
        calls.append("load")
        return [1, 2]

    @task(cache_for=FIVE_MINUTES, cache_key="prices")
    def also_prices() -> list[int]:
        calls.append("also")
        return [9, 9]

    Flow("a", tasks=[load_prices]).run()
    state = Flow("b", tasks=[also_prices]).run()
    final = _final(state, "also_prices")
    assert isinstance(final, Cached)
    assert final.result == [1, 2]
    assert calls == ["load"]


def test_without_a_cache_key_the_task_name_is_the_key(clock: FakeClock) -> None:
    """As in Prefect 1, the cache is keyed by the task's name when no cache_key is given, so a
    differently named task does not see it."""
    calls: list[str] = []

    def make(name: str) -> Task:
        @task(name=name, cache_for=FIVE_MINUTES)
        def work() -> str:
            calls.append(name)
            return name

        return work

    Flow("one", tasks=[make("first")]).run()
    Flow("two", tasks=[make("second")]).run()
    Flow("three", tasks=[make("first")]).run()
    assert calls == ["first", "second"]


def test_failed_and_skipped_runs_are_not_cached(clock: FakeClock) -> None:
    """Only successful runs are cached: a failure or a skip runs again next time."""
    calls: list[str] = []

    @task(cache_for=FIVE_MINUTES)
    def fails() -> None:
        calls.append("fail")
        raise ValueError("no")

    @task(cache_for=FIVE_MINUTES)
    def skips() -> None:
        calls.append("skip")
        raise signals.SKIP("not now")

    flow = Flow("neg", tasks=[fails, skips])
    first = flow.run()
    second = flow.run()
    assert calls.count("fail") == 2 and calls.count("skip") == 2
    assert isinstance(_final(second, "fails"), Failed)
    assert isinstance(_final(second, "skips"), Skipped)
    assert not isinstance(_final(first, "skips"), Cached)


def test_mapped_children_cache_per_item_with_all_inputs(clock: FakeClock) -> None:
    """With the all_inputs validator each mapped child reuses the cached run of the same item,
    and a new item runs."""
    calls: list[int] = []

    @task(cache_for=FIVE_MINUTES, cache_validator=cache_validators.all_inputs)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    with Flow("map-cache") as flow:
        items = Parameter("items")
        result = square.map(items)
    flow.run(parameters={"items": [1, 2]})
    state = flow.run(parameters={"items": [2, 3, 1]})
    assert state.result[result].result == [4, 9, 1]
    assert calls == [1, 2, 3]
    assert [type(s) for s in state.result[result].map_states] == [Cached, Cached, Cached]


class _RecordingStorage:
    """A user-supplied storage: a dict plus a log of what the engine asked of it."""

    def __init__(self) -> None:
        self.data: dict[str, list[Cached]] = {}
        self.log: list[tuple[str, str]] = []

    def get(self, key: str) -> list[Cached]:
        self.log.append(("get", key))
        return list(self.data.get(key, []))

    def put(self, key: str, state: Cached) -> None:
        self.log.append(("put", key))
        self.data.setdefault(key, []).append(state)


def test_cache_storage_is_replaceable(clock: FakeClock) -> None:
    """`set_cache_storage` swaps where every task's cache lives; the engine only calls get(key)
    and put(key, state)."""
    storage = _RecordingStorage()
    set_cache_storage(storage)
    calls: list[Any] = []
    flow = _counting_flow(calls, cache_key="shared")
    flow.run()
    assert storage.log.count(("put", "shared")) == 1
    flow.run()
    assert storage.log.count(("put", "shared")) == 1  # the reuse stores nothing new
    assert set(storage.log) == {("get", "shared"), ("put", "shared")}
    assert calls == [(1, 2)]
    assert [s.result for s in storage.data["shared"]] == [12]


def test_a_storage_without_get_and_put_is_rejected_naming_it() -> None:
    """Bad storage fails when it is set, not in the middle of a run."""
    with pytest.raises(TypeError, match=r"'not a storage'.*get\(key\) and put\(key, state\)"):
        set_cache_storage("not a storage")  # type: ignore[arg-type]


def test_a_storage_shared_between_processes(tmp_path: Path) -> None:
    """A file-backed storage makes the cache outlive the process: a second process running the
    same flow ends Cached without calling the task (the marker file is written only once)."""
    script = tmp_path / "cached_flow.py"
    script.write_text(
        textwrap.dedent(
            """
            import datetime, pickle, sys
            from pathlib import Path
            from flowlight import Flow, task
            from flowlight.engine.cache import set_cache_storage

            here = Path(sys.argv[1])

            class FileStorage:
                def __init__(self, path):
                    self.path = path
                def _load(self):
                    return pickle.loads(self.path.read_bytes()) if self.path.exists() else {}
                def get(self, key):
                    return self._load().get(key, [])
                def put(self, key, state):
                    data = self._load()
                    data.setdefault(key, []).append(state)
                    self.path.write_bytes(pickle.dumps(data))

            set_cache_storage(FileStorage(here / "cache.pickle"))

            @task(cache_for=datetime.timedelta(hours=1))
            def expensive():
                with open(here / "calls.txt", "a") as f:
                    f.write("called\\n")
                return 7

            state = Flow("across", tasks=[expensive]).run()
            final = next(iter(state.result.values()))
            print(type(final).__name__, final.result)
            """
        )
    )
    outputs = [
        subprocess.run(
            [sys.executable, str(script), str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert outputs == ["Cached 7", "Cached 7"]
    assert (tmp_path / "calls.txt").read_text() == "called\n"


def test_the_default_storage_keeps_the_newest_16_states_per_key(clock: FakeClock) -> None:
    """The in-process storage is bounded per key, so a mapped task caches at most 16 items by
    default; a storage built with a larger `per_key` caches every item of a larger map."""

    def run_twice(storage: InMemoryCacheStorage) -> int:
        set_cache_storage(storage)
        calls: list[int] = []

        @task(cache_for=FIVE_MINUTES, cache_validator=cache_validators.all_inputs)
        def square(x: int) -> int:
            calls.append(x)
            return x * x

        with Flow("bounded") as flow:
            result = square.map(list(range(40)))
        flow.run()
        second = flow.run()
        assert second.result[result].result == [x * x for x in range(40)]
        return len(calls) - 40  # items that ran again on the second run

    assert run_twice(InMemoryCacheStorage()) == 40 - 16
    assert run_twice(InMemoryCacheStorage(per_key=64)) == 0


def test_validators_compare_inputs_held_in_results_by_their_values() -> None:
    from flowlight.engine import cache_validators as v
    from flowlight.engine.result import Result
    from flowlight.engine.state import Cached

    stored = Cached(cached_inputs={"x": Result(1), "s": Result("a")})
    assert v.all_inputs(stored, {"x": 1, "s": "a"}, None)
    assert not v.all_inputs(stored, {"x": 2, "s": "a"}, None)
    assert v.partial_inputs_only(["x"])(stored, {"x": 1, "s": "b"}, None)
    assert not v.partial_inputs_only(["x"])(stored, {"x": 2, "s": "a"}, None)
