"""`set_temporary_config`: change settings for a block (Prefect 1's helper, mostly for tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flowlight.configuration import Config, config
from flowlight.settings import override, restore_overrides, saved_overrides

__all__ = ["set_temporary_config"]


@contextlib.contextmanager
def set_temporary_config(temp_config: dict[str, Any]) -> Iterator[Config]:
    """Inside the block, each dotted key (`"tasks.defaults.max_retries"`) has the given value,
    over the environment; the block gets `flowlight.config` (`with ... as config:`), as Prefect 1
    gives `prefect.config`. Afterwards every value set in code is as it was before the block,
    including any assigned to `flowlight.config` inside it."""
    saved = saved_overrides()
    try:
        for key, value in temp_config.items():
            override(tuple(key.split(".")), value)
        yield config
    finally:
        restore_overrides(saved)
