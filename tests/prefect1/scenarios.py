"""The same flows, run on Prefect 1.4.1 or on flowlight: the engine is chosen by one import.

Run as a script: `python scenarios.py ENGINE SCENARIO [SCENARIO ...] [--executor NAME]
[--runner flow_runner]`, ENGINE being `prefect` or `flowlight`. Each scenario's flow is
instrumented with `flowlight.otel.instrument(flow)` and run; telemetry goes where the standard
`OTEL_*` variables say; one JSON line per scenario on stdout gives the final states, so a test
can check the run itself before comparing traces. The `notify` scenario also puts notifiers on a
task that fails and on its flow (see there).

The flows are written once, against Prefect 1's API, exactly as a user's flow would be: moving
them from one engine to the other is the import change at the top of `load_engine`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

SCENARIOS: dict[str, Callable[[Any], Any]] = {}


def scenario(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    SCENARIOS[build.__name__] = build
    return build


def load_engine(name: str) -> Any:
    """Flow, task, signals, triggers and states of `name`, Prefect 1 or flowlight.

    Task bodies must not refer to what this returns (it holds the engine's context, which does
    not pickle): they take what they need into local names first.
    """
    if name == "prefect":
        import prefect as module
        from prefect import Flow, task
        from prefect.engine import signals, state
        from prefect.schedules import IntervalSchedule
        from prefect.triggers import all_finished
    elif name == "flowlight":
        import flowlight as module  # type: ignore[no-redef]
        from flowlight import Flow, task  # type: ignore[assignment]
        from flowlight.engine import signals, state  # type: ignore[no-redef]
        from flowlight.schedules import IntervalSchedule  # type: ignore[assignment]
        from flowlight.triggers import all_finished  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown engine {name!r}; use 'prefect' or 'flowlight'")
    return SimpleNamespace(
        Flow=Flow,
        module=module,
        task=task,
        signals=signals,
        state=state,
        all_finished=all_finished,
        IntervalSchedule=IntervalSchedule,
    )


@scenario
def success(e: Any) -> Any:
    @e.task
    def extract() -> int:
        return 1

    @e.task
    def load(value: int) -> int:
        return value + 1

    with e.Flow("success") as flow:
        load(extract())
    return flow


@scenario
def failure(e: Any) -> Any:
    @e.task
    def bad() -> None:
        raise ValueError("nope")

    with e.Flow("failure") as flow:
        bad()
    return flow


@scenario
def retries(e: Any) -> Any:
    engine = e.module  # the attempt number comes from the run context, on any worker

    @e.task(max_retries=2, retry_delay=datetime.timedelta(seconds=0))
    def flaky() -> int:
        attempt = int(engine.context.get("task_run_count", 1))
        if attempt < 3:
            raise ValueError(f"try {attempt}")
        return attempt

    @e.task(max_retries=1, retry_delay=datetime.timedelta(seconds=0))
    def always() -> None:
        raise ValueError("always")

    @e.task
    def report(value: int) -> str:
        return f"succeeded after {value} attempts"

    with e.Flow("retries") as flow:
        report(flaky())
        always()
    return flow


@scenario
def skip(e: Any) -> Any:
    SKIP = e.signals.SKIP  # task bodies refer to nothing that cannot travel to a worker

    @e.task
    def skipper() -> None:
        raise SKIP("not today")

    @e.task
    def after(value: Any) -> Any:
        return value

    with e.Flow("skip") as flow:
        after(skipper())
    return flow


@scenario
def trigger_failure(e: Any) -> Any:
    @e.task
    def bad() -> None:
        raise ValueError("nope")

    @e.task
    def down(value: Any) -> Any:
        return value

    @e.task(trigger=e.all_finished)
    def cleanup(value: Any) -> str:
        return "cleaned"

    with e.Flow("trigger-failure") as flow:
        failed = bad()
        down(failed)
        cleanup(failed)
    return flow


@scenario
def mapping(e: Any) -> Any:
    @e.task
    def double(x: int) -> int:
        return 2 * x

    @e.task
    def total(values: list[int]) -> int:
        return sum(values)

    with e.Flow("mapping") as flow:
        total(double.map([1, 2, 3]))
    return flow


@scenario
def mapping_failure(e: Any) -> Any:
    @e.task
    def inverse(x: int) -> float:
        return 1 / x

    with e.Flow("mapping-failure") as flow:
        inverse.map([1, 0, 4])
    return flow


@scenario
def loop(e: Any) -> Any:
    """A task that raises LOOP twice: one task run, its loops as transitions."""
    engine, LOOP = e.module, e.signals.LOOP  # the module travels to a worker by name

    @e.task
    def countdown() -> int:
        count = engine.context.get("task_loop_count", 1)
        if count < 3:
            raise LOOP(message=f"loop {count}", result=count)
        return count

    with e.Flow("loop") as flow:
        countdown()
    return flow


@scenario
def handler_raises(e: Any) -> Any:
    """A user's handler that raises on Success fails the task; the bridge, after it, never sees
    that transition and ends the span from the flow's final states."""

    def broken(obj: Any, old: Any, new: Any) -> Any:
        if type(new).__name__ == "Success":
            raise RuntimeError("handler broke")
        return new

    @e.task(state_handlers=[broken])
    def work() -> int:
        return 1

    with e.Flow("handler-raises") as flow:
        work()
    return flow


