"""What Prefect 1 checks, and warns about, while a flow is being built.

Kept apart from `core/task.py` so the Task class reads as the API: this module holds the run()
signature rules, the `nout` a return annotation implies, the warnings Prefect 1.4.1 gives for
tasks made but never added to a flow, for a Task passed where a Task subclass expects its
settings, and for a subclass attribute that Task's constructor would overwrite; and the checks
of the durations and `retry_on` a Task is given.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import inspect
import math
import threading
import typing
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowlight.core.task import Task

# Keyword arguments of calling a task; a run() argument of the same name could never be given.
RESERVED_ARGUMENTS = ("upstream_tasks", "mapped", "task_args", "flow")


def check_run_signature(run: Callable[..., Any], owner: str) -> None:
    """Refuse a run() that a task cannot be called with, as Prefect 1 does when the class or
    the @task function is defined: *args, a reserved name, or no readable signature."""
    try:
        parameters = inspect.signature(inspect.unwrap(run)).parameters.values()
    except (TypeError, ValueError):
        raise ValueError(
            f"This function can not be inspected: {owner}: {run!r} has no signature Python can "
            "read (common with builtin and numpy functions); wrap it in a Python function, e.g. "
            "`def f(x): return builtin(x)`."
        ) from None
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            raise ValueError(
                "Tasks with variable positional arguments (*args) are not supported: "
                f"{owner}: run() takes *{parameter.name}, but task arguments are passed by "
                "keyword; take a list argument or **kwargs instead."
            )
    reserved = [
        p.name
        for p in parameters
        if p.name in RESERVED_ARGUMENTS and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if reserved:
        raise ValueError(
            f"Tasks cannot have the following argument names: {', '.join(reserved)}. These "
            f"are reserved keyword arguments: {owner}: run() takes {', '.join(reserved)}, "
            f"reserved for calling a task ({', '.join(a + '=' for a in RESERVED_ARGUMENTS)}); "
            "rename the argument."
        )
    positional_only = [p.name for p in parameters if p.kind is p.POSITIONAL_ONLY]
    if positional_only:
        raise TypeError(
            "Found positional-only parameters in the function signature for "
            f"{owner}: {positional_only}; task arguments are passed by keyword, so drop the `/` "
            "from its signature."
        )


def nout_of(run: Callable[..., Any]) -> int | None:
    """How many results `-> Tuple[a, b]` promises (Prefect 1 infers `nout` from it); None when
    the annotation is not a tuple of fixed length. A postponed (string) annotation is resolved
    first, where Prefect 1.4.1 would not see it."""
    try:
        returns = inspect.signature(run).return_annotation
    except (TypeError, ValueError):
        return None
    if isinstance(returns, str):
        try:
            returns = typing.get_type_hints(run).get("return")
        except Exception:  # an annotation naming what its module cannot resolve: no inference
            return None
    if returns in (tuple, typing.Tuple) or typing.get_origin(returns) is not tuple:  # noqa: UP006
        return None  # not a tuple, or a bare one (any length)
    items = typing.get_args(returns)
    if not items or items == ((),):  # Tuple[()] (spelled either way by Python versions)
        return 0
    if len(items) == 2 and items[1] is Ellipsis:
        return None
    return len(items)


# -- tasks made inside `with Flow(...)` but never added to it ----------------------------------

_made_in_block: contextvars.ContextVar[set[Task] | None] = contextvars.ContextVar(
    "flowlight_tasks_made_in_flow_block", default=None
)


def note_made(task: Task) -> None:
    """Remember a task made inside a `with Flow(...)` block (constants are values: not noted)."""
    made = _made_in_block.get()
    if made is not None and not getattr(task, "_is_constant", False):
        made.add(task)


def note_copied(original: Task, new: Task) -> None:
    """A copy stands for its original, which has been used, so only the copy is remembered."""
    made = _made_in_block.get()
    if made is not None:
        made.discard(original)
        if not getattr(new, "_is_constant", False):
            made.add(new)


def start_block() -> contextvars.Token[set[Task] | None]:
    return _made_in_block.set(set())


def end_block(
    token: contextvars.Token[set[Task] | None], flow_tasks: Any, flow: str, judge: bool
) -> None:
    """Warn, as Prefect 1 does, about tasks made in the block that the flow does not hold."""
    made = _made_in_block.get() or set()
    _made_in_block.reset(token)
    unused = [t for t in made if t not in flow_tasks] if judge else []
    if unused:
        warnings.warn(
            f"Tasks were created but not added to flow '{flow}': {sorted(map(repr, unused))}. "
            "A task (a Parameter too) made inside `with Flow(...)` joins the flow only when it "
            "is called, used as another task's argument, or added with flow.add_task(task).",
            UserWarning,
            stacklevel=3,
        )


# -- Task subclasses ---------------------------------------------------------------------------


def warn_on_task_arguments(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a Task subclass's __init__ to warn when it is given a Task: settings go to the
    constructor, tasks to the call (`t = MyTask(setting); t(upstream)`)."""

    @functools.wraps(init)
    def checked_init(self: Task, *args: Any, **kwargs: Any) -> None:
        from flowlight.core.task import Task

        if any(isinstance(a, Task) for a in (*args, *kwargs.values())):
            name = type(self).__name__
            warnings.warn(
                f"A Task was passed as an argument to {name}: {name}(...) takes the task's "
                "settings. Create the task with settings first, then call it with tasks: "
                f"`t = {name}(...)`, then `t(other_task)` inside the flow.",
                UserWarning,
                stacklevel=2,
            )
        init(self, *args, **kwargs)

    return checked_init


