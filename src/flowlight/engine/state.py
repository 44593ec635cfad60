"""The state hierarchy of task runs and flow runs, as Prefect 1 defined it.

A state is a small immutable-by-convention object: a message, a result and a timestamp. States are
created on every transition, so they are cheap: `__slots__`, and the timestamp is kept as a float
and only turned into a pendulum datetime when someone reads `state.timestamp`.

The class hierarchy carries meaning: `is_failed()` is true for every subclass of `Failed`
(`TimedOut`, `TriggerFailed`), `is_successful()` for `Skipped`, `Cached` and `Mapped`, and
`is_scheduled()` for `Retrying`, `Paused` and `Resume`. Handlers and triggers rely on that.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from flowlight.utilities.context import current

if TYPE_CHECKING:
    import pendulum

__all__ = [
    "Cached",
    "Cancelled",
    "Cancelling",
    "ClientFailed",
    "Failed",
    "Finished",
    "Looped",
    "Mapped",
    "Paused",
    "Pending",
    "Queued",
    "Resume",
    "Retrying",
    "Running",
    "Scheduled",
    "Skipped",
    "State",
    "Submitted",
    "Success",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
]


def _as_datetime(value: Any) -> pendulum.DateTime | None:
    """Accept a pendulum/stdlib datetime or an epoch float; return a UTC pendulum datetime."""
    import pendulum  # here, not at the top: `import flowlight` need not load it (tens of ms)

    if value is None:
        return None
    if isinstance(value, (int, float)):
        return pendulum.from_timestamp(value, tz="UTC")
    if isinstance(value, pendulum.DateTime):
        return value
    converted: pendulum.DateTime = pendulum.instance(value)
    return converted


class State:
    """The base of every state: what happened (`message`), what came of it (`result`), and when."""

    __slots__ = (
        "_created",
        "_stored",
        "_timestamp",
        "cached_inputs",
        "context",
        "message",
        "result",
    )

    color = "#696969"
    # The data `__eq__` compares besides the class and the result (a subclass adds its own).
    _compared: tuple[str, ...] = ("cached_inputs",)

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self._stored: Any = None
        if _is_result(result):
            # a Result given by the caller (a checkpointed value, a target that was found):
            # `result` is its value, `_result` the Result itself
            self._stored, result = result, result.value
        self.result = result
        self.context: dict[str, Any] = context if context is not None else {}
        # As Prefect 1: a state made inside a task run records the task's tags.
        tags = current().get("task_tags")
        if tags is not None:
            self.context.setdefault("tags", list(tags))
        self.cached_inputs: dict[str, Any] = cached_inputs if cached_inputs is not None else {}
        self._created = time.time()
        self._timestamp: pendulum.DateTime | None = None

    @property
    def timestamp(self) -> pendulum.DateTime:
        """When the state was created, as a UTC pendulum datetime (built on first read)."""
        if self._timestamp is None:
            import pendulum

            self._timestamp = pendulum.from_timestamp(self._created, tz="UTC")
        return self._timestamp

    @property
    def _result(self) -> Any:
        """The result as a `flowlight.engine.result.Result` (Prefect 1's `state._result`): the
        one the state was given when it still holds `result`, else one wrapping `result`
        (`NoResult` when there is none). Built on read, so states that nobody asks pay nothing."""
        from flowlight.engine.result import NoResult, Result

        stored = self._stored
        if stored is not None and stored.value is self.result:
            return stored
        if self.result is None and stored is None:
            return NoResult
        return Result(self.result)

    @_result.setter
    def _result(self, value: Any) -> None:
        if _is_result(value):
            self._stored, self.result = value, value.value
        else:
            self._stored, self.result = None, value

    @property
    def trace_id(self) -> str | None:
        """The trace id of the flow run that ended in this state, when the OpenTelemetry bridge
        traced it (`flowlight trace show <id>` draws it); None otherwise."""
        value = (self.context or {}).get("trace_id")
        return value if isinstance(value, str) else None

    @property
    def created_at(self) -> float:
        """When the state was created, as epoch seconds: the cheap form of `timestamp`."""
        return self._created

    def __getstate__(self) -> Any:
        """Pickled slot by slot, except that an exception result that cannot be pickled goes
        as its description (Prefect 1): a task failing with one on a Dask or process worker
        still reports its failure instead of breaking the run's transfer."""
        slots = {
            name: getattr(self, name)
            for klass in type(self).__mro__
            for name in getattr(klass, "__slots__", ())
            if hasattr(self, name)
        }
        pickled: Any = (None, slots)
        error = self.result
        if isinstance(error, Exception):
            from flowlight.engine.serializers import _pickler
            from flowlight.engine.signals import PrefectStateSignal

            try:
                if isinstance(error, PrefectStateSignal):
                    return pickled  # a signal holds this state: checking it would recurse
                _pickler().dumps(error)
            except Exception as exc:
                described = (
                    f"The following exception could not be pickled due to {exc!r}: {error!r}"
                )
                pickled = (None, {**slots, "result": described, "_stored": None})
        return pickled

    def __repr__(self) -> str:
        if self.message is None:
            return f"{type(self).__name__}()"
        return f'{type(self).__name__}("{self.message}")'

    def __eq__(self, other: object) -> bool:
        """Prefect 1's equality: the same class, equal results and equal data (`cached_inputs`,
        and per class `start_time`, `run_count`, `loop_count`, `map_states`, the cache's
        parameters and expiry); the message and the context do not count."""
        if type(self) is not type(other):
            return False
        assert isinstance(other, State)
        if not bool(self.result == other.result):
            return False
        return all(bool(getattr(self, a) == getattr(other, a)) for a in self._compared)

    __hash__ = object.__hash__

    def is_pending(self) -> bool:
        return isinstance(self, Pending)

    def is_scheduled(self) -> bool:
        """Scheduled (Retrying, Paused, Resume among them) or Queued, as Prefect 1 counts it."""
        return isinstance(self, (Scheduled, Queued))

    def is_retrying(self) -> bool:
        return isinstance(self, Retrying)

    def is_submitted(self) -> bool:
        return isinstance(self, Submitted)

    def is_queued(self) -> bool:
        return isinstance(self, Queued)

    def is_running(self) -> bool:
        return isinstance(self, Running)

    def is_finished(self) -> bool:
        return isinstance(self, Finished)

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def is_skipped(self) -> bool:
        return isinstance(self, Skipped)

    def is_mapped(self) -> bool:
        return isinstance(self, Mapped)

    def is_cached(self) -> bool:
        return isinstance(self, Cached)

    def is_looped(self) -> bool:
        return isinstance(self, Looped)

    def load_result(self, result: Any = None) -> State:
        """Read a result that is only a location (a stored checkpoint) with `result`'s reader
        (default: the state's own Result); a mapped state loads each child. Returns the state."""
        if isinstance(self, Mapped):
            # a child that never ran (None, in a rebuilt map) stays None
            children: list[Any] = self.map_states
            self.map_states = cast(
                "list[State]", [c.load_result(result) if c is not None else None for c in children]
            )
            if self.map_states:
                self.result = [c.result if c is not None else None for c in self.map_states]
            return self
        stored = self._result
        location = getattr(stored, "location", None)
        if stored.value is None and location is not None:
            self._result = (result or stored).read(location)
        return self

    def load_cached_results(self, results: dict[str, Any] | None = None) -> State:
        """`load_result` for each cached input that is a Result without a value, read with
        `results[name]` when given; an input that has no location of its own is read at the
        location of `results[name]` (Prefect 1)."""
        loaded = {}
        for name, value in self.cached_inputs.items():
            if _is_result(value) and value.value is None:
                reader = (results or {}).get(name) or value
                location = value.location or getattr(reader, "location", None)
                if location is not None:
                    value = reader.read(location)
            loaded[name] = value
        self.cached_inputs = loaded
        return self

    def is_meta_state(self) -> bool:
        """Whether this state wraps another (`Submitted`, `Queued`, `ClientFailed`)."""
        return False

    @classmethod
    def children(cls, include_self: bool = False, names_only: bool = False) -> list[Any]:
        """Every state class below this one, depth first (for `only_states=`-style filters);
        private classes (a leading underscore) are left out. With `names_only`, their names."""
        found: list[type[State]] = []
        for child in cls.__subclasses__():
            if not child.__name__.startswith("_"):
                found.append(child)
            found.extend(child.children())
        if include_self:
            found.append(cls)
        return [c.__name__ for c in found] if names_only else list(found)

    @classmethod
    def parents(cls, include_self: bool = False, names_only: bool = False) -> list[Any]:
        """Every state class above this one, nearest first (`State` last); with
        `names_only`, their names."""
        found: list[type[State]] = [
            c for c in cls.__mro__[1:] if issubclass(c, State) and not c.__name__.startswith("_")
        ]
        if include_self:
            found.append(cls)
        return [c.__name__ for c in found] if names_only else list(found)


def _is_result(value: Any) -> bool:
    """Whether `value` is a `Result`, without importing the results package for every state."""
    return getattr(type(value), "_is_flowlight_result", False) is True


class Pending(State):
    """The run has not started: it waits for its upstream tasks, a trigger, or a time."""

    __slots__ = ()
    color = "#7ebdff"


class Scheduled(Pending):
    """Pending until `start_time` (when none is given: the moment the state was made, as in
    Prefect 1, so the run may start at once)."""

    __slots__ = ("_start_time",)
    color = "#ffab00"
    _compared: tuple[str, ...] = ("cached_inputs", "start_time")

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, result, context, cached_inputs)
        self._start_time = start_time
        # Prefect 1 notes the attempt a scheduled state was made in, when made inside a run.
        run_count = current().get("task_run_count")
        if run_count is not None:
            self.context["task_run_count"] = run_count

    # Without a start time a scheduled state may start at once; a paused one has none at all
    # (it waits for someone), as in Prefect 1.
    _starts_when_made = True

    @property
    def start_time(self) -> pendulum.DateTime | None:
        """When the run may start, as a UTC pendulum datetime."""
        value = self._start_time
        if value is None:
            return self.timestamp if self._starts_when_made else None
        import pendulum

        if isinstance(value, pendulum.DateTime):
            return value
        converted = _as_datetime(value)
        assert converted is not None
        self._start_time = converted
        return converted

    @start_time.setter
    def start_time(self, value: Any) -> None:
        self._start_time = value

    def start_epoch(self) -> float | None:
        """`start_time` as epoch seconds, without building a datetime when it was given as one;
        None when no start time was given (the run need not wait)."""
        value = self._start_time
        if value is None:
            return None
        if isinstance(value, (int, float)):
            return float(value)
        return float(_as_datetime(value).timestamp())  # type: ignore[union-attr]


