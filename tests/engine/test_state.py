"""States: the Prefect 1 hierarchy, reprs in the seed's style, predicates and cheap timestamps."""

from __future__ import annotations

import datetime
import pickle

import pendulum
import pytest

import flowlight
from flowlight.engine import signals
from flowlight.engine import state as st


def test_repr_follows_the_seed_document() -> None:
    assert repr(st.Running("Starting task run.")) == 'Running("Starting task run.")'
    assert repr(st.Scheduled()) == "Scheduled()"
    assert str(st.Success("All reference tasks succeeded.")) == (
        'Success("All reference tasks succeeded.")'
    )


@pytest.mark.parametrize(
    ("state", "true_predicates"),
    [
        (st.Pending(), {"is_pending"}),
        (st.Retrying(), {"is_pending", "is_scheduled", "is_retrying"}),
        (st.Paused(), {"is_pending", "is_scheduled"}),
        (st.Resume(), {"is_pending", "is_scheduled"}),
        (st.Running(), {"is_running"}),
        (st.Success(), {"is_finished", "is_successful"}),
        (st.Skipped(), {"is_finished", "is_successful", "is_skipped"}),
        (st.Mapped(), {"is_finished", "is_successful", "is_mapped"}),
        (st.Cached(), {"is_finished", "is_successful", "is_cached"}),
        (st.Failed(), {"is_finished", "is_failed"}),
        (st.TimedOut(), {"is_finished", "is_failed"}),
        (st.TriggerFailed(), {"is_finished", "is_failed"}),
        (st.Looped(), {"is_finished", "is_looped"}),
        # a meta state beside Submitted, which Prefect 1.4.1 counts as scheduled too
        (st.Queued(), {"is_queued", "is_scheduled"}),
        (st.Submitted(), {"is_submitted"}),
        (st.ClientFailed(), set()),
        (st.Cancelled(), {"is_finished"}),
    ],
)
def test_predicates_follow_the_class_hierarchy(state: st.State, true_predicates: set[str]) -> None:
    names = [n for n in dir(st.State) if n.startswith("is_") and n != "is_meta_state"]
    assert {n for n in names if getattr(state, n)()} == true_predicates


def test_states_have_prefect_1s_predicates_and_no_others() -> None:
    """Prefect 1 code checks states with these fourteen predicates, and code that walks a
    state's `is_*` methods expects no others (a Paused state is `is_pending`/`is_scheduled`)."""
    names = {n for n in dir(st.State) if n.startswith("is_")}
    assert names == {
        "is_pending", "is_queued", "is_retrying", "is_running", "is_cached", "is_finished",
        "is_looped", "is_scheduled", "is_submitted", "is_skipped", "is_successful", "is_failed",
        "is_mapped", "is_meta_state",
    }  # fmt: skip


def test_meta_states_wrap_the_state_they_are_about() -> None:
    """Submitted, Queued and ClientFailed wrap another state (a wrapped meta state is
    unwrapped) and say so with is_meta_state(); Queued has a start time, now by default."""
    running = st.Running()
    submitted = st.Submitted("handed over", state=st.Queued(state=running))
    assert submitted.state is running and submitted.is_meta_state()
    assert not running.is_meta_state()
    queued = st.Queued(start_time=1_700_000_000)
    assert str(queued.start_time) == "2023-11-14 22:13:20+00:00"
    assert st.ClientFailed(state=st.Success()).is_meta_state()
    assert "_MetaState" not in st.State.children(names_only=True)


def test_retrying_start_time_is_a_pendulum_datetime_and_run_count_is_kept() -> None:
    retrying = st.Retrying("again", start_time=1_700_000_000.5, run_count=2)
    assert isinstance(retrying.start_time, pendulum.DateTime)
    assert str(retrying.start_time) == "2023-11-14 22:13:20.500000+00:00"
    assert retrying.run_count == 2


def test_timestamp_is_built_on_first_read_and_then_kept() -> None:
    s = st.Success()
    assert s._timestamp is None
    first = s.timestamp
    assert isinstance(first, pendulum.DateTime) and s.timestamp is first
    assert abs(first.timestamp() - s.created_at) < 1e-3


def test_cached_expiration_is_kept_as_epoch_seconds_and_read_as_a_datetime() -> None:
    """Validators compare epochs; a reader still gets a UTC pendulum datetime, from either
    form the expiration was given in, and a pickled copy keeps it."""
    from_epoch = st.Cached(cached_result_expiration=1_700_000_000.5)
    assert from_epoch._expiration_datetime is None
    assert from_epoch.expiration_epoch() == 1_700_000_000.5
    expiration = from_epoch.cached_result_expiration
    assert isinstance(expiration, pendulum.DateTime)
    assert str(expiration) == "2023-11-14 22:13:20.500000+00:00"
    assert from_epoch.cached_result_expiration is expiration
    from_datetime = st.Cached(cached_result_expiration=datetime.datetime(2023, 11, 14, 22, 13, 20))
    assert from_datetime.expiration_epoch() == 1_700_000_000.0
    assert str(from_datetime.cached_result_expiration) == "2023-11-14 22:13:20+00:00"
    copy = pickle.loads(pickle.dumps(from_epoch))
    assert copy.expiration_epoch() == 1_700_000_000.5 and copy == from_epoch
    assert st.Cached().cached_result_expiration is None and st.Cached().expiration_epoch() is None


