"""Prefect 1 flows and tasks seen through flowlight's handler contract, without patching Prefect.

flowlight's own handlers (the OpenTelemetry bridge, the notifiers) read `flowlight.context` as
docs/handlers-and-context.md describes it. A genuine Prefect 1 (`prefect==1.x`) run has its own
context, `prefect.context`, which lacks or means differently what those handlers rely on:

- `flow_run_id` is there when the flow was started with `flow.run()`, not when a `FlowRunner` is
  used directly: then one is made on the flow's first transition and put into `prefect.context`,
  where every task run of that flow run inherits it. And `flow.run()` of a flow with a schedule
  gives all its runs the same id: each run after the first gets one of its own.
- `task_run_id` is new for every pass the local `flow.run()` makes over the tasks (so a retried
  task changes id), and a mapped child shares its parent's. flowlight needs one id per task run
  (retries included) and one per mapped child, the same in every process: here it is derived
  from the flow run id, the task's slug and the map index (a uuid5), and `parent_task_run_id`
  is the parent's derived id.
- values a flow handler puts into the context are inherited by task runs only during the flow
  runner's first pass, and a mapped parent's never reach its children (Prefect 1 builds their
  context from the flow's). So what handlers write is also kept here, in this process, per run,
  and a run that does not find a value in its own context looks it up from its mapped parent and
  then its flow run.
- `flow_run_name` of a local `flow.run()` is a second random uuid: it reads as the run id.
- `logger` is a standard-library logger, not a structlog one: it is hidden, so handlers fall back
  to their own logging.

Prefect 1 is never imported here: an object is a Prefect 1 one when its class derives from
`prefect.core.task.Task` or `prefect.core.flow.Flow`, and that is only asked once `prefect` is in
`sys.modules`. Values kept for other runs live in bounded tables, so a process that runs flows
for months does not grow.

Where the kept values cannot reach (measured with Prefect 1's `DaskExecutor` on two worker
processes): ids and the flow run's trace context travel in `prefect.context`, so task runs of the
local runner's first pass are in the flow run's trace wherever they run; but a mapped child that
runs on another worker than its parent has the flow run's span as its parent, and a task run that
starts on a worker in a later pass (a retry, or a task downstream of one) starts a trace of its
own; a retried task's earlier attempts then stay in a span that the first worker never ends.
With `LocalExecutor` and `LocalDaskExecutor` (threads) nothing of this applies.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import Any, cast

__all__ = [
    "Prefect1RunContext",
    "flowlight_context_for",
    "is_prefect1_flow",
    "is_prefect1_object",
    "run_context",
    "task_run_id_for",
]

# Fixed, so every process derives the same task run id from the same flow run id.
_TASK_RUN_NAMESPACE = uuid.UUID("8d3c2f0e-3f5b-4c1e-9a57-6f1b2d7c4e90")

# Keys a handler's view computes instead of reading Prefect's context.
_HIDDEN_KEYS = frozenset({"logger"})

_kinds: dict[type, str | None] = {}


def _kind(cls: type) -> str | None:
    """'flow', 'task' or None: what the Prefect 1 base class of `cls` is, if it has one."""
    try:
        return _kinds[cls]
    except KeyError:
        pass
    found: str | None = None
    for base in cls.__mro__:
        if base.__module__ == "prefect.core.flow" and base.__name__ == "Flow":
            found = "flow"
            break
        if base.__module__ == "prefect.core.task" and base.__name__ == "Task":
            found = "task"
            break
    _kinds[cls] = found
    return found


def is_prefect1_object(obj: Any) -> bool:
    """Whether `obj` is a Prefect 1 Flow or Task (False at once when Prefect was never imported)."""
    return "prefect" in sys.modules and _kind(type(obj)) is not None


def is_prefect1_flow(obj: Any) -> bool:
    """Whether `obj` is a Prefect 1 Flow."""
    return "prefect" in sys.modules and _kind(type(obj)) == "flow"


@functools.lru_cache(maxsize=4096)  # asked on every transition of a run, derived once
def task_run_id_for(flow_run_id: str, task_slug: str, map_index: int | None = None) -> str:
    """The task run id flowlight uses for a Prefect 1 task run: the same in every process."""
    name = (
        f"{flow_run_id}/{task_slug}"
        if map_index is None
        else f"{flow_run_id}/{task_slug}/{map_index}"
    )
    return str(uuid.uuid5(_TASK_RUN_NAMESPACE, name))


class _BoundedTable:
    """Values handlers wrote, per run id; the least recently used run is forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._runs: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run_id: str | None, key: str) -> Any:
        if not run_id:
            return None
        with self._lock:
            values = self._runs.get(run_id)
            if values is None:
                return None
            self._runs.move_to_end(run_id)
            return values.get(key)

    def put(self, run_id: str, key: str, value: Any) -> None:
        with self._lock:
            values = self._runs.get(run_id)
            if values is None:
                values = self._runs[run_id] = {}
                while len(self._runs) > self._capacity:
                    self._runs.popitem(last=False)
            else:
                self._runs.move_to_end(run_id)
            values[key] = value

    def pop(self, run_id: str, key: str) -> None:
        with self._lock:
            values = self._runs.get(run_id)
            if values is not None:
                values.pop(key, None)

    def __len__(self) -> int:
        return len(self._runs)


