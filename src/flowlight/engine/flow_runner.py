"""The flow run: Scheduled -> Running, every task run through the executor, then the final state.

This module is the flow run's own life: the checks `flow.run()` makes, the flow's context and
its two transitions (the flow's handlers see exactly those), and Prefect 1's `FlowRunner` API.
Which task runs when is `task_graph`'s job: it starts a task as soon as its upstream tasks are
finished, so a parallel executor runs independent tasks and mapped children at once.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flowlight.configuration import configured
from flowlight.core.task import Constant
from flowlight.engine import run_log
from flowlight.engine.clock import get_clock
from flowlight.engine.handlers import HandlerFailure, transition, validate_state_handlers
from flowlight.engine.run_dates import run_dates
from flowlight.engine.state import (
    Failed,
    Mapped,
    Paused,
    Pending,
    Running,
    Scheduled,
    State,
    Success,
)
from flowlight.engine.task_graph import run_tasks
from flowlight.engine.task_runner import TaskRunner, is_unfinished
from flowlight.executors.base import Executor
from flowlight.executors.local import LocalExecutor
from flowlight.settings import setting
from flowlight.utilities.context import Deferred, current, use_context
from flowlight.utilities.logging import RunLogger, run_logger, stderr_is_terminal

if TYPE_CHECKING:
    import pendulum

    from flowlight.core.flow import Flow
    from flowlight.core.task import Task
    from flowlight.utilities.progress import RunProgress

__all__ = ["FlowRunner", "run_flow"]


def run_flow(
    flow: Flow,
    parameters: dict[str, Any] | None = None,
    run_on_schedule: bool | None = None,
    context: dict[str, Any] | None = None,
    task_states: dict[Task, State] | None = None,
    executor: Executor | None = None,
    state: State | None = None,
    flow_run_name: str | None = None,
    progress: bool | None = None,
    **kwargs: Any,
) -> State:
    """What `Flow.run` does: validate everything first, then run once or on the schedule.

    Keyword arguments named after a parameter of the flow are values of it, as in Prefect 1."""
    declared = {p.name for p in flow.parameters()}
    if any(key in declared for key in kwargs):
        parameters = dict(parameters or {})
        for key in [k for k in kwargs if k in declared]:
            parameters[key] = kwargs.pop(key)
    if "return_tasks" in kwargs:
        raise ValueError(
            "The `return_tasks` keyword cannot be provided to `flow.run()`; all task states are "
            "always returned (state.result maps each task to its state). To get a subset, use "
            "a FlowRunner directly: FlowRunner(flow).run(return_tasks=[...])."
        )
    if kwargs:
        raise TypeError(
            f"flow.run() got unknown arguments {sorted(kwargs)}; flow '{flow.name}' has the "
            f"parameters {sorted(declared)}."
        )
    if state is not None and not isinstance(state, State):
        raise TypeError(f"flow.run(state={state!r}) needs a flowlight State, e.g. Pending().")
    if flow_run_name is not None:
        context = {**(context or {}), "flow_run_name": flow_run_name}
    if context and "scheduled_start_time" in context:
        # flow.run() sets each run's scheduled start itself (now, or the schedule's time), as
        # Prefect 1 does; only a FlowRunner driven directly takes one from the context.
        context = {k: v for k, v in context.items() if k != "scheduled_start_time"}
    if os.environ.get("FLOWLIGHT_OTEL", "").strip().lower() in {"1", "true", "yes", "on"}:
        from flowlight.otel import instrument

        instrument(flow)
    flow.validate()
    values = check_parameters(flow, parameters)
    check_task_states(flow, task_states)
    chosen = executor or flow.executor or LocalExecutor()
    if not isinstance(chosen, Executor):
        raise TypeError(
            f"executor={chosen!r} is not a flowlight executor (see flowlight.executors)."
        )
    if progress is None:
        progress = setting("logging", "progress", default=False) is True
    if run_on_schedule is None:  # Prefect 1 asks its configuration, which says yes by default
        run_on_schedule = configured("flows", "run_on_schedule") is not False
    if flow.schedule is not None and run_on_schedule:
        from flowlight.schedules.loop import run_on_schedule as scheduled

        return scheduled(
            flow,
            # as in Prefect 1, a clock's parameter defaults win over the run's parameters
            lambda ctx, defaults: _until_finished(
                FlowRunner(flow, progress=progress).run_once(
                    chosen, {**values, **defaults}, ctx, task_states
                ),
                lambda again: FlowRunner(flow, progress=progress).run_once(
                    chosen, {**values, **defaults}, ctx, None, again
                ),
            ),
            context,
        )
    if state is not None:
        start = state.start_epoch() if isinstance(state, Scheduled) else None
        if start is not None:  # as Prefect 1 does, a run given a future start waits for it
            clock = get_clock()
            clock.sleep(max(0.0, start - clock.now()))
    return _until_finished(
        FlowRunner(flow, progress=progress).run_once(chosen, values, context, task_states, state),
        lambda again: FlowRunner(flow, progress=progress).run_once(
            chosen, values, context, None, again
        ),
    )


def _until_finished(state: State, run_again: Callable[[State], State]) -> State:
    """Run the flow again from `state` while it is unfinished and can go on by itself, as
    Prefect 1's `flow.run()` does: a task a state handler moved to Resume, or one Scheduled or
    Retrying for later (waited for), is run in the next pass. A task Paused for a person ends
    the loop, leaving the run Running for `flow.run(task_states={task: Resume()})`."""
    clock = get_clock()
    while not state.is_finished() and isinstance(state.result, dict):
        waiting = _self_starting(state.result.values())
        if waiting is None:
            return state
        clock.sleep(max(0.0, waiting - clock.now()))
        state = run_again(state)
    return state


def _self_starting(states: Iterable[State]) -> float | None:
    """The earliest time (epoch seconds; 0 for now) a task among `states` (mapped children
    included) that waits for no person may start; None when there is none."""
    starts: list[float] = []
    for s in states:
        if isinstance(s, Mapped) and s.map_states:
            found = _self_starting(s.map_states)
            if found is not None:
                starts.append(found)
        elif isinstance(s, Scheduled) and not isinstance(s, Paused):
            starts.append(s.start_epoch() or 0.0)
    return min(starts, default=None)


def check_parameters(flow: Flow, given: dict[str, Any] | None) -> dict[str, Any]:
    """The run's parameter values; raise naming unknown or missing required parameters."""
    if given is not None and not isinstance(given, Mapping):
        raise TypeError(
            f"Flow '{flow.name}' got parameters={given!r}; parameters takes a dict of parameter "
            'names to values, e.g. flow.run(parameters={"x": 1}).'
        )
    given = dict(given or {})
    declared = {p.name: p for p in flow.parameters()}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(
            f"Flow.run received the following unexpected parameters: {', '.join(unknown)}; "
            f"flow '{flow.name}' has the parameters {sorted(declared)}."
        )
    missing = sorted(n for n, p in declared.items() if p.required and n not in given)
    if missing:
        raise ValueError(
            f"Flow.run did not receive the following required parameters: "
            f"{', '.join(missing)}; flow '{flow.name}' needs them, e.g. "
            "flow.run(parameters={...})."
        )
    return {**{n: p.default for n, p in declared.items() if n not in given}, **given}


