"""One redaction step for every place flowlight writes text a secret could reach.

`Secret.get()` registers each value it hands out; log processors, span attribute builders and
notifiers call `redact` on what they are about to write. Keeping one registry means a value is
masked everywhere as soon as any code has read it once.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["MASK", "redact", "redact_value", "register_secret", "registered_secret_count"]

MASK = "********"

# Values shorter than this are too likely to occur by chance ("1", "yes") to be masked blindly.
_MIN_LENGTH = 4

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: Any) -> None:
    """Mask `value` (and its string form) in everything flowlight writes from now on."""
    text = str(value)
    if len(text) < _MIN_LENGTH or text in _values:
        return
    global _pattern
    with _lock:
        _values.add(text)
        # Longest first, so a secret that contains another is masked whole.
        alternatives = sorted(_values, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in alternatives))


def registered_secret_count() -> int:
    """How many distinct secret values are being masked (for diagnostics and tests)."""
    return len(_values)


def redact(text: str) -> str:
    """Return `text` with every registered secret value replaced by `MASK`."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def redact_value(value: Any) -> Any:
    """Redact strings, and strings inside lists, tuples and dicts; leave other values alone."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value
