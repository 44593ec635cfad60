"""Secrets: context first, then FLOWLIGHT__CONTEXT__SECRETS__NAME; registered for masking."""

from __future__ import annotations

import json
import uuid
import warnings
from typing import Any

import pytest

from flowlight import Flow, Secret, task
from flowlight.client.secrets import ShortSecretWarning
from flowlight.utilities.redaction import MASK, redact, registered_secret_count


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


# What Prefect 1.4.1's local `Secret.get()` returns for these environment texts (checked against
# Prefect itself by tests/prefect1/test_secret_values.py).
ENVIRONMENT_TEXTS: list[tuple[str, Any]] = [
    ("0012345678", "0012345678"),  # not a Python literal: stays text
    ("0042", "0042"),
    ("1234.5000", 1234.5),
    ("12345678", 12345678),
    ("TRUE", True),
    ("false", False),
    (
        '{"ACCESS_KEY": "AKIA1", "SECRET_ACCESS_KEY": "wJal/x"}',
        {"ACCESS_KEY": "AKIA1", "SECRET_ACCESS_KEY": "wJal/x"},
    ),
    ("{'a': 'b'}", {"a": "b"}),
    ('{"a": true, "b": null}', {"a": True, "b": None}),  # JSON, not Python: parsed by get()
    ("'1234'", 1234),  # a quoted literal is read a second time
    ('"quoted-text"', "quoted-text"),
    ("[1, 'two']", [1, "two"]),
    ("hunter'2pass", "hunter'2pass"),
    ("  spaced  ", "  spaced  "),
    ("null", None),
    ("0x1F", 31),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), ENVIRONMENT_TEXTS)
def test_environment_texts_come_back_as_prefect_1_returns_them(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: Any
) -> None:
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__PARSED", text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortSecretWarning)
        value = Secret("PARSED").get()
    assert value == expected
    assert type(value) is type(expected)


def test_context_text_that_is_json_comes_back_parsed_as_in_prefect_1() -> None:
    field = f"wJal-{uuid.uuid4().hex}"
    seen: list[Any] = []

    @task
    def read() -> None:
        seen.append(Secret("DOC").get())
        seen.append(Secret("PLAIN").get())

    with Flow("s") as flow:
        read()
    document = json.dumps({"SECRET_ACCESS_KEY": field})
    flow.run(context={"secrets": {"DOC": document, "PLAIN": "0012345678"}})
    assert seen == [{"SECRET_ACCESS_KEY": field}, "0012345678"]
    assert redact(f"key {field} in {document}") == f"key {MASK} in {MASK}"


@pytest.mark.parametrize(
    ("text", "written"),
    [("0012345678", "0012345678"), ("1234.5000", "1234.5000"), ("1234.5000", "1234.5")],
)
def test_a_number_from_the_environment_is_masked_as_written_and_as_parsed(
    monkeypatch: pytest.MonkeyPatch, text: str, written: str
) -> None:
    """`1234.5000` comes back 1234.5: both texts are masked, whole (not `********000`)."""
    unique = str(uuid.uuid4().int % 9000 + 1000)
    text, written = text.replace("1234", unique), written.replace("1234", unique)
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__NUMBER", text)
    Secret("NUMBER").get()
    assert redact(f"key={written};") == f"key={MASK};"


def test_json_credentials_from_the_environment_mask_each_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    access_key = f"wJalrXUtnFEMI/{uuid.uuid4().hex}"
    key_id = f"AKIA{uuid.uuid4().hex[:16].upper()}"
    monkeypatch.setenv(
        "FLOWLIGHT__CONTEXT__SECRETS__AWS_CREDENTIALS",
        json.dumps({"ACCESS_KEY": key_id, "SECRET_ACCESS_KEY": access_key}),
    )
    credentials = Secret("AWS_CREDENTIALS").get()
    assert credentials == {"ACCESS_KEY": key_id, "SECRET_ACCESS_KEY": access_key}
    message = repr(PermissionError(f"access denied for {credentials['SECRET_ACCESS_KEY']}"))
    assert access_key not in redact(message)
    assert redact(f"id {key_id}") == f"id {MASK}"


@pytest.mark.parametrize("text", ["true", "False", "null"])
def test_a_flag_secret_masks_nothing(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Its text ("true", "null") is in every JSON log line; masking it would garble them all."""
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__FLAG", text)
    before = registered_secret_count()
    Secret("FLAG").get()
    assert registered_secret_count() == before
