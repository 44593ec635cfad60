"""Tasks: the units of work of a flow, with Prefect 1's constructor, decorator and call API.

Calling a task inside `with Flow(...)` does not run it: it copies the task and binds the copy's
arguments as edges of the flow (the functional API). `task.map(...)` binds a mapped copy.
"""

from __future__ import annotations

import copy
import datetime
import inspect
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, overload

from flowlight import triggers as _triggers
from flowlight.core import _checks
from flowlight.core._task_operators import TaskOperators
from flowlight.core.edge import EdgeAnnotation
from flowlight.engine.cache_validators import duration_only, never_use
from flowlight.engine.handlers import StateHandler, validate_state_handlers
from flowlight.engine.state import State
from flowlight.utilities.context import current
from flowlight.utilities.logging import RunLogger, run_logger

if TYPE_CHECKING:
    from flowlight.core.flow import Flow

__all__ = ["Constant", "FunctionTask", "Task", "run_signature", "task"]


# Building a flow reads a task's run() signature on every call of the task, and
# inspect.signature costs more than the rest of the call; a flow of 100,000 calls of one task
# needs it once. Keyed weakly by the function, so tasks made on the fly do not pile up.
_signatures: weakref.WeakKeyDictionary[Any, dict[bool, inspect.Signature]] = (
    weakref.WeakKeyDictionary()
)


def run_signature(task: Task) -> inspect.Signature:
    """`inspect.signature(task.run)`, computed once per run function (signatures are immutable)."""
    run = task.run
    function = getattr(run, "__func__", run)
    is_method = function is not run
    try:
        known = _signatures.get(function)
    except TypeError:  # a callable that cannot be weakly referenced: do not cache
        return inspect.signature(run)
    if known is None:
        known = _signatures[function] = {}
    signature = known.get(is_method)
    if signature is None:
        signature = known[is_method] = inspect.signature(run)
    return signature


class _CallSignature:
    """`inspect.signature(task)`: the run() arguments plus the keyword-only arguments a call
    takes (`mapped`, `task_args`, `upstream_tasks`, `flow`), as Prefect 1 shows it. On the
    class itself it is absent, so `inspect.signature(TaskClass)` still shows `__init__`."""

    def __get__(self, task: Task | None, owner: type) -> inspect.Signature:
        if task is None:
            raise AttributeError("__signature__")
        by_kind: dict[Any, list[inspect.Parameter]] = {}
        for param in run_signature(task).parameters.values():
            by_kind.setdefault(param.kind, []).append(param)
        call = inspect.signature(Task.__call__).parameters.values()
        by_kind.setdefault(inspect.Parameter.KEYWORD_ONLY, []).extend(
            p for p in call if p.kind is inspect.Parameter.KEYWORD_ONLY
        )
        ordered = [p for kind in sorted(by_kind) for p in by_kind[kind]]
        return inspect.Signature(ordered, return_annotation="Task")