def test_states_are_slotted_so_they_stay_small() -> None:
    with pytest.raises(AttributeError):
        st.Success().unexpected = 1  # type: ignore[attr-defined]


def test_equal_states_have_the_same_class_result_and_data_whatever_the_message() -> None:
    """Prefect 1.4.1's rule (compared live in tests/prefect1/test_parity_facts.py)."""
    assert st.Success("x", result=1) == st.Success("y", result=1)
    assert st.Success("x", result=1) != st.Success("x", result=2)
    assert st.Success("x") != st.Failed("x")
    assert st.Success() != st.Cached()  # the exact class, not a subclass
    error = ValueError("a")
    assert st.Failed(result=error) == st.Failed(result=error)
    assert st.Failed(result=ValueError("a")) != st.Failed(result=ValueError("a"))  # by identity
    assert st.Pending(cached_inputs={"x": 1}) != st.Pending(cached_inputs={"x": 2})
    assert st.Pending(context={"a": 1}) == st.Pending(context={"b": 2})
    assert st.Looped(loop_count=2) != st.Looped(loop_count=3)
    assert st.Mapped(map_states=[st.Success(result=1)]) == st.Mapped(
        map_states=[st.Success("other message", result=1)]
    )
    assert st.Retrying(start_time=0.0, run_count=1) != st.Retrying(start_time=0.0, run_count=2)
    assert st.Scheduled(start_time=5.0) == st.Scheduled("another", start_time=5.0)
    assert st.Cached(cached_parameters={"p": 1}) != st.Cached(cached_parameters={"p": 2})
    assert st.Success() != 1


def test_defaults_follow_prefect_1() -> None:
    """An empty context and no cached inputs; scheduled states start when they are made; loop
    and run counts come from the run context when a signal or a handler makes the state."""
    assert st.State().context == {} and st.State().cached_inputs == {}
    assert st.State().context is not st.State().context
    scheduled = st.Scheduled()
    assert scheduled.start_time == scheduled.timestamp
    assert scheduled.start_epoch() is None  # nothing to wait for
    assert st.Retrying().start_time is not None and st.Retrying().run_count == 1
    assert st.Looped().loop_count == 1
    with flowlight.context(task_run_count=3, task_loop_count=4):
        retrying = st.Retrying()
        assert retrying.run_count == 3 and retrying.context == {"task_run_count": 3}
        assert st.Scheduled().context == {"task_run_count": 3}
        assert st.Looped().loop_count == 4
        assert st.Retrying(run_count=7).run_count == 7
        signal_state = signals.RETRY("again").state
        assert isinstance(signal_state, st.Retrying) and signal_state.run_count == 3
    assert st.Retrying().run_count == 1
    assert st.Paused().start_time is None and st.Paused().start_epoch() is None
    assert st.Resume().start_time is not None


def test_a_state_made_inside_a_task_run_records_the_tasks_tags() -> None:
    """Prefect 1 puts the run's task tags into every state's context (a given "tags" wins)."""
    with flowlight.context(task_tags=["etl", "nightly"]):
        assert st.Success().context == {"tags": ["etl", "nightly"]}
        assert st.Failed(context={"tags": ["own"]}).context == {"tags": ["own"]}
    assert st.Success().context == {}


def test_a_mapped_state_counts_its_children_unless_told_how_many() -> None:
    assert st.Mapped(map_states=[st.Success(), st.Failed()]).n_map_states == 2
    told = st.Mapped(n_map_states=3)
    assert told.n_map_states == 3
    told.n_map_states = None
    assert told.n_map_states == 0


class _HoldsALock(Exception):
    def __init__(self) -> None:
        import threading

        super().__init__("locked")
        self.lock = threading.RLock()


def test_an_unpicklable_exception_result_is_pickled_as_its_description() -> None:
    failed = st.Failed("boom", result=_HoldsALock())
    copy = pickle.loads(pickle.dumps(failed))
    assert isinstance(copy, st.Failed) and copy.message == "boom"
    assert copy.result.startswith("The following exception could not be pickled due to ")
    assert "_HoldsALock('locked')" in copy.result
    assert isinstance(failed.result, _HoldsALock)  # the original keeps its exception
    kept = pickle.loads(pickle.dumps(st.Failed(result=ValueError("plain"))))
    assert isinstance(kept.result, ValueError) and kept.result.args == ("plain",)


def test_cached_inputs_without_a_location_are_read_at_the_given_results_location() -> None:
    from flowlight.engine.result import Result

    class Reader(Result):  # type: ignore[misc]
        def read(self, location: str) -> Result:
            return Result(value=f"read {location}", location=location)

    state = st.Pending(cached_inputs={"x": Result(), "y": Result(value=1), "z": Result()})
    state.load_cached_results({"x": Reader(location="there"), "z": Reader()})
    assert state.cached_inputs["x"].value == "read there"
    assert state.cached_inputs["y"].value == 1
    assert state.cached_inputs["z"].value is None  # no location anywhere: nothing to read


def test_a_mapped_state_loads_its_children_and_keeps_missing_ones() -> None:
    from flowlight.engine.result import Result

    class Reader(Result):  # type: ignore[misc]
        def read(self, location: str) -> Result:
            return Result(value=location.upper(), location=location)

    children = [
        None,
        st.Success(result=Result(location="a")),
        st.Success(result=Result(location="b")),
    ]
    mapped = st.Mapped(map_states=children)  # type: ignore[arg-type]
    mapped.load_result(Reader())
    assert mapped.result == [None, "A", "B"]