_reserved_attributes: tuple[str, ...] | None = None


def warn_on_reserved_attributes(task: Task) -> None:
    """Warn when a subclass set, before Task.__init__, an attribute that __init__ overwrites."""
    global _reserved_attributes
    from flowlight.core.task import Task

    if _reserved_attributes is None:
        token = _made_in_block.set(None)
        try:
            _reserved_attributes = tuple(sorted(vars(Task())))
        finally:
            _made_in_block.reset(token)
    own = vars(task)
    classes = type(task).__mro__[: type(task).__mro__.index(Task)]
    for attribute in _reserved_attributes:
        if attribute in own or any(attribute in vars(c) for c in classes):
            warnings.warn(
                f"`{type(task).__name__}` sets a `{attribute}` attribute, which will be "
                "overwritten by Task.__init__; give it another name.",
                UserWarning,
                stacklevel=3,
            )


def retry_on_types(
    owner: str, retry_on: type[Exception] | Iterable[type[Exception]] | None, max_retries: int
) -> set[type[Exception]] | None:
    """`Task(retry_on=...)` checked: the exception types a failure must be one of to be
    retried (None: any failure)."""
    if not retry_on:
        return None
    if max_retries <= 0:
        raise ValueError(
            "A number of `max_retries` must be provided if `retry_on` is set: "
            f"{owner} has retry_on={retry_on!r} but no max_retries."
        )
    if isinstance(retry_on, Iterable) and not isinstance(retry_on, (str, bytes)):
        chosen: set[Any] = set(retry_on)
    else:  # one class (or a mistaken name, refused below as a whole)
        chosen = {retry_on}
    for kind in chosen:
        if not isinstance(kind, type) or not issubclass(kind, Exception):
            got = (
                f"Expected an exception type but got an instance of {type(kind).__name__}"
                if not isinstance(kind, type)
                else "Expected an exception subclass"
            )
            raise TypeError(
                f"Invalid `retry_on` value {kind!r}. {got}: {owner} takes exception classes "
                "such as ValueError (subclasses of Exception) in retry_on."
            )
    return chosen


