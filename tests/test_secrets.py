"""Secrets: context first, then FLOWLIGHT__CONTEXT__SECRETS__NAME; registered for masking."""

from __future__ import annotations

from typing import Any

import pytest

from flowlight import Flow, Secret, task
from flowlight.utilities.redaction import MASK, redact


def test_context_secrets_win_over_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__TOKEN", "from-env-value")
    seen: list[Any] = []

    @task
    def read() -> None:
        seen.append(Secret("TOKEN").get())

    with Flow("s") as flow:
        read()
    flow.run(context={"secrets": {"TOKEN": "from-context-value"}})
    flow.run()
    assert seen == ["from-context-value", "from-env-value"]


def test_environment_values_are_parsed_like_prefect_1(monkeypatch: Any) -> None:
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__PORT", "123")
    with pytest.warns(UserWarning, match="shorter than 4 characters"):
        assert Secret("PORT").get() == 123


def test_a_missing_secret_names_itself_and_how_to_set_it() -> None:
    with pytest.raises(ValueError) as caught:
        Secret("NOPE_NOT_SET").get()
    message = str(caught.value)
    assert 'Local Secret "NOPE_NOT_SET" was not found' in message
    assert "FLOWLIGHT__CONTEXT__SECRETS__NOPE_NOT_SET" in message


def test_a_secret_left_under_prefect_1s_variable_name_is_named_with_the_rename(
    monkeypatch: Any,
) -> None:
    """A flow ported by changing its imports still has its deployment's PREFECT__ variables."""
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__PORTED_HOOK", "https://hooks.example/x")
    with pytest.raises(ValueError) as caught:
        Secret("PORTED_HOOK").get()
    message = str(caught.value)
    assert "PREFECT__CONTEXT__SECRETS__PORTED_HOOK is set" in message
    assert "flowlight reads FLOWLIGHT__CONTEXT__SECRETS__PORTED_HOOK" in message
    assert "hooks.example" not in message


def test_a_value_read_once_is_masked_from_then_on(monkeypatch: Any) -> None:
    monkeypatch.setenv(
        "FLOWLIGHT__CONTEXT__SECRETS__HOOK", "https://hooks.example/T000/secret-part"
    )
    text = "posting to https://hooks.example/T000/secret-part failed"
    assert redact(text) == text
    Secret("HOOK").get()
    assert redact(text) == f"posting to {MASK} failed"
