"""Record what every state handler sees, scenario by scenario, on Prefect 1.4.1 or on flowlight.

    python record.py prefect prefect1_4_1.json    # inside a venv with prefect==1.4.1
    python record.py flowlight observed.json      # what flowlight does with the same flows

The flows below are written once against Prefect 1's API; the engine is picked by the import in
`engine()`. Each scenario prints, in call order, one line per handler call (`who: old -> new`,
a state written `Class("message")` or `Class()` whatever the engine's own repr), then the final
flow state and each task's final state and result. The output file holds one JSON object
`{scenario: [line, ...]}`, so the recorded Prefect file and a flowlight run compare line by line
(a file, not stdout: Prefect 1.4.1 logs and prompts there).

`manual_only` pauses a task: Prefect 1.4.1's local run then asks on stdin whether to resume, so
record it with `y` on stdin (`echo y | python record.py prefect`); flowlight never asks when stdin
is not a terminal.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

SCENARIOS: dict[str, Callable[[Any], tuple[Any, dict[str, Any]]]] = {}


def scenario(title: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(build: Callable[..., Any]) -> Callable[..., Any]:
        SCENARIOS[title] = build
        return build

    return register


def engine(name: str) -> SimpleNamespace:
    if name == "prefect":
        import prefect as root
        from prefect import Flow, Parameter, Task, task, triggers
        from prefect.engine import signals, state
        from prefect.triggers import all_finished, manual_only
    elif name == "flowlight":
        import flowlight as root  # type: ignore[no-redef]
        from flowlight import (  # type: ignore[assignment]
            Flow,
            Parameter,
            Task,
            task,
            triggers,  # type: ignore[no-redef]
        )
        from flowlight.engine import signals, state  # type: ignore[no-redef]
        from flowlight.triggers import all_finished, manual_only  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown engine {name!r}: give 'prefect' or 'flowlight'")
    return SimpleNamespace(
        root=root,
        Flow=Flow,
        Parameter=Parameter,
        Task=Task,
        task=task,
        signals=signals,
        state=state,
        all_finished=all_finished,
        manual_only=manual_only,
        triggers=triggers,
    )


def written(state: Any) -> str:
    """A state as `Class("message")`, independent of either engine's repr."""
    name = type(state).__name__
    return f'{name}("{state.message}")' if state.message is not None else f"{name}()"


def shown_result(value: Any) -> str:
    return repr(repr(value)) if isinstance(value, Exception) else repr(value)


class Recorder:
    """A state handler that writes down every call it gets."""

    def __init__(self, e: SimpleNamespace) -> None:
        self.e = e
        self.lines: list[str] = []

    def __call__(self, obj: Any, old: Any, new: Any) -> Any:
        if isinstance(obj, self.e.Flow):
            who = f"flow {obj.name}"
        else:
            who = f"task {obj.name}"
            index = self.e.root.context.get("map_index")
            if index is not None:
                who += f"[{index}]"
        self.lines.append(f"{who}: {written(old)} -> {written(new)}")
        return new


