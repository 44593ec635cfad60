"""Facts about schedules, results, serializers, targets and checkpoints, control flow and the
core task library, printed as one JSON object by the engine named on the command line:
`python module_facts.py prefect|flowlight OUT.json`.

Written once against Prefect 1's API (the engine is the import in `load()`), so a port is the
change of imports; tests/prefect1/test_module_facts.py runs it on Prefect 1.4.1 and on flowlight
and compares the two files fact by fact. Cron clocks are left out: Prefect 1.4.1's CronClock does
not run with pendulum 3, which the comparison venv has (tests/test_schedule_clocks.py keeps the
cron times measured on Prefect 1.4.1 with pendulum 2).
"""

import datetime
import importlib
import itertools
import json
import os
import sys
import tempfile
from types import SimpleNamespace
from typing import Any

FACTS: dict[str, Any] = {}


def fact(name: str, value: Any) -> None:
    FACTS[name] = value


def outcome(action: Any) -> Any:
    """What calling `action` gave, or the name of the exception it raised."""
    try:
        return action()
    except Exception as exc:
        return f"raised {type(exc).__name__}"


def load(name: str) -> SimpleNamespace:
    def module(path: str) -> Any:
        return importlib.import_module(f"{name}.{path}")

    return SimpleNamespace(
        root=importlib.import_module(name),
        clocks=module("schedules.clocks"),
        filters=module("schedules.filters"),
        adjustments=module("schedules.adjustments"),
        schedules=module("schedules.schedules"),
        result=module("engine.result"),
        results=module("engine.results"),
        serializers=module("engine.serializers"),
        control_flow=module("tasks.control_flow"),
        collections=module("tasks.core.collections"),
        operators=module("tasks.core.operators"),
        parameter=module("core.parameter"),
        utilities=module("utilities.collections"),
    )


def iso(times: Any) -> list[str]:
    return [getattr(t, "start_time", t).isoformat() for t in times]


def pendulum_datetime(*args: int, tz: str = "UTC") -> Any:
    import pendulum

    return pendulum.datetime(*args, tz=tz)


