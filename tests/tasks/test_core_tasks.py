"""The core task library and the functional API helpers: collections of task results,
operators on tasks, `apply_map`, `tags`, resource managers and `DateTimeParameter`. Expected
values were measured on Prefect 1.4.1 with the same flows."""

from __future__ import annotations

import datetime
import pickle
from typing import Any

import pytest

import flowlight
from flowlight import Flow, apply_map, case, resource_manager, tags, task, unmapped
from flowlight.core.parameter import DateTimeParameter
from flowlight.tasks.core.operators import NO_DEFAULT, GetAttr, GetItem


@task
def one() -> int:
    return 1


@task
def two() -> int:
    return 2


@task
def echo(x: Any) -> Any:
    return x


@task
def inc(x: int) -> int:
    return x + 1


def test_collections_of_tasks_are_assembled_from_their_results() -> None:
    with Flow("collections") as flow:
        as_list = echo([one(), two(), 3])
        as_tuple = echo((one(), 5))
        as_set = echo({one(), two()})
        as_dict = echo({"a": one(), "b": 2})
    state = flow.run()
    assert state.result[as_list].result == [1, 2, 3]
    assert state.result[as_tuple].result == (1, 5)
    assert state.result[as_set].result == {1, 2}
    assert state.result[as_dict].result == {"a": 1, "b": 2}
    assert {"List", "Tuple", "Set", "Dict"} <= {t.name for t in flow.tasks}


def test_operators_on_tasks_build_tasks_evaluated_at_run_time() -> None:
    with Flow("operators") as flow:
        x, y = one(), two()
        built = {
            "x + y": x + y,
            "5 - x": 5 - x,
            "y ** 3": y**3,
            "y // 2": y // 2,
            "x > y": x > y,
            "x <= 1": x <= 1,
            "x == 1": x.is_equal(1),
            "not x": x.not_(),
            "x or 0": x.or_(0),
        }
    state = flow.run()
    assert {k: state.result[t].result for k, t in built.items()} == {
        "x + y": 3,
        "5 - x": 4,
        "y ** 3": 8,
        "y // 2": 1,
        "x > y": False,
        "x <= 1": True,
        "x == 1": True,
        "not x": False,
        "x or 0": 1,
    }


def test_getitem_and_getattr_tasks_take_a_default() -> None:
    @task
    def record() -> dict[str, int]:
        return {"a": 1}

    with Flow("items") as flow:
        r = record()
        found = r["a"]
        fallback = GetItem(default=7)(r, "missing")
        missing = r["missing"]
        attr = GetAttr(default="none")(r, "nope")
    state = flow.run()
    assert found.name == "record['a']"
    assert state.result[found].result == 1
    assert state.result[fallback].result == 7
    assert state.result[missing].is_failed()
    assert state.result[attr].result == "none"
    assert pickle.loads(pickle.dumps(NO_DEFAULT)) is NO_DEFAULT


def test_a_pipe_between_tasks_orders_them() -> None:
    with Flow("pipe") as flow:
        a, b = one(), two()
        assert (a | b) is b
    assert flow.upstream_tasks(b) == {a}


def test_apply_map_maps_everything_the_function_builds() -> None:
    """Each mapped item goes through inc, then a case on evenness, then inc again."""

    @task
    def is_even(x: int) -> bool:
        return x % 2 == 0

    def per_item(x: Any) -> Any:
        y = inc(x)
        with case(is_even(y), True):
            z = inc(y)
        return z

    with Flow("apply_map") as flow:
        result = apply_map(per_item, [1, 2, 3])
        offset = apply_map(lambda x, y: inc(x) + y, [1, 2], y=unmapped(10))
    state = flow.run()
    assert [(type(s).__name__, s.result) for s in state.result[result].map_states] == [
        ("Success", 3),
        ("Skipped", None),
        ("Success", 5),
    ]
    assert [s.result for s in state.result[offset].map_states] == [12, 13]
    with pytest.raises(TypeError, match="Cannot map over non-sequence object of type `int`"):
        apply_map(inc, 5, flow=flow)


def test_tags_apply_to_tasks_made_or_called_inside_the_block() -> None:
    with Flow("tags") as flow:
        with tags("outer"):
            with tags("inner"):
                inner = inc(1)
            outer = one()
        untagged = two()
    assert inner.tags == {"inner", "outer"}
    assert outer.tags == {"outer"}
    assert untagged.tags == set()
    assert flow.tasks >= {inner, outer, untagged}


def test_a_resource_is_cleaned_up_after_its_block_even_when_a_task_fails() -> None:
    log: list[Any] = []

    @resource_manager
    class Workspace:
        def __init__(self, n: int) -> None:
            self.n = n

        def setup(self) -> int:
            log.append("setup")
            return self.n * 10

        def cleanup(self, resource: int) -> None:
            log.append(("cleanup", resource))

    @task
    def use(r: int) -> int:
        log.append(("use", r))
        return r

    @task
    def boom(r: int) -> None:
        raise ValueError("boom")

    with Flow("resource") as flow:
        with Workspace(4) as resource:
            used = use(resource)
            failed = boom(resource)
        after = inc(used)
    state = flow.run()
    assert log == ["setup", ("use", 40), ("cleanup", 40)]
    assert state.result[failed].is_failed() and state.result[after].result == 41
    cleanup = next(t for t in flow.tasks if t.name == "Workspace.cleanup")
    assert state.result[cleanup].is_successful()
    assert {t.name for t in flow.upstream_tasks(cleanup)} == {
        "Workspace",
        "Workspace.setup",
        "use",
        "boom",
    }


