"""Flows: a graph of tasks and edges, built with `with Flow(...)` or the imperative API, and run.

The graph is kept in insertion-ordered dicts with per-task edge lists, so building and sorting a
flow of 100,000 tasks is linear (Prefect 1 copied its task and edge sets on every lookup, which
made long chains quadratic).
"""

from __future__ import annotations

import contextvars
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flowlight.core import _checks
from flowlight.core.edge import Edge, EdgeAnnotation
from flowlight.core.task import Constant, Parameter, Task, run_signature
from flowlight.engine.handlers import StateHandler, validate_state_handlers
from flowlight.engine.state import State
from flowlight.utilities.context import current

__all__ = ["Flow"]

_active_flow: contextvars.ContextVar[Flow | None] = contextvars.ContextVar(
    "flowlight_active_flow", default=None
)
# The flow each task was first bound in, to catch an edge to a task of another flow.
_home: weakref.WeakKeyDictionary[Task, weakref.ReferenceType[Flow]] = weakref.WeakKeyDictionary()


class Flow:
    """A named graph of tasks. `flow.run()` runs it and returns the flow run's final state."""

    def __init__(
        self,
        name: str,
        schedule: Any = None,
        executor: Any = None,
        tasks: Iterable[Task] | None = None,
        edges: Iterable[Edge] | None = None,
        reference_tasks: Iterable[Task] | None = None,
        state_handlers: Iterable[StateHandler] | None = None,
        on_failure: Callable[[Any, State], Any] | None = None,
        validate: bool | None = None,
        **unsupported: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"A Flow needs a non-empty name, got {name!r}.")
        self.name = name
        self.result = unsupported.pop("result", None)  # the tasks' result when they have none
        for key in ("environment", "storage", "run_config", "terminal_state_handler"):
            unsupported.pop(key, None)  # Prefect 1 deployment settings: accepted, not used locally
        if unsupported:
            raise TypeError(f"Flow '{name}' got unknown arguments: {sorted(unsupported)}.")
        self.schedule = schedule
        self.executor = executor
        handlers = validate_state_handlers(f"Flow '{name}'", state_handlers)
        if on_failure is not None:
            from flowlight.utilities.notifications import callback_factory

            handlers.append(callback_factory(on_failure, lambda s: s.is_failed()))
        self.state_handlers: list[StateHandler] = handlers
        self._tasks: dict[Task, None] = {}
        self._edges: dict[Edge, None] = {}
        self._upstream: dict[Task, list[Edge]] = {}
        self._downstream: dict[Task, list[Edge]] = {}
        self._slug_counts: dict[str, int] = {}
        self._slugs: set[str] = set()
        self.constants: dict[Task, dict[str, Any]] = {}
        self._reference_tasks: set[Task] = set()
        self._token: contextvars.Token[Flow | None] | None = None
        self._made_token: contextvars.Token[set[Task] | None] | None = None
        for t in tasks or ():
            self.add_task(t)
        for edge in edges or ():
            self.add_edge(
                edge.upstream_task,
                edge.downstream_task,
                edge.key,
                edge.mapped,
                flatten=edge.flatten,
            )
        if reference_tasks:
            self.set_reference_tasks(reference_tasks)

    def __repr__(self) -> str:
        return f"<Flow: name={self.name}>"

    # -- the `with Flow(...)` block -----------------------------------------------------------

    @staticmethod
    def active() -> Flow | None:
        """The flow of the innermost `with Flow(...)` block, if any."""
        return _active_flow.get()

    def __enter__(self) -> Flow:
        self._token = _active_flow.set(self)
        self._made_token = _checks.start_block()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _active_flow.reset(self._token)
            self._token = None
            made, self._made_token = self._made_token, None
            if made is not None:  # a block left by an exception is not judged (Prefect 1 neither)
                _checks.end_block(made, self._tasks, self.name, judge=exc[0] is None)

    # -- reading the graph --------------------------------------------------------------------

    @property
    def tasks(self) -> set[Task]:
        return set(self._tasks)

    @property
    def edges(self) -> set[Edge]:
        return set(self._edges)

    def edges_to(self, task: Task) -> list[Edge]:
        return list(self._upstream.get(task, ()))

    def edges_from(self, task: Task) -> list[Edge]:
        return list(self._downstream.get(task, ()))

    def has_edges(self, task: Task) -> bool:
        """Whether `task` is in this flow with an edge to or from it."""
        return bool(self._upstream.get(task) or self._downstream.get(task))

    def upstream_tasks(self, task: Task) -> set[Task]:
        return {e.upstream_task for e in self._upstream.get(task, ())}

    def downstream_tasks(self, task: Task) -> set[Task]:
        return {e.downstream_task for e in self._downstream.get(task, ())}

    def root_tasks(self) -> set[Task]:
        return {t for t in self._tasks if not self._upstream[t]}

    def terminal_tasks(self) -> set[Task]:
        return {t for t in self._tasks if not self._downstream[t]}

    def reference_tasks(self) -> set[Task]:
        """The tasks whose states decide the flow run's state (default: the terminal tasks)."""
        return set(self._reference_tasks) or self.terminal_tasks()

    def parameters(self) -> set[Parameter]:
        return {t for t in self._tasks if isinstance(t, Parameter)}

    def get_tasks(
        self, name: str | None = None, slug: str | None = None, tags: Iterable[str] | None = None
    ) -> list[Task]:
        wanted = set(tags or ())
        return [
            t
            for t in self._tasks
            if (name is None or t.name == name)
            and (slug is None or t.slug == slug)
            and wanted <= t.tags
        ]

    def sorted_tasks(self) -> list[Task]:
        """Tasks in a dependency order (ties broken by insertion order); raises on a cycle."""
        indegree = {t: len(self._upstream[t]) for t in self._tasks}
        ready = deque(t for t, n in indegree.items() if n == 0)
        ordered: list[Task] = []
        while ready:
            t = ready.popleft()
            ordered.append(t)
            for edge in self._downstream[t]:
                indegree[edge.downstream_task] -= 1
                if indegree[edge.downstream_task] == 0:
                    ready.append(edge.downstream_task)
        if len(ordered) != len(self._tasks):
            stuck = [t.name for t, n in indegree.items() if n > 0]
            raise ValueError(
                f"Flow '{self.name}' has a cycle among tasks {stuck[:10]}; remove one of the "
                "edges between them."
            )
        return ordered

    def __iter__(self) -> Iterator[Task]:
        return iter(self.sorted_tasks())

    # -- building the graph -------------------------------------------------------------------

    def add_task(self, task: Task) -> Task:
        """Add `task` (once); give it a slug unique in this flow."""
        if not isinstance(task, Task):
            raise TypeError(
                f"Flow '{self.name}' can only hold Task objects, got {task!r}; wrap a function "
                "with @task."
            )
        if task in self._tasks:
            return task
        if isinstance(task, Parameter):
            clash = [t for t in self.parameters() if t.name == task.name]
            if clash:
                raise ValueError(
                    f"Flow '{self.name}' already has a Parameter named '{task.name}'; parameter "
                    "names must be unique."
                )
        if task.slug is None or task.slug in self._slugs:
            count = self._slug_counts.get(task.name, 0) + 1
            while f"{task.name}-{count}" in self._slugs:
                count += 1
            self._slug_counts[task.name] = count
            task.slug = f"{task.name}-{count}"
        self._slugs.add(task.slug)
        self._tasks[task] = None
        self._upstream[task] = []
        self._downstream[task] = []
        _home.setdefault(task, weakref.ref(self))
        if not isinstance(task, (Parameter, Constant)):
            # a task made inside `with case(...)` / a resource manager block joins that block
            ctx = current()
            for block in (ctx.get("case"), ctx.get("resource")):
                if block is not None:
                    block.add_task(task, self)
        return task

    def _check_home(self, task: Task) -> None:
        if task in self._tasks:
            return
        home = _home.get(task)
        other = home() if home is not None else None
        if other is not None and other is not self:
            raise ValueError(
                f"{task} belongs to flow '{other.name}', not to flow '{self.name}'. Create or call "
                f"the task inside this flow, or add it explicitly with flow.add_task(task)."
            )

    def add_edge(
        self,
        upstream_task: Task,
        downstream_task: Task,
        key: str | None = None,
        mapped: bool = False,
        validate: bool | None = None,
        flatten: bool = False,
    ) -> Edge:
        """Make `upstream_task` run before `downstream_task`, feeding argument `key`."""
        if mapped:
            _refuse_a_map_inside_apply_map()
        for t in (upstream_task, downstream_task):
            if not isinstance(t, Task):
                raise TypeError(f"Flow '{self.name}': an edge joins two tasks, got {t!r}.")
            self._check_home(t)
        if key is not None:
            names = _run_argument_names(downstream_task)
            if names is not None and key not in names:
                raise ValueError(
                    f"{downstream_task} has no argument '{key}' (its run() takes "
                    f"{sorted(names)}); fix the key of the edge from {upstream_task}."
                )
            if any(e.key == key for e in self._upstream.get(downstream_task, ())):
                raise ValueError(
                    f"Argument '{key}' of {downstream_task} already has an upstream task; an "
                    "argument takes one value."
                )
        self.add_task(upstream_task)
        self.add_task(downstream_task)
        if upstream_task is downstream_task or self._reaches(downstream_task, upstream_task):
            raise ValueError(
                f"Flow '{self.name}': an edge from {upstream_task} to {downstream_task} would make "
                "a cycle; a flow must be acyclic."
            )
        edge = Edge(upstream_task, downstream_task, key=key, mapped=mapped, flatten=flatten)
        if edge not in self._edges:
            self._edges[edge] = None
            self._upstream[downstream_task].append(edge)
            self._downstream[upstream_task].append(edge)
        return edge

    def _reaches(self, start: Task, target: Task) -> bool:
        if not self._downstream.get(start):
            return False
        seen = {start}
        stack = [start]
        while stack:
            for edge in self._downstream[stack.pop()]:
                nxt = edge.downstream_task
                if nxt is target:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def set_dependencies(
        self,
        task: Task,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: dict[str, Any] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> None:
        """Add `task` with its upstream and downstream tasks and its argument values."""
        if mapped:
            _refuse_a_map_inside_apply_map()
        self.add_task(task)
        for up in upstream_tasks or ():
            # As in Prefect 1, an upstream task of a mapped call is mapped too (child i waits for
            # upstream child i) unless it is wrapped in unmapped(...).
            up_mapped = mapped
            while isinstance(up, EdgeAnnotation):
                up_mapped = up.annotations.get("mapped", up_mapped)
                up = up.value
            self.add_edge(self._as_task(up, task), task, mapped=up_mapped)
        for down in downstream_tasks or ():
            self.add_edge(task, self._as_task(down, task))
        for key, value in (keyword_tasks or {}).items():
            is_mapped, is_flat = mapped, False
            while isinstance(value, EdgeAnnotation):
                is_mapped = value.annotations.get("mapped", is_mapped)
                is_flat = value.annotations.get("flatten", is_flat)
                value = value.value
            if isinstance(value, type) and issubclass(value, EdgeAnnotation):
                raise TypeError(
                    f"{task} got the class {value.__name__} itself for argument '{key}'; call it "
                    f"on the value instead, e.g. {value.__name__}(x)."
                )
            if is_flat and not isinstance(value, Task):
                from flowlight.engine.mapping import flattened_result

                value = flattened_result(value)
            if isinstance(value, (list, tuple, set, dict)) and _holds_task(value):
                # a collection of task results is assembled at run time (Prefect 1's as_task)
                from flowlight.utilities.tasks import as_task

                value = as_task(value, flow=self)
            if isinstance(value, Task):
                self.add_edge(value, task, key=key, mapped=is_mapped, flatten=is_flat)
            elif is_mapped:
                if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__getitem__"):
                    raise TypeError(
                        f"{task} maps over argument '{key}' = {value!r}, which is not a list or "
                        f"tuple; pass a sequence, or wrap it in unmapped(...) to give every "
                        "child the same value."
                    )
                self.add_edge(Constant(list(value)), task, key=key, mapped=True)
            else:
                self.constants.setdefault(task, {})[key] = value

    def _as_task(self, value: Any, for_task: Task) -> Task:
        """A task for a value in upstream_tasks/downstream_tasks: tasks as they are, anything
        else as Prefect 1 does (a constant becomes a `Constant` task, a collection of tasks a
        collection task)."""
        if isinstance(value, Task):
            return value
        from flowlight.utilities.tasks import as_task

        return as_task(value, flow=self)

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        """Decide the flow run's state by these tasks instead of the terminal tasks."""
        chosen = set(tasks)
        missing = [t for t in chosen if t not in self._tasks]
        if missing:
            raise ValueError(
                f"Reference tasks {missing} are not in flow '{self.name}'; add them first."
            )
        self._reference_tasks = chosen

    def validate(self) -> None:
        """Raise if the flow cannot run: a cycle. Reference tasks need no check here, since
        set_reference_tasks() refuses tasks outside the flow and no task is ever removed."""
        self.sorted_tasks()

    # -- running ------------------------------------------------------------------------------

    def run(
        self,
        parameters: dict[str, Any] | None = None,
        run_on_schedule: bool | None = None,
        context: dict[str, Any] | None = None,
        task_states: dict[Task, State] | None = None,
        executor: Any = None,
        **kwargs: Any,
    ) -> State:
        """Run the flow (each scheduled run in turn, when it has a schedule) and return the final
        state; `state.result` maps each task to its state."""
        from flowlight.engine.flow_runner import run_flow

        if self._token is not None:
            raise RuntimeError(
                f"flow.run() was called inside `with Flow('{self.name}')`, while the flow is "
                "still being built; call it after the block:\n\n"
                f"    with Flow('{self.name}') as flow:\n        ...\n    flow.run()"
            )

        return run_flow(
            self,
            parameters=parameters,
            run_on_schedule=run_on_schedule,
            context=context,
            task_states=task_states,
            executor=executor,
            **kwargs,
        )


def _refuse_a_map_inside_apply_map() -> None:
    if current().get("mapped"):
        raise ValueError(
            "Cannot set `mapped=True` when running from inside a mapped context: the function "
            "given to apply_map is mapped as a whole, so call its tasks plainly (no .map, no "
            "nested apply_map)."
        )


def _holds_task(value: Any) -> bool:
    if isinstance(value, (Task, EdgeAnnotation)):
        return True
    if isinstance(value, (list, tuple, set)):
        return any(_holds_task(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_task(v) for v in value.values())
    return False


def _run_argument_names(task: Task) -> set[str] | None:
    """Names the task's run() accepts, or None when it takes **kwargs."""
    params = run_signature(task).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params}
