"""The masking rule: which texts are masked, in which forms, and which are left alone.

The registry is process-wide and only grows, so every test registers values of its own (a fresh
uuid inside) and never depends on what other tests registered.
"""

from __future__ import annotations

import html
import json
import os
import uuid
import warnings
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import structlog
from tests.fresh_interpreter import printed_by_a_fresh_interpreter

import flowlight.otel as otel
from flowlight import Flow, Secret, task
from flowlight.client.secrets import ShortSecretWarning
from flowlight.utilities import redaction
from flowlight.utilities.redaction import (
    MASK,
    MIN_LENGTH,
    encodable,
    redact,
    redact_value,
    register_secret,
)


def fresh(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_redact_value_masks_strings_at_every_depth_once_a_secret_is_registered() -> None:
    secret = fresh()
    register_secret(secret)
    value = {"a": f"x {secret} y", "b": [secret, 3, (f"{secret}!",)], "c": 7, "d": None}
    assert redact_value(value) == {
        "a": f"x {MASK} y",
        "b": [MASK, 3, (f"{MASK}!",)],
        "c": 7,
        "d": None,
    }
    assert type(redact_value((secret,))) is tuple
    assert redact_value(secret) == MASK
    assert redact_value(42) == 42


def test_the_structlog_processor_masks_every_field_of_an_event() -> None:
    secret = fresh()
    register_secret(secret)
    event = otel.redact_secrets(
        None, "info", {"event": f"calling with {secret}", "args": [secret], "n": 1}
    )
    assert event == {"event": f"calling with {MASK}", "args": [MASK], "n": 1}
    rendered = structlog.processors.JSONRenderer()(None, "info", dict(event))
    assert secret not in rendered


def test_a_secret_of_exactly_the_minimum_length_is_masked_and_one_shorter_is_not() -> None:
    assert MIN_LENGTH == 4
    # Characters no other test registers, so the short text cannot be masked by accident.
    at_minimum = "\u2460\u2461\u2462\u2463"
    shorter = "\u2464\u2465\u2466"
    assert register_secret(at_minimum) == []
    assert register_secret(shorter) == [shorter]
    assert redact(f"<{at_minimum}>") == f"<{MASK}>"
    assert redact(f"<{shorter}>") == f"<{shorter}>"


def test_reading_a_secret_too_short_to_mask_warns_by_name_without_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__PIN_CODE", "x7!")
    with pytest.warns(ShortSecretWarning) as caught:
        assert Secret("PIN_CODE").get() == "x7!"
    message = str(caught[0].message)
    assert '"PIN_CODE"' in message
    assert "shorter than 4 characters" in message
    assert "x7!" not in message


def test_reading_a_long_secret_does_not_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__LONG_ONE", fresh())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Secret("LONG_ONE").get()


def test_a_secret_containing_another_is_masked_whole() -> None:
    inner = fresh("inner")
    outer = f"{inner}-and-more-{uuid.uuid4().hex[:6]}"
    register_secret(inner)
    register_secret(outer)
    assert redact(f"[{outer}]") == f"[{MASK}]"
    assert redact(f"[{inner}]") == f"[{MASK}]"


def test_text_without_a_secret_is_returned_unchanged() -> None:
    register_secret(fresh())
    assert redact("") == ""
    assert redact("nothing to hide") == "nothing to hide"


def test_the_mask_is_eight_asterisks() -> None:
    """The README and the webhook payload document this exact text."""
    assert MASK == "********"


FRESH_PROCESS = """
    from flowlight.utilities.redaction import redact, redact_value, register_secret
    value = {"k": ["text"]}
    print(redact("nothing registered") == "nothing registered", redact("") == "")
    print(redact_value(value) == value)
    text = "only a short secret: ab"
    print(register_secret("ab") == ["ab"], redact(text) == text)
"""


def test_before_any_secret_is_registered_text_passes_through_untouched() -> None:
    """In a fresh process nothing is masked, values come back equal, and a secret too short to
    mask changes nothing either."""
    assert printed_by_a_fresh_interpreter(FRESH_PROCESS) == ["True"] * 5


def test_a_value_registered_again_inside_a_new_container_masks_the_rest_of_it() -> None:
    known = fresh("known")
    register_secret(known)
    newcomer = fresh("new")
    register_secret([known, newcomer])
    assert redact(f"{known} {newcomer}") == f"{MASK} {MASK}"


@pytest.mark.parametrize(
    "shape",
    [
        "Corp\\svc-{u}-Passw0rd!",
        "line-one-{u}\nline-two",
        "tab\t{u}\x01bell\x07",
        'it\'s "{u}" quoted',
        "caf\u00e9-{u}-\u2603",
        "a+b/c?d=e&f {u}",
        "caf\u00e9\x07{u}\\",
    ],
)
def test_every_escaped_form_of_a_secret_is_masked(shape: str) -> None:
    secret = shape.format(u=uuid.uuid4().hex[:8])
    register_secret(secret)
    forms = {
        "raw": secret,
        "repr": repr(secret),
        "repr of an exception": repr(ValueError(secret)),
        "json": json.dumps(secret),
        "json ascii off": json.dumps(secret, ensure_ascii=False),
        "json of a repr": json.dumps(repr(ValueError(secret))),
        "repr of json": repr(json.dumps(secret)),
        "url": quote(secret, safe=""),
        "url path": quote(secret),
        "url form": quote_plus(secret),
    }
    for name, written in forms.items():
        masked = redact(f"<<{written}>>")
        assert secret not in masked, name
        assert MASK in masked, name
        assert masked.startswith("<<") and masked.endswith(">>"), name
    inner_forms = {
        "repr": repr(secret)[1:-1],
        "json": json.dumps(secret)[1:-1],
        "json ascii off": json.dumps(secret, ensure_ascii=False)[1:-1],
        "json of repr": json.dumps(repr(secret)[1:-1])[1:-1],
        "repr of json": repr(json.dumps(secret)[1:-1])[1:-1],
        "url": quote(secret, safe=""),
        "url path": quote(secret),
        "url form": quote_plus(secret),
    }
    for name, inner in inner_forms.items():
        assert redact(f"<<{inner}>>") == f"<<{MASK}>>", name


def test_each_string_in_a_dict_secret_is_masked_on_its_own() -> None:
    key_id = f"AKIA{uuid.uuid4().hex[:16].upper()}"
    access_key = f"wJalr/{uuid.uuid4().hex}"
    credentials = {
        "ACCESS_KEY": key_id,
        "SECRET_ACCESS_KEY": access_key,
        "nested": {"token": f"tk-{uuid.uuid4().hex}"},
        "scopes": [f"scope-{uuid.uuid4().hex[:6]}"],
    }
    seen: list[Any] = []

    @task
    def read() -> None:
        seen.append(Secret("AWS_CREDENTIALS").get())

    with Flow("credentials") as flow:
        read()
    assert flow.run(context={"secrets": {"AWS_CREDENTIALS": credentials}}).is_successful()
    assert seen == [credentials]
    text = (
        f"signing with {access_key} for {key_id}, token {credentials['nested']['token']}, "  # type: ignore[index]
        f"scope {credentials['scopes'][0]}; whole: {credentials}"  # type: ignore[index]
    )
    masked = redact(text)
    for value in (key_id, access_key, credentials["nested"]["token"], credentials["scopes"][0]):  # type: ignore[index]
        assert value not in masked
    assert masked.count(MASK) == 5


def test_a_number_secret_is_masked_by_its_text() -> None:
    number = int(uuid.uuid4().int % 10**12) + 10**12
    register_secret(number)
    assert redact(f"pin {number}") == f"pin {MASK}"


def test_registering_the_same_value_twice_keeps_one_entry() -> None:
    secret = fresh()
    register_secret(secret)
    count = redaction.registered_secret_count()
    register_secret(secret)
    assert redaction.registered_secret_count() == count


def test_a_short_string_inside_a_dict_is_reported_and_left_alone() -> None:
    long_value = fresh()
    too_short = register_secret({"region": "eu", "key": long_value})
    assert too_short == ["eu"]
    assert redact(f"eu {long_value}") == f"eu {MASK}"


def test_text_utf8_cannot_encode_is_written_as_its_escape() -> None:
    """A lone surrogate (what os.fsdecode makes of a non-UTF-8 file name) becomes `\\udcff`;
    other non-ASCII text is kept as it is."""
    name = os.fsdecode(b"report-\xff.csv")
    assert redact(f"cannot open {name}") == "cannot open report-\\udcff.csv"
    assert redact("caf\u00e9 \u2603") == "caf\u00e9 \u2603"
    assert redact_value({"m": [name]}) == {"m": ["report-\\udcff.csv"]}
    assert encodable("plain") == "plain"
    redact(f"cannot open {name}").encode("utf-8")


def test_the_secrets_registered_after_a_mark_are_listed_in_order() -> None:
    mark = redaction.registered_secret_count()
    first, second = fresh("first"), fresh("second")
    register_secret(first)
    register_secret([second, "no"])
    assert redaction.secrets_registered_after(mark) == [first, str([second, "no"]), second]
    assert redaction.secrets_registered_after(redaction.registered_secret_count()) == []


def test_redact_value_is_total_on_cycles_depth_and_odd_tuples() -> None:
    from collections import namedtuple

    from flowlight.utilities.redaction import MAX_VALUE_DEPTH, redact_value, repr_of, text_of

    loop: list[object] = []
    loop.append(loop)
    assert redact_value(loop) == ["<cycle: list>"]
    deep: list[object] = []
    for _ in range(10 * MAX_VALUE_DEPTH):
        deep = [deep]
    assert "list nested too deep" in repr(redact_value(deep))
    point = namedtuple("point", "x y")
    assert redact_value(point("a", "b")) == ("a", "b")

    class Broken:
        def __str__(self) -> str:
            raise ValueError

        __repr__ = __str__

    assert text_of(Broken()) == "<Broken whose str() raised ValueError>"
    assert repr_of(Broken()) == "<Broken whose repr() raised ValueError>"


def _inside_a_larger_repr(secret: str) -> dict[str, str]:
    """How `secret` is written inside the repr of a longer message, in each quote style Python
    picks for that message, and what each sink makes of that text."""
    apostrophe_quoted = repr(ValueError(f'refused for "admin" with {secret}'))
    double_quoted = repr(ValueError(f"refused for admin's {secret}"))
    nested = repr(RuntimeError(f"step failed: {ValueError(f'refused {secret}')!r}"))
    return {
        "repr, quoted with apostrophes": apostrophe_quoted,
        "repr, quoted with double quotes": double_quoted,
        "ascii of the message": ascii(f'refused for "admin" with {secret}'),
        "json log line of the repr": json.dumps({"message": apostrophe_quoted}),
        "json of the repr, unicode kept": json.dumps(apostrophe_quoted, ensure_ascii=False),
        "a repr inside a repr, in json": json.dumps(nested),
        "html e-mail": html.escape(apostrophe_quoted),
        "html with decimal references": html.escape(apostrophe_quoted)
        .replace("&#x27;", "&#39;")
        .replace("&quot;", "&#34;"),
        "slack text in its json body": json.dumps(html.escape(apostrophe_quoted, quote=False)),
        "html of the json": html.escape(json.dumps(apostrophe_quoted)),
    }


@pytest.mark.parametrize(
    "shape",
    [
        "hunter'2pass-{u}",
        'say "{u}" twice',
        'it\'s "{u}" \\ both',
        "caf\u00e9'{u}\n\x07",
        "p&ss<w>rd-{u}",
        "\u00e9t\u00e9-{u}-\u2603",
    ],
)
def test_a_secret_inside_a_larger_repr_is_masked_in_every_sink_form(shape: str) -> None:
    """The repr of a whole message escapes an apostrophe the secret's own repr may not (it picks
    its quotes for the whole text): each quote style, and what JSON, HTML and Slack make of it."""
    secret = shape.format(u=uuid.uuid4().hex[:8])
    register_secret(secret)
    distinctive = secret.split("-")[1] if "-" in secret else secret[4:12]
    for name, written in _inside_a_larger_repr(secret).items():
        masked = redact(written)
        assert MASK in masked, name
        assert distinctive not in masked, (name, masked)


def test_the_example_apostrophe_secret_is_masked_as_the_repr_and_the_e_mail_wrote_it() -> None:
    secret = f"hunter'2pass{uuid.uuid4().hex[:6]}"
    register_secret(secret)
    escaped = secret.replace("'", "\\'")
    assert redact(f"with {escaped})") == f"with {MASK})"
    assert redact(f"with {escaped.replace(chr(39), '&#x27;')})") == f"with {MASK})"


def test_a_bytes_secret_is_masked_once_decoded() -> None:
    key = f"sk-live-{uuid.uuid4().hex[:12]}".encode()
    latin = b"cl\xe9-" + uuid.uuid4().hex[:8].encode()  # not UTF-8: read as latin-1
    utf8 = f"cl\u00e9-{uuid.uuid4().hex[:8]}".encode()
    register_secret(key)
    register_secret(latin)
    register_secret(utf8)
    assert redact(f"rejected key {key.decode()}") == f"rejected key {MASK}"
    assert redact(f"key {latin.decode('latin-1')}!") == f"key {MASK}!"
    assert redact(f"key {utf8.decode()}!") == f"key {MASK}!"
    assert redact(f"key {repr(utf8)[2:-1]}!") == f"key {MASK}!"
    assert redact(f"key {key!r}") == f"key {MASK}"


def test_bytes_and_numbers_inside_a_list_or_dict_secret_are_masked() -> None:
    token = f"listbytes-{uuid.uuid4().hex[:8]}".encode()
    account = uuid.uuid4().int % 10**10 + 10**10
    rate = 1234.5 + uuid.uuid4().int % 1000
    too_short = register_secret({"tokens": [token], "account": account, "rate": rate, "port": 80})
    assert too_short == ["80"]
    masked = redact(f"{token.decode()} {account} {rate} port 80")
    assert masked == f"{MASK} {MASK} {MASK} port 80"


def test_none_and_booleans_are_never_masked_inside_or_outside_a_secret() -> None:
    """Their text is in every log line ("null" in every JSON one): a secret flag is not text."""
    mark = redaction.registered_secret_count()
    assert register_secret(True) == []
    assert register_secret(None) == []
    assert register_secret({"verify": True, "proxy": None}) == []
    assert redaction.secrets_registered_after(mark) == [str({"verify": True, "proxy": None})]
    assert redact('{"ok": true, "x": null, "y": "True None False"}') == (
        '{"ok": true, "x": null, "y": "True None False"}'
    )


def test_each_field_of_a_str_secret_holding_json_is_masked() -> None:
    access_key = f"wJalr/{uuid.uuid4().hex}"
    account = uuid.uuid4().int % 10**10 + 10**10
    document = json.dumps({"SECRET_ACCESS_KEY": access_key, "ids": [account], "region": "eu"})
    assert register_secret(document) == ["eu"]
    assert redact(f"{access_key} {account}") == f"{MASK} {MASK}"
    assert register_secret(f"[{document} not json") == []  # whole text only, no error


def test_the_derived_texts_are_counted_and_listed_for_a_worker_to_send_back() -> None:
    """A worker sends `secrets_registered_after` to the flow's process, which registers each
    text: the fields and decoded bytes must be in that list, not only the whole value."""
    mark = redaction.registered_secret_count()
    field = f"field-{uuid.uuid4().hex[:8]}"
    key = f"bytes-{uuid.uuid4().hex[:8]}".encode()
    register_secret(json.dumps({"f": field}))
    register_secret(key)
    listed = redaction.secrets_registered_after(mark)
    assert field in listed and key.decode() in listed
    assert redaction.registered_secret_count() == mark + len(listed)


def test_of_two_secrets_sharing_a_beginning_the_longer_is_masked_whole() -> None:
    """The pattern shares common beginnings between forms; where several forms start at one
    place, the longest still wins, and a shorter one still matches on its own."""
    short = fresh("shared")
    longer = f"{short}-tail-{uuid.uuid4().hex[:4]}"
    sibling = f"{short}-other"
    register_secret(longer)
    register_secret(short)
    register_secret(sibling)
    assert redact(f"[{longer}]") == f"[{MASK}]"
    assert redact(f"[{short}-tail]") == f"[{MASK}-tail]"
    assert redact(f"[{sibling}] [{short}]") == f"[{MASK}] [{MASK}]"
    assert redact(f"[{short[:-1]}]") == f"[{short[:-1]}]"


def test_a_secret_with_hundreds_of_escaped_forms_is_masked_in_each() -> None:
    """A secret full of quotes and backslashes has hundreds of escaped forms, which the pattern
    holds by their shared beginnings: each form is still masked whole, and text around it kept."""
    unique = uuid.uuid4().hex
    secret = f'it\'s "{unique}" \\ caf\u00e9 <&>\n\t'
    register_secret(secret)
    assert len(redaction._forms) > 200
    # Text no other test's secret can be part of (the registry lives as long as the process).
    filler = "~ " * 1500
    for written in (repr(secret), json.dumps(secret), repr(repr(secret)), html.escape(secret)):
        masked = redact(f"{filler}{written}{filler}")
        assert unique not in masked and MASK in masked, written
        assert masked.startswith(filler) and masked.endswith(filler), written
