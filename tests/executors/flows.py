"""The flows every executor must run alike: one per behaviour of the engine that crosses the seam.

Everything here pickles (module-level tasks, plain data), and counts attempts through
`flowlight.context` rather than through a closure, since a retried run may start in another
process than its first attempt.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

import flowlight
from flowlight import Flow, Parameter, task, unmapped
from flowlight.engine import signals
from flowlight.triggers import all_finished, any_failed

__all__ = ["SCENARIOS"]

NO_DELAY = datetime.timedelta(seconds=0)


@task
def numbers(n: int) -> list[int]:
    return list(range(1, n + 1))


@task
def double(x: int) -> int:
    return 2 * x


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def one_over(x: int) -> float:
    return 1 / (x - 2)


@task(trigger=all_finished)
def count_finished(xs: list[object]) -> int:
    return len(xs)


@task(max_retries=2, retry_delay=NO_DELAY)
def succeeds_on_third_attempt() -> int:
    attempt = int(flowlight.context["task_run_count"])
    if attempt < 3:
        raise ValueError(f"attempt {attempt} fails")
    return attempt


@task(max_retries=1, retry_delay=NO_DELAY)
def always_fails() -> None:
    raise RuntimeError("broken for good")


@task
def asks_to_retry_once() -> str:
    if flowlight.context["task_run_count"] == 1:
        raise signals.RETRY("not yet")
    return "done"


@task
def outlives_its_timeout() -> None:
    threading.Event().wait(5)  # never set: the timeout must end the run first


# Task() takes whole seconds (Prefect 1's rule); the engine honours a sub-second timeout set on
# the task afterwards, which keeps the executor tests quick.
outlives_its_timeout.timeout = 0.2


@task(timeout=5)
def within_its_timeout() -> str:
    return "in time"


@task
def fails() -> None:
    raise ValueError("upstream broke")


@task
def downstream(x: object) -> str:
    return "ran"


@task(trigger=any_failed)
def cleanup(x: object) -> str:
    return "cleaned up"


@task(trigger=all_finished)
def always_runs(x: object) -> str:
    return "finished anyway"


@task
def skips() -> None:
    raise signals.SKIP("nothing to do today")


@task(skip_on_upstream_skip=False)
def runs_after_skip(x: object) -> str:
    return f"got {x!r}"


@task
def loop_until_three() -> int:
    loop = int(flowlight.context.get("task_loop_count") or 1)
    so_far = int(flowlight.context.get("task_loop_result") or 0)
    if loop < 3:
        raise signals.LOOP(message=f"loop {loop}", result=so_far + loop)
    return so_far + loop


@task
def signals_fail() -> None:
    raise signals.FAIL("explicitly failed")


@task
def signals_success() -> None:
    raise signals.SUCCESS("explicitly succeeded", result=42)


def mapping() -> Flow:
    with Flow("mapping") as flow:
        items = numbers(Parameter("n", default=4))
        doubled = double.map(items)
        shifted = add.map(doubled, unmapped(100))
        total(shifted)
        count_finished(one_over.map(items))  # child 1 (x=2) divides by zero
    return flow


def retries() -> Flow:
    with Flow("retries") as flow:
        succeeds_on_third_attempt()
        always_fails()
        asks_to_retry_once()
    return flow


def timeouts() -> Flow:
    with Flow("timeouts") as flow:
        outlives_its_timeout()
        within_its_timeout()
    return flow


def triggers() -> Flow:
    with Flow("triggers") as flow:
        broken = fails()
        downstream(broken)
        cleanup(broken)
        always_runs(broken)
    return flow


def skipping() -> Flow:
    with Flow("skipping") as flow:
        skipped = skips()
        downstream(skipped)
        runs_after_skip(skipped)
    return flow


def looping_and_signals() -> Flow:
    with Flow("looping and signals") as flow:
        loop_until_three()
        signals_fail()
        signals_success()
    return flow


SCENARIOS: dict[str, Callable[[], Flow]] = {
    "mapping": mapping,
    "retries": retries,
    "timeouts": timeouts,
    "triggers": triggers,
    "skipping": skipping,
    "looping_and_signals": looping_and_signals,
}
