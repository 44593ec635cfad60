"""Flows: a graph of tasks and edges, built with `with Flow(...)` or the imperative API, and run.

The graph's storage and queries live in `flowlight.core.graph`; this module adds what makes it a
flow: a name and handlers, the `with Flow(...)` block, the building and editing API, and `run()`.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flowlight.configuration import configured
from flowlight.core import _checks
from flowlight.core._flow_editing import FlowEditing
from flowlight.core.edge import Edge, EdgeAnnotation
from flowlight.core.graph import FlowGraph
from flowlight.core.parameter import Parameter
from flowlight.core.task import Constant, Task, run_signature
from flowlight.engine.handlers import StateHandler, validate_state_handlers
from flowlight.engine.state import State
from flowlight.utilities.context import current

__all__ = ["Flow"]

_active_flow: contextvars.ContextVar[Flow | None] = contextvars.ContextVar(
    "flowlight_active_flow", default=None
)
# The flow each task was first bound in, to catch an edge to a task of another flow.


class Flow(FlowEditing, FlowGraph):
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
        terminal_state_handler: Callable[[Flow, State, set[State]], State | None] | None = None,
        **unsupported: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"A name must be provided for the flow: got {name!r}; e.g. Flow('etl')."
            )
        super().__init__()
        self.name = name
        self.result = unsupported.pop("result", None)  # the tasks' result when they have none
        for key in ("environment", "storage", "run_config"):
            unsupported.pop(key, None)  # Prefect 1 deployment settings: accepted, not used locally
        if unsupported:
            raise TypeError(f"Flow '{name}' got unknown arguments: {sorted(unsupported)}.")
        self.schedule = schedule
        self.executor = executor
        handlers = validate_state_handlers(f"Flow '{name}'", state_handlers)
        if on_failure is not None:
            _checks.callable_as(
                f"Flow '{name}'", "on_failure", on_failure, 2, "on_failure(flow, state)"
            )
            from flowlight.utilities.notifications import callback_factory

            handlers.append(callback_factory(on_failure, lambda s: s.is_failed()))
        self.state_handlers: list[StateHandler] = handlers
        if terminal_state_handler is not None and not callable(terminal_state_handler):
            raise TypeError(
                f"Flow '{name}' has terminal_state_handler={terminal_state_handler!r}, which is "
                "not callable; give a function (flow, state, reference_task_states) -> state."
            )
        # Called with the flow's final state and its reference tasks' states; what it returns
        # (when not None) becomes the final state.
        self.terminal_state_handler = terminal_state_handler
        self.constants: dict[Task, dict[str, Any]] = {}
        self._token: contextvars.Token[Flow | None] | None = None
        self._made_token: contextvars.Token[set[Task] | None] | None = None
        self._flow_context: Any = None
        for t in tasks or ():
            self.add_task(t)
        if reference_tasks:
            self.set_reference_tasks(reference_tasks)
        for edge in edges or ():
            self.add_edge(
                edge.upstream_task,
                edge.downstream_task,
                edge.key,
                edge.mapped,
                validate=validate,
                flatten=edge.flatten,
            )

    def __repr__(self) -> str:
        return f"<Flow: name={self.name}>"

    def __eq__(self, other: object) -> bool:
        """Flows are equal when their names, tasks, edges and reference tasks are."""
        if type(self) is not type(other):
            return False
        assert isinstance(other, Flow)
        return (self.name, self.tasks, self.edges, self.reference_tasks()) == (
            other.name,
            other.tasks,
            other.edges,
            other.reference_tasks(),
        )

    __hash__ = object.__hash__

    @property
    def logger(self) -> logging.Logger:
        """A standard-library logger named after the flow (`flowlight.<name>`)."""
        return logging.getLogger(f"flowlight.{self.name}")

    # -- the `with Flow(...)` block -----------------------------------------------------------

    @staticmethod
    def active() -> Flow | None:
        """The flow of the innermost `with Flow(...)` block, if any."""
        return _active_flow.get()

    def __enter__(self) -> Flow:
        from flowlight.utilities.context import context

        # Prefect 1 code reads `context.flow` inside the block, so the flow is put there too.
        self._flow_context = context(flow=self)
        self._flow_context.__enter__()
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
            flow_context, self._flow_context = self._flow_context, None
            if flow_context is not None:
                flow_context.__exit__(None, None, None)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_flow_context"] = None  # an open `with` block does not travel with the flow
        return state

    # -- building the graph -------------------------------------------------------------------

    def add_task(self, task: Task) -> Task:
        """Add `task` (once) and return it; its slug in this flow is `flow.slugs[task]`."""
        if not isinstance(task, Task):
            raise TypeError(
                f"Tasks must be Task instances (received {type(task)}): flow '{self.name}' got "
                f"{task!r}; wrap a function with @task."
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
        self._insert_task(task)
        if not isinstance(task, (Parameter, Constant)):
            # a task made inside `with case(...)` / a resource manager block joins that block
            ctx = current()
            for block in (ctx.get("case"), ctx.get("resource")):
                if block is not None:
                    block.add_task(task, self)
        return task

    def add_edge(
        self,
        upstream_task: Any,
        downstream_task: Any,
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
        validate: bool | None = None,
        *,
        flatten: bool | None = None,
    ) -> Edge:
        """Make `upstream_task` run before `downstream_task`, feeding argument `key`; return the
        edge. A value that is not a task becomes a `Constant`; a keyed, unmapped constant is
        kept in `flow.constants` rather than as an edge (the edge is still returned).

        With `validate=True` the flow is checked for cycles at once; otherwise `validate()`
        (which every `flow.run()` calls first) finds them. Not given, `validate` is
        `config.flows.eager_edge_validation` (`FLOWLIGHT__FLOWS__EAGER_EDGE_VALIDATION`, off by
        default), as in Prefect 1."""
        if validate is None:
            validate = configured("flows", "eager_edge_validation") is True
        if mapped:
            _refuse_a_map_inside_apply_map()
        flat = flattened if flatten is None else flatten
        if isinstance(downstream_task, Parameter):
            raise ValueError(
                f"{downstream_task}: Parameters must be root tasks and can not have upstream "
                "dependencies; make the task that uses it downstream of it instead."
            )
        upstream_task = self._as_task(upstream_task)
        downstream_task = self._as_task(downstream_task)
        if key is not None:
            names = _run_argument_names(downstream_task)
            # Checked when asked (validate=True, or flow.validate()), as Prefect 1 does by
            # default: graphs of plain tasks are built with keyed edges before a run() exists.
            if validate and names is not None and key not in names:
                raise TypeError(
                    f"{downstream_task} got an unexpected keyword argument '{key}': it has no "
                    f"argument '{key}' (its run() takes {sorted(names)}); fix the key of the edge "
                    f"from {upstream_task}."
                )
            if any(e.key == key for e in self._upstream.get(downstream_task, ())) or (
                key in self.constants.get(downstream_task, {})
            ):
                raise ValueError(
                    f'Argument "{key}" for task {downstream_task} has already been assigned in '
                    f"this flow ('{self.name}'); to call the task again with new arguments, "
                    "call task.copy() (or the task itself) instead of binding it twice."
                )
        edge = Edge(upstream_task, downstream_task, key=key, mapped=mapped, flatten=flat)
        if isinstance(upstream_task, Constant) and key is not None and not mapped and not flat:
            self.add_task(downstream_task)
            self.constants.setdefault(downstream_task, {})[key] = upstream_task.value
            return edge
        self.add_task(upstream_task)
        self.add_task(downstream_task)
        if validate and (
            upstream_task is downstream_task or self._reaches(downstream_task, upstream_task)
        ):
            raise ValueError(
                f"Cycle found; flows must be acyclic! In flow '{self.name}' an edge from "
                f"{upstream_task} to {downstream_task} would close a cycle."
            )
        self._insert_edge(edge)
        return edge

    def chain(self, *tasks: Any, validate: bool | None = None) -> list[Edge]:
        """Make each task run after the one before it; return the edges added."""
        pairs = itertools.pairwise(tasks)
        return [self.add_edge(up, down, validate=validate) for up, down in pairs]

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
            self.add_edge(up, task, mapped=up_mapped, validate=validate)
        for down in downstream_tasks or ():
            self.add_edge(task, down, validate=validate)
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
                self.add_edge(
                    value, task, key=key, mapped=is_mapped, flatten=is_flat, validate=validate
                )
            elif is_mapped:
                if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__getitem__"):
                    # Prefect 1 refuses an unsubscriptable positional value in the same words.
                    unsubscriptable = not hasattr(value, "__getitem__")
                    raise TypeError(
                        (
                            f"Cannot map over unsubscriptable object of type {type(value)}: "
                            if unsubscriptable
                            else ""
                        )
                        + f"{task} maps over argument '{key}' = {value!r}, which is not a list "
                        "or tuple; pass a sequence, or wrap it in unmapped(...) to give every "
                        "child the same value."
                    )
                self.add_edge(Constant(list(value)), task, key=key, mapped=True)
            else:
                self.constants.setdefault(task, {})[key] = value

    def _as_task(self, value: Any) -> Task:
        """A task for a value given where a task is expected: tasks as they are, anything else
        as Prefect 1 does (a constant becomes a `Constant` task, a collection of tasks a
        collection task bound in this flow)."""
        if isinstance(value, Task):
            return value
        from flowlight.utilities.tasks import as_task

        return as_task(value, flow=self)

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        """Decide the flow run's state by these tasks instead of the terminal tasks (an empty
        list goes back to the terminal tasks)."""
        chosen = set(tasks)
        missing = [t for t in chosen if t not in self._tasks]
        if missing:
            raise ValueError(
                f"Reference tasks {missing} are not in flow '{self.name}': reference tasks must "
                "be part of the flow; add them first."
            )
        self._reference_tasks = chosen

    def validate(self) -> None:
        """Raise if the flow cannot run: a cycle, or an edge or reference task outside it."""
        if any(e.upstream_task not in self._tasks for e in self._edges) or any(
            e.downstream_task not in self._tasks for e in self._edges
        ):
            raise ValueError(f"Some edges refer to tasks not contained in flow '{self.name}'.")
        self.sorted_tasks()
        if any(t not in self._tasks for t in self._reference_tasks):
            raise ValueError(
                f"Some reference tasks are not contained in flow '{self.name}'; set them again "
                "with flow.set_reference_tasks()."
            )

    # -- running ------------------------------------------------------------------------------

    def run(
        self,
        parameters: dict[str, Any] | None = None,
        run_on_schedule: bool | None = None,
        context: dict[str, Any] | None = None,
        task_states: dict[Task, State] | None = None,
        executor: Any = None,
        state: State | None = None,
        flow_run_name: str | None = None,
        progress: bool | None = None,
        **kwargs: Any,
    ) -> State:
        """Run the flow (each scheduled run in turn, when it has a schedule) and return the final
        state; `state.result` maps each task to its state. `state` is the state the run starts
        from (a finished one is returned as it is); `flow_run_name` is the run's name in the
        context (default: its id). `progress=True` (or `FLOWLIGHT__LOGGING__PROGRESS=true`) draws
        live progress when stderr is a terminal."""
        from flowlight.engine.flow_runner import run_flow

        if self._token is not None:
            raise RuntimeError(
                "Don't call `flow.run()` from within a `Flow` context manager: it was called "
                f"inside `with Flow('{self.name}')`, while the flow is still being built; call "
                "it after the block:\n\n"
                f"    with Flow('{self.name}') as flow:\n        ...\n    flow.run()"
            )

        return run_flow(
            self,
            parameters=parameters,
            run_on_schedule=run_on_schedule,
            context=context,
            task_states=task_states,
            executor=executor,
            state=state,
            flow_run_name=flow_run_name,
            progress=progress,
            **kwargs,
        )

    def visualize(
        self,
        flow_state: State | None = None,
        filename: str | None = None,
        format: str | None = None,
        horizontal: bool = False,
    ) -> Any:
        """Draw the task graph with Graphviz, coloured by each task's final state when the flow
        run's `flow_state` is given, left to right when `horizontal`; write it to `filename`
        (in `format`) or show it. Returns the `graphviz.Digraph`; raises an ImportError saying
        how to install Graphviz if needed."""
        from flowlight.core.visualize import visualize

        return visualize(self, flow_state, filename, format, horizontal)


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