class Paused(Scheduled):
    """Waiting for a person: a PAUSE signal or the `manual_only` trigger put it here. Its
    `start_time` is None unless one is given (then it may also start at that time)."""

    __slots__ = ()
    _starts_when_made = False
    color = "#99a8e8"


class Resume(Scheduled):
    """A paused run that was given approval; its trigger is not checked again."""

    __slots__ = ()
    color = "#f58c0c"


class Retrying(Scheduled):
    """A failed run that will be tried again at `start_time`; `run_count` attempts so far."""

    __slots__ = ("run_count",)
    color = "#f66a0a"
    _compared = ("cached_inputs", "start_time", "run_count")

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
        run_count: int | None = None,
    ) -> None:
        super().__init__(message, result, start_time, context, cached_inputs)
        if run_count is None:  # the current attempt, when made inside a task run
            run_count = self.context.get("task_run_count", 1)
        self.run_count: int = run_count


class _MetaState(State):
    """A state about another state, which it wraps as `state` (a wrapped meta state is
    unwrapped); Prefect 1's meta states, private so `State.children()` leaves it out."""

    __slots__ = ("_state",)

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        state: State | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, result, context, cached_inputs)
        self.state = state

    @property
    def state(self) -> State | None:
        return self._state

    @state.setter
    def state(self, value: State | None) -> None:
        while isinstance(value, _MetaState):
            value = value.state
        self._state = value

    def is_meta_state(self) -> bool:
        return True


