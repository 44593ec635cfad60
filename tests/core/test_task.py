"""Tasks: the checks and warnings Prefect 1.4.1 gives while a flow is built, and the Parameter,
tags and nout behaviour it has (each compared live with Prefect in
tests/prefect1/test_parity_facts.py)."""

from __future__ import annotations

import datetime
import typing
import warnings

import pytest

import flowlight
from flowlight import Flow, Parameter, Task, task
from flowlight.core.task import Constant, FunctionTask


def test_retry_delay_without_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match=r"retry_delay=.* but no max_retries.*max_retries=N"):
        Task(name="late", retry_delay=datetime.timedelta(seconds=5))
    assert Task(max_retries=1, retry_delay=datetime.timedelta(0)).max_retries == 1


def test_a_task_class_whose_run_takes_star_args_is_refused_when_defined() -> None:
    with pytest.raises(ValueError, match=r"Task class Spread: run\(\) takes \*values"):

        class Spread(Task):
            def run(self, *values: int) -> int:  # type: ignore[override]
                return sum(values)


@pytest.mark.parametrize("reserved", ["upstream_tasks", "mapped", "task_args", "flow"])
def test_a_run_argument_with_a_reserved_name_is_refused(reserved: str) -> None:
    namespace: dict[str, typing.Any] = {}
    exec(f"def run(self, {reserved}): return {reserved}", namespace)
    with pytest.raises(ValueError, match=rf"run\(\) takes {reserved}, reserved"):
        type("Reserved", (Task,), {"run": namespace["run"]})


def test_a_decorated_function_is_checked_like_a_run_method() -> None:
    def spread(*values: int) -> int:
        return sum(values)

    def positional(x: int, /) -> int:
        return x

    with pytest.raises(ValueError, match=r"@task spread: run\(\) takes \*values"):
        task(spread)
    with pytest.raises(TypeError, match=r"positional-only parameters .* positional: \['x'\]"):
        task(positional)
    with pytest.raises(ValueError, match=r"can not be inspected: .*no signature Python can read"):
        task(max)


def test_tasks_made_in_a_flow_block_but_never_added_are_warned_about() -> None:
    forgotten = r"not added to flow 'forgot': \['<Parameter: p>'"
    with pytest.warns(UserWarning, match=forgotten), Flow("forgot"):
        Parameter("p")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Flow("used") as flow:
            x = Parameter("x")
            Task(name="added")(upstream_tasks=[x])
            Constant(3)  # a constant is a value, not a forgotten task
        assert len(flow.tasks) == 2


def test_no_unused_task_warning_when_the_block_ends_with_an_exception() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyError), Flow("broken"):
            Task(name="orphan")
            raise KeyError("building failed")


def test_a_task_given_to_a_task_classs_constructor_is_warned_about() -> None:
    class Scale(Task):
        def __init__(self, factor: typing.Any = 1, **kwargs: typing.Any) -> None:
            self.factor = factor
            super().__init__(**kwargs)

        def run(self, x: int) -> int:  # type: ignore[override]
            return x * self.factor

    with pytest.warns(UserWarning, match=r"A Task was passed as an argument to Scale: Scale\("):
        Scale(Task())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Scale(3)


def test_a_subclass_attribute_that_task_init_overwrites_is_warned_about() -> None:
    class Named(Task):
        def __init__(self) -> None:
            self.tags = {"mine"}
            super().__init__()

    with pytest.warns(UserWarning, match="`Named` sets a `tags` attribute"):
        Named()


def test_flow_run_inside_its_own_with_block_is_refused() -> None:
    with Flow("early") as flow:
        Task(name="t")()
        with pytest.raises(RuntimeError, match=r"inside `with Flow\('early'\)`"):
            flow.run()
    assert flow.run().is_successful()


def test_nout_is_inferred_from_a_fixed_length_tuple_annotation() -> None:
    @task
    def pair() -> tuple[int, str]:
        return 1, "a"

    @task
    def many() -> typing.Tuple[int, ...]:  # noqa: UP006
        return (1, 2)

    @task
    def nothing() -> typing.Tuple[()]:  # noqa: UP006
        return ()

    assert (pair.nout, many.nout, nothing.nout, task(lambda: 1).nout) == (2, None, 0, None)
    assert task(pair.run, nout=5).nout == 5
    with Flow("unpack") as flow:
        number, letter = pair()
    state = flow.run()
    assert (state.result[number].result, state.result[letter].result) == (1, "a")


def test_context_tags_apply_to_tasks_made_copied_and_bound_inside() -> None:
    @task(tags=["own"])
    def work() -> int:
        return 1

    made_outside = Task(name="plain")
    with flowlight.context(tags={"nightly"}):
        made = Task(name="made", tags=["x"])
        with Flow("tagged") as flow:
            called = work()
            made_outside.bind()
    assert made.tags == {"x", "nightly"}
    assert called.tags == {"own", "nightly"} and work.tags == {"own"}
    assert made_outside.tags == {"nightly"} and made_outside in flow.tasks
    assert Task(name="later").tags == set()