class Task(TaskOperators):
    """A unit of work. Subclass it and implement `run()`, or use the `@task` decorator.

    Operators on tasks (`a + 1`, `a["key"]`, `a | b`) build operator tasks: see
    `flowlight.core._task_operators`."""

    __signature__ = _CallSignature()

    # Class-level defaults keep Task() cheap and let subclasses skip __init__ arguments.
    cache_validator: Callable[..., bool] | None = None
    _is_constant = False  # a Constant is a value, never "a task made but not used"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Prefect 1 checks a Task subclass when it is defined: a run() it could not call is
        refused, and its __init__ warns when given a Task instead of settings."""
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:
            _checks.check_run_signature(cls.__dict__["run"], f"Task class {cls.__name__}")
        if "__init__" in cls.__dict__:
            cls.__init__ = _checks.warn_on_task_arguments(cls.__dict__["__init__"])  # type: ignore[method-assign]

    def __init__(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int | None = None,
        retry_delay: datetime.timedelta | float | None = None,
        retry_on: type[Exception] | Iterable[type[Exception]] | None = None,
        timeout: datetime.timedelta | int | None = None,
        trigger: Callable[..., bool] | None = None,
        skip_on_upstream_skip: bool = True,
        cache_for: datetime.timedelta | None = None,
        cache_validator: Callable[..., bool] | None = None,
        cache_key: str | None = None,
        checkpoint: bool | None = None,
        state_handlers: Iterable[StateHandler] | None = None,
        on_failure: Callable[[Any, State], Any] | None = None,
        log_stdout: bool = False,
        result: Any = None,
        target: Any = None,
        task_run_name: str | Callable[..., str] | None = None,
        nout: int | None = None,
    ) -> None:
        if type(self) is not Task:
            _checks.warn_on_reserved_attributes(self)
        self.name = name if name is not None else type(self).__name__
        owner = f"Task '{self.name}'"
        _checks.name_and_tags(owner, self.name, tags)
        self.slug = slug
        # tasks created inside `with flowlight.tags(...)` (or context(tags=...)) carry those too
        self.tags: set[str] = set(tags or ()) | set(current().get("tags") or ())
        # what is not given comes from config.tasks.defaults, as in Prefect 1
        self.max_retries, self.retry_delay, self.timeout = _checks.retries_and_timeout(
            owner, max_retries, retry_delay, timeout
        )
        self.retry_on = _checks.retry_on_types(owner, retry_on, self.max_retries)
        if trigger is not None:
            _checks.callable_as(
                owner,
                "trigger",
                trigger,
                1,
                "one of flowlight.triggers (e.g. all_finished) or a function of the upstream "
                "states, trigger(upstream_states) -> bool",
            )
        self.trigger: Callable[..., bool] = trigger or _triggers.all_successful
        self.skip_on_upstream_skip = skip_on_upstream_skip
        cache_seconds = _checks.seconds_of("cache_for", owner, cache_for)
        # kept a timedelta, as Prefect 1 keeps it (a number of seconds is converted)
        self.cache_for = (
            None if cache_seconds is None else datetime.timedelta(seconds=cache_seconds)
        )
        # As in Prefect 1: without cache_for nothing is reused; with it, until it expires.
        self.cache_validator = cache_validator or (
            never_use if cache_for is None else duration_only
        )
        if (
            cache_validator is not None
            and self.cache_for is None
            and cache_validator is not never_use
        ):
            warnings.warn(
                "cache_validator provided without specifying cache expiration (cache_for); "
                f"this Task will not be cached: {owner} has cache_validator="
                f"{getattr(cache_validator, '__name__', '?')}; give cache_for as well.",
                UserWarning,
                stacklevel=2,
            )
        self.cache_key = cache_key
        self.checkpoint = checkpoint
        self.log_stdout = log_stdout
        self.result = result
        self.target = target
        if target and result is not None:
            _point_result_at_target(self)
        self.task_run_name = task_run_name
        self.nout = nout if nout is not None else _checks.nout_of(self.run)
        handlers = validate_state_handlers(owner, state_handlers)
        if on_failure is not None:
            _checks.callable_as(
                owner, "on_failure", on_failure, 2, "a function on_failure(task, state)"
            )
            from flowlight.utilities.notifications import callback_factory

            handlers.append(callback_factory(on_failure, lambda s: s.is_failed()))
        self.state_handlers: list[StateHandler] = handlers
        self.auto_generated = False
        _checks.note_made(self)

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    @property
    def logger(self) -> RunLogger:
        """The task's logger (`flowlight.<name>`): inside a run, each line names the flow, task,
        map index, run ids and, with the OpenTelemetry bridge on, the trace and span ids."""
        return run_logger(f"flowlight.{self.name}")

    def run(self) -> Any:
        """The task's work; subclasses override it. The base task does nothing."""
        return None

    # -- the functional API -------------------------------------------------------------------

    def copy(self, **task_args: Any) -> Task:
        """A shallow copy with its own handler list and tags, and `task_args` applied."""
        from flowlight.core.flow import Flow as FlowClass

        active = FlowClass.active()
        if active is not None and active.has_edges(self):
            warnings.warn(
                "You are making a copy of a task that has dependencies on or to other tasks "
                "in the active flow context. The copy will not retain those dependencies: "
                f"{self} has edges in flow '{active.name}' and its copy has none (calling a "
                "task bound in the flow makes such a copy).",
                UserWarning,
                stacklevel=2,
            )
        new = copy.copy(self)
        new.state_handlers = list(self.state_handlers)
        new.tags = set(self.tags) | set(current().get("tags") or ())
        # as in Prefect 1: a copy of a task that has a slug (it is in a flow) gets "<slug>-copy"
        new.slug = f"{self.slug}-copy" if self.slug else None
        for key, value in task_args.items():
            if key == "tags":
                value = set(value)
            elif key == "state_handlers":
                value = validate_state_handlers(f"Task '{new.name}'", value)
            elif not hasattr(new, key):
                raise AttributeError(
                    f"{new} does not have {key} as an attribute, so task_args cannot set it; "
                    "task_args sets attributes the task already has (e.g. name, tags)."
                )
            setattr(new, key, value)
        if "tags" in task_args:
            new.tags |= self.tags
        if new.target and new.result is not None:  # a target given in task_args, too
            _point_result_at_target(new)
        _checks.note_copied(self, new)
        return new

    def __call__(
        self,
        *args: Any,
        mapped: bool = False,
        task_args: dict[str, Any] | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind a copy of this task into the active flow with these arguments; return the copy."""
        new = self.copy(**(task_args or {}))
        return new.bind(*args, mapped=mapped, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind a copy that runs once per item of each mapped argument (see `unmapped`)."""
        new = self.copy(**{"nout": None, **(task_args or {})})
        return new.bind(*args, mapped=True, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    def bind(
        self,
        *args: Any,
        mapped: bool = False,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Add this task to `flow` (default: the active `with Flow` block) with these inputs."""
        from flowlight.core.flow import Flow as FlowClass

        active = flow or FlowClass.active()
        if active is None:
            # a function task is named after its function; an instance of a Task class is
            # shown as the call that makes it, since its variable's name is unknown here
            runnable = (
                self.name if isinstance(self, FunctionTask) else f"{type(self).__name__}(...)"
            )
            raise ValueError(
                f"Could not infer an active Flow context while creating edge to {self}. "
                "This often means you called a task outside a `with Flow(...)` block: call "
                "tasks inside `with Flow(...):`, or pass flow=... . If you're trying to run "
                "this task outside of a Flow context, you need to call "
                f"`{runnable}.run(...)`."
            )
        callargs = self._bind_arguments(args, kwargs)
        active.set_dependencies(
            task=self, upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=mapped
        )
        self.tags.update(current().get("tags") or ())  # Prefect 1 tags a bound task too
        return self

    def _bind_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        signature = run_signature(self)
        for param in signature.parameters.values():
            if param.kind is param.VAR_POSITIONAL:
                raise TypeError(
                    f"{self}'s run() takes *{param.name}; tasks need named arguments, so use a "
                    "list argument instead."
                )
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(
                f"{self} was called with arguments its run() does not take: {exc}."
            ) from None
        arguments = dict(bound.arguments)
        for param in signature.parameters.values():
            if param.kind is param.VAR_KEYWORD:
                arguments.update(arguments.pop(param.name, {}))
        return arguments

    def set_dependencies(
        self,
        flow: Flow | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: dict[str, Any] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> Task:
        """`flow.set_dependencies(self, ...)` on `flow` or the active flow; returns this task."""
        from flowlight.core.flow import Flow as FlowClass

        target = flow or FlowClass.active()
        if target is None:
            raise ValueError(
                f"No Flow was passed, and could not infer an active Flow context for {self}; "
                "pass flow=... or call this inside `with Flow(...):`."
            )
        target.set_dependencies(
            self,
            upstream_tasks=upstream_tasks,
            downstream_tasks=downstream_tasks,
            keyword_tasks=keyword_tasks,
            mapped=mapped,
            validate=validate,
        )
        return self

    def set_upstream(
        self, task: Any, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make `task` an upstream dependency (optionally feeding argument `key`); returns
        this task."""
        if key is None:
            return self.set_dependencies(flow=flow, upstream_tasks=[task], mapped=mapped)
        return self.set_dependencies(flow=flow, keyword_tasks={key: task}, mapped=mapped)

    def set_downstream(
        self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make `task` a downstream dependent (optionally receiving this result as `key`);
        returns this task."""
        task.set_upstream(self, flow=flow, key=key, mapped=mapped)
        return self

    # -- describing the task --------------------------------------------------------------------

    def inputs(self) -> dict[str, dict[str, Any]]:
        """Each argument of `run()`: its annotated `type` (Any if none), whether it is
        `required`, and its `default` (None when required)."""
        described = {}
        for name, param in run_signature(self).parameters.items():
            required = param.default is inspect.Parameter.empty
            described[name] = {
                "type": Any if param.annotation is inspect.Parameter.empty else param.annotation,
                "required": required,
                "default": None if required else param.default,
            }
        return described

    def outputs(self) -> Any:
        """The return annotation of `run()` (Any if none)."""
        annotation = run_signature(self).return_annotation
        return Any if annotation is inspect.Signature.empty else annotation

    def pipe(_flowlight_self, _flowlight_task: Any, **kwargs: Any) -> Task:
        """`a.pipe(b, y=1)` is `b(a, y=1)`, for readable chains. Piping into an annotation class
        (`a.pipe(unmapped)`) returns the task itself, as Prefect 1 does."""
        if "self" in kwargs:
            raise ValueError('You cannot use the keyword argument "self" in .pipe().')
        if isinstance(_flowlight_task, type) and issubclass(_flowlight_task, EdgeAnnotation):
            return _flowlight_self
        result: Task = _flowlight_task(_flowlight_self, **kwargs)
        return result

    def __iter__(self) -> Iterator[Task]:
        if self.nout is None:
            raise TypeError(
                f"Task is not iterable: {self} cannot be unpacked. If your task returns "
                "multiple results, give the task nout=N (or a Tuple[...] return annotation) to "
                "unpack N results from it."
            )
        return (self[i] for i in range(self.nout))


def _point_result_at_target(task: Task) -> None:
    """A task's result is written where its target says (Prefect 1 warns on a clash)."""
    location = getattr(task.result, "location", None)
    if location and location != task.target:
        warnings.warn(
            f"Task '{task.name}' got both result.location={location!r} and "
            f"target={task.target!r}; the target is used as the result's location.",
            UserWarning,
            stacklevel=3,
        )
    task.result = task.result.copy()
    task.result.location = task.target


class FunctionTask(Task):
    """FunctionTask: a task whose `run` is a plain function (what `@task` builds); an instance
    takes the function's name and docstring."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **kwargs: Any) -> None:
        if not callable(fn):
            raise TypeError(f"@task needs a function, got {fn!r}.")
        _checks.check_run_signature(fn, f"@task {name or getattr(fn, '__name__', repr(fn))}")
        self.run = fn  # type: ignore[method-assign]
        super().__init__(name=name or getattr(fn, "__name__", type(self).__name__), **kwargs)
        self.__wrapped__ = fn
        if fn.__doc__:
            self.__doc__ = fn.__doc__


@overload
def task(fn: Callable[..., Any], **task_init_kwargs: Any) -> FunctionTask: ...
@overload
def task(
    fn: None = None, **task_init_kwargs: Any
) -> Callable[[Callable[..., Any]], FunctionTask]: ...
def task(
    fn: Callable[..., Any] | None = None, **task_init_kwargs: Any
) -> FunctionTask | Callable[[Callable[..., Any]], FunctionTask]:
    """Turn a function into a task: `@task`, `@task(name=..., max_retries=..., ...)`, or called
    with the function and the options at once (`task(fn, name=...)`, `task(fn=fn, ...)`)."""
    if fn is None:
        return lambda f: FunctionTask(f, **task_init_kwargs)
    return FunctionTask(fn, **task_init_kwargs)


class Constant(Task):
    """A value used where a task is needed (a literal list given to `map`)."""

    _is_constant = True

    def __init__(self, value: Any, name: str | None = None, **kwargs: Any) -> None:
        self.value = value
        if name is None:
            # Prefect 1 names short constants by their repr and long ones by their type.
            name = repr(value)
            if len(name) > 8:
                name = f"Constant[{type(value).__name__}]"
        super().__init__(name=name, **kwargs)

    def run(self) -> Any:
        return self.value


def __getattr__(name: str) -> Any:
    """`Parameter` is found here too, with a warning: it lives in `flowlight.core.parameter`
    (where Prefect 1 has it), and code that imported it from the task module keeps working
    while being told where to import it from."""
    if name == "Parameter":
        warnings.warn(
            "Parameter is not defined in flowlight.core.task; please import as "
            "`flowlight.Parameter` (or from flowlight.core.parameter).",
            UserWarning,
            stacklevel=2,
        )
        from flowlight.core.parameter import Parameter

        return Parameter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
