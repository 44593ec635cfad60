"""The task run state machine: one function, `run_task`, that an executor calls for each run.

The steps of a run are visible in `TaskRunner.run` in order: upstream skips, the trigger, the
cache, then attempts (Running, execute, then loop or retry or stop). Each step returns the next
state; every state change goes through `transition`, so handlers see each one. The only way out
in the middle is a handler failure, which ends the run at once (Prefect 1's contract).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flowlight.engine import run_log, signals
from flowlight.engine.cache import cached_state, find_cached_state, store_cached_state
from flowlight.engine.checkpoints import checkpointed, find_target
from flowlight.engine.clock import get_clock, seconds
from flowlight.engine.handlers import (
    HandlerFailure,
    StateHandler,
    transition,
    validate_state_handlers,
)
from flowlight.engine.run_names import name_task_run
from flowlight.engine.state import (
    Cached,
    Failed,
    Looped,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from flowlight.engine.timeouts import TaskTimedOut, call_with_timeout
from flowlight.settings import number_setting
from flowlight.utilities.context import current, use_context
from flowlight.utilities.logging import RunLogger, run_logger
from flowlight.utilities.progress import note_retry

if TYPE_CHECKING:
    from flowlight.core.task import Task

__all__ = ["TaskRunner", "is_unfinished", "run_task"]

UPSTREAM_SKIPPED = (
    "Upstream task was skipped; if this was not the intended behavior, consider changing "
    "`skip_on_upstream_skip=False` for this task."
)
_RUNNING_MESSAGE = "Starting task run."


def run_task(
    task: Task,
    inputs: dict[str, Any],
    upstream_states: Mapping[Any, State],
    context: dict[str, Any],
    initial_state: State | None = None,
    retries_here: bool = True,
) -> State:
    """Run one task run (or mapped child) to its final state, inside `context`; with
    `retries_here=False`, to its first Retrying state instead (see `TaskRunner.run_with_inputs`)."""
    return TaskRunner(task).run_with_inputs(
        inputs, upstream_states, context, initial_state, retries_here
    )


class TaskRunner:
    """Moves one task run from Pending to a final state."""

    __slots__ = ("context", "handlers", "runner_handlers", "task")

    def __init__(self, task: Task, state_handlers: Iterable[StateHandler] | None = None) -> None:
        """`state_handlers` are the runner's own, called after the task's on each transition
        with the runner as their first argument (Prefect 1)."""
        self.task = task
        self.handlers = task.state_handlers
        self.runner_handlers = validate_state_handlers("TaskRunner", state_handlers)
        # The context at creation, which `run` starts from (Prefect 1); not copied, as a flow
        # run makes a runner for each task run and never reads it.
        self.context: dict[str, Any] = current()

    @property
    def logger(self) -> RunLogger:
        """The logger the runner reports each run on (`flowlight.TaskRunner`)."""
        return run_logger("flowlight.TaskRunner")

    def run(
        self,
        state: State | None = None,
        upstream_states: Mapping[Any, State] | None = None,
        context: Mapping[str, Any] | None = None,
        is_mapped_parent: bool = False,
    ) -> State:
        """Prefect 1's way to run one task alone: `TaskRunner(task).run(state, upstream_states)`.

        The inputs are the results of the upstream states whose edges have a `key`; the run's
        context is the current one, the task's own keys, then `context`. A mapped parent
        (`is_mapped_parent=True`) ends `Mapped` without running its children, which are the
        flow runner's to run."""
        from flowlight.engine.mapping import edge_value, plan_map

        upstream = dict(upstream_states or {})
        ctx = {
            **self.context,
            **current(),
            "logger": self.task.logger,
            "task_name": self.task.name,
            "task_full_name": self.task.name,
            "task_slug": getattr(self.task, "slug", None),
            "task_tags": sorted(self.task.tags),
            "map_index": None,
            "task_run_count": 1,
            "task_max_retries": self.task.max_retries,
            **(context or {}),
        }
        if is_mapped_parent:
            edges = [e for e in upstream if getattr(e, "mapped", False)]
            plan = (
                plan_map(self.task, list(upstream), upstream, ctx, state, self) if edges else None
            )
            if plan is not None:
                return plan.decided or plan.mapped_state or Mapped()
        inputs = {
            edge.key: edge_value(edge, upstream_state)
            for edge, upstream_state in upstream.items()
            if getattr(edge, "key", None) is not None
        }
        if state is not None and state.is_running():
            return state  # already running elsewhere: not run twice (Prefect 1)
        return self.run_with_inputs(inputs, upstream, ctx, state, retries_here=False)

    def run_with_inputs(
        self,
        inputs: dict[str, Any],
        upstream_states: Mapping[Any, State],
        context: dict[str, Any],
        initial_state: State | None = None,
        retries_here: bool = True,
    ) -> State:
        """Run to a final state; with `retries_here=False` a Retrying state is returned for the
        caller to run again (Prefect 1's `TaskRunner.run`) instead of being waited out here."""
        state = initial_state if initial_state is not None else Pending()
        with use_context(context):
            try:
                final = self._run_steps(state, inputs, upstream_states, context, retries_here)
            except HandlerFailure as failure:
                final = failure.state
            except signals.ENDRUN as end:
                final = end.state
            if final is not state:
                run_log.task_finished(self.task.name, context, final)
            return final

    def _run_steps(
        self,
        state: State,
        inputs: dict[str, Any],
        upstream_states: Mapping[Any, State],
        context: dict[str, Any],
        retries_here: bool = True,
    ) -> State:
        if state.is_finished() or (isinstance(state, Paused) and not _pause_is_over(state)):
            return state  # already done, or paused without approval: nothing to do
        if isinstance(state, (Resume, Paused)):
            context["resume"] = True  # lets `manual_only` pass; other triggers still judge
        if isinstance(state, Retrying):
            context["task_run_count"] = state.run_count + 1
            if "_loop_count" in state.cached_inputs:
                context["task_loop_count"] = state.cached_inputs["_loop_count"]
                context["task_loop_result"] = state.cached_inputs.get("_loop_result")

        if any(is_unfinished(s) for s in upstream_states.values()):
            return state  # an upstream is paused: wait, without a transition (Prefect 1)
        decided = self.check_upstream_skipped(upstream_states)
        if decided is None and self.task.task_run_name:
            decided = name_task_run(self.task, inputs, context)
        if decided is None:
            decided = self.check_trigger(upstream_states)
        if decided is None:
            decided = self.check_cache(inputs, context)
        if decided is not None:
            return self._change(state, decided)
        return self.run_attempts(state, inputs, context, retries_here)

    # -- steps that may decide the run without running it ----------------------------------

    def check_upstream_skipped(self, upstream_states: Mapping[Any, State]) -> State | None:
        if not self.task.skip_on_upstream_skip or not upstream_states:
            return None
        for edge, upstream in upstream_states.items():
            if upstream.is_skipped():
                return Skipped(UPSTREAM_SKIPPED)
            # A mapped upstream passed whole (a reduce) skips this task if any child skipped; over
            # a mapped edge each child of this task decides from its own upstream child instead.
            if (
                isinstance(upstream, Mapped)
                and not getattr(edge, "mapped", False)
                and any(s.is_skipped() for s in upstream.map_states)
            ):
                return Skipped(UPSTREAM_SKIPPED)
        return None

    def check_trigger(self, upstream_states: Mapping[Any, State]) -> State | None:
        trigger = self.task.trigger
        try:
            passed = trigger(upstream_states)
        except signals.PrefectStateSignal as raised:
            return raised.state
        except Exception as exc:
            if current().get("raise_on_exception"):
                raise
            return TriggerFailed(
                f"Unexpected error while checking task trigger: {exc!r}", result=exc
            )
        if passed:
            return None
        return signals.TRIGGERFAIL("Trigger failed").state  # a trigger that returned False

    def check_cache(self, inputs: dict[str, Any], context: dict[str, Any]) -> State | None:
        if self.task.target:  # a target replaces the cache check (Prefect 1)
            return find_target(self.task, inputs, context)
        if self.task.cache_for is None:
            return None
        return find_cached_state(self.task, inputs, context)

    # -- running --------------------------------------------------------------------------------

    def run_attempts(
        self,
        state: State,
        inputs: dict[str, Any],
        context: dict[str, Any],
        retries_here: bool = True,
    ) -> State:
        """Attempt the task until it finishes for good: loops stay in here, and retries too
        unless `retries_here` is False (then a Retrying state is returned)."""
        task = self.task
        clock = get_clock()
        run_count = context.get("task_run_count") or 1
        while True:
            if isinstance(state, Scheduled):
                start = state.start_epoch()
                if start is not None and not retries_here and start > clock.now():
                    return state  # not due yet: the caller runs it again later (Prefect 1)
                if start is not None:
                    clock.sleep(start - clock.now())
            context["task_run_count"] = run_count
            state = self._change(state, Running(_RUNNING_MESSAGE))
            if state.is_running():
                run_log.task_started(task.name, context)
                state = self._change(state, self.execute(inputs, context))
            if isinstance(state, Looped):
                loop_count = state.loop_count + 1  # a Looped state's count defaults to the run's
                context["task_loop_count"] = loop_count
                context["task_loop_result"] = state.result
                # Prefect 1 does not report Looped -> Pending; the next attempt starts from it,
                # as the first attempt of the new iteration (each iteration has its retries).
                state = Pending(f"Looping task (on loop index {loop_count - 1})")
                run_count = 1
                continue
            retryable = state.is_failed() and not isinstance(state, TriggerFailed)
            if retryable and run_count <= task.max_retries and _retries_on(task, state):
                message = f"Retrying Task (after attempt {run_count} of {task.max_retries + 1})"
                start = clock.now() + _delay_seconds(task)
                state = self._change(
                    state, Retrying(message, start_time=start, run_count=run_count)
                )
            if isinstance(state, Retrying) and not retries_here:
                if "task_loop_count" in context:  # the next run resumes this loop iteration
                    state.cached_inputs["_loop_count"] = context["task_loop_count"]
                    state.cached_inputs["_loop_result"] = context.get("task_loop_result")
                return state
            if isinstance(state, Retrying):
                limit = task.max_retries or number_setting(
                    "tasks", "retry_signal_limit", default=10, integer=True, minimum=0
                )
                if run_count > limit:
                    return self._change(
                        state,
                        Failed(
                            f"Task was retried {run_count - 1} times and asked for another "
                            f"retry; the limit is {limit} (max_retries, or "
                            "FLOWLIGHT__TASKS__RETRY_SIGNAL_LIMIT when max_retries is 0).",
                            result=state.result,
                        ),
                    )
                start = state.start_epoch()
                wait = None if start is None else start - clock.now()
                run_log.task_retrying(task.name, context, state, wait)
                note_retry()
                run_count += 1
                continue
            if state.is_successful() and not state.is_skipped() and task.cache_for is not None:
                state = self._change(state, cached_state(task, inputs, context, state))
                if isinstance(state, Cached):
                    store_cached_state(task, state)
            return state

    def execute(self, inputs: dict[str, Any], context: dict[str, Any]) -> State:
        """Call the task's `run` and turn what happened into a state."""
        task = self.task
        try:
            if task.timeout is not None:
                value = call_with_timeout(lambda: task.run(**inputs), task.timeout, task.name)
            else:
                value = task.run(**inputs)
        except TaskTimedOut:
            if context.get("raise_on_exception"):
                raise signals.TaskTimeoutSignal("Execution timed out.") from None
            return TimedOut(
                "Task timed out during execution.",
                result=signals.TaskTimeoutSignal("Execution timed out."),
            )
        except signals.LOOP as loop:
            looped = loop.state
            assert isinstance(looped, Looped)
            looped.loop_count = context.get("task_loop_count") or 1
            if looped.message is None:
                looped.message = f"Task is looping ({looped.loop_count})"
            return looped
        except signals.RETRY as retry:
            retrying = retry.state
            assert isinstance(retrying, Retrying)
            # Retried at the signal's own start time (now unless given), not after retry_delay,
            # as in Prefect 1.
            retrying.run_count = context["task_run_count"]  # set by run_attempts for each attempt
            return retrying
        except signals.PrefectStateSignal as signal:
            return signal.state
        except signals.ENDRUN as end:
            return end.state
        except Exception as exc:
            if context.get("raise_on_exception"):
                raise  # flowlight.utilities.debug.raise_on_exception(): out of flow.run()
            run_log.task_failed(self.task.name, context, exc)
            return Failed(f"Error during execution of task: {exc!r}", result=exc)
        succeeded = Success("Task run succeeded.", result=value)
        if task.result is not None or context.get("flow_result") is not None:
            return checkpointed(task, succeeded, inputs, context)
        return succeeded

    def _change(self, old: State, new: State) -> State:
        if self.handlers:
            new = transition(self.task, self.handlers, old, new)
        if self.runner_handlers:
            new = transition(self, self.runner_handlers, old, new)
        return new


def _delay_seconds(task: Task) -> float:
    return seconds(task.retry_delay)


def _retries_on(task: Task, state: State) -> bool:
    """Whether this failure may be retried: any failure, unless the task's `retry_on` names
    exception types and the failure's exception is none of them."""
    kinds = task.retry_on
    if not kinds or state.result is None:
        return True
    return isinstance(state.result, tuple(kinds))


def is_unfinished(state: State) -> bool:
    """True while `state` (or, for a mapped task, one of its children) is not finished: a task
    downstream of it waits instead of judging it with its trigger."""
    if not state.is_finished():
        return True
    return isinstance(state, Mapped) and any(not c.is_finished() for c in state.map_states)


def _pause_is_over(state: Paused) -> bool:
    """A Paused run starts only once its own start time has come (Prefect 1); without one it
    waits for a person to give it a `Resume` state."""
    start = state.start_epoch()
    return start is not None and start <= get_clock().now()
