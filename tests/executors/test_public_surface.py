"""What `flowlight.executors` offers, how it refuses bad arguments, and what it does not import."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import flowlight.executors as executors
from flowlight import Flow, task
from flowlight.executors import DaskExecutor, LocalDaskExecutor


def test_public_names() -> None:
    assert set(executors.__all__) == {
        "DaskExecutor",
        "Executor",
        "LocalDaskExecutor",
        "LocalExecutor",
        "TelemetryWorkerPlugin",
    }
    from distributed import WorkerPlugin

    assert issubclass(executors.TelemetryWorkerPlugin, WorkerPlugin)


def test_importing_flowlight_and_its_executors_imports_neither_dask_nor_opentelemetry() -> None:
    """Choosing an executor costs nothing until it starts: a flow run on threads imports no
    dask, distributed, cloudpickle or OpenTelemetry."""
    code = (
        "import sys, flowlight\n"
        "from flowlight.executors import DaskExecutor, LocalDaskExecutor\n"
        "@flowlight.task\n"
        "def one(): return 1\n"
        "flow = flowlight.Flow('f', tasks=[one])\n"
        "assert flow.run(executor=LocalDaskExecutor()).is_successful()\n"
        "DaskExecutor()\n"
        "loaded = [m for m in ('dask', 'distributed', 'cloudpickle', 'opentelemetry')"
        " if m in sys.modules]\n"
        "print(loaded)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"scheduler": "distributed"}, ValueError, "use 'threads' (or 'threading'), 'processes'"),
        ({"num_workers": 0}, ValueError, "num_workers=0"),
        ({"num_workers": "4"}, ValueError, "give a whole number >= 1"),
        ({"pool": object()}, TypeError, "unknown arguments ['pool']"),
    ],
)
def test_local_dask_executor_names_the_bad_argument(
    arguments: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as raised:
        LocalDaskExecutor(**arguments)
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"address": 8786}, TypeError, "give a scheduler address"),
        (
            {"address": "tcp://127.0.0.1:8786", "cluster_kwargs": {"n_workers": 2}},
            ValueError,
            "drop cluster_class, cluster_kwargs and adapt_kwargs",
        ),
        ({"cluster_class": 3}, TypeError, "cluster_class=3"),
        ({"cluster_kwargs": ["n_workers", 2]}, TypeError, "cluster_kwargs="),
    ],
)
def test_dask_executor_names_the_bad_argument(
    arguments: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as raised:
        DaskExecutor(**arguments)
    assert words in str(raised.value)


def test_a_cluster_class_path_that_cannot_be_imported_is_named_when_the_run_starts() -> None:
    executor = DaskExecutor(cluster_class="nowhere.NoCluster")
    with pytest.raises(ValueError) as raised, executor.start():
        pass
    assert "cluster_class='nowhere.NoCluster'" in str(raised.value)


@task
def answer() -> int:
    return 42


def test_a_flow_keeps_its_executor_and_a_temporary_local_cluster_serves_one_run() -> None:
    """`Flow(executor=DaskExecutor())` with no address starts a cluster for the run (on
    127.0.0.1, no fixed dashboard port) and closes it afterwards."""
    executor = DaskExecutor(cluster_kwargs={"n_workers": 1, "threads_per_worker": 1})
    flow = Flow("own executor", tasks=[answer], executor=executor)
    state = flow.run()
    assert state.is_successful()
    assert state.result[answer].result == 42
    assert executor.client is None  # released after the run


def test_adapt_kwargs_make_the_temporary_cluster_adaptive() -> None:
    """A cluster started with no workers and `adapt_kwargs` scales up to run the flow."""
    executor = DaskExecutor(
        cluster_kwargs={"n_workers": 0, "threads_per_worker": 1},
        adapt_kwargs={"minimum": 1, "maximum": 2},
    )
    state = Flow("adaptive", tasks=[answer]).run(executor=executor)
    assert state.is_successful()
    assert state.result[answer].result == 42


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("threading", "threads"),
        ("THREADS", "threads"),
        ("multiprocessing", "processes"),
        ("sync", "synchronous"),
        ("single-threaded", "synchronous"),
    ],
)
def test_local_dask_executor_takes_prefect_1s_other_scheduler_names(given: str, meant: str) -> None:
    """Prefect 1.4.1 accepts these names (in any case) for its three local schedulers."""
    assert LocalDaskExecutor(scheduler=given).scheduler == meant


@pytest.mark.parametrize("scheduler", ["threading", "sync"])
def test_a_flow_runs_on_an_alias_of_a_scheduler(scheduler: str) -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    with Flow("aliases") as flow:
        doubled = double.map([1, 2, 3])
    state = flow.run(executor=LocalDaskExecutor(scheduler=scheduler))
    assert state.result[doubled].result == [2, 4, 6]


def test_an_unknown_scheduler_name_is_refused_with_the_names_it_could_be() -> None:
    with pytest.raises(ValueError, match=r"'threading'.*'multiprocessing'.*'sync'"):
        LocalDaskExecutor(scheduler="fibers")