def schedule_facts(e: SimpleNamespace) -> None:
    clocks, filters, adjustments = e.clocks, e.filters, e.adjustments
    day, hour = datetime.timedelta(days=1), datetime.timedelta(hours=1)
    ny = "America/New_York"
    start = pendulum_datetime(2018, 1, 1)
    fact(
        "interval: after between two starts",
        iso(
            itertools.islice(
                clocks.IntervalClock(day, start).events(pendulum_datetime(2025, 1, 5, 1)), 3
            )
        ),
    )
    fact(
        "interval: before the start date",
        iso(
            itertools.islice(
                clocks.IntervalClock(hour, start).events(pendulum_datetime(2000, 1, 1)), 2
            )
        ),
    )
    fact(
        "interval: end date",
        iso(clocks.IntervalClock(day, start, end_date=start.add(days=1)).events(after=start)),
    )
    for label, when, step in [
        ("hourly, clocks forward", pendulum_datetime(2018, 3, 10, 23, tz=ny), hour),
        ("hourly, clocks back", pendulum_datetime(2018, 11, 3, 23, tz=ny), hour),
        ("daily, clocks forward", pendulum_datetime(2018, 3, 8, 9, tz=ny), day),
    ]:
        events = clocks.IntervalClock(step, start_date=when).events(after=when)
        fact(f"interval: {label}", iso(itertools.islice(events, 4)))
    fact("interval: not a timedelta", outcome(lambda: clocks.IntervalClock(None)))
    fact("interval: zero", outcome(lambda: clocks.IntervalClock(datetime.timedelta(0))))
    dates = [start.add(days=2), start, start.add(days=1)]
    dated = clocks.DatesClock(dates, parameter_defaults={"x": 1}, labels=["a"])
    fact("dates: bounds", iso([dated.start_date, dated.end_date]))
    fact(
        "dates: events carry defaults and labels",
        [
            (e_.start_time.isoformat(), e_.parameter_defaults, e_.labels)
            for e_ in dated.events(start)
        ],
    )
    event = clocks.ClockEvent(start, parameter_defaults={"a": 1})
    fact(
        "clock event comparisons",
        [
            event == start,
            event < start.add(days=1),
            event > start,
            event == clocks.ClockEvent(start),
        ],
    )
    fact("clock event vs int", outcome(lambda: event < 1))
    fact("base clock", outcome(lambda: next(clocks.Clock().events())))

    schedule = e.schedules.Schedule(
        clocks=[clocks.IntervalClock(hour)],
        filters=[filters.is_weekday],
        or_filters=[
            filters.between_times(datetime.time(9), datetime.time(9)),
            filters.at_time(datetime.time(15)),
        ],
        not_filters=[filters.between_dates(1, 8, 1, 8)],
        adjustments=[adjustments.add(datetime.timedelta(hours=3)), adjustments.next_weekday],
    )
    fact(
        "schedule: filters and adjustments",
        iso(schedule.next(8, after=pendulum_datetime(2019, 1, 3))),
    )
    two = e.schedules.Schedule(
        clocks=[
            clocks.IntervalClock(day),
            clocks.IntervalClock(
                datetime.timedelta(hours=12),
                start_date=pendulum_datetime(2019, 1, 3),
                parameter_defaults={"p": 2},
            ),
        ]
    )
    fact(
        "schedule: merged clocks with events",
        [
            (x.start_time.isoformat(), x.parameter_defaults)
            for x in two.next(6, after=pendulum_datetime(2019, 1, 1), return_events=True)
        ],
    )
    fact("schedule: bounds", [str(two.start_date), str(two.end_date)])
    fact("schedule: empty", e.schedules.Schedule(clocks=[]).next(3))
    fact(
        "schedule: clocks not a list",
        outcome(lambda: e.schedules.Schedule(clocks=clocks.IntervalClock(day))),
    )
    fact("IntervalSchedule without interval", outcome(lambda: e.schedules.IntervalSchedule()))
    fact(
        "IntervalSchedule next",
        iso(
            e.schedules.IntervalSchedule(interval=day).next(2, after=pendulum_datetime(2019, 1, 1))
        ),
    )
    days = [pendulum_datetime(2019, 1, 1).add(days=i) for i in range(62)]
    for name in ["is_weekday", "is_weekend", "is_month_end", "is_month_start"]:
        fact(f"filter {name}", [d.day for d in days if getattr(filters, name)(d)])
    fact("filter is_day_of_week(2)", [d.day for d in days[:7] if filters.is_day_of_week(2)(d)])
    fact(
        "filter between_dates wraps",
        [d.day for d in days if filters.between_dates(10, 15, 1, 9)(d)],
    )
    hours = [pendulum_datetime(2019, 1, 1).add(hours=i) for i in range(24)]
    fact(
        "filter between_times wraps",
        [h.hour for h in hours if filters.between_times(datetime.time(22), datetime.time(2))(h)],
    )
    fact("filter on_date", [d.day for d in days[:5] if filters.on_date(1, 3)(d)])
    fact(
        "adjustment next_weekday keeps local time",
        adjustments.next_weekday(pendulum_datetime(2019, 1, 5, 9, tz=ny)).isoformat(),
    )


def result_facts(e: SimpleNamespace, home: str) -> None:
    Result, results, serializers = e.result.Result, e.results, e.serializers
    fact("result: repr", repr(Result(3)))
    fact(
        "result: equality",
        [
            Result(3) == Result(3),
            Result(3) == Result(4),
            Result(3, location="a") == Result(3),
            Result(3) == 3,
        ],
    )
    fact(
        "result: NoResult",
        [e.result.NoResult.value, type(e.result.NoResult).__name__, e.result.NoResult == Result()],
    )
    fact("result: format", Result(location="{a}/{b}.txt").format(a=1, b=2).location)
    fact(
        "result: callable location",
        [
            Result(location=lambda **k: "x").location,
            Result(location=lambda **k: "x" + str(k["a"])).format(a=1).location,
        ],
    )
    moved = Result(1, location="x").from_value(2)
    fact("result: from_value", [moved.value, moved.location])
    for op in ["read", "write", "exists"]:
        fact(f"result: base {op}", outcome(lambda op=op: getattr(Result(), op)("x")))
    local = results.LocalResult(dir=home, location="{x}.bin")
    written = local.write({"a": 1}, x="foo")
    fact("local: write", [written.value, os.path.relpath(written.location, home), local.location])
    fact(
        "local: exists",
        [local.exists("{x}.bin", x="foo"), local.exists("foo.bin"), local.exists("nope")],
    )
    fact("local: read", [local.read("foo.bin").value, local.read(written.location).value])
    fact("local: no validation", results.LocalResult(dir="relative/x", validate_dir=False).dir)
    json_result = results.PrefectResult()
    fact(
        "prefect result: write",
        [json_result.write({"a": [1, 2]}).location, json_result.write(3).value],
    )
    fact(
        "prefect result: read",
        [json_result.read('{"a": 1}').value, json_result.read("[1]").location],
    )
    fact(
        "prefect result: exists",
        [json_result.exists("[1]"), json_result.exists("{bad"), json_result.exists(42)],
    )
    fact(
        "prefect result: pickle refused",
        outcome(lambda: results.PrefectResult(serializer=serializers.PickleSerializer())),
    )
    dated = results.PrefectResult(serializer=serializers.DateTimeSerializer())
    fact(
        "prefect result: datetime",
        dated.write(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)).location,
    )
    constant = results.ConstantResult(value=5)
    fact(
        "constant result",
        [constant.read("x") is constant, constant.exists("y"), outcome(lambda: constant.write(3))],
    )
    fact(
        "constant result: serializer",
        outcome(lambda: results.ConstantResult(serializer=serializers.JSONSerializer())),
    )
    for ser in [
        serializers.PickleSerializer(),
        serializers.JSONSerializer(),
        serializers.CompressedSerializer(serializers.PickleSerializer(), format="bz2"),
    ]:
        fact(
            f"serializer round trip: {type(ser).__name__}",
            ser.deserialize(ser.serialize({"x": [1, 2]})),
        )
    fact(
        "serializer equality",
        [
            serializers.PickleSerializer() == serializers.PickleSerializer(),
            serializers.PickleSerializer() == serializers.JSONSerializer(),
        ],
    )
    fact(
        "compressed: no way to compress",
        outcome(lambda: serializers.CompressedSerializer(serializers.PickleSerializer())),
    )
    fact(
        "compressed: not a module",
        outcome(
            lambda: serializers.CompressedSerializer(
                serializers.PickleSerializer(), format="no_such_module_here"
            )
        ),
    )


