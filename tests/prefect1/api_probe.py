"""Exercise the public Flow / Task / State / context API and print what each call gives, as JSON.

Run as `python api_probe.py prefect` (in the Prefect 1.4.1 venv) or `python api_probe.py
flowlight`: the same code, only the import differs, so the two outputs can be compared line by
line. Each probe prints one `{"probe": name, "seen": ...}` line of plain data.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

ENGINE = sys.argv[1]
engine: Any = importlib.import_module(ENGINE)
Flow = engine.Flow
Task = engine.Task
Parameter = engine.Parameter
task = engine.task
state_module: Any = importlib.import_module(f"{ENGINE}.engine.state")
signals: Any = importlib.import_module(f"{ENGINE}.engine.signals")

PROBES: dict[str, Callable[[], Any]] = {}


def probe(fn: Callable[[], Any]) -> Callable[[], Any]:
    PROBES[fn.__name__] = fn
    return fn


def raised(fn: Callable[[], Any]) -> str | None:
    """The class name of what `fn()` raises, or None."""
    try:
        fn()
    except Exception as exc:
        return type(exc).__name__
    return None


def names(tasks: Any) -> list[str]:
    return sorted(t.name for t in tasks)


class Add(Task):
    def run(self, x: int, y: int = 1) -> int:
        return x + y


@probe
def flow_graph_queries() -> Any:
    a, b, c, d = (Task(name=n) for n in "abcd")
    flow = Flow("graph")
    edges = flow.chain(a, b, c)
    flow.add_task(d)
    return {
        "chain": [(e.upstream_task.name, e.downstream_task.name) for e in edges],
        "edges_to_type": type(flow.edges_to(b)).__name__,
        "edges_to_unknown": raised(lambda: flow.edges_to(Task())),
        "root": names(flow.root_tasks()),
        "terminal": names(flow.terminal_tasks()),
        "sorted_from_b": [t.name for t in flow.sorted_tasks(root_tasks=[b])],
        "sorted_type": type(flow.sorted_tasks()).__name__,
        "iter_is_sorted": tuple(flow) == flow.sorted_tasks(),
        "slugs": sorted(flow.slugs.values()),
        "task_slug": a.slug,
        "by_type": names(flow.get_tasks(task_type=Task)),
        "by_slug": names(flow.get_tasks(slug="b-1")),
        "logger": [isinstance(flow.logger, logging.Logger), flow.logger.name.split(".")[-1]],
        "edge_into_parameter": raised(lambda: flow.add_edge(a, Parameter("p"))),
    }


@probe
def flow_cycles_are_found_by_validate() -> Any:
    a, b = Task(name="a"), Task(name="b")
    flow = Flow("cycle")
    flow.add_edge(a, b)
    return {
        "eager": raised(lambda: flow.add_edge(b, a, validate=True)),
        "lazy": raised(lambda: flow.add_edge(b, a)),
        "validate": raised(flow.validate),
    }


@probe
def flow_copy_replace_update() -> Any:
    a, b, c = Task(name="a"), Task(name="b"), Task(name="c")
    flow = Flow("edit")
    flow.chain(a, b, c)
    flow.set_reference_tasks([b])
    copied = flow.copy()
    equal_at_first = copied == flow
    flow.add_edge(Task(name="x"), Task(name="y"))
    new_b = Task(name="new_b")
    copied.replace(b, new_b)
    other = Flow("other")
    p_other = Parameter("p")
    other.add_edge(p_other, Task(name="z"))
    mine = Flow("mine")
    p_mine = Parameter("p")
    mine.add_edge(p_mine, Task(name="w"))
    mine.update(other, merge_parameters=True)
    return {
        "equal_at_first": equal_at_first,
        "sizes": [len(flow.tasks), len(copied.tasks), len(flow.edges), len(copied.edges)],
        "replaced_edges": sorted(
            (e.upstream_task.name, e.downstream_task.name) for e in copied.edges
        ),
        "replaced_reference": names(copied.reference_tasks()),
        "original_reference": names(flow.reference_tasks()),
        "updated": names(mine.tasks),
        "merged_parameter_is_theirs": p_other in mine.tasks and p_mine not in mine.tasks,
        "unknown_replace": raised(lambda: flow.replace(Task(), Task())),
    }


@probe
def reference_tasks_must_be_in_the_flow() -> Any:
    return raised(lambda: Flow("ref", reference_tasks=[Task()]))


@probe
def task_defaults_and_copies() -> Any:
    plain = Task()
    slugged = Task(slug="s")
    retrying = Task(max_retries=2, retry_delay=datetime.timedelta(seconds=3))
    cached = Task(cache_for=datetime.timedelta(minutes=1))
    return {
        "name": plain.name,
        "slug": plain.slug,
        "tags": sorted(plain.tags),
        "copy_slug": slugged.copy().slug,
        "copy_slug_given": slugged.copy(slug="t").slug,
        "copy_unknown": raised(lambda: plain.copy(nonsense=1)),
        "retry_delay": repr(retrying.retry_delay),
        "validator": plain.cache_validator.__name__,
        "validator_with_cache_for": cached.cache_validator.__name__,
        "delay_without_retries": raised(lambda: Task(retry_delay=datetime.timedelta(1))),
        "retry_on_without_retries": raised(lambda: Task(retry_on=ValueError)),
        "retry_on_instance": raised(
            lambda: Task(max_retries=1, retry_delay=datetime.timedelta(0), retry_on=ValueError())
        ),
        "logger": [isinstance(plain.logger, logging.Logger), plain.logger.name.split(".")[-1]],
        "inputs": {
            k: {**v, "type": getattr(v["type"], "__name__", str(v["type"]))}
            for k, v in Add().inputs().items()
        },
        "outputs": str(Add().outputs()),
        "not_iterable": raised(lambda: list(Task())),
        "signature": [
            (name, str(p.kind)) for name, p in inspect.signature(Add()).parameters.items()
        ],
        "class_signature_has_name": "name" in inspect.signature(Add).parameters,
    }


@probe
def task_dependencies_with_flow_argument() -> Any:
    flow = Flow("deps")
    a, b, c = Task(name="a"), Task(name="b"), Task(name="c")
    up = b.set_upstream(a, flow=flow)
    down = b.set_downstream(c, flow=flow)
    return {
        "returns_self": [up is b, down is b],
        "edges": sorted((e.upstream_task.name, e.downstream_task.name) for e in flow.edges),
        "no_flow": raised(lambda: Task().set_upstream(Task())),
    }


@probe
def operators_build_tasks() -> Any:
    @task
    def number(n: int) -> int:
        return n

    @task
    def pair() -> tuple[int, int]:
        return (7, 8)

    @task
    def add_one(x: int, y: int = 1) -> int:
        return x + y

    with Flow("ops") as flow:
        a, b = number(6), number(3)
        first, second = pair(task_args={"nout": 2})
        built = {
            "add": a + b,
            "radd": 1 + a,
            "sub": a - b,
            "rsub": 10 - a,
            "mul": a * b,
            "div": a / b,
            "floordiv": a // b,
            "mod": a % b,
            "pow": a**2,
            "and": a & b,
            "gt": a > b,
            "ge": a >= 6,
            "lt": a < b,
            "le": a <= b,
            "item": pair()[1],
            "equal": a.is_equal(6),
            "not_equal": a.is_not_equal(6),
            "not": a.not_(),
            "or": a.or_(0),
            "first": first,
            "second": second,
            "pipe": a.pipe(add_one, y=4),
        }
    state = flow.run()
    return {
        "results": {k: state.result[t].result for k, t in built.items()},
        "item_name": built["item"].name,
        "pipe_unmapped": type(a.pipe(engine.unmapped)).__name__,
    }


@probe
def retry_on_only_those_exceptions() -> Any:
    calls: dict[str, int] = {"value": 0, "type": 0}
    zero = datetime.timedelta(0)

    @task(max_retries=2, retry_delay=zero, retry_on=ValueError)
    def raises_value() -> None:
        calls["value"] += 1
        raise ValueError("again")

    @task(max_retries=2, retry_delay=zero, retry_on=[ValueError])
    def raises_type() -> None:
        calls["type"] += 1
        raise TypeError("no retry")

    with Flow("retry-on") as flow:
        raises_value()
        raises_type()
    state = flow.run()
    return {"calls": calls, "flow": type(state).__name__}


@probe
def states_parents_and_children() -> Any:
    Failed, TimedOut, Success = (
        state_module.Failed,
        state_module.TimedOut,
        state_module.Success,
    )
    return {
        "failed_children": sorted(Failed.children(names_only=True)),
        "failed_children_self": sorted(Failed.children(include_self=True, names_only=True)),
        "timed_out_parents": sorted(TimedOut.parents(names_only=True)),
        "success_parents_self": sorted(Success.parents(include_self=True, names_only=True)),
        "classes": Failed.children()[0].__name__,
    }


@probe
def states_load_stored_results() -> Any:
    import tempfile

    results: Any = importlib.import_module(f"{ENGINE}.engine.results")
    stored = results.LocalResult(dir=tempfile.mkdtemp()).write(42)

    def at_location() -> Any:
        return results.LocalResult(dir=stored.dir, location=stored.location)

    single = state_module.Success(result=at_location())
    before = single.result
    mapped = state_module.Mapped(map_states=[state_module.Success(result=at_location())])
    cached = state_module.Success(result=1, cached_inputs={"x": at_location()})
    return {
        "before": before,
        "single": single.load_result().result,
        "mapped": mapped.load_result().result,
        "cached_input": cached.load_cached_results().cached_inputs["x"].value,
    }


@probe
def context_outside_and_inside() -> Any:
    ctx = engine.context
    outside = ctx.get("logger")
    with Flow("ctx") as flow:
        inside = ctx.get("flow") is flow
    with ctx(answer=42):
        scoped = (ctx.answer, ctx.get("answer"), "answer" in ctx.to_dict())
    return {
        "logger": isinstance(outside, logging.Logger),
        "flow_inside": inside,
        "flow_after": "flow" in ctx,
        "scoped": list(scoped),
        "after": ctx.get("answer"),
    }


@probe
def run_state_and_names() -> Any:
    seen: dict[str, Any] = {}

    @task(task_run_name="item-{x}")
    def named(x: int) -> int:
        seen.setdefault("task_run_names", []).append(engine.context.get("task_run_name"))
        return x

    @task
    def look() -> None:
        seen["flow_run_name"] = engine.context.get("flow_run_name")

    with Flow("names") as flow:
        named.map([1, 2])
        look()
    flow.run(flow_run_name="my-run")
    finished = flow.run(state=state_module.Success("given"))

    def to_failed(flow: Any, state: Any, reference: Any) -> Any:
        seen["reference_states"] = sorted(type(s).__name__ for s in reference)
        return state_module.Failed("decided by the handler", result=state.result)

    decided = Flow("terminal", tasks=[Task()], terminal_state_handler=to_failed).run()
    return {
        "task_run_names": sorted(seen["task_run_names"]),
        "flow_run_name": seen["flow_run_name"],
        "given_state": [type(finished).__name__, finished.message],
        "given_state_tasks": sorted(
            (t.name, type(s).__name__, s.message) for t, s in finished.result.items()
        ),
        "terminal": [type(decided).__name__, decided.message, seen["reference_states"]],
    }


@probe
def parameters_as_run_keywords() -> Any:
    with Flow("kw") as flow:
        x = Parameter("x")
        out = Add()(x)
    state = flow.run(x=4)
    return state.result[out].result


if __name__ == "__main__":
    for probe_name, fn in PROBES.items():
        print(json.dumps({"probe": probe_name, "seen": fn()}, default=repr))
