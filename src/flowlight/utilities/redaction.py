"""One redaction step for every place flowlight writes text a secret could reach.

`Secret.get()` registers each value it hands out; log processors, span attribute builders and
notifiers call `redact` on what they are about to write. Keeping one registry means a value is
masked everywhere as soon as any code has read it once.

The rule, as the README states it: a secret's text is masked when it is at least `MIN_LENGTH`
characters long (shorter values occur by chance in ordinary text, and masking every "on" or "42"
would ruin the logs; reading one warns instead). A dict, list or tuple secret has each string
inside it masked on its own as well as its whole text. Each value is masked in every escaped form
it takes in what flowlight writes: raw, as `repr` shows it inside quotes (a backslash doubled, a
newline as ``\\n``), JSON-escaped, URL-encoded, and each of the first two escaped once more (a
`repr` inside a JSON body). The longest registered text is matched first, so a secret that
contains another is masked whole.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "MAX_VALUE_DEPTH",
    "MIN_LENGTH",
    "encodable",
    "redact",
    "redact_value",
    "register_secret",
    "registered_secret_count",
    "repr_of",
    "secrets_registered_after",
    "text_of",
]

MASK = "********"

MIN_LENGTH = 4
"""Secret texts shorter than this are not masked (see the module's docstring)."""

_lock = threading.Lock()
_values: set[str] = set()
# `_values` in the order they were registered, for `secrets_registered_after`.
_order: list[str] = []
_forms: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: Any) -> list[str]:
    """Mask `value` (its text, each string inside it, and their escaped forms) from now on.

    Returns the texts that are too short to mask, so the caller can warn about them by name.
    """
    too_short: list[str] = []
    added: list[str] = []
    for text in _texts_of(value):
        if len(text) < MIN_LENGTH:
            too_short.append(text)
            continue
        if text in _values or text in added:
            continue
        added.append(text)
    if added:
        with _lock:
            fresh = [text for text in added if text not in _values]
            _values.update(fresh)
            for text in fresh:
                _forms.update(form for form in _escaped_forms(text) if len(form) >= MIN_LENGTH)
            _recompile_locked()
            # Counted only once the pattern masks them (see `registered_secret_count`).
            _order.extend(fresh)
    return too_short


def registered_secret_count() -> int:
    """How many distinct secret values are being masked (for diagnostics and tests).

    It grows only once `redact` masks the new values, so text masked after reading a count masks
    at least those secrets: an encoder may keep masked text for as long as the count stays put.
    """
    return len(_order)


def secrets_registered_after(count: int) -> list[str]:
    """The texts registered after the first `count` (a `registered_secret_count()` taken earlier).

    A worker process sends these back with a task run's result, so the flow's process masks
    what the task read there too.
    """
    with _lock:
        return _order[count:]


def redact(text: str) -> str:
    """Return `text` with every registered secret value replaced by `MASK`, made encodable.

    Text that UTF-8 cannot encode (a lone surrogate, which is what `os.fsdecode` makes of a
    non-UTF-8 file name) has each such character written as its escape (`\\udcff`): one
    exception message must never make a whole export batch or a notification unsendable.
    """
    if not text.isascii():
        text = encodable(text)
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def encodable(text: str) -> str:
    """`text` with every character UTF-8 cannot encode replaced by its backslash escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def text_of(value: Any) -> str:
    """`str(value)`, or, when that raises, a short placeholder naming the value's type: a name,
    tag or message that cannot be turned into text must not cost a run its telemetry."""
    try:
        return value if isinstance(value, str) else str(value)
    except Exception as error:
        return f"<{type(value).__name__} whose str() raised {type(error).__name__}>"


def repr_of(value: Any) -> str:
    """`repr(value)`, or, when that raises, a short placeholder naming the value's type."""
    try:
        return repr(value)
    except Exception as error:
        return f"<{type(value).__name__} whose repr() raised {type(error).__name__}>"


MAX_VALUE_DEPTH = 100
"""How deep `redact_value` follows nested containers; deeper ones become a placeholder text."""


def redact_value(value: Any) -> Any:
    """Redact strings, and strings inside lists, tuples and dicts; leave other values alone.

    Total on any value: a container that contains itself becomes the text ``<cycle: list>``, one
    nested deeper than `MAX_VALUE_DEPTH` becomes ``<list nested too deep>`` (a recursive walk, or
    `repr`, would otherwise raise RecursionError on a value a user's task may well return).
    """
    return _redacted(value, 0, set())


def _redacted(value: Any, depth: int, path: set[int]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if not isinstance(value, (dict, list, tuple)):
        return value
    kind = type(value).__name__
    if id(value) in path:
        return f"<cycle: {kind}>"
    if depth >= MAX_VALUE_DEPTH:
        return f"<{kind} nested too deep>"
    path.add(id(value))
    try:
        if isinstance(value, dict):
            return {k: _redacted(v, depth + 1, path) for k, v in value.items()}
        items = [_redacted(v, depth + 1, path) for v in value]
    finally:
        path.discard(id(value))
    if type(value) in (list, tuple):
        return type(value)(items)
    try:  # a subclass, such as a named tuple, may not be built from one iterable
        return type(value)(items)
    except Exception:
        return tuple(items) if isinstance(value, tuple) else items


def _texts_of(value: Any) -> Iterator[str]:
    """The whole value's text, then every string inside it (dict values, list items, nested)."""
    yield str(value)
    yield from _strings_inside(value)


def _strings_inside(
    value: Any, depth: int = 0, path: frozenset[int] = frozenset()
) -> Iterator[str]:
    if not isinstance(value, (dict, list, tuple, set, frozenset)):
        return
    if id(value) in path or depth >= MAX_VALUE_DEPTH:  # as `redact_value`: cycles, depth
        return
    items = value.values() if isinstance(value, dict) else value
    inner = path | {id(value)}
    for item in items:
        if isinstance(item, str):
            yield item
        else:
            yield from _strings_inside(item, depth + 1, inner)


def _escaped_forms(text: str) -> set[str]:
    once = {text, *_escapes(text)}
    twice = {again for form in once for again in _quoting_escapes(form)}
    return once | twice


def _quoting_escapes(text: str) -> set[str]:
    """How `text` reads inside a repr or a JSON string (without the surrounding quotes)."""
    return {
        repr(text)[1:-1],
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
    }


def _escapes(text: str) -> set[str]:
    return _quoting_escapes(text) | {quote(text, safe=""), quote(text), quote_plus(text)}


def _recompile_locked() -> None:
    global _pattern
    # Longest first, so a secret that contains another is masked whole.
    alternatives = sorted(_forms, key=lambda form: (-len(form), form))
    _pattern = re.compile("|".join(re.escape(form) for form in alternatives))