def check_task_states(flow: Flow, task_states: Mapping[Any, Any] | None) -> None:
    """Refuse a `task_states` key that is not a task of the flow. Prefect 1.4.1 ignores it
    silently, so a resume keyed by the decorated function (not the copy a call bound into the
    flow) would run the task again instead of resuming it."""
    if not task_states:
        return
    held = flow.tasks
    for key, given in task_states.items():
        if key not in held:
            raise ValueError(_not_in_flow(flow, key))
        if not isinstance(given, State):
            raise TypeError(
                f"flow.run(task_states=...) maps {key} to {given!r}, which is not a State; "
                "give a state such as Resume() or the state of an earlier run."
            )


def _not_in_flow(flow: Flow, key: Any) -> str:
    name = getattr(key, "name", None)
    copies = flow.get_tasks(name=name) if isinstance(name, str) else []
    problem = f"flow.run(task_states=...) got {key!r}, which is not a task of flow '{flow.name}'."
    if copies:
        return (
            f"{problem} Calling a task inside `with Flow(...)` binds a copy of it, and the flow "
            f"holds {len(copies)} such cop{'y' if len(copies) == 1 else 'ies'} of '{name}': key "
            "task_states by the copy bound in the flow, i.e. what the call returned "
            f"(`bound = {name}(...)`, then `task_states={{bound: ...}}`), or "
            f"flow.get_tasks(name={name!r})[0]."
        )
    return f"{problem} Key task_states by tasks of this flow (see flow.tasks)."


