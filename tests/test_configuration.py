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


def test_local_results_in_the_home_dir_go_to_its_results_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Prefect 1's rule: a LocalResult pointed at the home dir writes to <home>/results."""
    monkeypatch.setenv("FLOWLIGHT__HOME_DIR", str(tmp_path / "home"))
    assert LocalResult().dir == os.path.join(config.home_dir, "results")
    assert LocalResult(dir=config.home_dir).dir == os.path.join(config.home_dir, "results")
    elsewhere = tmp_path / "elsewhere"
    assert LocalResult(dir=str(elsewhere)).dir == str(elsewhere)