def run_facts(e: SimpleNamespace, home: str) -> None:
    """Targets and checkpoints in real flow runs."""
    P, LocalResult = e.root, e.results.LocalResult
    calls: list[Any] = []

    @P.task(target="{task_name}-{x}.bin", result=LocalResult(dir=home))
    def with_target(x):
        calls.append("with_target")
        return x * 2

    @P.task(result=LocalResult(dir=home, location="plain-{task_run_count}.bin"))
    def plain():
        calls.append("plain")
        return "p"

    @P.task(checkpoint=False, result=LocalResult(dir=home, location="never.bin"))
    def opted_out():
        calls.append("opted_out")
        return "n"

    with P.Flow("results") as flow:
        tasks = [with_target(3), plain(), opted_out()]

    def run(label: str, **context: Any) -> None:
        with P.context(**context):
            state = flow.run()
        fact(
            f"{label}: states",
            sorted(
                (
                    t.name,
                    type(state.result[t]).__name__,
                    state.result[t].message,
                    state.result[t].result,
                    type(state.result[t]._result).__name__,
                )
                for t in tasks
            ),
        )
        fact(f"{label}: files", sorted(f for f in os.listdir(home) if not f.startswith(".")))
        fact(f"{label}: ran", sorted(calls))
        calls.clear()

    run("no checkpointing")
    run("checkpointing", checkpointing=True)
    run("target found", checkpointing=True)


def control_flow_facts(e: SimpleNamespace) -> None:
    P, cf = e.root, e.control_flow

    @P.task
    def condition(x):
        return x

    @P.task
    def branch_a():
        return "A"

    @P.task
    def branch_b():
        return "B"

    @P.task
    def shout(x):
        return x + "!"

    def outcome_of(flow: Any) -> list[Any]:
        state = flow.run()
        return sorted(
            (
                t.name,
                type(s).__name__,
                type(s.result).__name__ if isinstance(s.result, BaseException) else s.result,
            )
            for t, s in state.result.items()
        )

    for value in ["a", "b", "z"]:
        with P.Flow("case") as flow:
            chosen = condition(value)
            with P.case(chosen, "a"):
                loud = shout(branch_a())
            with P.case(chosen, "b"):
                b = branch_b()
            cf.merge(loud, b)
        fact(f"case {value}", outcome_of(flow))
    for truth in [1, 0]:
        with P.Flow("ifelse") as flow:
            a, b = branch_a(), branch_b()
            cf.ifelse(condition(truth), a, b)
            cf.merge(a, b)
        fact(f"ifelse {truth}", outcome_of(flow))
    with P.Flow("switch") as flow:
        a, b = branch_a(), branch_b()
        cf.switch(condition("y"), {"x": a, "y": b})
    fact("switch", outcome_of(flow))
    fact("case with a task value", outcome(lambda: P.case(branch_a, branch_b)))
    fact("merge that skips", outcome(lambda: cf.merge(branch_a, skip_on_upstream_skip=True)))

    @P.task
    def maybe(x):
        if x == 2:
            raise ValueError("two")
        return None if x == 3 else x

    with P.Flow("filter") as flow:
        kept = cf.FilterTask()(maybe.map([1, 2, 3, 4]))
    fact("filter task", flow.run().result[kept].result)


