"""`flowlight.config` reads the settings as Prefect 1's `prefect.config` is read, and
`set_temporary_config` changes them for a block."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowlight import Flow, config, task
from flowlight.engine.results import LocalResult
from flowlight.utilities.configuration import set_temporary_config


def test_config_reads_defaults_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.flows.checkpointing is False
    monkeypatch.setenv("FLOWLIGHT__FLOWS__CHECKPOINTING", "true")
    assert config.flows.checkpointing is True
    monkeypatch.setenv("FLOWLIGHT__HOME_DIR", "~/elsewhere")
    assert config.home_dir == os.path.expanduser("~/elsewhere")
    with pytest.raises(AttributeError, match="FLOWLIGHT__FLOWS__NO_SUCH_KEY"):
        _ = config.flows.no_such_key
    assert config.flows.get("no_such_key", 3) == 3


def test_temporary_config_turns_checkpointing_on_for_a_block(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=str(tmp_path), location="out.bin"))
    def value() -> int:
        return 1

    flow = Flow("checkpointed", tasks=[value])
    with set_temporary_config({"flows.checkpointing": True}):
        assert config.flows.checkpointing is True
        flow.run()
    assert config.flows.checkpointing is False
    assert os.listdir(tmp_path) == ["out.bin"]


def test_config_holds_prefect_1s_task_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """config.tasks.defaults reads as Prefect 1's does once loaded: no retries, no retry delay
    and no timeout unless set, a retry delay in seconds as a timedelta."""
    from datetime import timedelta

    from flowlight.configuration import process_task_defaults

    defaults = config.tasks.defaults
    assert (defaults.max_retries, defaults.retry_delay, defaults.timeout) == (0, None, None)
    monkeypatch.setenv("FLOWLIGHT__TASKS__DEFAULTS__RETRY_DELAY", "30")
    assert config.tasks.defaults.retry_delay == timedelta(seconds=30)
    assert process_task_defaults(config) is config


def test_temporary_config_gives_the_config_and_undoes_what_the_block_set() -> None:
    """`with set_temporary_config({...}) as config:` is Prefect 1's form; a value assigned
    inside the block does not outlive it either."""
    with set_temporary_config({"tasks.defaults.timeout": 3}) as temporary:
        assert temporary is config and temporary.tasks.defaults.timeout == 3
        config.tasks.defaults.max_retries = 4
    assert config.tasks.defaults.timeout is None
    assert config.tasks.defaults.max_retries == 0


def test_local_results_in_the_home_dir_go_to_its_results_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Prefect 1's rule: a LocalResult pointed at the home dir writes to <home>/results."""
    monkeypatch.setenv("FLOWLIGHT__HOME_DIR", str(tmp_path / "home"))
    assert LocalResult().dir == os.path.join(config.home_dir, "results")
    assert LocalResult(dir=config.home_dir).dir == os.path.join(config.home_dir, "results")
    elsewhere = tmp_path / "elsewhere"
    assert LocalResult(dir=str(elsewhere)).dir == str(elsewhere)
