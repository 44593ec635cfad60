"""Task runs that cannot travel to another process fail with an error naming the task.

What cannot be pickled is found before anything is submitted (the task itself, an input, an
upstream result, a context value); a result that cannot be sent back fails its run on the
worker. Either way the task's handlers see the Failed state, the flow run finishes, and the
message says which task, which part, and what to do instead.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flowlight
from flowlight import Flow, Parameter, task
from flowlight.engine.state import State
from flowlight.executors import DaskExecutor, Executor, LocalDaskExecutor, LocalExecutor
from flowlight.executors._pickling import pack
from flowlight.executors._runs import SubmittedRun

from .recording import TransitionLog


@task
def returns_a_lock() -> Any:
    return threading.Lock()


@task
def uses(value: object) -> str:
    return type(value).__name__


@task
def fine() -> int:
    return 1


class HandlerWithALock:
    """A state handler holding something that cannot be pickled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, obj: Any, old: State, new: State) -> State:
        return new

    def __repr__(self) -> str:
        return "HandlerWithALock()"


def test_an_input_that_cannot_be_pickled_fails_its_task_before_submission(
    process_executor: Callable[[], Executor], tmp_path: Path
) -> None:
    """A lock given as a task's argument: the task fails, naming itself and the input, and its
    handlers (called here, in the flow's process) see Pending -> Failed."""
    log = TransitionLog(tmp_path / "calls.jsonl")
    with Flow("lock input") as flow:
        failing = uses(threading.Lock())
        fine()
    state = log.attach(flow).run(executor=process_executor())
    failed = state.result[failing]
    assert failed.is_failed()
    assert "Task 'uses' cannot be sent to a worker process" in failed.message
    assert "input 'value' (a lock)" in failed.message
    assert "LocalDaskExecutor(scheduler='threads')" in failed.message
    assert log.transcripts()["uses"] == [f"Pending -> Failed: {failed.message}"]
    assert state.is_failed()
    assert all(s.is_successful() for t, s in state.result.items() if t.name == "fine")


def test_a_task_whose_handler_cannot_be_pickled_is_named_with_its_handler(
    process_executor: Callable[[], Executor],
) -> None:
    with Flow("lock handler") as flow:
        held = fine()
    held.state_handlers = [HandlerWithALock()]
    state = flow.run(executor=process_executor())
    message = state.result[held].message
    assert state.result[held].is_failed()
    assert "Task 'fine' cannot be sent to a worker process" in message
    assert "its state handler HandlerWithALock()" in message


def test_a_parameter_value_that_cannot_be_pickled_names_the_context_value(
    process_executor: Callable[[], Executor],
) -> None:
    """Parameter values travel in every task run's context."""
    with Flow("lock parameter") as flow:
        used = uses(Parameter("resource"))
    state = flow.run(parameters={"resource": threading.Lock()}, executor=process_executor())
    assert state.is_failed()
    assert "context value 'parameters'" in state.result[used].message


def test_a_result_that_cannot_be_pickled_fails_its_task_on_the_worker(
    process_executor: Callable[[], Executor], tmp_path: Path
) -> None:
    """The task ran and returned a lock: its run ends Failed on the worker (its handlers see
    Success -> Failed there), and the task downstream is TriggerFailed, not hung."""
    log = TransitionLog(tmp_path / "calls.jsonl")
    with Flow("lock result") as flow:
        produced = returns_a_lock()
        consumer = uses(produced)
    state = log.attach(flow).run(executor=process_executor())
    failed = state.result[produced]
    assert failed.is_failed()
    assert "Task 'returns_a_lock' returned a result that cannot be pickled" in failed.message
    assert log.transcripts()["returns_a_lock"] == [
        "Pending -> Running: Starting task run.",
        "Running -> Success: Task run succeeded.",
        f"Success -> Failed: {failed.message}",
    ]
    assert type(state.result[consumer]).__name__ == "TriggerFailed"


def test_threads_do_not_pickle_so_the_same_flow_succeeds() -> None:
    """The same lock-passing flow is fine when nothing crosses a process boundary."""
    with Flow("lock on threads") as flow:
        consumer = uses(returns_a_lock())
    state = flow.run(executor=LocalDaskExecutor(scheduler="threads"))
    assert state.is_successful()
    assert state.result[consumer].result == "lock"


@task
def identity(x: int) -> int:
    return x


class PayloadSizes(LocalExecutor):
    """Runs in-process, but first pickles each run as the process executors do, noting sizes."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.sizes.append(len(pack(SubmittedRun(fn, args, kwargs))))
        return super().submit(fn, *args, **kwargs)


def test_a_mapped_child_travels_with_its_own_item_not_the_whole_list() -> None:
    """The payload of one child of a map over a literal list does not grow with the list: the
    list (the value of a Constant task upstream) is not sent with each child."""
    largest = {}
    for n in (10, 10_000):
        with Flow(f"map over {n}") as flow:
            identity.map(list(range(n)))
        executor = PayloadSizes()
        state = flow.run(executor=executor)
        assert state.is_successful()
        largest[n] = max(executor.sizes)
    assert largest[10_000] < largest[10] + 64


def test_a_run_the_workers_cannot_import_fails_naming_the_task_and_the_module(
    dask_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An input whose class lives in a module only this process can import: the run pickles
    here but cannot be loaded on the worker, and its Failed state says which task and why."""
    (tmp_path / "only_in_the_flow_process.py").write_text("class Marker:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("only_in_the_flow_process")
    with Flow("module missing on workers") as flow:
        failing = uses(module.Marker())
    state = flow.run(executor=DaskExecutor(address=dask_cluster.scheduler_address))
    message = state.result[failing].message
    assert state.result[failing].is_failed()
    assert "Task 'uses' could not be loaded on its worker" in message
    assert "No module named 'only_in_the_flow_process'" in message


@task
def log_from_the_worker() -> int:
    flowlight.context["logger"].warning("hello from a worker")
    return os.getpid()


def test_the_run_logger_travels_as_its_bindings_and_logs_from_the_worker(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """`context["logger"]` holds its output stream, which cannot be pickled; the worker gets a
    logger with the same bindings (the flow run id), writing to the worker's own stderr (here
    the test's, which the pool's processes inherit)."""
    with Flow("logging worker") as flow:
        logged = log_from_the_worker()
    state = flow.run(executor=LocalDaskExecutor(scheduler="processes", num_workers=1))
    assert state.is_successful()
    assert state.result[logged].result != os.getpid()
    lines = [line for line in capfd.readouterr().err.splitlines() if "hello from a worker" in line]
    assert len(lines) == 1
    assert "flow_run_id" in lines[0]
