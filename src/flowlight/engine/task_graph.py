"""The task graph of one flow run: each task handed to the executor once its upstream tasks are
finished, and the runner waits for whichever run finishes next.

This loop is the engine's scheduling, kept apart from `flow_runner`, which holds the flow run's
own life (its transitions, handlers, context and Prefect 1's `FlowRunner` API): a reader of
either needs the other only through `run_tasks`.
"""

from __future__ import annotations

import sys
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flowlight.core.task import Constant
from flowlight.engine.cache import cache_candidates, remember_cached_state
from flowlight.engine.clock import get_clock
from flowlight.engine.mapping import MappedRun, edge_value, map_children, plan_map
from flowlight.engine.state import Mapped, Paused, Pending, Resume, Scheduled, State, Success
from flowlight.engine.task_runner import is_unfinished, run_task
from flowlight.executors.base import Executor, RunFuture
from flowlight.utilities.logging import run_logger

if TYPE_CHECKING:
    from flowlight.core.edge import Edge
    from flowlight.core.flow import Flow
    from flowlight.core.task import Task
    from flowlight.utilities.progress import RunProgress

__all__ = ["run_tasks"]


def run_tasks(
    flow: Flow,
    executor: Executor,
    flow_ctx: dict[str, Any],
    given: dict[Task, State],
    task_contexts: Mapping[Task, dict[str, Any]],
    progress: RunProgress | None,
    retries_here: bool = True,
) -> dict[Task, State]:
    """Run every task of `flow` on a started `executor` and return each task's state; when a
    terminal is attached and tasks paused, ask to resume them. With `retries_here=False` a task
    that is to be retried is left Retrying (Prefect 1's `FlowRunner.run`, one pass)."""
    graph = _GraphRun(flow, executor, task_contexts, progress, retries_here)
    return graph.run_tasks(flow_ctx, given)


