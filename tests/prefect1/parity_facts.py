"""Small facts about states, tasks, flows and executors, printed as one JSON object by the engine
named on the command line: `python parity_facts.py prefect|flowlight OUT.json`.

Written once against Prefect 1's API (the engine is the import in `engine()`), so a port is the
change of imports; tests/prefect1/test_parity_facts.py runs it on Prefect 1.4.1 and on
flowlight and compares the two files fact by fact. No `from __future__ import annotations`
here: Prefect 1.4.1 reads `nout` from a real (not postponed) return annotation.
"""

import datetime
import functools
import importlib
import json
import sys
import typing
import warnings
from types import SimpleNamespace
from typing import Any

FACTS: dict[str, Any] = {}


def fact(name: str, value: Any) -> None:
    FACTS[name] = value


def outcome(action: Any) -> str:
    """What calling `action` did: 'ok', or the exception's class name."""
    try:
        action()
    except Exception as exc:
        return type(exc).__name__
    return "ok"


def warned(action: Any) -> list[str]:
    """The categories of the warnings `action` gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return sorted({w.category.__name__ for w in caught})


def engine(name: str) -> SimpleNamespace:
    root = importlib.import_module(name)
    return SimpleNamespace(
        root=root,
        state=importlib.import_module(f"{name}.engine.state"),
        signals=importlib.import_module(f"{name}.engine.signals"),
        validators=importlib.import_module(f"{name}.engine.cache_validators"),
        executors=importlib.import_module(f"{name}.executors"),
        task_runner=importlib.import_module(f"{name}.engine.task_runner"),
        edge=importlib.import_module(f"{name}.core.edge"),
    )


def state_equality(e: SimpleNamespace) -> None:
    st = e.state
    error = ValueError("x")
    moment = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    fact("eq: messages are not compared", st.Success("a", result=1) == st.Success("b", result=1))
    fact("eq: results are", st.Success(result=1) == st.Success(result=2))
    fact("eq: the exact class", st.Success() == st.Cached())
    fact("eq: failed with one exception", st.Failed(result=error) == st.Failed(result=error))
    fact(
        "eq: failed with equal exceptions",
        st.Failed(result=ValueError("x")) == st.Failed(result=ValueError("x")),
    )
    fact(
        "eq: cached_inputs",
        st.Pending(cached_inputs={"x": 1}) == st.Pending(cached_inputs={"x": 2}),
    )
    fact("eq: context is not", st.Pending(context={"a": 1}) == st.Pending(context={"b": 1}))
    fact("eq: two default Scheduled", st.Scheduled() == st.Scheduled())
    fact(
        "eq: Scheduled at one time",
        st.Scheduled("a", start_time=moment) == st.Scheduled("b", start_time=moment),
    )
    fact(
        "eq: Retrying run_count",
        st.Retrying(start_time=moment, run_count=1) == st.Retrying(start_time=moment, run_count=2),
    )
    fact("eq: Looped loop_count", st.Looped(loop_count=2) == st.Looped(loop_count=3))
    fact(
        "eq: Mapped children, messages aside",
        st.Mapped(map_states=[st.Success("x", result=1)])
        == st.Mapped(map_states=[st.Success("y", result=1)]),
    )
    fact(
        "eq: Cached parameters",
        st.Cached(cached_parameters={"p": 1}) == st.Cached(cached_parameters={"p": 2}),
    )
    fact("eq: with another type", st.Success() == 1)
    fact("ne: two plain successes", st.Success() != st.Success())


def state_defaults(e: SimpleNamespace) -> None:
    st, context = e.state, e.root.context
    fact("default: context", st.State().context)
    fact("default: cached_inputs", st.Pending().cached_inputs)
    fact("default: result", st.State().result)
    fact("default: Scheduled start_time is set", st.Scheduled().start_time is not None)
    fact("default: Retrying start_time is set", st.Retrying().start_time is not None)
    fact("default: Retrying run_count", st.Retrying().run_count)
    fact("default: Looped loop_count", st.Looped().loop_count)
    fact("default: Paused start_time", st.Paused().start_time)
    fact("default: Resume start_time is set", st.Resume().start_time is not None)
    with context(task_tags=["b", "a"]):
        fact("in a task run: context tags", [st.Success().context, st.Pending(context={}).context])
        fact("in a task run: given tags win", st.Failed(context={"tags": ["own"]}).context)
    with context(task_run_count=4, task_loop_count=5):
        retrying = st.Retrying()
        signal = e.signals.RETRY("again")
        fact("in a run: Retrying run_count and context", [retrying.run_count, retrying.context])
        fact("in a run: Scheduled context", st.Scheduled().context)
        fact("in a run: Pending context", st.Pending().context)
        fact("in a run: Looped loop_count", st.Looped().loop_count)
        fact("in a run: RETRY's state", [type(signal.state).__name__, signal.state.run_count])


def mapping_with_defaults(e: SimpleNamespace) -> None:
    task, flow_class, unmapped = e.root.task, e.root.Flow, e.root.unmapped

    @task
    def scale(x, factor=10, offset=0):  # type: ignore[no-untyped-def]
        return x * factor + offset

    class Shift(e.root.Task):  # type: ignore[misc, name-defined]
        def run(self, x, by=100):  # type: ignore[no-untyped-def]
            return x + by

    with flow_class("defaults") as flow:
        plain = scale.map([1, 2, 3])
        given = scale.map([1, 2], offset=[5, 6])
        fixed = scale.map([1, 2], factor=unmapped(2))
        shifted = Shift().map([1, 2])
        single = scale(4)
    state = flow.run()
    fact(
        "map: a defaulted argument is left to the function",
        [state.result[t].result for t in (plain, given, fixed, shifted, single)],
    )
    fact("map: constants bound for a plain call", sorted(flow.constants.get(single, {})))


def task_runner_alone(e: SimpleNamespace) -> None:
    """A task run by `TaskRunner(task).run(...)` outside any flow, as Prefect 1's tests do."""
    st, Task, TaskRunner, Edge = e.state, e.root.Task, e.task_runner.TaskRunner, e.edge.Edge

    class Add(Task):  # type: ignore[misc, valid-type]
        def run(self, x, y):  # type: ignore[no-untyped-def]
            return x + y

    class Broken(Task):  # type: ignore[misc, valid-type]
        def run(self):  # type: ignore[no-untyped-def]
            raise ValueError("broken")

    def shown(state: Any) -> list[Any]:
        return [type(state).__name__, state.result, getattr(state, "run_count", None)]

    fact("TaskRunner.run: a task alone", shown(TaskRunner(Task()).run()))
    add = Add()
    upstream = {Edge(Task(), add, key="x"): st.Success(result=1), Edge(Task(), add): st.Success()}
    upstream[Edge(Task(), add, key="y")] = st.Success(result=2)
    fact(
        "TaskRunner.run: inputs from keyed edges",
        shown(TaskRunner(add).run(upstream_states=upstream)),
    )
    runner = TaskRunner(Broken(max_retries=2, retry_delay=datetime.timedelta(0)))
    seen = [runner.run()]
    seen += [runner.run(state=seen[-1]), runner.run(state=seen[-1].__class__())]
    seen.append(runner.run(state=seen[1]))
    fact("TaskRunner.run: each call is one attempt", [type(s).__name__ for s in seen])
    fact("TaskRunner.run: retry counts", [getattr(s, "run_count", None) for s in seen])
    running = st.Running()
    fact(
        "TaskRunner.run: a Running state is not run",
        TaskRunner(Task()).run(state=running) is running,
    )
    told: list[Any] = []
    TaskRunner(Task(), state_handlers=[lambda r, old, new: told.append((r, new)) or new]).run()
    fact("TaskRunner.run: runner handlers see", [type(n).__name__ for _, n in told])
    fact("TaskRunner.run: runner handlers get the runner", type(told[0][0]).__name__)
    parent = TaskRunner(Task()).run(
        upstream_states={Edge(Task(), Task(), mapped=True): st.Success(result=[1, 2])},
        is_mapped_parent=True,
    )
    fact("TaskRunner.run: a mapped parent", [type(parent).__name__, parent.message])

    @e.root.task(max_retries=1, retry_delay=datetime.timedelta(0))
    def loops():  # type: ignore[no-untyped-def]
        ctx = e.root.context
        if ctx.get("task_loop_count", 1) < 3:
            raise e.signals.LOOP(result=ctx.get("task_loop_result", 0) + 1)
        if ctx.get("task_run_count") == 1:
            raise ValueError("once")
        return ctx.get("task_loop_result")

    first = TaskRunner(loops).run()
    fact(
        "TaskRunner.run: a loop resumes after a retry",
        [shown(first)[0], TaskRunner(loops).run(state=first).result],
    )

    @e.root.task
    def own_logger():  # type: ignore[no-untyped-def]
        return e.root.context.get("logger")

    fact(
        "TaskRunner.run: the context's logger is the task's",
        TaskRunner(own_logger).run().result is own_logger.logger,
    )


