"""One redaction step for every place flowlight writes text a secret could reach.

`Secret.get()` registers each value it hands out; log processors, span attribute builders and
notifiers call `redact` on what they are about to write. Keeping one registry means a value is
masked everywhere as soon as any code has read it once.

The rule, as the README states it: a secret's text is masked when it is at least `MIN_LENGTH`
characters long (shorter values occur by chance in ordinary text, and masking every "on" or "42"
would ruin the logs; reading one warns instead). A dict, list or tuple secret, or a text holding
a JSON object or array, has each string and number inside it masked on its own as well as its
whole text; a bytes value is masked as it decodes. Each value is masked in every escaped form it
takes in what flowlight writes: raw, URL-encoded, then as `repr` or `ascii` show it inside a
longer string (a backslash doubled, a newline as ``\\n``, an apostrophe escaped or not),
JSON-escaped or HTML-escaped, up to `_ESCAPING_DEPTH` times over. The longest registered text is
matched first, so a secret that contains another is masked whole.
"""

from __future__ import annotations

import html
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
    """The whole value's text, then every text a piece of it shows as once the code that read
    it takes it apart: a dict's fields, a JSON document's fields, a bytes value decoded.

    None and booleans have none: their text ("None", "True", JSON's "null") is in every log line,
    and a value that can only be one of two carries no secret worth masking.
    """
    if value is None or isinstance(value, bool):
        return
    yield text_of(value)  # never raises, even on a value nested too deep for str()
    yield from _texts_of_part(value)


def _texts_of_part(value: Any, depth: int = 0, path: frozenset[int] = frozenset()) -> Iterator[str]:
    if isinstance(value, str):
        yield from _texts_inside_json(value)
    elif isinstance(value, (bytes, bytearray)):
        yield from _texts_of_bytes(bytes(value))
    elif isinstance(value, (dict, list, tuple, set, frozenset)):
        if id(value) in path or depth >= MAX_VALUE_DEPTH:  # as `redact_value`: cycles, depth
            return
        inner = path | {id(value)}
        for item in value.values() if isinstance(value, dict) else value:
            if isinstance(item, str):
                yield item
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                yield str(item)  # an account number, a PIN
            yield from _texts_of_part(item, depth + 1, inner)


def _texts_inside_json(text: str) -> Iterator[str]:
    """A str secret holding a JSON object or array: user code `json.loads` it and writes its
    fields on their own, so each is masked like a dict secret's."""
    if text.lstrip()[:1] not in ("{", "["):
        return
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return
    yield from _texts_of_part(document)


def _texts_of_bytes(data: bytes) -> Iterator[str]:
    """What `data.decode()` gives (latin-1, which decodes anything, when it is not UTF-8), and
    the body of its `repr` (non-ASCII as ``\\xNN``) for a bytes value written inside another."""
    try:
        yield data.decode("utf-8")
    except UnicodeDecodeError:
        yield data.decode("latin-1")
    yield repr(data)[2:-1]


_ESCAPING_DEPTH = 3
"""How many escapings deep a value is still masked: a secret in an exception message the user
wrote with `{error!r}` (one), quoted again in the state message's `repr` (two), in a JSON log
line or an HTML e-mail (three)."""


def _escaped_forms(text: str) -> set[str]:
    """Every text `text` shows as: raw or URL-encoded, then escaped up to `_ESCAPING_DEPTH` times
    by quoting (`repr`, JSON) or HTML (an e-mail's HTML part, Slack's text), HTML at most once."""
    forms = {text, *_url_escapes(text)}
    latest = {(form, False) for form in forms}
    for _ in range(_ESCAPING_DEPTH):
        escaped = {
            (quoted, in_html) for form, in_html in latest for quoted in _quoting_escapes(form)
        }
        escaped |= {
            (marked, True)
            for form, in_html in latest
            if not in_html
            for marked in _html_escapes(form)
        }
        latest = {(form, in_html) for form, in_html in escaped if form not in forms}
        forms |= {form for form, _in_html in latest}
    return forms


def _quoting_escapes(text: str) -> set[str]:
    """How `text` reads inside a larger Python string's `repr` or `ascii` (whichever quote that
    string chose: an apostrophe escaped or not) or inside a JSON string, without the quotes.

    Each of these (and HTML's and URLs' escapes) escapes one character at a time, so a value's
    escaped text is found whole inside the escaped text of anything that contains it.
    """
    as_repr = "".join(repr(character)[1:-1] for character in text)
    as_ascii = "".join(ascii(character)[1:-1] for character in text)
    return {
        as_repr,
        as_repr.replace("'", "\\'"),
        as_ascii,
        as_ascii.replace("'", "\\'"),
        _json_string_body(text, ascii_only=True),
        _json_string_body(text, ascii_only=False),
    }


def _json_string_body(text: str, ascii_only: bool) -> str:
    return json.dumps(text, ensure_ascii=ascii_only)[1:-1]


def _html_escapes(text: str) -> set[str]:
    """HTML text as Python's `html.escape` writes it (quotes too, or not: Slack's escaping of
    `&`, `<` and `>` only), and with the decimal quote references other template engines use."""
    escaped = html.escape(text)
    return {
        escaped,
        escaped.replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
        html.escape(text, quote=False),
    }


def _url_escapes(text: str) -> set[str]:
    return {quote(text, safe=""), quote(text), quote_plus(text)}


def _recompile_locked() -> None:
    global _pattern
    _pattern = re.compile(_longest_first(sorted(_forms)))


def _longest_first(forms: list[str]) -> str:
    """A pattern matching any of `forms` (sorted), the longest one wherever several start at the
    same place, so a secret that contains another is masked whole.

    Forms that begin alike share that beginning in the pattern (a prefix tree): a value with
    quotes or backslashes has hundreds of escaped forms, and trying each at every position of
    every log line would cost far more than stepping down the shared prefix once.
    """
    alternatives: list[str] = []
    ends_here = False
    start = 0
    while start < len(forms):
        if not forms[start]:
            ends_here = True
            start += 1
            continue
        first = forms[start][0]
        stop = start
        while stop < len(forms) and forms[stop][:1] == first:
            stop += 1
        shared = _shared_beginning(forms[start], forms[stop - 1])
        rest = _longest_first([form[len(shared) :] for form in forms[start:stop]])
        alternatives.append(re.escape(shared) + rest)
        start = stop
    if not alternatives:
        return ""
    group = (
        alternatives[0]
        if len(alternatives) == 1 and not ends_here
        else ("(?:" + "|".join(alternatives) + ")")
    )
    # Greedy: the longer forms are tried first, the form that ends here only when they fail.
    return group + "?" if ends_here else group


def _shared_beginning(first: str, last: str) -> str:
    """The beginning every text of a sorted run shares: the one its first and last share."""
    length = 0
    for a, b in zip(first, last, strict=False):
        if a != b:
            break
        length += 1
    return first[:length]
