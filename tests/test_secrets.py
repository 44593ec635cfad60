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


def test_a_value_read_once_is_masked_from_then_on(monkeypatch: Any) -> None:
    monkeypatch.setenv(
        "FLOWLIGHT__CONTEXT__SECRETS__HOOK", "https://hooks.example/T000/secret-part"
    )
    text = "posting to https://hooks.example/T000/secret-part failed"
    assert redact(text) == text
    Secret("HOOK").get()
    assert redact(text) == f"posting to {MASK} failed"