class FlowRunner:
    """Runs one flow run of `flow`.

    `FlowRunner(flow).run(...)` takes Prefect 1's arguments, so ported code and tests that drive
    a runner directly keep working; `flow.run()` is the usual entry point (it also checks
    parameters, follows the schedule and returns every task's state)."""

    def __init__(
        self,
        flow: Flow,
        task_runner_cls: type | None = None,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
        *,
        progress: bool = False,
    ) -> None:
        if task_runner_cls is not None and task_runner_cls is not TaskRunner:
            raise TypeError(
                f"FlowRunner(task_runner_cls={task_runner_cls!r}): flowlight has one task "
                "runner; leave task_runner_cls out."
            )
        self.flow = flow
        self.task_runner_cls = TaskRunner
        self.state_handlers = validate_state_handlers("FlowRunner", state_handlers)
        self.executor: Executor = LocalExecutor()
        self.task_contexts: dict[Task, dict[str, Any]] = {}
        self.show_progress = progress
        self.progress: RunProgress | None = None
        # flow.run() lets each task run wait out its retries; `run` (Prefect 1's one pass)
        # leaves a task to be retried Retrying and the flow Running.
        self.retries_here = True

    def __repr__(self) -> str:
        return f"<FlowRunner: {self.flow.name}>"

    @property
    def logger(self) -> RunLogger:
        """The logger the runner reports each flow run on (`flowlight.FlowRunner`)."""
        return run_logger("flowlight.FlowRunner")

    def run(
        self,
        state: State | None = None,
        task_states: Mapping[Task, State] | None = None,
        return_tasks: Iterable[Task] | None = None,
        parameters: dict[str, Any] | None = None,
        task_runner_state_handlers: Iterable[Callable[..., Any]] | None = None,
        executor: Executor | None = None,
        context: dict[str, Any] | None = None,
        task_contexts: Mapping[Task, dict[str, Any]] | None = None,
    ) -> State:
        """One pass over the flow, as Prefect 1's `FlowRunner.run`: the returned state's result
        holds the states of `return_tasks` only (none by default). Parameters are not checked
        here; a required one that is missing fails its task, as in Prefect 1."""
        if task_runner_state_handlers:
            raise ValueError(
                "FlowRunner.run(task_runner_state_handlers=...) is not supported: give the "
                "handlers to the tasks (Task(state_handlers=[...])) instead."
            )
        if state is not None and state.is_finished():
            return state  # nothing to run, as in Prefect 1
        wanted = set(return_tasks or ())
        strangers = wanted - self.flow.tasks
        if strangers:
            raise ValueError(
                "Some tasks in return_tasks were not found in the flow: "
                f"{sorted(map(str, strangers))}."
            )
        chosen = executor or self.flow.executor or LocalExecutor()
        declared = {p.name: p for p in self.flow.parameters()}
        values = {n: p.default for n, p in declared.items() if not p.required}
        values.update((context or {}).get("parameters") or {})  # Prefect 1: given ones win
        values.update(parameters or {})
        self.task_contexts = {t: dict(c) for t, c in (task_contexts or {}).items()}
        self.retries_here = False
        try:
            # A runner driven directly starts from Pending, as Prefect 1's does; flow.run()
            # starts it from Scheduled.
            final = self.run_once(chosen, values, context, task_states, state or Pending())
        except Exception as exc:  # as in Prefect 1, an engine error ends the run Failed
            if {**current(), **(context or {})}.get("raise_on_exception"):
                raise
            return self._change(
                state or Pending(),
                Failed(f"Unexpected error while running flow: {exc!r}", result=exc),
            )
        if isinstance(final.result, dict):
            final.result = {t: s for t, s in final.result.items() if t in wanted}
        return final

    def run_once(
        self,
        executor: Executor,
        parameters: dict[str, Any],
        user_context: dict[str, Any] | None = None,
        task_states: Mapping[Task, State] | None = None,
        state: State | None = None,
    ) -> State:
        """One flow run from `state` (default: Scheduled now). A finished `state` is returned
        as it is, its result the task states; a Running one continues without a transition."""
        self.executor = executor
        flow = self.flow
        if state is not None and isinstance(state.result, dict):
            task_states = {**state.result, **(task_states or {})}
        run_id = str(uuid.uuid4())
        started = time.time()
        ctx: dict[str, Any] = {
            **current(),
            "flow_name": flow.name,
            "flow_run_id": run_id,
            "flow_run_name": run_id,
            # A pendulum datetime when read; made then, so a run nobody asks loads no pendulum.
            "scheduled_start_time": Deferred(utc_datetime, started),
            **(user_context or {}),
            **run_dates({**current(), **(user_context or {})}.get("date"), started),
            "parameters": parameters,
        }
        ctx["logger"] = run_logger(f"flowlight.{flow.name}")
        if getattr(flow, "result", None) is not None:
            ctx["flow_result"] = flow.result  # read by tasks without a result of their own
        with use_context(ctx):
            final = self._run_in_context(ctx, user_context, task_states, state)
        _remember_run(final, ctx, started)
        if run_log.wants_summary() and final.is_finished():
            from flowlight.utilities.run_summary import print_summary

            print_summary(flow.name, final, time.time() - started)
        return final

    def _run_in_context(
        self,
        ctx: dict[str, Any],
        user_context: dict[str, Any] | None,
        task_states: Mapping[Task, State] | None,
        state: State | None,
    ) -> State:
        flow = self.flow
        if state is not None and state.is_finished():
            given = state.result if isinstance(state.result, dict) else {}
            state.result = {
                t: given.get(t) or Pending("Task not run.") for t in flow.sorted_tasks()
            }
            return state
        run_log.flow_run_started(flow.name)
        if state is None or not state.is_running():
            start = state or Scheduled(start_time=(user_context or {}).get("scheduled_start_time"))
            try:
                state = self._change(start, Running("Running flow."))
            except HandlerFailure as failure:
                failure.state.result = {}
                run_log.flow_run_finished(failure.state)
                return failure.state
            if not state.is_running():
                return state
        if self.show_progress and stderr_is_terminal():
            from flowlight.utilities.progress import start_progress

            total = sum(1 for t in flow._tasks if not isinstance(t, Constant))
            self.progress = start_progress(flow.name, total)
        try:
            with self.executor.start():
                states = self.run_tasks(ctx, dict(task_states or {}))
        finally:
            if self.progress is not None:
                from flowlight.utilities.progress import stop_progress

                stop_progress(self.progress)
        final = self.final_state(states)
        if final is None:
            state.result = states
            return state  # a paused task: the flow run is not finished
        final.result = states  # handlers see the task states, as in Prefect 1
        try:
            final = self._change(state, final)
        except HandlerFailure as failure:
            final = failure.state
        if not isinstance(final.result, dict):
            final.result = states  # the flow state's result is always the task states
        run_log.flow_run_finished(final)
        return final

    def _change(self, old: State, new: State) -> State:
        handlers = self.flow.state_handlers
        new = transition(self.flow, handlers, old, new) if handlers else new
        if self.state_handlers:  # the runner's own handlers get the runner, as in Prefect 1
            new = transition(self, self.state_handlers, old, new)
        return new

    def final_state(self, states: Mapping[Task, State]) -> State | None:
        """Success or Failed from the reference tasks; None while one of them, or a terminal
        task, is unfinished (Prefect 1: the flow run stays Running until its last tasks end)."""
        reference = [states[t] for t in self.flow.reference_tasks() if t in states]
        if any(is_unfinished(s) for s in reference):
            return None
        if any(is_unfinished(states[t]) for t in self.flow.terminal_tasks() if t in states):
            return None
        final: State = Success("All reference tasks succeeded.")
        for s in reference:
            if s.is_failed() or (
                isinstance(s, Mapped) and any(c.is_failed() for c in s.map_states)
            ):
                final = Failed("Some reference tasks failed.")
                break
        # a flow saved (pickled) before flows had this attribute runs without one, as in Prefect 1
        decide: Callable[..., State | None] | None = getattr(
            self.flow, "terminal_state_handler", None
        )
        if decide is not None:
            final.result = dict(states)
            chosen = decide(self.flow, final, set(reference))
            if chosen is not None:
                return chosen
        return final

    def run_tasks(self, flow_ctx: dict[str, Any], given: dict[Task, State]) -> dict[Task, State]:
        """Run every task; when a terminal is attached and tasks paused, ask to resume them."""
        return run_tasks(
            self.flow,
            self.executor,
            flow_ctx,
            given,
            self.task_contexts,
            self.progress,
            self.retries_here,
        )


def utc_datetime(epoch_seconds: float) -> pendulum.DateTime:
    """`epoch_seconds` as a UTC pendulum datetime (a run's `scheduled_start_time`, when read)."""
    import pendulum

    return pendulum.from_timestamp(epoch_seconds, tz="UTC")


def _remember_run(final: State, ctx: dict[str, Any], started: float) -> None:
    """Put the run's ids on its final state (`state.context`), so whoever holds the state can
    find the run: its flow run id, and its trace id when the OpenTelemetry bridge traced it."""
    ids: dict[str, Any] = {"flow_run_id": ctx["flow_run_id"], "started_at": started}
    for key in ("trace_id", "telemetry_destination"):  # set by the OpenTelemetry bridge
        if ctx.get(key):
            ids[key] = ctx[key]
    final.context = {**(final.context or {}), **ids}
