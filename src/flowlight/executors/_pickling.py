"""Task runs that cross a process boundary: pickled once before submission, unpacked on a worker.

Pickling in the flow's process before anything is submitted turns "some worker could not
unpickle something" into an error that names the task and the part that cannot travel (an input,
an upstream result, a context value, the task itself). The worker sends its final state back as
bytes it pickled itself, so a result that cannot travel back fails that task run on the worker,
through its handlers, instead of breaking the executor. cloudpickle is used because tasks are
often closures or functions of `__main__`, which the standard pickle can only send by name.
"""

from __future__ import annotations

import functools
import io
import sys
from typing import Any

from flowlight.core.task import Constant
from flowlight.engine.state import Failed
from flowlight.executors import _worker_telemetry
from flowlight.executors._runs import RunNotLoadable, SubmittedRun
from flowlight.utilities.redaction import (
    register_secret,
    registered_secret_count,
    secrets_registered_after,
)

__all__ = ["UnpicklableRun", "pack", "run_packed", "unpack_state"]

_FIX = (
    "Pass picklable values between tasks (paths, ids, plain data) or run this flow with "
    "LocalExecutor or LocalDaskExecutor(scheduler='threads'), which do not pickle."
)


class UnpicklableRun(Exception):
    """A task run that cannot be sent to a worker; the message names the task and the culprit."""


def _cloudpickle() -> Any:
    try:
        import cloudpickle  # type: ignore[import-untyped]
    except ImportError as missing:  # pragma: no cover - the dask extra brings it
        raise ImportError(
            "Executors that run tasks in other processes need cloudpickle; install flowlight[dask]."
        ) from missing
    return cloudpickle


def _constant_stand_in(name: str, slug: str | None) -> Constant:
    stand_in = Constant(None, name=name)
    stand_in.slug = slug
    return stand_in


def _worker_logger(bindings: dict[str, Any]) -> Any:
    from flowlight.utilities.logging import get_logger

    return get_logger("flowlight", **bindings)


@functools.cache
def _pickler_class() -> Any:
    base: Any = _cloudpickle().Pickler

    class Pickler(base):  # type: ignore[misc]
        """cloudpickle, with two things sent as what they stand for rather than as they are.

        A Constant task travels as its name, without its value: a mapped child's upstream
        states are keyed by edges, and the edge from a literal list holds that whole list, while
        the child's inputs already hold its own item; sending the list with each of N children
        would make a map cost N squared. A structlog logger (`context["logger"]`) travels as its
        bindings and is rebuilt on the worker with the worker's logging setup: the logger itself
        holds its output stream, which cannot (and should not) be sent.
        """

        def reducer_override(self, obj: Any) -> Any:
            if type(obj) is Constant:
                return _constant_stand_in, (obj.name, obj.slug)
            # Read, not imported: with no structlog loaded there is no structlog logger to send.
            structlog = sys.modules.get("structlog")
            if structlog is not None and isinstance(obj, structlog.BoundLoggerBase):
                return _worker_logger, (dict(obj._context),)
            return super().reducer_override(obj)

    return Pickler


def _dumps(call: Any) -> bytes:
    buffer = io.BytesIO()
    _pickler_class()(buffer, protocol=_cloudpickle().DEFAULT_PROTOCOL).dump(call)
    return buffer.getvalue()


def pack(run: SubmittedRun) -> bytes:
    """The pickled call, or `UnpicklableRun` naming the task and what in it cannot be pickled."""
    try:
        return _dumps((run.fn, run.args, run.kwargs))
    except Exception as exc:
        culprit, error = _find_culprit(run, exc)
        raise UnpicklableRun(
            f"{run.name} cannot be sent to a worker process: {culprit} cannot be pickled "
            f"({error!r}). {_FIX}"
        ) from exc


def _find_culprit(run: SubmittedRun, error: Exception) -> tuple[str, Exception]:
    """Which part of the call fails to pickle, said the way a flow's author would look for it."""
    parts: list[tuple[str, Any]] = []
    if run.task is not None:
        task = run.task
        parts += [(f"its state handler {h!r}", h) for h in task.state_handlers]
        parts.append((f"its trigger {getattr(task, 'trigger', None)!r}", task.trigger))
        parts.append(("the task object itself", task))
        bound = run.args[1:3]
        inputs = bound[0] if bound and isinstance(bound[0], dict) else {}
        parts += [(f"input '{k}' (a {type(v).__name__})", v) for k, v in inputs.items()]
        upstream = bound[1] if len(bound) > 1 and isinstance(bound[1], dict) else {}
        for edge, state in upstream.items():
            name = getattr(getattr(edge, "upstream_task", None), "name", edge)
            parts.append((f"the result of upstream task '{name}'", state))
            parts.append((f"upstream task '{name}' (its handlers, trigger or function)", edge))
        parts += [(f"context value '{k}'", v) for k, v in run.context.items()]
    else:
        parts += [(f"argument {i}", a) for i, a in enumerate(run.args)]
        parts += [(f"argument '{k}'", v) for k, v in run.kwargs.items()]
    for description, part in parts:
        try:
            _dumps(part)
        except Exception as exc:
            return description, exc
    return "the call", error


def run_packed(payload: bytes) -> bytes:
    """On a worker: run the call, flush this worker's telemetry, return the pickled outcome.

    A final state whose result cannot be pickled is replaced by a `Failed` state naming the task;
    the task's handlers see that transition here, on the worker.
    """
    cloudpickle = _cloudpickle()
    try:
        fn, args, kwargs = cloudpickle.loads(payload)
    except Exception as exc:
        raise RunNotLoadable(
            f"could not be loaded on its worker ({exc!r}); the workers must be able to import "
            "the modules the task and its inputs come from (install them where the workers run)"
        ) from None
    run = SubmittedRun(fn, args, kwargs)
    secrets_before = registered_secret_count()
    try:
        outcome = run()
        # The secrets the task read here go back with its state: the flow's process masks them
        # too (a parameter holding one, recorded on the flow's span, say).
        read_here = secrets_registered_after(secrets_before)
        try:
            packed: bytes = cloudpickle.dumps(_Returned(outcome, read_here))
        except Exception as exc:
            if run.task is None:
                raise
            failed = run.fail(
                f"{run.name} returned a result that cannot be pickled to send back to the flow "
                f"run ({exc!r}). {_FIX}",
                old_state=outcome,
            )
            try:
                packed = cloudpickle.dumps(_Returned(failed, read_here))
            except Exception:  # a handler put something unpicklable in it: keep the words
                packed = cloudpickle.dumps(_Returned(Failed(failed.message), read_here))
        return packed
    finally:
        _worker_telemetry.task_run_finished()


class _Returned:
    """What a worker sends back: the call's outcome and the secret texts read while it ran."""

    __slots__ = ("outcome", "secrets")

    def __init__(self, outcome: Any, secrets: list[str]) -> None:
        self.outcome = outcome
        self.secrets = secrets

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Returned, (self.outcome, self.secrets))


def unpack_state(packed: bytes) -> Any:
    """The outcome `run_packed` returned, in the flow's process, with the secrets the worker
    read registered here for masking."""
    returned = _cloudpickle().loads(packed)
    if not isinstance(returned, _Returned):
        return returned
    for text in returned.secrets:
        register_secret(text)
    return returned.outcome