def state_colors(e: SimpleNamespace) -> None:
    """Each state class's color (flow.visualize() and Slack messages show it)."""
    st = e.state
    classes = [c for c in vars(st).values() if isinstance(c, type) and issubclass(c, st.State)]
    fact("state colors", {c.__name__: c.color for c in sorted(classes, key=lambda c: c.__name__)})


def flow_runner_one_pass(e: SimpleNamespace) -> None:
    """`FlowRunner(flow).run()` makes one pass: retries are the caller's to run."""
    FlowRunner = importlib.import_module(f"{e.root.__name__}.engine.flow_runner").FlowRunner
    Task = e.root.Task

    class Broken(Task):  # type: ignore[misc, valid-type]
        def run(self):  # type: ignore[no-untyped-def]
            raise ValueError("broken")

    flow = e.root.Flow("one pass")
    first, soon = (
        Task(name="first"),
        Broken(name="soon", max_retries=1, retry_delay=datetime.timedelta(0)),
    )
    later = Broken(name="later", max_retries=1, retry_delay=datetime.timedelta(minutes=10))
    flow.add_edge(first, soon)
    flow.add_edge(first, later)
    passes = [FlowRunner(flow).run(return_tasks=flow.tasks)]
    passes.append(FlowRunner(flow).run(return_tasks=flow.tasks, task_states=passes[0].result))
    fact(
        "FlowRunner.run: two passes over retrying tasks",
        [
            [type(p).__name__, sorted((t.name, type(s).__name__) for t, s in p.result.items())]
            for p in passes
        ],
    )
    done = e.state.Success(result=5)
    fact("FlowRunner.run: a finished state is returned", FlowRunner(flow).run(state=done) is done)