@scenario
def schedule(e: Any) -> Any:
    """Two runs, 0.5 s apart, by one `flow.run()` (Prefect 1 gives both the same flow_run_id).

    The first starts 3 s after the flow is built: a run whose time has passed before `flow.run()`
    asks the schedule would be left out, and on a loaded machine that gap once passed 1 s (one
    trace instead of two).
    """
    import pendulum

    start = pendulum.now("UTC").add(seconds=3)
    every = datetime.timedelta(seconds=0.5)
    runs = e.IntervalSchedule(start_date=start, interval=every, end_date=start.add(seconds=0.7))

    @e.task
    def ping() -> int:
        return 1

    with e.Flow("schedule", schedule=runs) as flow:
        ping()
    return flow


@scenario
def notify(e: Any) -> Any:
    """Alerting on an existing flow: a webhook notifier on a task and on the flow, and a Slack
    notifier whose URL is a secret set the engine's own way (on Prefect 1 in prefect.context)."""
    from flowlight.utilities.notifications import slack_notifier, webhook_notifier

    alert = webhook_notifier(url=os.environ["NOTIFY_URL"], only_states=[e.state.Failed])
    slack = slack_notifier(webhook_secret="ALERTS_SLACK_URL", only_states=[e.state.Failed])

    @e.task(state_handlers=[alert, slack])
    def load() -> None:
        raise ValueError("warehouse unreachable")

    with e.Flow("notify", state_handlers=[alert]) as flow:
        load()
    return flow


@scenario
def notify_actions(e: Any) -> Any:
    """The same alerts built as `callback_factory(action, check)` handlers: a webhook action with
    the `is_failed` check on the task and on the flow."""
    from flowlight.utilities.notifications import callback_factory, is_failed, webhook_action

    alert = callback_factory(webhook_action(url=os.environ["NOTIFY_URL"]), is_failed)

    @e.task(state_handlers=[alert])
    def load() -> None:
        raise ValueError("warehouse unreachable")

    with e.Flow("notify_actions", state_handlers=[alert]) as flow:
        load()
    return flow


def describe(final: Any) -> dict[str, Any]:
    """The run's outcome as plain data: flow state and each task's state (children too)."""
    tasks: dict[str, Any] = {}
    for task_object, task_state in (final.result or {}).items():
        entry: Any = type(task_state).__name__
        children = getattr(task_state, "map_states", None)
        if children:
            entry = [entry, [type(child).__name__ for child in children]]
        tasks[task_object.name] = entry
    return {"flow": type(final).__name__, "tasks": tasks}


EXECUTORS = ("local", "local-dask-threads", "dask-processes")


def make_executor(engine_name: str, executor: str, scheduler_address: str | None) -> Any:
    """The executor named on the command line, from the engine's own package."""
    if executor == "local":
        return None  # the engine's default, LocalExecutor
    if engine_name == "prefect":
        from prefect.executors import DaskExecutor, LocalDaskExecutor
    else:
        from flowlight.executors import DaskExecutor, LocalDaskExecutor  # type: ignore[assignment]
    if executor == "local-dask-threads":
        return LocalDaskExecutor(scheduler="threads", num_workers=4)
    return DaskExecutor(address=scheduler_address)


def start_cluster(executor: str) -> Any:
    """For `dask-processes`: one cluster of two worker processes for all the scenarios."""
    if executor != "dask-processes":
        return None
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )


def run_flow(flow: Any, engine_name: str, executor: Any, runner: str) -> Any:
    """`flow.run()`, or on Prefect 1 a FlowRunner used directly (its context has no run ids)."""
    if runner == "flow_runner":
        if engine_name != "prefect":
            raise SystemExit("--runner flow_runner is Prefect 1's FlowRunner; use --engine prefect")
        from prefect.engine.flow_runner import FlowRunner

        return FlowRunner(flow=flow).run(return_tasks=flow.tasks, executor=executor)
    return flow.run(executor=executor) if executor is not None else flow.run()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=["prefect", "flowlight"])
    parser.add_argument("scenarios", nargs="+", choices=sorted(SCENARIOS))
    parser.add_argument("--executor", default="local", choices=EXECUTORS)
    parser.add_argument("--runner", default="flow.run", choices=["flow.run", "flow_runner"])
    options = parser.parse_args(argv[1:])
    engine = load_engine(options.engine)
    import flowlight.otel

    cluster = start_cluster(options.executor)
    address = cluster.scheduler_address if cluster is not None else None
    for name in options.scenarios:
        flow = flowlight.otel.instrument(SCENARIOS[name](engine))
        executor = make_executor(options.engine, options.executor, address)
        final = run_flow(flow, options.engine, executor, options.runner)
        print(json.dumps({"scenario": name, **describe(final)}), flush=True)
    if cluster is not None:
        cluster.close()  # the workers flush what they recorded as they exit
    flowlight.otel.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