@scenario("success")
def _success(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def one() -> int:
        return 1

    return e.Flow("ok-flow", tasks=[one]), {}


@scenario("a task raises")
def _raises(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def broken() -> None:
        raise KeyError("missing")

    with e.Flow("raise-flow") as flow:
        broken()
    return flow, {}


@scenario("two failures, then success on the third try")
def _retries(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    tries: list[int] = []

    @e.task(max_retries=3, retry_delay=datetime.timedelta(0), state_handlers=[rec])
    def unstable() -> int:
        tries.append(1)
        if len(tries) < 3:
            raise RuntimeError(f"attempt {len(tries)}")
        return len(tries) * 10

    with e.Flow("retry-flow") as flow:
        unstable()
    return flow, {}


@scenario("retries run out")
def _retries_run_out(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(max_retries=1, retry_delay=datetime.timedelta(0), state_handlers=[rec])
    def hopeless() -> None:
        raise OSError("disk gone")

    with e.Flow("give-up-flow") as flow:
        hopeless()
    return flow, {}


@scenario("SKIP, and the task after it")
def _skip(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def maybe() -> None:
        raise e.signals.SKIP("nothing new")

    @e.task(state_handlers=[rec])
    def then(value: Any) -> Any:
        return value

    with e.Flow("skip-flow") as flow:
        then(maybe())
    return flow, {}


@scenario("after a failure: the default trigger and all_finished")
def _after_failure(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def source() -> None:
        raise ValueError("bad input")

    @e.task(state_handlers=[rec])
    def consumer(value: Any) -> Any:
        return value

    @e.task(trigger=e.all_finished, state_handlers=[rec])
    def tidy(value: Any) -> str:
        return "tidied"

    with e.Flow("after-failure-flow") as flow:
        failed = source()
        consumer(failed)
        tidy(failed)
    return flow, {}


@scenario("map over three items, then sum")
def _map_then_sum(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def square(x: int) -> int:
        return x * x

    @e.task(state_handlers=[rec])
    def add_up(values: list[int]) -> int:
        return sum(values)

    with e.Flow("map-flow") as flow:
        add_up(square.map([2, 3, 4]))
    return flow, {}


@scenario("map with one child failing")
def _map_failure(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def reciprocal(x: int) -> float:
        return 1 / x

    with e.Flow("map-failure-flow") as flow:
        reciprocal.map([4, 0])
    return flow, {}


@scenario("timeout of 1 s on a 3 s task")
def _timeout(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(timeout=1, state_handlers=[rec])
    def sluggish() -> str:
        time.sleep(3)
        return "late"

    with e.Flow("timeout-flow") as flow:
        sluggish()
    return flow, {}


@scenario("a handler raises when the task starts running")
def _handler_raises(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    def refuse_to_start(obj: Any, old: Any, new: Any) -> Any:
        if new.is_running():
            raise LookupError("handler refused")
        return new

    plain = e.Task(name="guarded", state_handlers=[rec, refuse_to_start])
    return e.Flow("handler-flow", tasks=[plain]), {}


@scenario("a handler replaces Failed with Success")
def _handler_rescues(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    def forgive(obj: Any, old: Any, new: Any) -> Any:
        if new.is_failed():
            return e.state.Success("forgiven", result=-1)
        return new

    @e.task(state_handlers=[forgive, rec])
    def fragile() -> None:
        raise ArithmeticError("overflow")

    with e.Flow("rescue-flow") as flow:
        fragile()
    return flow, {}


@scenario("a parameter given at run time")
def _parameter(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def triple(n: int) -> int:
        return 3 * n

    with e.Flow("parameter-flow") as flow:
        triple(e.Parameter("n", default=1))
    return flow, {"parameters": {"n": 7}}


@scenario("LOOP until the third iteration")
def _loop(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    context = e.root.context

    @e.task(state_handlers=[rec])
    def iterate() -> int:
        count = context.get("task_loop_count", 1)
        if count < 3:
            raise e.signals.LOOP(message=f"iteration {count}", result=count)
        return count * 100

    with e.Flow("loop-flow") as flow:
        iterate()
    return flow, {}


@scenario("manual_only trigger")
def _manual(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def prepare() -> int:
        return 5

    @e.task(trigger=e.manual_only, state_handlers=[rec])
    def publish(value: int) -> int:
        return value + 1

    with e.Flow("approval-flow") as flow:
        publish(prepare())
    return flow, {}


@scenario("the reference task succeeds while another fails")
def _reference(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def good() -> str:
        return "fine"

    @e.task(state_handlers=[rec])
    def poor() -> None:
        raise TypeError("wrong type")

    with e.Flow("reference-flow") as flow:
        kept = good()
        poor()
    flow.set_reference_tasks([kept])
    return flow, {}


@scenario("LOOP with a failed first try in every iteration")
def _loop_with_retries(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    context = e.root.context
    seen: list[tuple[int, int]] = []

    @e.task(max_retries=1, retry_delay=datetime.timedelta(0), state_handlers=[rec])
    def each_iteration_retries() -> list[tuple[int, int]]:
        seen.append((context.get("task_loop_count", 1), context.get("task_run_count")))
        if seen[-1][1] == 1:
            raise ValueError(f"first try of iteration {seen[-1][0]}")
        if seen[-1][0] < 3:
            raise e.signals.LOOP(result=seen[-1][0])
        return seen

    with e.Flow("loop-retry-flow") as flow:
        each_iteration_retries()
    return flow, {}


@scenario("RETRY signal on a task with a ten-minute retry_delay")
def _retry_signal(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    context = e.root.context

    # A RETRY is retried at the signal's own start time (now), not after retry_delay: were it
    # not, this scenario would wait ten minutes and the recording would time out.
    @e.task(max_retries=2, retry_delay=datetime.timedelta(minutes=10), state_handlers=[rec])
    def asks_again() -> int:
        count: int = context.get("task_run_count")
        if count < 3:
            raise e.signals.RETRY(f"not ready on run {count}")
        return count

    with e.Flow("retry-signal-flow") as flow:
        asks_again()
    return flow, {}


@scenario("triggers: one returns False, count triggers without upstream tasks")
def _triggers(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    def never(upstream_states: Any) -> bool:
        return False

    @e.task(state_handlers=[rec])
    def source() -> int:
        return 1

    @e.task(trigger=never, state_handlers=[rec])
    def refused(x: int) -> int:
        return x

    @e.task(trigger=e.triggers.some_failed(at_least=1), state_handlers=[rec])
    def after_failures() -> str:
        return "ran"

    @e.task(trigger=e.triggers.some_successful(at_most=0), state_handlers=[rec])
    def after_no_successes() -> str:
        return "ran"

    @e.task(trigger=e.triggers.not_all_skipped, state_handlers=[rec])
    def unless_all_skipped() -> str:
        return "ran"

    with e.Flow("trigger-flow") as flow:
        refused(source())
        after_failures()
        after_no_successes()
        unless_all_skipped()
    return flow, {}


@scenario("a resumed task whose upstream failed")
def _resumed_after_failure(e: Any, rec: Recorder) -> tuple[Any, dict[str, Any]]:
    @e.task(state_handlers=[rec])
    def broken() -> None:
        raise OSError("disk gone")

    @e.task(state_handlers=[rec])
    def approved(x: Any) -> str:
        return "ran"

    with e.Flow("resume-flow") as flow:
        later = approved(broken())
    return flow, {"task_states": {later: e.state.Resume("approval given")}}


def record(e: SimpleNamespace, title: str) -> list[str]:
    rec = Recorder(e)
    flow, run_kwargs = SCENARIOS[title](e, rec)
    flow.state_handlers.append(rec)
    final = flow.run(**run_kwargs)
    lines = list(rec.lines)
    lines.append(f"final flow: {written(final)}")
    for task, state in sorted(final.result.items(), key=lambda item: item[0].name):
        line = f"final {task.name}: {written(state)} result={shown_result(state.result)}"
        if state.is_mapped():
            line += " children=" + ", ".join(written(child) for child in state.map_states)
        lines.append(line)
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        raise SystemExit(__doc__)
    e = engine(argv[1])
    transcripts = {title: record(e, title) for title in SCENARIOS}
    with open(argv[2], "w") as out:
        json.dump(transcripts, out, indent=1)
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