def seconds_of(name: str, owner: str, value: Any) -> float | None:
    """A duration argument of `Task` (a timedelta or seconds >= 0) as seconds, or refused: a
    negative or endless one, or one longer than the longest wait Python can make (the run would
    fail on every attempt with an OverflowError)."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        seconds = math.nan
    if 0 <= seconds <= threading.TIMEOUT_MAX:
        return seconds
    raise TypeError(
        f"{owner} has {name}={value!r}; give a datetime.timedelta or a number of seconds, "
        f"from 0 to {threading.TIMEOUT_MAX:.0f}."
    )


def retries_and_timeout(
    owner: str, max_retries: Any, retry_delay: Any, timeout: Any
) -> tuple[int, datetime.timedelta | None, int | None]:
    """`Task(max_retries=, retry_delay=, timeout=)` checked, each one not given taken from
    `config.tasks.defaults` as Prefect 1 does (`FLOWLIGHT__TASKS__DEFAULTS__<NAME>`). The
    retry_delay default applies only to a task that retries, so `max_retries=0` alone turns a
    configured retry policy off. An error about a default names the setting it came from."""
    from flowlight.configuration import task_default

    owners = dict.fromkeys(("max_retries", "retry_delay", "timeout"), owner)
    if max_retries is None:
        max_retries = task_default("max_retries")
        owners["max_retries"] = _from_default(owner, "max_retries")
    if retry_delay is None and max_retries:
        retry_delay = task_default("retry_delay")
        owners["retry_delay"] = _from_default(owner, "retry_delay")
    if timeout is None:
        timeout = task_default("timeout")
        owners["timeout"] = _from_default(owner, "timeout")
    retries = retry_count(owners["max_retries"], max_retries)
    seconds = seconds_of("retry_delay", owners["retry_delay"], retry_delay)
    # kept the timedelta Prefect 1 keeps; a number of seconds is accepted and converted
    delay = None if seconds is None else datetime.timedelta(seconds=seconds)
    if retries > 0 and delay is None:
        raise ValueError(
            "A datetime.timedelta `retry_delay` must be provided if max_retries > 0: "
            f"{owners['max_retries']} has max_retries={max_retries} but no retry_delay; give "
            "one, e.g. retry_delay=datetime.timedelta(seconds=10)."
        )
    if delay is not None and not retries:
        raise ValueError(
            "A `max_retries` argument greater than 0 must be provided if specifying a retry "
            f"delay: {owner} has retry_delay={retry_delay!r} but no max_retries, so it would "
            "never retry; give max_retries=N (N > 0) as well, or drop retry_delay."
        )
    return retries, delay, timeout_of(owners["timeout"], timeout)


def _from_default(owner: str, name: str) -> str:
    return (
        f"{owner} (given no {name}, so it takes config.tasks.defaults.{name}, set by "
        f"FLOWLIGHT__TASKS__DEFAULTS__{name.upper()} or set_temporary_config)"
    )


def timeout_of(owner: str, timeout: Any) -> int | None:
    """`Task(timeout=...)` as whole seconds, Prefect 1's rule: an int, or a timedelta whose
    sub-second part is dropped with a warning (the alarm that stops a task counts in seconds)."""
    if isinstance(timeout, float):
        usable = math.isfinite(timeout) and 0 <= timeout <= threading.TIMEOUT_MAX
        example = f"timeout={max(1, round(timeout))}" if usable else "timeout=60"
        raise TypeError(
            f"{owner} has timeout={timeout!r}, but timeouts are whole seconds (only integer "
            f"timeouts are supported); give an int such as {example} or a datetime.timedelta."
        )
    seconds = seconds_of("timeout", owner, timeout)  # None, or refused when out of range
    if isinstance(timeout, datetime.timedelta) and timeout.microseconds > 0:
        warnings.warn(
            f"{owner} has timeout={timeout!r}; timeouts count whole seconds, so the part under "
            f"a second is dropped and the timeout is {int(timeout.total_seconds())} s.",
            UserWarning,
            stacklevel=4,
        )
    return None if seconds is None else int(seconds)


def retry_count(owner: str, max_retries: Any) -> int:
    """`Task(max_retries=...)`: a whole number >= 0 (None is 0, and so is False: Prefect 1's
    configuration writes "no retries" as `false`)."""
    if max_retries is None or max_retries is False:
        return 0
    if isinstance(max_retries, int) and not isinstance(max_retries, bool) and max_retries >= 0:
        return max_retries
    wrong_kind = isinstance(max_retries, bool) or not isinstance(max_retries, int)
    raise (TypeError if wrong_kind else ValueError)(
        f"{owner} has max_retries={max_retries!r}; give a whole number, 0 or more."
    )


def name_and_tags(owner: str, name: Any, tags: Any) -> None:
    """A task's name is text, and so is each tag: both end up in slugs, labels and logs."""
    if not isinstance(name, str):
        raise TypeError(f"{owner} has name={name!r}; a task's name is a string.")
    if isinstance(tags, (str, bytes)):
        raise TypeError(
            f"Tags should be a set of tags, not a string: {owner} got tags={tags!r}; give a "
            f"list of strings, e.g. tags=[{tags!r}]."
        )
    if tags is not None and not isinstance(tags, Iterable):
        raise TypeError(f"{owner} got tags={tags!r}; tags takes a list of strings.")
    wrong = [tag for tag in tags or () if not isinstance(tag, str)]
    if wrong:
        raise TypeError(f"{owner} got tags={tags!r}; each tag is a string, not {wrong[0]!r}.")


def callable_as(owner: str, what: str, value: Any, arguments: int, shape: str) -> None:
    """Refuse `value` for `what` unless it can be called with `arguments` positional arguments
    (a callable whose signature Python cannot read is trusted), so a mistake shows when the task
    is made rather than in the middle of a run."""
    if not callable(value):
        raise TypeError(f"{owner} has {what}={value!r}, which is not callable; give {shape}.")
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*([None] * arguments))
    except TypeError:
        raise TypeError(
            f"{owner} has {what}={getattr(value, '__qualname__', value)!r}, which cannot be "
            f"called as {shape}."
        ) from None