def loop_results_and_stored_inputs(e: SimpleNamespace) -> None:
    """What a LOOP without a result leaves for the next iteration, and whether validators read
    cached inputs held in Results (as states stored by Prefect 1 hold them)."""
    sig, st, v = e.signals, e.state, e.validators
    for name, signal in [
        ("LOOP()", sig.LOOP()),
        ("LOOP('again')", sig.LOOP("again")),
        ("LOOP('again', result=3)", sig.LOOP("again", result=3)),
    ]:
        result = signal.state.result
        fact(f"{name} result", [type(result).__name__, result])
    result_cls = importlib.import_module(f"{e.root.__name__}.engine.result").Result
    stored = st.Cached(cached_inputs={"x": result_cls(1), "s": result_cls("a")})
    fact(
        "validators on Result-held inputs",
        [
            v.all_inputs(stored, {"x": 1, "s": "a"}, None),
            v.all_inputs(stored, {"x": 2, "s": "a"}, None),
            v.partial_inputs_only(["x"])(stored, {"x": 1, "s": "b"}, None),
            v.partial_inputs_only(["x"])(stored, {"x": 2, "s": "a"}, None),
        ],
    )


def executor_aliases(e: SimpleNamespace) -> None:
    names = ["threads", "threading", "PROCESSES", "multiprocessing", "sync", "single-threaded"]
    fact(
        "LocalDaskExecutor scheduler aliases",
        [e.executors.LocalDaskExecutor(scheduler=n).scheduler for n in names],
    )
    fact(
        "LocalDaskExecutor unknown scheduler",
        outcome(lambda: e.executors.LocalDaskExecutor(scheduler="fibers")),
    )


