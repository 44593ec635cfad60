"""A task's `timeout=` stops its work: nothing the body would do after its time is up happens.

In a main thread the body is interrupted by an alarm where it stands (even inside a blocking
wait); elsewhere it runs in a daemon helper thread that gets an asynchronous exception, which
fires as soon as the body runs Python code again. Each test proves the side effect after the
interrupted line never happens, and that the run ends `TimedOut` without waiting for the body.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flowlight import Flow, task
from flowlight.engine import signals
from flowlight.engine.state import State, TimedOut
from flowlight.engine.timeouts import TaskTimedOut, call_with_timeout
from flowlight.executors import LocalDaskExecutor

TIMED_OUT_MESSAGE = "Task timed out during execution."


class RunawayBody:
    """A body that blocks until released (or 10 s), then does its side effect. It writes down
    what stopped it, the thread it ran in, and says when it has ended."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.ended = threading.Event()
        self.side_effects: list[str] = []
        self.stopped_by: list[str] = []
        self.thread: threading.Thread | None = None

    def __call__(self) -> str:
        self.thread = threading.current_thread()
        try:
            self.release.wait(10)
            self.side_effects.append("written after the timeout")
            return "finished"
        except BaseException as exc:
            self.stopped_by.append(type(exc).__name__)
            raise
        finally:
            self.ended.set()


def _timed_task(body: Callable[[], Any], seconds: float = 0.2) -> Any:
    timed = task(body, name="runaway")
    # Task() takes whole seconds (Prefect 1's rule), but the engine honours any number of
    # seconds a task holds: set afterwards, a sub-second timeout keeps these tests quick.
    timed.timeout = seconds
    return timed


def _flow_state(t: Any, executor: Any = None) -> State:
    with Flow("timeouts") as flow:
        bound = t()
    kwargs = {"executor": executor} if executor is not None else {}
    return flow.run(**kwargs).result[bound]


def _assert_timed_out(state: State) -> None:
    assert isinstance(state, TimedOut) and state.message == TIMED_OUT_MESSAGE
    assert isinstance(state.result, signals.TaskTimeoutSignal)
    assert repr(state.result) == "TaskTimeoutSignal('Execution timed out.')"


@pytest.fixture
def body() -> Iterator[RunawayBody]:
    runaway = RunawayBody()
    yield runaway
    runaway.release.set()  # never leave a body blocked after its test


def test_in_the_main_thread_the_body_is_interrupted_inside_its_blocking_wait(
    body: RunawayBody,
) -> None:
    handler_before = signal.getsignal(signal.SIGALRM)
    state = _flow_state(_timed_task(body))
    _assert_timed_out(state)
    # The run ended while the body was still blocked: it was interrupted there, not released.
    assert not body.release.is_set() and body.ended.is_set()
    assert body.stopped_by == ["TaskTimedOut"] and body.side_effects == []
    assert body.thread is threading.main_thread()
    assert signal.getsignal(signal.SIGALRM) is handler_before


def test_in_another_thread_the_run_ends_at_once_and_the_body_stops_when_it_resumes(
    body: RunawayBody,
) -> None:
    state = _flow_state(_timed_task(body), LocalDaskExecutor(scheduler="threads"))
    _assert_timed_out(state)
    assert not body.ended.is_set()  # still blocked in its wait when the run ended
    body.release.set()
    assert body.ended.wait(10)
    assert body.stopped_by == ["TaskTimedOut"] and body.side_effects == []
    assert body.thread is not None and body.thread.daemon
    assert body.thread.name == "flowlight-timeout-runaway"


def test_a_flow_run_from_a_thread_stops_its_timed_out_task_too(body: RunawayBody) -> None:
    states: list[State] = []
    runner = threading.Thread(target=lambda: states.append(_flow_state(_timed_task(body))))
    runner.start()
    runner.join(10)
    _assert_timed_out(states[0])
    body.release.set()
    assert body.ended.wait(10)
    assert body.stopped_by == ["TaskTimedOut"] and body.side_effects == []


def _raises() -> None:
    raise ValueError("inside the timed task")


def _returns() -> int:
    return 42


@pytest.mark.parametrize("executor", [None, "threads"])
def test_a_timed_task_keeps_its_error_or_its_value(executor: str | None) -> None:
    make = (lambda: LocalDaskExecutor(scheduler="threads")) if executor else (lambda: None)
    failed = _flow_state(_timed_task(_raises, 5), make())
    assert failed.is_failed() and not isinstance(failed, TimedOut)
    assert failed.message == "Error during execution of task: ValueError('inside the timed task')"
    assert isinstance(failed.result, ValueError)
    assert _flow_state(_timed_task(_returns, 5), make()).result == 42