class Submitted(_MetaState):
    """Handed to an executor and not yet started there; `state` is the state it was in."""

    __slots__ = ()
    color = "#ffdf5d"


class Queued(_MetaState):
    """Held back (by a concurrency limit, say) until `start_time`; `state` is the state it was
    in."""

    __slots__ = ("_start_time",)
    color = "#ffea7f"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        state: State | None = None,
        start_time: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, result, state, context, cached_inputs)
        self._start_time = start_time

    @property
    def start_time(self) -> pendulum.DateTime:
        """When the run may try again (default: when the state was made), as UTC pendulum."""
        value = _as_datetime(self._start_time)
        return self.timestamp if value is None else value

    @start_time.setter
    def start_time(self, value: Any) -> None:
        self._start_time = value


class ClientFailed(_MetaState):
    """Reporting the state to an outside service failed; `state` is the state it tried to
    report (kept for Prefect 1 compatibility)."""

    __slots__ = ()
    color = "#eb0000"


class Running(State):
    """The run is executing."""

    __slots__ = ()
    color = "#3d67ff"


class Cancelling(Running):
    """A cancellation was requested and the run is winding down."""

    __slots__ = ()
    color = "#E8E8E8"


class Finished(State):
    """The run is over; subclasses say how."""

    __slots__ = ()
    color = "#003ccb"