def cache_validators(e: SimpleNamespace) -> None:
    """Which of four runs reuse the cache: (x=1, y=2), the same, y changed, x changed."""
    v = e.validators
    chosen = {
        "partial_inputs_only()": v.partial_inputs_only(),
        "partial_inputs_only(['x'])": v.partial_inputs_only(["x"]),
        "partial_inputs_only(['x', 'z'])": v.partial_inputs_only(["x", "z"]),
        "partial_parameters_only()": v.partial_parameters_only(),
        "partial_parameters_only(['x'])": v.partial_parameters_only(["x"]),
        "all_inputs": v.all_inputs,
        "all_parameters": v.all_parameters,
    }
    for label, validator in chosen.items():
        fact(f"cache: {label}", reuses(e, label, validator))


def reuses(e: SimpleNamespace, label: str, validator: Any) -> list[bool]:
    calls: list[int] = []

    # a name of its own: the cache is keyed by the task's name, across flows
    @e.root.task(
        name=f"counted by {label}",
        cache_for=datetime.timedelta(hours=1),
        cache_validator=validator,
    )
    def counted(x, y):  # type: ignore[no-untyped-def]
        calls.append(1)
        return x + y

    with e.root.Flow(f"cache-{label}") as flow:
        counted(e.root.Parameter("x"), e.root.Parameter("y"))
    reused = []
    for values in ({"x": 1, "y": 2}, {"x": 1, "y": 2}, {"x": 1, "y": 3}, {"x": 2, "y": 3}):
        before = len(calls)
        flow.run(parameters=values)
        reused.append(len(calls) == before)
    return reused


def building_checks(e: SimpleNamespace) -> None:
    root = e.root
    fact(
        "refused: retry_delay without max_retries",
        outcome(lambda: root.Task(retry_delay=datetime.timedelta(seconds=1))),
    )

    def star_args_class() -> None:
        class Spread(root.Task):  # type: ignore[misc, name-defined]
            def run(self, *values):  # type: ignore[no-untyped-def]
                return values

    def reserved_class() -> None:
        class Reserved(root.Task):  # type: ignore[misc, name-defined]
            def run(self, upstream_tasks):  # type: ignore[no-untyped-def]
                return upstream_tasks

    def star_args_function(*values):  # type: ignore[no-untyped-def]
        return values

    fact("refused: a run() with *args", outcome(star_args_class))
    fact("refused: a run() with a reserved name", outcome(reserved_class))
    fact("refused: a @task with *args", outcome(lambda: root.task(star_args_function)))

    def unused() -> None:
        with root.Flow("unused"):
            root.Parameter("forgotten")

    def all_used() -> None:
        with root.Flow("used"):
            root.Task(name="t")(upstream_tasks=[root.Parameter("p")])

    fact("warned: a task made in a flow block but not added", warned(unused))
    fact("warned: every task added", warned(all_used))

    class Scale(root.Task):  # type: ignore[misc, name-defined]
        def __init__(self, factor=1, **kwargs):  # type: ignore[no-untyped-def]
            self.factor = factor
            super().__init__(**kwargs)

        def run(self, x):  # type: ignore[no-untyped-def]
            return x * self.factor

    fact("warned: a Task given to a task class's constructor", warned(lambda: Scale(root.Task())))

    def run_inside() -> None:
        with root.Flow("inside") as flow:
            root.Task(name="t")()
            flow.run()

    fact("refused: flow.run() inside its with block", outcome(run_inside))

    @root.task
    def echo(x):  # type: ignore[no-untyped-def]
        return x

    with root.Flow("upstream values") as flow:
        once = echo(1, upstream_tasks=[5, None])
        each = echo.map([1, 2], upstream_tasks=[root.unmapped(5)])
    state = flow.run()
    fact(
        "upstream_tasks: values become constant tasks",
        [
            sorted(edge.upstream_task.name for edge in flow.edges_to(once)),
            state.result[once].result,
            state.result[each].result,
        ],
    )

    @root.task
    def pair() -> typing.Tuple[int, str]:  # noqa: UP006
        return 1, "a"

    @root.task
    def any_length() -> typing.Tuple[int, ...]:  # noqa: UP006
        return (1,)

    fact("nout from the return annotation", [pair.nout, any_length.nout])
    with root.Flow("unpack") as flow:
        number, letter = pair()
    state = flow.run()
    fact("nout: unpacked results", [state.result[number].result, state.result[letter].result])

    with root.context(tags=["nightly"]):
        made = root.Task(name="made", tags=["own"])
        with root.Flow("tags"):
            called = echo(1)
    fact("context tags", [sorted(made.tags), sorted(called.tags), sorted(echo.tags)])

    parameter = root.Parameter("source", default="a")
    with root.Flow("parameters") as flow:
        returned = parameter()
    renamed = parameter.copy("target")
    fact(
        "Parameter: calling and copying",
        [returned is parameter, len(flow.tasks), renamed.name, renamed.slug, renamed.default],
    )

    def copy_with_edges() -> None:
        with root.Flow("copies") as flow:
            first = root.Task(name="first")()
            second = root.Task(name="second")(upstream_tasks=[first])
            flow.add_task(second.copy())

    fact("warned: copying a task with edges in the flow", warned(copy_with_edges))
    fact(
        "warned: a cache_validator without cache_for",
        [
            warned(lambda: root.Task(cache_validator=e.validators.all_inputs)),
            warned(lambda: root.Task(cache_validator=e.validators.never_use)),
        ],
    )


