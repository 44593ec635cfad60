"""The public surface is stated once, in `__all__`; these names are what Prefect 1 code imports."""

from __future__ import annotations

import subprocess
import sys

import flowlight
from flowlight.engine import signals, state


def test_top_level_names() -> None:
    assert set(flowlight.__all__) == {
        "Constant",
        "Edge",
        "Flow",
        "Parameter",
        "Secret",
        "Task",
        "apply_map",
        "case",
        "config",
        "context",
        "flatten",
        "mapped",
        "resource_manager",
        "signals",
        "state",
        "tags",
        "task",
        "triggers",
        "unmapped",
    }


def test_prefect_1_import_paths_exist() -> None:
    from flowlight.client.secrets import Secret
    from flowlight.engine.signals import FAIL, LOOP, PAUSE, RETRY, SKIP, SUCCESS, TRIGGERFAIL
    from flowlight.triggers import all_finished, manual_only
    from flowlight.utilities.notifications import callback_factory

    assert all(
        [
            Secret,
            FAIL,
            LOOP,
            PAUSE,
            RETRY,
            SKIP,
            SUCCESS,
            TRIGGERFAIL,
            all_finished,
            manual_only,
            callback_factory,
        ]
    )
    assert {"ENDRUN", "VALIDATIONFAIL", "PrefectSignal"} <= set(signals.__all__)
    from flowlight import exceptions

    assert set(exceptions.__all__) == {"PrefectException", "PrefectSignal", "TaskTimeoutSignal"}
    assert {
        "Pending",
        "Scheduled",
        "Retrying",
        "Paused",
        "Submitted",
        "Queued",
        "Running",
        "Finished",
        "Success",
        "Cached",
        "Mapped",
        "Failed",
        "TimedOut",
        "TriggerFailed",
        "Skipped",
        "Cancelled",
        "Looped",
        "Resume",
    } <= set(state.__all__)


def test_importing_flowlight_leaves_the_heavy_libraries_unloaded() -> None:
    """`import flowlight` (a worker, the CLI, a short script) loads pendulum only when a state's
    datetime is read, OpenTelemetry only when the bridge is used, rich only to draw on a terminal,
    graphviz only for a picture and structlog only when a line goes through it; seen in a fresh
    interpreter."""
    probe = (
        "import sys, flowlight; heavy = {'pendulum', 'opentelemetry', 'rich', 'graphviz', "
        "'structlog'}; print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_flow_run_on_the_default_executor_loads_no_pool_or_cluster_machinery() -> None:
    """The default executor runs tasks in the calling thread, so a plain `flow.run()` must not
    pay for what the other executors need (process pools, dask); seen in a fresh
    interpreter. The other executors still import by name from `flowlight.executors`."""
    probe = (
        "import sys\n"
        "from flowlight import Flow, task\n"
        "@task\n"
        "def one():\n"
        "    return 1\n"
        "with Flow('f') as flow:\n"
        "    one()\n"
        "assert flow.run().is_successful()\n"
        "heavy = {'multiprocessing', 'dask', 'distributed'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
        "from flowlight.executors import DaskExecutor, LocalDaskExecutor\n"
        "print(DaskExecutor.__name__, LocalDaskExecutor.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split("\n")[:2] == ["[]", "DaskExecutor LocalDaskExecutor"]


def test_result_and_serializer_modules_state_their_names() -> None:
    from flowlight.engine import result, results, serializers

    assert set(result.__all__) == {
        "NoResult",
        "NoResultType",
        "Result",
        "ResultNotImplementedError",
    }
    assert set(results.__all__) == {
        "ConstantResult",
        "FlowlightResult",
        "LocalResult",
        "PrefectResult",
        "SecretResult",
    }
    assert set(serializers.__all__) == {
        "CompressedSerializer",
        "DateTimeSerializer",
        "JSONSerializer",
        "PandasSerializer",
        "PickleSerializer",
        "Serializer",
    }


def test_schedule_modules_state_their_names() -> None:
    from flowlight import schedules
    from flowlight.schedules import adjustments, clocks, filters

    assert set(schedules.__all__) == {
        "CronSchedule",
        "IntervalSchedule",
        "RRuleSchedule",
        "Schedule",
        "adjustments",
        "clocks",
        "filters",
    }
    assert set(clocks.__all__) == {
        "Clock",
        "ClockEvent",
        "CronClock",
        "DatesClock",
        "IntervalClock",
        "RRuleClock",
    }
    assert set(adjustments.__all__) == {"add", "next_weekday"}
    assert {"is_weekday", "between_times", "on_date", "is_month_end"} <= set(filters.__all__)


def test_task_library_and_functional_api_modules_state_their_names() -> None:
    from flowlight.core import parameter
    from flowlight.tasks import control_flow
    from flowlight.tasks.core import collections, constants, function, operators, resource_manager
    from flowlight.utilities import edges, tasks

    assert set(control_flow.__all__) == {"FilterTask", "case", "ifelse", "merge", "switch"}
    assert set(collections.__all__) == {"Dict", "List", "Set", "Tuple", "VarArgsTask"}
    assert constants.__all__ == ["Constant"] and function.__all__ == ["FunctionTask"]
    assert {"GetItem", "GetAttr", "Add", "Equal", "Not", "LessThan"} <= set(operators.__all__)
    assert set(resource_manager.__all__) == {"ResourceManager", "resource_manager"}
    assert set(edges.__all__) == {"EdgeAnnotation", "flatten", "mapped", "unmapped"}
    assert set(tasks.__all__) == {
        "apply_map",
        "as_task",
        "defaults_from_attrs",
        "pause_task",
        "tags",
        "task",
    }
    assert set(parameter.__all__) == {"DateTimeParameter", "Parameter"}


def test_secret_tasks_and_configuration_state_their_names() -> None:
    from flowlight import configuration
    from flowlight.tasks import secrets
    from flowlight.utilities import configuration as configuration_helpers

    assert set(secrets.__all__) == {
        "EnvVarSecret",
        "FlowlightSecret",
        "PrefectSecret",
        "SecretBase",
    }
    assert set(configuration.__all__) == {"Config", "config", "process_task_defaults"}
    assert configuration_helpers.__all__ == ["set_temporary_config"]


def test_collections_helpers_state_their_names() -> None:
    from flowlight.utilities import collections

    assert set(collections.__all__) == {
        "CompoundKey",
        "DotDict",
        "as_nested_dict",
        "dict_to_flatdict",
        "flatdict_to_dict",
        "flatten_seq",
        "merge_dicts",
    }


def test_debug_helpers_state_their_names() -> None:
    from flowlight.utilities import debug

    assert debug.__all__ == ["raise_on_exception"]


def test_template_tasks_state_their_names() -> None:
    from flowlight.tasks import templates

    assert templates.__all__ == ["StringFormatter"]