def test_calling_a_parameter_adds_it_and_copying_renames_it() -> None:
    source = Parameter("source", default="a")
    with Flow("params") as flow:
        assert source() is source
    assert flow.tasks == {source}
    renamed = source.copy("target")
    assert isinstance(renamed, Parameter)
    assert (renamed.name, renamed.slug, renamed.default) == ("target", "target", "a")
    assert source.name == "source"


def test_copying_a_task_that_has_edges_in_the_active_flow_warns() -> None:
    with Flow("copies") as flow:
        first = Task(name="first")()
        second = Task(name="second")(upstream_tasks=[first])
        with pytest.warns(UserWarning, match="You are making a copy .* in flow 'copies'"):
            flow.add_task(second.copy())


def test_a_cache_validator_without_cache_for_is_warned_about() -> None:
    from flowlight.engine import cache_validators

    with pytest.warns(UserWarning, match="will not be cached: .*cache_validator=all_inputs"):
        Task(cache_validator=cache_validators.all_inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Task(cache_validator=cache_validators.never_use)
        Task(cache_for=datetime.timedelta(1), cache_validator=cache_validators.all_inputs)


@pytest.mark.parametrize(
    ("arguments", "error", "says"),
    [
        ({"timeout": datetime.timedelta(seconds=-1)}, TypeError, "timeout=.*from 0 to"),
        ({"timeout": float("inf")}, TypeError, "timeout=inf"),
        ({"timeout": float("nan")}, TypeError, "timeout=nan"),
        ({"timeout": datetime.timedelta.max}, TypeError, "timeout=.*from 0 to"),
        ({"timeout": 1e10}, TypeError, "timeout=10000000000.0"),
        (
            {"max_retries": 1, "retry_delay": datetime.timedelta(seconds=-5)},
            TypeError,
            "retry_delay=.*from 0 to",
        ),
        ({"max_retries": "3"}, TypeError, "max_retries='3'; give a whole number"),
        ({"max_retries": 1.5}, TypeError, "max_retries=1.5; give a whole number"),
        ({"max_retries": True}, TypeError, "max_retries=True; give a whole number"),
        ({"max_retries": -1}, ValueError, "max_retries=-1; give a whole number, 0 or more"),
        ({"name": 123}, TypeError, "name=123; a task's name is a string"),
        ({"tags": [1, 2]}, TypeError, "each tag is a string, not 1"),
        ({"tags": "etl"}, TypeError, "not a string: .* tags='etl'; give a list of strings"),
        ({"tags": 5}, TypeError, "tags=5; tags takes a list of strings"),
        (
            {"max_retries": 1, "retry_delay": datetime.timedelta(0), "retry_on": "ValueError"},
            TypeError,
            "Invalid `retry_on` value 'ValueError'. .*exception classes such as ValueError",
        ),
        ({"on_failure": lambda task: None}, TypeError, "on_failure=.*cannot be called as"),
        ({"trigger": lambda a, b, c: True}, TypeError, "trigger=.*cannot be called as"),
    ],
)
def test_a_task_refuses_bad_arguments_when_it_is_made(
    arguments: dict[str, typing.Any], error: type[Exception], says: str
) -> None:
    """Each of these was accepted and failed only in the middle of a run, or deep inside the
    engine with a message that did not name the argument."""
    with pytest.raises(error, match=says):
        Task(**arguments)


def test_durations_up_to_the_longest_wait_and_callables_of_the_right_shape_are_kept() -> None:
    def notify(task: typing.Any, state: typing.Any) -> None:
        return None

    made = Task(
        timeout=datetime.timedelta(days=365),
        max_retries=2,
        retry_delay=0,
        retry_on=ValueError,
        on_failure=notify,
        trigger=flowlight.triggers.all_finished,
        tags=["etl"],
    )
    assert made.timeout == 365 * 86400 and made.max_retries == 2
    assert made.retry_on == {ValueError} and made.tags == {"etl"}


def test_flow_run_refuses_parameters_that_are_not_a_mapping() -> None:
    with pytest.raises(TypeError, match=r"parameters='p'; parameters takes a dict"):
        Flow("p", tasks=[Parameter("p")]).run(parameters="p")  # type: ignore[arg-type]


def test_a_flows_on_failure_is_checked_when_the_flow_is_made() -> None:
    with pytest.raises(TypeError, match=r"Flow 'f' has on_failure=.*cannot be called as"):
        Flow("f", on_failure=lambda flow: None)


def test_task_called_with_the_function_and_options_at_once_makes_the_task() -> None:
    """`task(fn, name=...)` and `task(fn=fn, ...)` make the task at once, as Prefect 1's do,
    instead of returning a decorator that a flow would then be given in place of a task."""

    def double(x: int) -> int:
        return 2 * x

    by_position = task(
        double, name="twice", max_retries=1, retry_delay=datetime.timedelta(seconds=1)
    )
    by_keyword = task(fn=double, name="twice again")
    assert isinstance(by_position, FunctionTask) and by_position.name == "twice"
    assert by_position.max_retries == 1
    assert isinstance(by_keyword, FunctionTask) and by_keyword.name == "twice again"
    with Flow("f") as flow:
        result = by_keyword(by_position(3))
    assert flow.run().result[result].result == 12


def test_a_timeout_is_whole_seconds_as_in_prefect_1() -> None:
    """Prefect 1 counts task timeouts in whole seconds: a float is refused with an error that
    suggests a whole number, and a timedelta is cut to its seconds with a warning."""
    with pytest.raises(TypeError, match=r"timeout=0.5, but timeouts are whole seconds.*timeout=1"):
        Task(timeout=0.5)
    assert Task(timeout=3).timeout == 3
    kept = Task(timeout=datetime.timedelta(minutes=1)).timeout
    assert kept == 60 and isinstance(kept, int)
    with pytest.warns(UserWarning, match="part under a second is dropped"):
        cut = Task(timeout=datetime.timedelta(seconds=2, milliseconds=500))
    assert cut.timeout == 2


def test_missing_retry_and_timeout_arguments_come_from_config_task_defaults() -> None:
    """A team can give every task a retry policy and a timeout in one place; an argument given
    to the task wins, and max_retries=0 alone turns a configured retry_delay off."""
    from flowlight.utilities.configuration import set_temporary_config

    plain = Task()
    assert (plain.max_retries, plain.retry_delay, plain.timeout) == (0, None, None)
    defaults = {
        "tasks.defaults.max_retries": 2,
        "tasks.defaults.retry_delay": 5,
        "tasks.defaults.timeout": 30,
    }
    with set_temporary_config(defaults):
        made = Task()
        assert made.max_retries == 2 and made.timeout == 30
        assert made.retry_delay == datetime.timedelta(seconds=5)
        own = Task(max_retries=0, timeout=4)
        assert (own.max_retries, own.retry_delay, own.timeout) == (0, None, 4)
    assert Task().max_retries == 0


def test_task_defaults_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """FLOWLIGHT__TASKS__DEFAULTS__* set the defaults; `false` means none, as in Prefect 1's
    configuration file."""
    monkeypatch.setenv("FLOWLIGHT__TASKS__DEFAULTS__MAX_RETRIES", "1")
    monkeypatch.setenv("FLOWLIGHT__TASKS__DEFAULTS__RETRY_DELAY", "7")
    monkeypatch.setenv("FLOWLIGHT__TASKS__DEFAULTS__TIMEOUT", "false")
    made = Task()
    assert made.max_retries == 1 and made.retry_delay == datetime.timedelta(seconds=7)
    assert made.timeout is None
    monkeypatch.setenv("FLOWLIGHT__TASKS__DEFAULTS__MAX_RETRIES", "false")
    assert Task().max_retries == 0


def test_a_bad_task_default_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A task that was given nothing wrong must not leave its user hunting for the cause: the
    error names the setting the bad value came from."""
    monkeypatch.setenv("FLOWLIGHT__TASKS__DEFAULTS__TIMEOUT", "2.5")
    with pytest.raises(TypeError, match=r"FLOWLIGHT__TASKS__DEFAULTS__TIMEOUT.*timeout=2\.5"):
        Task()
    assert Task(timeout=1).timeout == 1
    monkeypatch.delenv("FLOWLIGHT__TASKS__DEFAULTS__TIMEOUT")
    monkeypatch.setenv("FLOWLIGHT__TASKS__DEFAULTS__MAX_RETRIES", "3")
    with pytest.raises(ValueError, match=r"config\.tasks\.defaults\.max_retries.*no retry_delay"):
        Task()


def test_max_retries_false_means_no_retries_as_in_prefect_1s_configuration() -> None:
    """Prefect 1 writes "no retries" as `false`; a retry_delay with it is refused as without
    retries."""
    assert Task(max_retries=False).max_retries == 0
    with pytest.raises(ValueError, match="but no max_retries"):
        Task(max_retries=False, retry_delay=datetime.timedelta(seconds=1))


def test_calling_a_task_outside_a_flow_says_how_to_run_it_directly() -> None:
    """Calling a task outside `with Flow(...)` is most often an attempt to run it; the error
    says how: `.run(...)` on the @task, or on an instance of the task class."""

    @task
    def double(x: int) -> int:
        return 2 * x

    class Double(Task):
        def run(self, x: int) -> int:
            return 2 * x

    with pytest.raises(
        ValueError, match=r"creating edge to <Task: double>.*`double\.run\(\.\.\.\)`"
    ):
        double(1)
    with pytest.raises(ValueError, match=r"`Double\(\.\.\.\)\.run\(\.\.\.\)`"):
        Double()(1)


def test_a_retry_on_value_that_is_not_an_exception_class_says_what_it_got() -> None:
    """Prefect 1's wording, naming the kind of thing given, so either form is recognized."""
    retries = {"max_retries": 1, "retry_delay": datetime.timedelta(0)}
    with pytest.raises(TypeError, match="exception type but got an instance of str"):
        Task(retry_on={"foo"}, **retries)
    with pytest.raises(TypeError, match="Expected an exception subclass"):
        Task(retry_on=int, **retries)  # type: ignore[arg-type]


def _unpack_a_task() -> None:
    @task
    def pair() -> int:
        return 1

    with Flow("unpack"):
        _first, _second = pair()


def _map_over_a_number() -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    with Flow("map"):
        double.map(5)


@pytest.mark.parametrize(
    ("misuse", "kind", "prefect_words", "culprit"),
    [
        (
            lambda: task(lambda x: x)(1),
            ValueError,
            "while creating edge to <Task: <lambda>>",
            r"\.run\(\.\.\.\)",
        ),
        (
            lambda: Task().copy(colour=1),
            AttributeError,
            "does not have colour as an attribute",
            "task_args",
        ),
        (
            lambda: Task(tags="etl"),
            TypeError,
            "Tags should be a set of tags, not a string",
            "tags='etl'",
        ),
        (
            lambda: Task(max_retries=2),
            ValueError,
            "A datetime.timedelta `retry_delay` must be provided",
            "max_retries=2",
        ),
        (
            lambda: Task(retry_on=KeyError),
            ValueError,
            "A number of `max_retries` must be provided if `retry_on` is set",
            "KeyError",
        ),
        (
            lambda: Task(max_retries=1, retry_delay=datetime.timedelta(0), retry_on=int),
            TypeError,
            "Invalid `retry_on` value <class 'int'>. Expected an exception subclass",
            "ValueError",
        ),
        (
            lambda: task(lambda *xs: xs),
            ValueError,
            r"Tasks with variable positional arguments \(\*args\) are not supported",
            r"\*xs",
        ),
        (
            lambda: task(lambda mapped: mapped),
            ValueError,
            "Tasks cannot have the following argument names: mapped. These are reserved",
            "rename",
        ),
        (_unpack_a_task, TypeError, "Task is not iterable", "nout=N"),
        (
            _map_over_a_number,
            TypeError,
            "Cannot map over unsubscriptable object of type <class 'int'>",
            r"unmapped\(",
        ),
    ],
)
def test_misuse_errors_carry_prefect_1s_words_and_name_the_culprit(
    misuse: typing.Callable[[], object], kind: type[Exception], prefect_words: str, culprit: str
) -> None:
    """Code written for Prefect 1 matches on its error messages, so each of ours holds Prefect
    1's key phrase (and its exception type) besides naming what is wrong and the fix."""
    with pytest.raises(kind) as raised:
        misuse()
    assert raised.match(prefect_words)
    assert raised.match(culprit)


def test_a_required_parameter_without_a_value_fails_its_run_with_prefect_1s_message() -> None:
    """Prefect 1's Parameter.run raises a FAIL signal, so the parameter's run ends Failed with
    the message itself rather than with an error wrapped around it."""
    from flowlight.engine.flow_runner import FlowRunner
    from flowlight.engine.signals import FAIL

    with pytest.raises(FAIL, match='Parameter "size" was required but not provided'):
        Parameter("size").run()
    size = Parameter("size")
    flow = Flow("needs", tasks=[size])
    state = FlowRunner(flow).run(return_tasks=[size]).result[size]
    assert state.is_failed()
    assert state.message is not None
    assert state.message.startswith('Parameter "size" was required but not provided')
    assert "parameters={'size': ...}" in state.message


def test_parameter_imported_from_the_task_module_works_and_says_where_it_lives() -> None:
    """Parameter's home is flowlight.core.parameter, as Prefect 1's is prefect.core.parameter.
    Code that imports it from the task module still gets the same class, with a warning that
    names the import to use instead."""
    import flowlight.core.parameter

    with pytest.warns(UserWarning, match="please import as `flowlight.Parameter`"):
        from flowlight.core.task import Parameter as FromTaskModule
    assert FromTaskModule is Parameter is flowlight.core.parameter.Parameter
    assert Parameter.__module__ == "flowlight.core.parameter"
    with pytest.raises(AttributeError, match="has no attribute 'Nothing'"):
        flowlight.core.task.Nothing  # noqa: B018
