"""OTLP JSON text of attribute lists and values, masked or not, with the text that repeats kept.

`_json_lines` writes every span and log record a run makes; most of what they carry repeats from
task to task (a flow's name, state names, messages, the same keys), so the text of each key/value
pair is kept and reused. A `TextEncoder` either writes values as they are (`masked=False`) or
masks every registered secret in them on the way (`masked=True`, the same rule as
`flowlight.utilities.redaction.redact_value`: every string at any depth, not the keys), so that
the files need no separate redaction pass over each batch.

A masked encoder's kept text is only valid for the secrets registered when it was made: `current`
hands out a fresh one as soon as another secret has been registered, so a value is masked at
export by every secret known by then, including secrets registered after it was recorded.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring_ascii
from typing import Any

from opentelemetry.attributes import BoundedAttributes

from flowlight.utilities.redaction import redact, registered_secret_count

__all__ = [
    "TextEncoder",
    "Unencodable",
    "attributes_message",
    "current",
    "double",
    "fixed64",
    "items_of",
    "plain_key_values",
    "plain_string",
    "scope_text",
    "span_id_text",
    "trace_id_text",
    "uint32",
]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UINT64_MAX = 2**64 - 1

# A key with more distinct values than this (a run id, a map index) has its values written each
# time instead of kept; and all kept text is dropped once this much is kept in one encoder.
_VALUES_PER_KEY = 64
_KEPT_AT_MOST = 8192


class Unencodable(ValueError):
    """A value the direct encoder leaves to the protobuf path."""


def items_of(attributes: Any) -> Iterable[tuple[str, Any]]:
    """The pairs of an attribute mapping; the SDK's `BoundedAttributes` is read through its
    plain dict, which is several times faster than the generic mapping protocol it offers."""
    kind = type(attributes)
    pairs: Iterable[tuple[str, Any]]
    if kind is dict:
        pairs = attributes.items()
    elif kind is BoundedAttributes:
        pairs = attributes._dict.items()
    elif isinstance(attributes, Mapping):
        pairs = attributes.items()
    else:
        pairs = attributes
    return pairs


class TextEncoder:
    """Writes attribute lists, values and texts as OTLP JSON, keeping the text that repeats."""

    def __init__(self, masked: bool, generation: int) -> None:
        self.masked = masked
        self.generation = generation
        # key -> value -> '{"key":...,"value":{...}}', one dict per value type that is kept
        # (1, 1.0 and True are equal as dict keys, but not as OTLP values).
        self._strings: dict[str, dict[str, str]] = {}
        self._ints: dict[str, dict[int, str]] = {}
        self._texts: dict[str, str] = {}
        self._plain_texts: dict[str, str] = {}
        self._prefixes: dict[str, str] = {}
        self._kept = 0

    def key_values(self, attributes: Any) -> str:
        """`[{"key":...,"value":...},...]` for a mapping (or pairs) of attributes."""
        strings, ints = self._strings, self._ints
        parts = []
        for key, value in items_of(attributes):
            kind = type(value)
            if kind is str:
                by_value: dict[Any, str] | None = strings.get(key)
                if by_value is None:
                    by_value = strings[key] = {}
            elif kind is int:
                by_value = ints.get(key)
                if by_value is None:
                    by_value = ints[key] = {}
            else:
                parts.append(self._key_value(key, value))
                continue
            text = by_value.get(value)
            if text is None:
                text = self._key_value(key, value)
                if len(by_value) < _VALUES_PER_KEY:
                    self._keep()
                    by_value[value] = text
            parts.append(text)
        return f"[{','.join(parts)}]"

    def text(self, text: str) -> str:
        """A JSON string for `text` in a place that is masked (a span's name, a status message)."""
        kept = self._texts.get(text)
        if kept is None:
            kept = self._string_value(text)
            if len(self._texts) < _VALUES_PER_KEY * 4:
                self._keep()
                self._texts[text] = kept
        return kept

    def plain_text(self, text: str) -> str:
        """A JSON string for `text` in a place that is never masked (an event's name)."""
        kept = self._plain_texts.get(text)
        if kept is None:
            kept = plain_string(text)
            if len(self._plain_texts) < _VALUES_PER_KEY * 4:
                self._keep()
                self._plain_texts[text] = kept
        return kept

    def any_value(self, value: Any) -> str:
        """OTLP's AnyValue for `value` (a log record's body)."""
        if value is None:
            return "{}"
        kind = type(value)
        if kind is str:
            return f'{{"stringValue":{self._string_value(value)}}}'
        if kind is bool:
            return '{"boolValue":true}' if value else '{"boolValue":false}'
        if kind is int:
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise Unencodable("integer outside int64")
            return f'{{"intValue":"{value}"}}'
        if kind is float:
            return f'{{"doubleValue":{double(value)}}}'
        if kind is list or kind is tuple:
            if not value:
                return '{"arrayValue":{}}'
            values = ",".join([self.any_value(item) for item in value])
            return f'{{"arrayValue":{{"values":[{values}]}}}}'
        if kind is dict:
            if not value:
                return '{"kvlistValue":{}}'
            pairs = [self._key_value(str(key), item) for key, item in value.items()]
            return f'{{"kvlistValue":{{"values":[{",".join(pairs)}]}}}}'
        if kind is bytes:
            return f'{{"bytesValue":"{base64.b64encode(value).decode("ascii")}"}}'
        # Subclasses (an IntEnum, a str subclass, a mapping) take the exporters' own path.
        raise Unencodable(f"value of type {kind.__name__}")

    def _key_value(self, key: str, value: Any) -> str:
        prefix = self._prefixes.get(key)
        if prefix is None:
            prefix = f'{{"key":{plain_string(key)},"value":' if key else '{"value":'
            if len(self._prefixes) < _KEPT_AT_MOST:
                self._prefixes[key] = prefix
        if type(value) is str:
            return f'{prefix}{{"stringValue":{self._string_value(value)}}}}}'
        return f"{prefix}{self.any_value(value)}}}"

    def _string_value(self, text: str) -> str:
        if self.masked:
            return encode_basestring_ascii(redact(text))
        return plain_string(text)

    def _keep(self) -> None:
        self._kept += 1
        if self._kept > _KEPT_AT_MOST:
            self._strings.clear()
            self._ints.clear()
            self._texts.clear()
            self._plain_texts.clear()
            self._kept = 1


_encoders = {False: TextEncoder(False, 0), True: TextEncoder(True, registered_secret_count())}


def current(masked: bool) -> TextEncoder:
    """The encoder to write one batch with: for `masked`, one made since the last secret was
    registered (take it once per batch, before encoding anything)."""
    encoder = _encoders[masked]
    if masked:
        generation = registered_secret_count()
        if encoder.generation != generation:
            encoder = _encoders[True] = TextEncoder(True, generation)
    return encoder


def plain_key_values(attributes: Any) -> str:
    """Attributes that are never masked (a resource's, a scope's, a link's)."""
    return _encoders[False].key_values(attributes)


def plain_string(text: str) -> str:
    """A JSON string for `text` as it is; text UTF-8 cannot encode is left to protobuf."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise Unencodable("text that is not valid UTF-8") from error
    return encode_basestring_ascii(text)


def double(value: float) -> str:
    if math.isnan(value):
        return '"NaN"'
    if math.isinf(value):
        return '"Infinity"' if value > 0 else '"-Infinity"'
    return repr(value)


def scope_text(scope: Any) -> str:
    if scope is None:
        return "{}"
    fields = []
    if scope.name:
        fields.append(f'"name":{plain_string(scope.name)}')
    if scope.version:
        fields.append(f'"version":{plain_string(scope.version)}')
    if scope.attributes:
        fields.append(f'"attributes":{plain_key_values(scope.attributes)}')
    return "{" + ",".join(fields) + "}"


def attributes_message(attributes: Any) -> str:
    return f'{{"attributes":{plain_key_values(attributes)}}}' if attributes else "{}"


def fixed64(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= _UINT64_MAX:
        raise Unencodable("timestamp")
    return value


def uint32(value: Any) -> int:
    if type(value) is not int or not 0 <= value < 2**32:
        raise Unencodable("count")
    return value


# Most spans and records of a batch share their trace: its id is written once per change.
_last_trace: tuple[Any, str] = (None, "")


def trace_id_text(value: int) -> str:
    global _last_trace
    last = _last_trace
    if last[0] == value and type(value) is int:
        return last[1]
    if type(value) is not int or not 0 <= value < 2**128:
        raise Unencodable("trace id")
    text = f"{value:032x}"
    _last_trace = (value, text)
    return text


def span_id_text(value: int) -> str:
    if type(value) is not int or not 0 <= value <= _UINT64_MAX:
        raise Unencodable("span id")
    return f"{value:016x}"