def test_a_body_catching_exception_does_not_swallow_its_timeout(body: RunawayBody) -> None:
    def stubborn() -> str:
        try:
            return body()
        except Exception:
            body.side_effects.append("swallowed the timeout")
            return "kept going"

    _assert_timed_out(_flow_state(_timed_task(stubborn)))
    assert body.side_effects == []


def test_an_enclosing_timer_that_ends_first_is_left_alone() -> None:
    """A timer someone else set in the main thread (an enclosing timeout, pytest-timeout) that
    goes off before ours keeps its handler and its time: the task uses the thread path."""
    fired: list[int] = []
    seen: list[str] = []

    def mine(signum: int, frame: Any) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, mine)
    outer = signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        value = call_with_timeout(lambda: seen.append(threading.current_thread().name), 60, "inner")
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        handler = signal.getsignal(signal.SIGALRM)
    finally:
        signal.setitimer(signal.ITIMER_REAL, *outer)
        signal.signal(signal.SIGALRM, previous)
    assert value is None and seen == ["flowlight-timeout-inner"]
    assert 0 < left <= 30 and handler is mine and fired == []


def test_an_enclosing_timer_that_ends_later_gets_its_time_back() -> None:
    fired: list[int] = []

    def mine(signum: int, frame: Any) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, mine)
    outer = signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        ran_in = call_with_timeout(lambda: threading.current_thread(), 5, "inner")
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        handler = signal.getsignal(signal.SIGALRM)
    finally:
        signal.setitimer(signal.ITIMER_REAL, *outer)
        signal.signal(signal.SIGALRM, previous)
    assert ran_in is threading.main_thread()
    assert 5 < left <= 30 and handler is mine and fired == []


def test_an_enclosing_timer_about_to_go_off_gets_back_no_more_than_it_had() -> None:
    fired: list[int] = []

    def mine(signum: int, frame: Any) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, mine)
    outer = signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        call_with_timeout(lambda: None, 0.3, "inner")
        left, _ = signal.getitimer(signal.ITIMER_REAL)
    finally:
        signal.setitimer(signal.ITIMER_REAL, *outer)
        signal.signal(signal.SIGALRM, previous)
    assert 0 < left <= 0.5


def test_the_enclosing_timer_loses_the_time_the_task_took() -> None:
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    outer = signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        call_with_timeout(lambda: time.sleep(0.05), 5, "inner")  # a body that takes 50 ms
        left, _ = signal.getitimer(signal.ITIMER_REAL)
    finally:
        signal.setitimer(signal.ITIMER_REAL, *outer)
        signal.signal(signal.SIGALRM, previous)
    assert 29 < left < 30


def test_without_an_enclosing_timer_no_alarm_is_left_armed() -> None:
    outer = signal.setitimer(signal.ITIMER_REAL, 0)  # set aside pytest-timeout's, if any
    try:
        assert call_with_timeout(lambda: 7, 5, "inner") == 7
        left, _ = signal.getitimer(signal.ITIMER_REAL)
    finally:
        signal.setitimer(signal.ITIMER_REAL, *outer)
    assert left == 0


def test_call_with_timeout_raises_task_timed_out_in_the_caller() -> None:
    release = threading.Event()
    try:
        with pytest.raises(TaskTimedOut):
            call_with_timeout(lambda: release.wait(10), 0.1, "direct")
    finally:
        release.set()


@task
def _sleeps_then_writes(folder: str) -> None:
    """Module level, so a process pool can run it."""
    import time

    marks = Path(folder)
    try:
        time.sleep(30)
        (marks / "after").write_text("written after the timeout")
    except BaseException as exc:
        (marks / "stopped").write_text(type(exc).__name__)
        raise


_sleeps_then_writes.timeout = 0.3  # sub-second: set after the task is made, as above


def test_in_a_process_pool_worker_the_body_is_interrupted_too(tmp_path: Path) -> None:
    with Flow("timeouts-in-processes") as flow:
        bound = _sleeps_then_writes(str(tmp_path))
    state = flow.run(executor=LocalDaskExecutor(scheduler="processes", num_workers=1))
    _assert_timed_out(state.result[bound])
    assert (tmp_path / "stopped").read_text() == "TaskTimedOut"
    assert not (tmp_path / "after").exists()