# Flow runs are few and must outlive all their task runs; task runs (and mapped children) many.
_FLOW_RUNS = _BoundedTable(256)
_TASK_RUNS = _BoundedTable(8192)
# The keys handlers ever wrote in this process (a handful: traceparent, trace_id, ...).
_WRITTEN_KEYS: set[str] = set()


def _run_name(name: Any, flow_run_id: str) -> str:
    """The flow run's name; as in flowlight, its id when it has none. Prefect 1's local
    `flow.run()` names every run with a fresh uuid4 that nothing else refers to: that counts as
    none, so alerts and spans name the run by the id its telemetry carries."""
    if not name:
        return flow_run_id
    try:
        uuid.UUID(str(name))
    except ValueError:
        return str(name)
    return flow_run_id


# Prefect 1 flow run id -> the scheduled start time it was first seen with, and the id used.
_RUNS_SEEN = _BoundedTable(256)
# Where a flow run whose Prefect id was already used passes its own id on to its task runs.
_OWN_FLOW_RUN_ID = "flowlight_flow_run_id"


def _flow_run_id(live: MutableMapping[str, Any], *, is_flow: bool) -> str:
    """The id of the flow run `live` belongs to: Prefect's, unless Prefect reuses it.

    A FlowRunner used directly gives none: one is made on the flow's first transition and put
    into `prefect.context`, where the flow's task runs inherit it. A local `flow.run()` of a flow
    with a schedule gives every scheduled run the same id (and a new `scheduled_start_time`):
    the first keeps it, each later one gets an id derived from it and its start time, passed to
    its task runs in `prefect.context` under `flowlight_flow_run_id`.
    """
    prefect_id = live.get("flow_run_id")
    if not prefect_id:
        prefect_id = live["flow_run_id"] = str(uuid.uuid4())
    prefect_id = str(prefect_id)
    carried = live.get(_OWN_FLOW_RUN_ID)
    start: Any = live.get("scheduled_start_time")
    isoformat = getattr(start, "isoformat", None)
    start_key = str(isoformat() if callable(isoformat) else start)
    seen_start = _RUNS_SEEN.get(prefect_id, "start")
    if seen_start == start_key:
        return str(_RUNS_SEEN.get(prefect_id, "id") or prefect_id)
    if not is_flow:
        return str(carried or prefect_id)
    own_id = prefect_id
    if seen_start is not None:
        own_id = str(uuid.uuid5(_TASK_RUN_NAMESPACE, f"{prefect_id}@{start_key}"))
        live[_OWN_FLOW_RUN_ID] = own_id
    _RUNS_SEEN.put(prefect_id, "start", start_key)
    _RUNS_SEEN.put(prefect_id, "id", own_id)
    return own_id


def _prefect_context() -> MutableMapping[str, Any]:
    context: MutableMapping[str, Any] = sys.modules["prefect"].context
    return context


