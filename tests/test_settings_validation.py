"""Every setting is validated where it is read: a value that cannot be used is named, with the
variable and what is allowed, and never crashes a run. flowlight's own settings read during a run
warn and use their default; the bridge's FLOWLIGHT__OTEL__* settings are refused when the bridge
is configured; the standard OTEL_* variables warn and use the default, as OpenTelemetry does."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from tests.notifications.servers import HttpReceiver

import flowlight.otel as otel
from flowlight import Flow, task
from flowlight.engine import signals
from flowlight.engine.state import Failed
from flowlight.otel._config import read_settings
from flowlight.settings import SettingWarning, number_setting
from flowlight.utilities.notifications.delivery import DeliveryPolicy
from flowlight.utilities.notifications.notifiers import webhook_notifier


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("OTEL_", "FLOWLIGHT__")):
            monkeypatch.delenv(name)


def test_a_retry_signal_limit_that_is_not_a_number_warns_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWLIGHT__TASKS__RETRY_SIGNAL_LIMIT", "ten")
    calls: list[int] = []

    @task
    def again() -> None:
        calls.append(1)
        raise signals.RETRY("once more")

    with Flow("retry-limit") as flow:
        again()
    with pytest.warns(SettingWarning) as caught:
        state = flow.run()
    assert state.is_failed()
    message = str(caught[0].message)
    assert "FLOWLIGHT__TASKS__RETRY_SIGNAL_LIMIT='ten'" in message
    assert "an integer >= 0" in message
    assert "using the default, 10" in message
    assert len(calls) == 11


def test_a_notification_timeout_that_is_not_a_number_warns_and_the_alert_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWLIGHT__NOTIFICATIONS__TIMEOUT", "abc")
    receiver = HttpReceiver()
    try:
        with pytest.warns(SettingWarning, match=r"FLOWLIGHT__NOTIFICATIONS__TIMEOUT='abc'"):
            notify = webhook_notifier(url=receiver.url(), only_states=[Failed])

            @task(state_handlers=[notify])
            def broken() -> None:
                raise ValueError("down")

            with Flow("bad-timeout") as flow:
                broken()
            assert flow.run().is_failed()
        receiver.wait_for(1)
    finally:
        receiver.close()
    with pytest.warns(SettingWarning, match="a number > 0"):
        assert DeliveryPolicy.from_settings().timeout == 5.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), ("0", 0), ("2.5", 10), ("-1", 10), ("lots", 10), ("true", 10)],
)
def test_number_settings_accept_only_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: int
) -> None:
    monkeypatch.setenv("FLOWLIGHT__TASKS__RETRY_SIGNAL_LIMIT", raw)
    if expected == 10:
        with pytest.warns(SettingWarning):
            value = number_setting(
                "tasks", "retry_signal_limit", default=10, integer=True, minimum=0
            )
    else:
        value = number_setting("tasks", "retry_signal_limit", default=10, integer=True, minimum=0)
    assert value == expected


def test_a_negative_export_timeout_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWLIGHT__OTEL__EXPORT_TIMEOUT", "-3")
    with pytest.raises(ValueError, match=r"FLOWLIGHT__OTEL__EXPORT_TIMEOUT is -3; it must be > 0"):
        read_settings()


def test_a_bad_bridge_setting_never_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """instrument() says what is wrong; the flow still runs to its own end."""
    monkeypatch.setenv("FLOWLIGHT__OTEL__EXPORT_TIMEOUT", "-3")
    monkeypatch.setenv("FLOWLIGHT__OTEL__TELEMETRY_DIR", str(tmp_path))

    @task
    def fine() -> int:
        return 1

    with Flow("bad-bridge-setting") as flow:
        fine()
    with caplog.at_level(logging.WARNING, logger="flowlight.otel"):
        state = otel.instrument(flow).run()
    otel.shutdown()
    assert state.is_successful()
    assert "FLOWLIGHT__OTEL__EXPORT_TIMEOUT is -3" in caplog.text


@pytest.mark.parametrize(
    ("variable", "value", "field", "default", "allowed"),
    [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon", "otlp_timeouts_s", None, "positive number"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "lots", "span_batch_size", 512, "whole number >= 1"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "0", "log_batch_size", 512, "whole number >= 1"),
        ("OTEL_SDK_DISABLED", "maybe", "sdk_disabled", False, "use true or false"),
    ],
)
def test_a_standard_variable_that_cannot_be_used_warns_and_the_default_applies(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    variable: str,
    value: str,
    field: str,
    default: Any,
    allowed: str,
) -> None:
    monkeypatch.setenv(variable, value)
    with caplog.at_level(logging.WARNING, logger="flowlight.otel"):
        settings = read_settings()
    chosen = getattr(settings, field)
    if isinstance(chosen, dict):
        assert set(chosen.values()) == {default}
    else:
        assert chosen == default
    assert f"{variable}={value!r} is not allowed" in caplog.text
    assert allowed in caplog.text


def test_usable_standard_values_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "7")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "2.5")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "TRUE")
    settings = read_settings()
    assert settings.otlp_timeouts_s == {"traces": 7.0, "metrics": 7.0, "logs": 2.5}
    assert settings.span_batch_size == 64
    assert settings.log_batch_size == 512
    assert settings.sdk_disabled is True


def test_resource_attributes_without_a_key_are_named_in_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "=,==,a,team=data")
    with caplog.at_level(logging.WARNING, logger="flowlight.otel"):
        read_settings()
    assert "OTEL_RESOURCE_ATTRIBUTES='=,==,a,team=data'" in caplog.text
    assert "('=', '==', 'a')" in caplog.text


def test_a_logging_level_that_is_not_a_level_warns_and_the_default_is_used() -> None:
    import subprocess
    import sys

    code = (
        "from flowlight import Flow, task\n"
        "@task\n"
        "def t():\n"
        "    return 1\n"
        "print(Flow('levels', tasks=[t]).run().is_successful())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FLOWLIGHT__LOGGING__LEVEL": "loud"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert "SettingWarning: FLOWLIGHT__LOGGING__LEVEL='loud' is not a level" in done.stderr
    assert "DEBUG, INFO, WARNING, ERROR or CRITICAL; using WARNING" in done.stderr
