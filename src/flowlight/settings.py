"""flowlight's own settings, read from `FLOWLIGHT__SECTION__KEY` environment variables.

Prefect 1 users know this double-underscore style; values are parsed the same way Prefect 1 parses
them (`true`/`false` become booleans, numbers become numbers, anything else stays a string), so a
setting or a local secret written for Prefect 1 means the same thing here.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["env_name", "parse_value", "setting"]


def env_name(*path: str) -> str:
    """The environment variable that holds setting `path`: ("context", "secrets", "X") ->
    FLOWLIGHT__CONTEXT__SECRETS__X."""
    return "FLOWLIGHT__" + "__".join(part.upper() for part in path)


def parse_value(raw: str) -> Any:
    """Interpret an environment string as Prefect 1 does: booleans, numbers, else the string."""
    lowered = raw.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def setting(*path: str, default: Any = None) -> Any:
    """Read setting `path` from the environment at call time, or return `default`."""
    raw = os.environ.get(env_name(*path))
    return default if raw is None else parse_value(raw)