class Prefect1RunContext(MutableMapping[str, Any]):
    """`flowlight.context` as a handler expects it, for one transition of a Prefect 1 run.

    Reads come from what handlers wrote for this run, then from `prefect.context` (ids replaced
    as the module docstring says), then from what was written for the mapped parent and the flow
    run. Writes go to `prefect.context` (so code in the run sees them, as in flowlight) and are
    kept for the run, so runs beneath it find them even where Prefect 1 does not pass them on.
    """

    __slots__ = ("_flow_run_id", "_is_flow", "_live", "_parent_run_id", "_run_id")

    def __init__(self, obj: Any) -> None:
        live = _prefect_context()
        self._live = live
        self._is_flow = _kind(type(obj)) == "flow"
        self._flow_run_id = _flow_run_id(live, is_flow=self._is_flow)
        self._parent_run_id: str | None = None
        if self._is_flow:
            self._run_id = self._flow_run_id
            return
        slug = str(live.get("task_slug") or getattr(obj, "slug", None) or getattr(obj, "name", ""))
        map_index = live.get("map_index")
        self._run_id = task_run_id_for(self._flow_run_id, slug, map_index)
        if map_index is not None:
            self._parent_run_id = task_run_id_for(self._flow_run_id, slug)

    def _computed(self, key: str) -> tuple[bool, Any]:
        if key == "flow_run_id":
            return True, self._flow_run_id
        if key == "task_run_id":
            return True, None if self._is_flow else self._run_id
        if key == "parent_task_run_id":
            return True, self._parent_run_id
        if key == "flow_run_name":
            return True, _run_name(self._live.get("flow_run_name"), self._flow_run_id)
        if key in _HIDDEN_KEYS:
            return True, None
        if key == "task_tags" and not self._is_flow:
            return True, sorted(str(tag) for tag in self._live.get("task_tags") or ())
        return False, None

    def _own_table(self) -> _BoundedTable:
        return _FLOW_RUNS if self._is_flow else _TASK_RUNS

    def get(self, key: str, default: Any = None) -> Any:
        computed, value = self._computed(key)
        if computed:
            return default if value is None else value
        if key not in _WRITTEN_KEYS:  # nothing kept for it in this process: skip the tables
            value = self._live.get(key)
            return default if value is None else value
        value = self._own_table().get(self._run_id, key)
        if value is None:
            value = _TASK_RUNS.get(self._parent_run_id, key)
        if value is None:
            value = self._live.get(key)
        if value is None and not self._is_flow:
            value = _FLOW_RUNS.get(self._flow_run_id, key)
        return default if value is None else value

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        _WRITTEN_KEYS.add(key)
        self._live[key] = value
        self._own_table().put(self._run_id, key, value)

    def __delitem__(self, key: str) -> None:
        self._own_table().pop(self._run_id, key)
        del self._live[key]

    def __iter__(self) -> Iterator[str]:
        keys = set(self._live) - _HIDDEN_KEYS
        keys.update(("flow_run_id", "task_run_id") if not self._is_flow else ("flow_run_id",))
        if self._parent_run_id is not None:
            keys.add("parent_task_run_id")
        return iter(sorted(keys))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"<Prefect1RunContext: run_id={self._run_id}>"


_MISSING: Any = object()


def run_context(obj: Any) -> Prefect1RunContext:
    """The context a flowlight handler reads during a transition of Prefect 1 flow or task `obj`."""
    if not is_prefect1_object(obj):
        raise TypeError(
            f"{obj!r} is not a Prefect 1 Flow or Task; flowlight objects use flowlight.context."
        )
    return Prefect1RunContext(obj)


_ENV_INSTRUMENTATION_HINT = (
    "flowlight: FLOWLIGHT_OTEL=1 instruments flows run by flowlight's engine only. Prefect 1 "
    "flow {name!r} runs on Prefect's own engine, which flowlight does not patch, so it is not "
    "traced; add `flowlight.otel.instrument(flow)` before `flow.run()` to trace it.\n"
)
_hinted = False


def hint_env_instrumentation(obj: Any) -> None:
    """Say once per process, on stderr, why `FLOWLIGHT_OTEL=1` does not trace Prefect 1 flow
    `obj` (when it is set and the flow has no bridge handler). flowlight can only say so once
    one of its handlers runs on that flow; without one, it is never imported."""
    global _hinted
    if _hinted or not is_prefect1_flow(obj):
        return
    if os.environ.get("FLOWLIGHT_OTEL", "").strip().lower() not in {"1", "true", "yes", "on"}:
        return
    handlers = getattr(obj, "state_handlers", None) or []
    if any(type(handler).__name__ == "OtelHandler" for handler in handlers):
        return
    _hinted = True
    sys.stderr.write(_ENV_INSTRUMENTATION_HINT.format(name=getattr(obj, "name", "?")))


@contextlib.contextmanager
def flowlight_context_for(obj: Any) -> Iterator[None]:
    """Within the block, `flowlight.context` is `run_context(obj)` if `obj` is a Prefect 1 flow
    or task, so code written for flowlight's context (secrets, log processors) reads the Prefect 1
    run's; for any other object the block runs unchanged."""
    if not is_prefect1_object(obj):
        yield
        return
    hint_env_instrumentation(obj)
    from flowlight.utilities.context import use_context

    # use_context only reads and writes keys, which the view supports like a dict.
    with use_context(cast("dict[str, Any]", Prefect1RunContext(obj))):
        yield
