"""`set_temporary_config`: change settings for a block (Prefect 1's helper, mostly for tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flowlight.settings import clear_override, overridden, override

__all__ = ["set_temporary_config"]


@contextlib.contextmanager
def set_temporary_config(temp_config: dict[str, Any]) -> Iterator[None]:
    """Inside the block, each dotted key (`"flows.checkpointing"`) has the given value, over
    the environment; afterwards the earlier values apply again."""
    saved = {}
    for key, value in temp_config.items():
        path = tuple(key.split("."))
        saved[path] = overridden(path)
        override(path, value)
    try:
        yield
    finally:
        for path, (was_set, old) in saved.items():
            if was_set:
                override(path, old)
            else:
                clear_override(path)