def flow_blocks_and_edges(e: SimpleNamespace) -> None:
    root, context = e.root, e.root.context
    with root.Flow("outer") as outer:
        in_block = context.get("flow") is outer
        context.note = "outer"
        with root.Flow("inner"):
            context.note = "inner"
        after_inner = context.note
    fact("with Flow: a context of its own", [in_block, after_inner, "note" in context])

    flow, stranger = root.Flow("f"), root.Task(name="stranger")
    fact(
        "edges of a task outside the flow",
        [
            outcome(functools.partial(ask, stranger))
            for ask in (flow.edges_to, flow.edges_from, flow.upstream_tasks, flow.downstream_tasks)
        ],
    )
    task_, parameter = root.Task(name="t"), root.Parameter("p")

    def parameter_downstream() -> None:
        with root.Flow("p"):
            task_.set_downstream(parameter)

    fact("refused: a Parameter downstream of a task", outcome(parameter_downstream))
    first, second = root.Task(name="first"), root.Task(name="second")
    unchecked = root.Flow("unchecked")
    unchecked.add_edge(first, second, key="x", validate=False)
    unchecked.add_edge(second, first, validate=False)
    fact(
        "add_edge(validate=False) adds a bad key and a cycle; validate() refuses",
        [len(unchecked.edges), outcome(unchecked.validate)],
    )
    fact(
        "add_edge(validate=True) with a key run() does not take",
        outcome(lambda: root.Flow("k").add_edge(root.Task(), root.Task(), key="x", validate=True)),
    )
    up, down = root.Task(name="up"), root.Task(name="down")
    one, two = root.Flow("one"), root.Flow("two")
    for each in (one, two):
        each.add_edge(up, down)
    fact("one task in two flows", [one.edges == two.edges, len(two.tasks)])

    def nested_unused() -> None:
        with root.Flow("n"), root.Flow("n2"):
            root.Parameter("y")

    fact("warned: nested blocks, one unused task", len(warned_all(nested_unused)))
    with root.Flow("getitem") as flow:
        root.Task()[0]
    fact("a getitem of a task made in the block", len(flow.tasks))


def warned_all(action: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [w.category.__name__ for w in caught]


def main(argv: list[str]) -> int:
    e = engine(argv[1])
    for group in (
        state_equality,
        state_defaults,
        mapping_with_defaults,
        executor_aliases,
        task_runner_alone,
        loop_results_and_stored_inputs,
        flow_runner_one_pass,
        state_colors,
        cache_validators,
        building_checks,
        flow_blocks_and_edges,
    ):
        group(e)
    with open(argv[2], "w") as out:
        json.dump(FACTS, out, indent=1, default=repr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