class Success(Finished):
    """The run succeeded; `result` is what it returned."""

    __slots__ = ()
    color = "#28a745"


class Cached(Success):
    """The run was not executed because a cached result was still valid."""

    __slots__ = ("_expiration", "_expiration_datetime", "cached_parameters")
    color = "#34d058"
    _compared = ("cached_inputs", "cached_parameters", "_expiration")
    _expiration: float | None
    _expiration_datetime: pendulum.DateTime | None

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
        cached_parameters: dict[str, Any] | None = None,
        cached_result_expiration: Any = None,
    ) -> None:
        super().__init__(message, result, context, cached_inputs)
        self.cached_parameters = cached_parameters
        self.cached_result_expiration = cached_result_expiration

    @property
    def cached_result_expiration(self) -> pendulum.DateTime | None:
        """When the cached result stops being valid, as a UTC pendulum datetime (built on first
        read: validators compare `expiration_epoch()` for every stored state)."""
        if self._expiration_datetime is None and self._expiration is not None:
            self._expiration_datetime = _as_datetime(self._expiration)
        return self._expiration_datetime

    @cached_result_expiration.setter
    def cached_result_expiration(self, value: Any) -> None:
        # Kept as epoch seconds, the engine's form; a datetime is converted at once, so a value
        # of the wrong type fails here rather than at the first read.
        if value is None or isinstance(value, (int, float)):
            self._expiration = None if value is None else float(value)
            self._expiration_datetime = None
        else:
            converted = _as_datetime(value)
            assert converted is not None
            self._expiration = float(converted.timestamp())
            self._expiration_datetime = converted

    def expiration_epoch(self) -> float | None:
        """`cached_result_expiration` as epoch seconds (None: never expires), without building a
        datetime."""
        return self._expiration


class Mapped(Success):
    """A mapped parent: its children's states are `map_states`, their results `result`."""

    __slots__ = ("_n_map_states", "map_states")
    color = "#003ccb"
    _compared = ("cached_inputs", "map_states")

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        map_states: Sequence[State] | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
        n_map_states: int | None = None,
    ) -> None:
        super().__init__(message, result, context, cached_inputs)
        self.map_states: list[State] = list(map_states or [])
        self._n_map_states = n_map_states

    @property
    def n_map_states(self) -> int:
        """How many children the map has: as given, else the number of `map_states`."""
        return self._n_map_states or len(self.map_states)

    @n_map_states.setter
    def n_map_states(self, value: int | None) -> None:
        self._n_map_states = value


class Skipped(Success):
    """The run was skipped (a SKIP signal, or an upstream skip); it counts as a success."""

    __slots__ = ()
    color = "#62757f"


class Looped(Finished):
    """One loop iteration finished (LOOP signal); the task runs again with `loop_count` + 1."""

    __slots__ = ("loop_count",)
    color = "#003ccb"
    _compared = ("cached_inputs", "loop_count")

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        loop_count: int | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, result, context, cached_inputs)
        if loop_count is None:  # the current iteration, when made inside a task run
            loop_count = current().get("task_loop_count", 1)
        self.loop_count: int = loop_count


class Cancelled(Finished):
    """The run was cancelled before it finished."""

    __slots__ = ()
    color = "#bdbdbd"


class Failed(Finished):
    """The run failed; `result` is the exception or signal that failed it."""

    __slots__ = ()
    color = "#eb0000"


class TimedOut(Failed):
    """The run exceeded its task's `timeout`."""

    __slots__ = ()
    color = "#ff4e33"


class TriggerFailed(Failed):
    """The task's trigger did not pass, so it never ran."""

    __slots__ = ()
    color = "#ff5131"


class ValidationFailed(Failed):
    """The task's result did not pass validation."""

    __slots__ = ()
    color = "#ff5131"
