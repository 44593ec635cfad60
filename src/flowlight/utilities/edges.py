"""Edge annotations: wrap an argument of a task call or `task.map(...)` to say how it is used.

`unmapped(x)` passes `x` whole to every mapped child, `mapped(x)` maps over `x` even in a plain
call, and `flatten(x)` maps over the concatenation of a list of lists (one level).
"""

from __future__ import annotations

from typing import Any

__all__ = ["EdgeAnnotation", "flatten", "mapped", "unmapped"]


class EdgeAnnotation:
    """Wraps an argument of `task.map(...)` / a task call to change how its edge is built."""

    annotations: dict[str, bool] = {}

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class unmapped(EdgeAnnotation):
    """Pass this argument whole to every mapped child instead of mapping over it."""

    annotations = {"mapped": False}


class mapped(EdgeAnnotation):
    """Map over this argument even in a plain call."""

    annotations = {"mapped": True}


class flatten(EdgeAnnotation):
    """Map over the concatenation of a list of lists (one level), e.g. a map of a map's lists."""

    annotations = {"flatten": True}