def test_a_resource_manager_needs_a_flow() -> None:
    manager = resource_manager(dict, name="plain")
    with pytest.raises(ValueError, match="called outside a flow"):
        manager()


def test_datetime_parameter_parses_strings_and_converts_datetimes() -> None:
    with Flow("dates") as flow:
        when = DateTimeParameter("when")
        seen = echo(when)
    parsed = flow.run(parameters={"when": "2021-03-04T05:06:07-05:00"}).result[seen].result
    assert parsed.isoformat() == "2021-03-04T05:06:07-05:00"
    given = datetime.datetime(2021, 3, 4, 5, 6, 7)
    converted = flow.run(parameters={"when": given}).result[seen].result
    assert converted.isoformat() == "2021-03-04T05:06:07+00:00"
    failed = flow.run(parameters={"when": "not a date"}).result[when]
    assert failed.is_failed()
    assert DateTimeParameter("d").required  # Prefect 1.4.1's default, even with a default


def test_the_annotations_have_one_home_and_prefect_1_paths() -> None:
    from flowlight.core import edge
    from flowlight.utilities import edges

    assert flowlight.mapped is edges.mapped is edge.mapped
    assert flowlight.unmapped is edges.unmapped and flowlight.flatten is edges.flatten


def test_constants_in_upstream_tasks_become_constant_tasks() -> None:
    """Prefect 1 wraps a non-task upstream dependency as a Constant task instead of refusing it."""
    from flowlight.core.task import Constant, FunctionTask

    with Flow("constant upstream") as flow:
        downstream = one()
        flow.set_dependencies(downstream, upstream_tasks=[4])
    constants = [t for t in flow.tasks if isinstance(t, Constant)]
    assert len(constants) == 1 and constants[0].value == 4
    assert flow.upstream_tasks(downstream) == set(constants)
    assert flow.run().result[downstream].result == 1
    undocumented = FunctionTask(lambda x: x)
    assert undocumented.__doc__ is not None and "FunctionTask" in undocumented.__doc__


def test_apply_map_refuses_a_map_inside_the_mapped_function() -> None:
    def maps_again(x: Any) -> Any:
        return inc.map([x])

    with Flow("nested"), pytest.raises(ValueError, match="inside a mapped context"):
        apply_map(maps_again, [1, 2])
    with pytest.raises(ValueError, match="Couldn't infer a flow"):
        apply_map(inc, [1])


def test_apply_map_inside_a_case_and_a_resource_block() -> None:
    """The mapped function's tasks join the surrounding block; its scratch flow does not."""

    @resource_manager
    class Offset:
        def setup(self) -> int:
            return 1

        def cleanup(self, resource: int) -> None:
            return None

    @task
    def add(x: int, y: int) -> int:
        return x + y

    def per_item(x: Any, a: Any) -> Any:
        return add(x, a)

    with Flow("blocks") as flow:
        branch = flowlight.Parameter("branch")
        with case(branch, True), Offset() as offset:
            shifted = apply_map(per_item, [0, 1, 2], unmapped(offset))
    assert [s.result for s in flow.run(branch=True).result[shifted].map_states] == [1, 2, 3]
    assert flow.run(branch=False).result[shifted].is_skipped()


def test_resource_bookkeeping_is_not_what_decides_the_flow_state() -> None:
    """Init and cleanup tasks are never default reference tasks, and a task followed only by
    the cleanup is terminal (Prefect 1.4.1's rule)."""

    @resource_manager
    class Session:
        def setup(self) -> int:
            return 1

        def cleanup(self, resource: int) -> None:
            raise RuntimeError("cleanup failed")

    with Flow("references") as flow:
        with Session() as session:
            last_inside = inc(session)
        after = inc(last_inside)
        alone = one()
    assert flow.reference_tasks() == {after, alone}
    assert flow.run().is_successful()  # the failed cleanup does not fail the run


def test_a_resumed_run_sets_the_resource_up_again() -> None:
    from flowlight.engine.state import Success

    calls: list[str] = []

    @resource_manager
    class Session:
        def setup(self) -> int:
            calls.append("setup")
            return 1

        def cleanup(self, resource: int) -> None:
            calls.append("cleanup")

    with Flow("resume") as flow:
        context = Session()
        with context as session:
            first = inc(session)
            second = inc(session)
    given = {
        context.setup_task: Success(),
        context.cleanup_task: Success(),
        first: Success(result=2),
    }
    state = flow.run(task_states=given)
    assert calls == ["setup", "cleanup"]
    assert state.result[second].result == 2


def test_string_formatter_fills_its_template_from_the_context_and_its_arguments() -> None:
    from flowlight.tasks.templates import StringFormatter

    with Flow("fmt") as flow:
        named = StringFormatter(template="{flow_name}/{task_name}: {x}", name="fmtr")(x=5)
        given = StringFormatter()(template="{y}!", y="hi")
    state = flow.run()
    assert (state.result[named].result, state.result[given].result) == ("fmt/fmtr: 5", "hi!")