class _GraphRun:
    """What one pass over the graph reads: the flow, the executor, per-task contexts given to
    `FlowRunner.run` and the progress display, if any."""

    def __init__(
        self,
        flow: Flow,
        executor: Executor,
        task_contexts: Mapping[Task, dict[str, Any]],
        progress: RunProgress | None,
        retries_here: bool = True,
    ) -> None:
        self.flow = flow
        self.executor = executor
        self.task_contexts = task_contexts
        self.progress = progress
        self.retries_here = retries_here

    def run_tasks(self, flow_ctx: dict[str, Any], given: dict[Task, State]) -> dict[Task, State]:
        """Run every task; when a terminal is attached and tasks paused, ask to resume them."""
        while True:
            states = self._run_graph(flow_ctx, given)
            paused = [t for t, s in states.items() if isinstance(s, Paused)]
            if not paused or not _can_ask():
                return states
            for t in paused:
                answer = input(f"{t} is currently Paused; enter 'y' to resume:\n")
                if answer.strip().lower() != "y":
                    return states
            given = {t: s for t, s in states.items() if s.is_finished()}
            given.update({t: Resume("Approval given to resume.") for t in paused})

    def _run_graph(self, flow_ctx: dict[str, Any], given: dict[Task, State]) -> dict[Task, State]:
        flow = self.flow
        progress = self.progress
        # The tasks without upstream tasks, in insertion order: what a sort would yield first.
        # flow.run() has sorted the graph once already, in validate().
        waiting = {t: len(flow._upstream[t]) for t in flow._tasks}
        ready = deque(t for t, n in waiting.items() if n == 0)
        states: dict[Task, State] = {}
        in_flight: dict[RunFuture, tuple[Task, MappedRun | None, int]] = {}

        def finish(t: Task, final: State) -> None:
            states[t] = final
            for edge in flow._downstream[t]:
                down = edge.downstream_task
                waiting[down] -= 1
                if waiting[down] == 0:
                    ready.append(down)

        while ready or in_flight:
            while ready:
                t = ready.popleft()
                before = len(in_flight)
                self._start(t, flow_ctx, given.get(t), states, in_flight, finish)
                if progress is not None and not isinstance(t, Constant):
                    mapped = any(e.mapped for e in flow._upstream[t])
                    _count_start(progress, t, states, len(in_flight) - before, mapped)
            for future in self.executor.wait_any(in_flight.keys()):
                t, mapped_run, index = in_flight.pop(future)
                result = future.result()
                if progress is not None:
                    progress.finished(result)
                if t.cache_for is not None:
                    remember_cached_state(t, result)
                if mapped_run is None:
                    finish(t, result)
                elif mapped_run.child_done(index, result):
                    finish(t, mapped_run.parent_state())
        if len(states) < len(waiting):
            flow.sorted_tasks()  # tasks never became ready: a cycle, which this names and raises
        return states

    def _start(
        self,
        t: Task,
        flow_ctx: dict[str, Any],
        initial: State | None,
        states: dict[Task, State],
        in_flight: dict[RunFuture, tuple[Task, MappedRun | None, int]],
        finish: Callable[[Task, State], None],
    ) -> None:
        edges: list[Edge] = self.flow._upstream[t]
        upstream = {e: states[e.upstream_task] for e in edges}
        rerun_map = isinstance(initial, Mapped) and any(e.mapped for e in edges)
        if initial is not None and initial.is_finished() and not rerun_map:
            if initial.is_cached() or not _reruns_on_restart(t):
                finish(t, initial)
                return
            initial = Pending()  # a resource's setup/cleanup and a secret run again (Prefect 1)
        if isinstance(t, Constant):
            finish(t, Success(result=t.value))  # constants are values, not runs: no handlers
            return
        if any(not s.is_finished() if e.mapped else is_unfinished(s) for e, s in upstream.items()):
            # An upstream task is paused (or was given an unfinished state): this task waits, as
            # in Prefect 1, without a transition, so the flow run stays unfinished.
            finish(t, initial or Pending())
            return
        # Only a task that will run gets a context (a run id) and reads its cache.
        ctx = _task_context(flow_ctx, t, self.flow.slugs.get(t))
        ctx.update(self.task_contexts.get(t, {}))
        if t.cache_for is not None:
            ctx["caches"] = cache_candidates(t)
        if any(e.mapped for e in edges):
            if isinstance(initial, Scheduled) and not self.retries_here:
                start = initial.start_epoch()
                if start is not None and start > get_clock().now():
                    finish(t, initial)  # a one-pass run leaves a map that is not due as it is
                    return
            mapped_run = plan_map(t, edges, upstream, ctx, initial)
            if mapped_run.decided is not None:
                finish(t, mapped_run.decided)
                return
            children = map_children(t, edges, upstream, self.flow.constants.get(t), mapped_run)
            if not children:
                finish(t, mapped_run.parent_state())
                return
            for index, (inputs, child_upstream, child_ctx) in enumerate(children):
                future = self.executor.submit(
                    run_task,
                    t,
                    inputs,
                    child_upstream,
                    child_ctx,
                    mapped_run.child_state(index),
                    self.retries_here,
                )
                in_flight[future] = (t, mapped_run, index)
            return
        inputs = dict(self.flow.constants.get(t) or {})
        for e in edges:
            if e.key is not None:
                inputs[e.key] = edge_value(e, upstream[e])
        future = self.executor.submit(
            run_task, t, inputs, upstream, ctx, initial, self.retries_here
        )
        in_flight[future] = (t, None, -1)


def _reruns_on_restart(task: Task) -> bool:
    """Resource setup/cleanup tasks and secret tasks run again when a resumed run gives them a
    finished state: the resource and the secret's value do not outlive a run."""
    from flowlight.tasks.core.resource_manager import ResourceCleanupTask, ResourceSetupTask
    from flowlight.tasks.secrets import SecretBase

    return isinstance(task, (ResourceSetupTask, ResourceCleanupTask, SecretBase))


def _count_start(
    progress: RunProgress, t: Task, states: dict[Task, State], submitted: int, mapped: bool
) -> None:
    """Count a task the runner just started: its runs handed to the executor, or its final
    state when it finished without running (skipped, given, an empty map)."""
    if submitted:
        progress.submitted(submitted, mapped_parent=mapped)
    elif t in states:
        progress.finished(states[t], was_submitted=False)


def _task_context(flow_ctx: dict[str, Any], t: Task, slug: str | None) -> dict[str, Any]:
    ctx = dict(flow_ctx)
    ctx["logger"] = run_logger(f"flowlight.{t.name}")
    ctx["task_name"] = t.name
    ctx["task_full_name"] = t.name
    ctx["task_slug"] = slug
    ctx["task_tags"] = sorted(t.tags)
    ctx["task_run_id"] = str(uuid.uuid4())
    ctx["map_index"] = None
    ctx["task_run_count"] = 1
    ctx["task_max_retries"] = t.max_retries
    return ctx


def _can_ask() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False