def library_facts(e: SimpleNamespace) -> None:
    P = e.root

    @P.task
    def one():
        return 1

    @P.task
    def two():
        return 2

    @P.task
    def echo(x):
        return x

    @P.task
    def inc(x):
        return x + 1

    with P.Flow("collections") as flow:
        built = [
            echo([one(), two(), 3]),
            echo((one(), 5)),
            echo({"a": one(), "b": 2}),
            echo(dict(a=[one(), dict(y=two())], b=(two(), {one()}))),
        ]
    state = flow.run()
    fact("collections", [state.result[t].result for t in built[:3]])
    fact("nested collection", repr(state.result[built[3]].result))
    fact("collections: task count", len(flow.tasks))
    with P.Flow("operators") as flow:
        x, y = one(), two()
        ops = [
            x + y,
            5 - x,
            y**3,
            y // 2,
            y % 2,
            x & y,
            True & x,
            x > y,
            10 > y,  # noqa: SIM300  (the reflected operator is what is checked)
            x <= 1,
            x.is_equal(1),
            x.is_not_equal(1),
            x.not_(),
            x.or_(0),
            x["missing"] if False else y / 2,
        ]
    state = flow.run()
    fact("operators", [state.result[t].result for t in ops])
    fact("operator task names", sorted(t.name for t in ops))
    with P.Flow("items") as flow:
        record = echo({"a": 1})
        items = [record["a"], e.operators.GetItem(default=7)(record, "zz"), record["zz"]]
    state = flow.run()
    fact("getitem", [(t.name, type(state.result[t]).__name__) for t in items])
    with P.Flow("pipe") as flow:
        a, b = one(), two()
        a | b | 3
    fact(
        "pipe edges",
        sorted((edge.upstream_task.name, edge.downstream_task.name) for edge in flow.edges),
    )

    @P.task
    def is_even(x):
        return x % 2 == 0

    def per_item(x):
        y = inc(x)
        with P.case(is_even(y), True):
            z = inc(y)
        return z

    with P.Flow("apply_map") as flow:
        mapped = P.apply_map(per_item, [1, 2, 3])
        offset = P.apply_map(lambda x, y: inc(x) + y, [1, 2], y=P.unmapped(10))
    state = flow.run()
    fact("apply_map", [(type(s).__name__, s.result) for s in state.result[mapped].map_states])
    fact("apply_map unmapped", [s.result for s in state.result[offset].map_states])
    fact("apply_map of a non-sequence", outcome(lambda: P.apply_map(inc, 5, flow=flow)))
    with P.Flow("tags"), P.tags("outer"):
        with P.tags("inner"):
            inner = inc(1)
        outer = one()
    fact("tags", [sorted(inner.tags), sorted(outer.tags)])

    log: list[Any] = []

    @P.resource_manager
    class Workspace:
        def __init__(self, n):
            self.n = n

        def setup(self):
            log.append("setup")
            return self.n * 10

        def cleanup(self, resource):
            log.append(["cleanup", resource])

    @P.task
    def boom(r):
        raise ValueError("boom")

    with P.Flow("resource") as flow:
        with Workspace(4) as resource:
            used = echo(resource)
            boom(resource)
        inc(used)
    state = flow.run()
    fact(
        "resource manager",
        [log, sorted((t.name, type(s).__name__) for t, s in state.result.items())],
    )

    with P.Flow("dates") as flow:
        when = e.parameter.DateTimeParameter("when")
        seen = echo(when)
    fact(
        "datetime parameter",
        flow.run(parameters={"when": "2021-03-04T05:06:07-05:00"}).result[seen].result.isoformat(),
    )
    fact(
        "datetime parameter required",
        e.parameter.DateTimeParameter("d", default="2020-01-01").required,
    )

    D = e.utilities
    d = D.DotDict(a=1, b={"c": 2})
    fact("dotdict", [repr(d), d.to_dict(), D.merge_dicts({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}})])


def main() -> None:
    name, out = sys.argv[1], sys.argv[2]
    e = load(name)
    with tempfile.TemporaryDirectory() as home:
        schedule_facts(e)
        result_facts(e, os.path.join(home, "results"))
        run_facts(e, os.path.join(home, "runs"))
        control_flow_facts(e)
        library_facts(e)
    with open(out, "w") as f:
        json.dump(FACTS, f, indent=1, default=repr)


if __name__ == "__main__":
    main()
